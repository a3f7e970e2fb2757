"""Who may see which cohort and which member's record.

Coordinators see every cohort; a facilitator sees only cohorts they facilitate; a member
sees only their own enrollment. Records a person may not know exist answer 404.
"""
from __future__ import annotations

from models.accounts import Role, User
from models.cohorts import Cohort, Enrollment
from server.errors import Forbidden, NotFound


async def facilitates(user: User, cohort: Cohort | int) -> bool:
    cohort_id = cohort.id if isinstance(cohort, Cohort) else cohort
    return await Cohort.filter(id=cohort_id, facilitators__id=user.id).exists()


async def staff_cohort(user: User, cohort_id: int | str) -> Cohort:
    """A cohort a coordinator, or one of its own facilitators, may work on."""
    cohort = await Cohort.get_or_none(id=_as_id(cohort_id)).select_related("template")
    if cohort is None:
        raise NotFound("There is no such cohort.")
    if user.role == Role.COORDINATOR:
        return cohort
    if user.role == Role.FACILITATOR and await facilitates(user, cohort):
        return cohort
    if user.role == Role.FACILITATOR:
        raise Forbidden("You do not facilitate this cohort.")
    raise NotFound("There is no such cohort.")


async def visible_enrollment(user: User, enrollment_id: int | str) -> Enrollment:
    """A member's enrollment: the member themself, that cohort's facilitators, coordinators."""
    enrollment = await Enrollment.get_or_none(id=_as_id(enrollment_id)).select_related(
        "cohort", "cohort__template", "member"
    )
    if enrollment is None:
        raise NotFound("There is no such enrollment.")
    if user.role == Role.COORDINATOR or enrollment.member_id == user.id:
        return enrollment
    if user.role == Role.FACILITATOR:
        if await facilitates(user, enrollment.cohort_id):
            return enrollment
        raise Forbidden("You do not facilitate this member's cohort.")
    raise NotFound("There is no such enrollment.")


async def staff_enrollment(user: User, enrollment_id: int | str) -> Enrollment:
    """As visible_enrollment, but not for the member themself (facilitator-only records)."""
    enrollment = await visible_enrollment(user, enrollment_id)
    if user.role == Role.MEMBER:
        raise NotFound("There is no such enrollment.")
    return enrollment


def _as_id(value: int | str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("There is no such record.") from None
    if number <= 0 or number > 2**31 - 1:
        raise NotFound("There is no such record.")
    return number
