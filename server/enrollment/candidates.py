"""Who can still be enrolled into a cohort, found by a few typed letters (issue 15).

A clinic has thousands of members, so the enrollment form never lists them all: the
coordinator types part of a name or an e-mail address and picks from a short list. The
list holds only people `service.enroll` would take: active members (never staff), not
restricted (GDPR Art. 18: restricted members are left out of every picker, see
server/records/restriction.py), and not already in this cohort under any status (a
withdrawn member comes back through their enrollment's status, not a second enrollment).
"""
from __future__ import annotations

from tortoise.expressions import Q, Subquery

from models.accounts import Role, User
from models.cohorts import Enrollment

MAX_QUERY = 254  # the longest e-mail address; a longer search can match nobody


def search_text(raw: object) -> str:
    """What was typed, as one line: spaces collapsed, NUL removed (PostgreSQL text cannot
    hold it), cut to the longest thing it could match."""
    text = str(raw or "").replace("\x00", "")
    return " ".join(text.split())[:MAX_QUERY]


async def members_to_enroll(cohort_id: int, typed: str, *, limit: int) -> tuple[list[User], bool]:
    """Up to `limit` members matching `typed` (in the name or the e-mail address, ignoring
    case) who may be enrolled into the cohort, by name; and whether more matched.

    Nothing typed finds nobody: the form lists no member who was not searched for."""
    typed = search_text(typed)
    if not typed:
        return [], False
    # Case-insensitive on both databases: Tortoise compares UPPER(column) LIKE UPPER(value),
    # with % and _ in the typed text escaped, where ILIKE would be PostgreSQL's alone.
    found = await (
        User.filter(role=Role.MEMBER, is_active=True, restricted_at=None)
        .filter(Q(display_name__icontains=typed) | Q(email__icontains=typed))
        .exclude(id__in=Subquery(Enrollment.filter(cohort_id=cohort_id).values("member_id")))
        .order_by("display_name", "id")
        .limit(limit + 1)
    )
    return found[:limit], len(found) > limit


async def chosen_member(cohort_id: int, member_id: int | None) -> User | None:
    """The member a form already names (picked before a refusal re-rendered it), if they
    may still be enrolled into the cohort: the page shows them as chosen again."""
    if member_id is None:
        return None
    member = await User.get_or_none(id=member_id, role=Role.MEMBER, is_active=True, restricted_at=None)
    if member is None or await Enrollment.exists(cohort_id=cohort_id, member_id=member_id):
        return None
    return member
