"""Kiosk codes are distinct within a kiosk (issue 16): two members sharing a code could
neither unlock the tablet."""
from __future__ import annotations

from server.reminders.kiosk import kiosk_codes, member_code


def test_codes_are_distinct_even_where_the_first_draw_collides():
    ids = list(range(1, 401))  # 400 members: first draws are all but sure to collide
    first_draws = [member_code("secret", 7, i) for i in ids]
    assert len(set(first_draws)) < len(ids), "the case this guards against did not arise"
    codes = kiosk_codes("secret", 7, ids)
    assert len(set(codes.values())) == len(ids)
    assert all(len(c) == 4 and c.isdigit() for c in codes.values())


def test_a_member_joining_later_changes_nobody_elses_code():
    before = kiosk_codes("secret", 3, [5, 9, 12])
    after = kiosk_codes("secret", 3, [5, 9, 12, 40])
    assert {k: after[k] for k in before} == before
    assert kiosk_codes("secret", 3, [12, 5, 9]) == before, "the order given does not matter"
