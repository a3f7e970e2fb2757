"""The "I can't come" link: signed, for one member and one meeting, until the meeting ends.

Not a one-time link (server/accounts/links.py): the member may change their mind, so the
same link works until the meeting's end, then gives a clear "this meeting has passed" page.
Stateless (an HMAC over the purpose, the enrollment, the meeting and the end time), so a
reminder needs no stored secret and a forged or altered link is simply unknown.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

PURPOSE = "cant-come"
PATH = "/reminders/cant-come/{token}"
_SHAPE = re.compile(r"^(\d{1,12})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{32})$")


@dataclass(frozen=True, kw_only=True)
class CantComeClaim:
    meeting_id: int
    enrollment_id: int
    expires_at: datetime


def _signature(secret: str, meeting_id: int, enrollment_id: int, expires: int) -> str:
    message = f"{PURPOSE}:{meeting_id}:{enrollment_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def cant_come_token(secret: str, *, meeting_id: int, enrollment_id: int, ends_at: datetime) -> str:
    expires = int(ends_at.timestamp())
    return f"{meeting_id}.{enrollment_id}.{expires}.{_signature(secret, meeting_id, enrollment_id, expires)}"


def cant_come_path(secret: str, *, meeting_id: int, enrollment_id: int, ends_at: datetime) -> str:
    return PATH.format(token=cant_come_token(secret, meeting_id=meeting_id, enrollment_id=enrollment_id,
                                             ends_at=ends_at))


def read_cant_come_token(secret: str, token: str) -> CantComeClaim | None:
    """The claim of a genuine token (expired or not: the caller says which), else None."""
    match = _SHAPE.match(token or "")
    if match is None:
        return None
    meeting_id, enrollment_id, expires = (int(g) for g in match.groups()[:3])
    if not hmac.compare_digest(match.group(4), _signature(secret, meeting_id, enrollment_id, expires)):
        return None
    return CantComeClaim(meeting_id=meeting_id, enrollment_id=enrollment_id,
                         expires_at=datetime.fromtimestamp(expires, UTC))



# --- a questionnaire reminder's link ------------------------------------------------------
# It names neither the questionnaire nor the occasion (a URL is read in mail previews and
# proxies' logs as the text is): the id of the reminder's own row and an HMAC over it. The
# row says which form it opens; the page opens it after the member signs in, while its
# answer window is open (server/web/routes/reminders.py).

QUESTIONNAIRE_PURPOSE = "questionnaire"
QUESTIONNAIRE_PATH = "/reminders/questionnaire/{token}"
_Q_SHAPE = re.compile(r"^(\d{1,12})\.([0-9a-f]{32})$")


def _q_signature(secret: str, reminder_id: int) -> str:
    return hmac.new(secret.encode(), f"{QUESTIONNAIRE_PURPOSE}:{reminder_id}".encode(), hashlib.sha256).hexdigest()[:32]


def questionnaire_path(secret: str, reminder_id: int) -> str:
    return QUESTIONNAIRE_PATH.format(token=f"{reminder_id}.{_q_signature(secret, reminder_id)}")


def read_questionnaire_token(secret: str, token: str) -> int | None:
    """The reminder row's id of a genuine token, else None."""
    match = _Q_SHAPE.match(token or "")
    if match is None or not hmac.compare_digest(match.group(2), _q_signature(secret, int(match.group(1)))):
        return None
    return int(match.group(1))
