"""Who may see which cohort and which member's record.

Coordinators see every cohort; a facilitator sees only cohorts they facilitate; a member
sees only their own enrollment. Records a person may not know exist answer 404.

A supervisor (a clinician with `models.supervision.Supervision` rows) also *reads* the
cohorts of the facilitators they supervise: `viewable_cohort` and `viewable_enrollment`
admit them, `staff_cohort` and `staff_enrollment` (for changes) do not, unless they also
facilitate the cohort themselves (domain-ipt.md section 13).
"""
from __future__ import annotations

from models.accounts import Role, User
from models.cohorts import Cohort, Enrollment
from server.errors import Forbidden, NotFound


async def facilitates(user: User, cohort: Cohort | int) -> bool:
    cohort_id = cohort.id if isinstance(cohort, Cohort) else cohort
    return await Cohort.filter(id=cohort_id, facilitators__id=user.id).exists()


async def supervises(user: User, cohort: Cohort | int) -> bool:
    """Does `user` supervise one of the cohort's facilitators (and is a clinician, as a
    supervisor must be)?"""
    if user.role == Role.MEMBER or not user.is_clinician:
        return False
    cohort_id = cohort.id if isinstance(cohort, Cohort) else cohort
    return await Cohort.filter(id=cohort_id, facilitators__supervisors__supervisor_id=user.id).exists()


async def supervised_facilitator_ids(user: User) -> list[int]:
    """The facilitators `user` supervises (none for a member or a non-clinician)."""
    if user.role == Role.MEMBER or not user.is_clinician:
        return []
    from models.supervision import Supervision

    return list(await Supervision.filter(supervisor_id=user.id, facilitator__is_active=True)
                .order_by("facilitator_id").values_list("facilitator_id", flat=True))


async def viewable_cohort(user: User, cohort_id: int | str) -> Cohort:
    """A cohort staff may read: as `staff_cohort`, and also its facilitators' supervisors."""
    return await _staff_cohort(user, cohort_id, supervisors=True)


async def staff_cohort(user: User, cohort_id: int | str) -> Cohort:
    """A cohort a coordinator, or one of its own facilitators, may work on."""
    return await _staff_cohort(user, cohort_id, supervisors=False)


async def _staff_cohort(user: User, cohort_id: int | str, *, supervisors: bool) -> Cohort:
    cohort = await Cohort.get_or_none(id=_as_id(cohort_id)).select_related("template")
    if cohort is None:
        raise NotFound("There is no such cohort.")
    if user.role == Role.COORDINATOR:
        return cohort
    if user.role != Role.FACILITATOR:
        raise NotFound("There is no such cohort.")
    if await facilitates(user, cohort) or (supervisors and await supervises(user, cohort)):
        return cohort
    raise Forbidden("You do not facilitate or supervise this cohort." if supervisors
                    else "You do not facilitate this cohort.")


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


async def viewable_enrollment(user: User, enrollment_id: int | str) -> Enrollment:
    """As `staff_enrollment`, and also the supervisors of the cohort's facilitators (to read)."""
    enrollment = await Enrollment.get_or_none(id=_as_id(enrollment_id)).select_related(
        "cohort", "cohort__template", "member"
    )
    if enrollment is None or user.role == Role.MEMBER:
        raise NotFound("There is no such enrollment.")
    if user.role == Role.COORDINATOR:
        return enrollment
    if await facilitates(user, enrollment.cohort_id) or await supervises(user, enrollment.cohort_id):
        return enrollment
    raise Forbidden("You do not facilitate or supervise this member's cohort.")


def _as_id(value: int | str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("There is no such record.") from None
    if number <= 0 or number > 2**31 - 1:
        raise NotFound("There is no such record.")
    return number
