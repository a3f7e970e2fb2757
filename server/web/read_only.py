"""What a reader of a cohort may change: a supervisor reads the cohorts of the facilitators
they supervise, and changes nothing there unless they also facilitate it (issue 17).

Pages pass `viewer(...)` to their templates: `can_change` hides the edit controls,
`supervising` shows the calm note (templates/_supervising.html).
"""
from __future__ import annotations

from models.accounts import Role, User
from models.cohorts import Cohort
from server.accounts.access import facilitates


async def can_change(user: User, cohort: Cohort | int) -> bool:
    return user.role == Role.COORDINATOR or (user.role == Role.FACILITATOR and await facilitates(user, cohort))


async def viewer(user: User, cohort: Cohort | int) -> dict[str, bool]:
    """The template flags for a page of `cohort` that `user` was allowed to read."""
    changes = await can_change(user, cohort)
    return {"can_change": changes, "supervising": not changes}
