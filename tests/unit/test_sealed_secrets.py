"""server/accounts/_sealed.py: TOTP secrets under a key derived from the secret key."""
from __future__ import annotations

import pytest

from server.accounts import _sealed


def test_a_sealed_secret_opens_only_under_the_same_key():
    sealed = _sealed.seal("JBSWY3DPEHPK3PXP", "key one")
    assert sealed.startswith(_sealed.PREFIX) and "JBSWY3DPEHPK3PXP" not in sealed
    assert len(sealed) <= 255  # the column's width
    assert _sealed.unseal(sealed, "key one") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(_sealed.UnreadableSecret):
        _sealed.unseal(sealed, "key two")


def test_a_secret_stored_in_clear_reads_as_itself():
    assert not _sealed.is_sealed("JBSWY3DPEHPK3PXP")
    assert _sealed.unseal("JBSWY3DPEHPK3PXP", "any key") == "JBSWY3DPEHPK3PXP"


def test_sealing_twice_gives_different_text():  # Fernet's random IV: equal secrets do not show
    assert _sealed.seal("JBSWY3DPEHPK3PXP", "k") != _sealed.seal("JBSWY3DPEHPK3PXP", "k")
