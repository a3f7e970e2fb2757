"""Services: the record in, versions out. Drafting, editing, finalizing and amending a
member's summary in the database; finalized versions never change."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import Role
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import (
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from server.accounts import audit
from server.accounts.access import viewable_enrollment, visible_enrollment
from server.closure import signoff, signoff_rules
from server.closure.drafting import draft_summary
from server.closure.edits import SummaryInputError, apply_edits, finalize_problems
from server.closure.loading import cohort_record
from server.closure.names import redact_record_names
from server.closure.outcomes import OutcomeReport, outcome_report
from server.closure.record import SummaryRecord
from server.errors import BadRequest, Conflict, NotFound
from server.measures import safety
from server.measures.responses import lineage

# Who gets a summary: members who joined the group, including those who left it early.
SUMMARY_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED, EnrollmentStatus.WITHDRAWN)


async def termination_reached(cohort: Any, *, now: Any) -> bool:
    """Summaries may be drafted from the first termination-phase session on (issue 6)."""
    if cohort.status == CohortStatus.COMPLETED:
        return True
    first = _first_termination_session(cohort.phases, cohort.n_group_sessions)
    meeting = await Meeting.filter(
        cohort_id=cohort.id, kind=MeetingKind.GROUP, number__gte=first,
    ).exclude(status=MeetingStatus.CANCELLED).order_by("starts_at").first()
    return meeting is not None and meeting.starts_at <= now


def _first_termination_session(phases: Any, n_group_sessions: int) -> int:
    for phase in phases or []:
        if isinstance(phase, Mapping) and phase.get("name") == "termination":
            try:
                return int(phase.get("first"))
            except (TypeError, ValueError):
                break
    return n_group_sessions


# --- Versions -----------------------------------------------------------------------------


async def other_member_names(enrollment: Any) -> list[str]:
    """Everyone else ever enrolled in the cohort, or in an earlier group of the member's
    treatment episode (whatever their status): none may be named."""
    episode = await lineage(enrollment)
    cohorts = await Enrollment.filter(id__in=episode).values_list("cohort_id", flat=True)
    return await Enrollment.filter(cohort_id__in=list(set(cohorts))).exclude(
        member_id=enrollment.member_id).values_list("member__display_name", flat=True)


async def versions_of(enrollment: Any) -> list[Any]:
    return await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("version").select_related(
        "created_by", "finalized_by", "updated_by"
    )


async def draft(enrollment: Any, actor: Any, *, now: Any) -> Any:
    """Start the summary (version 1) or refresh the open draft from the record.

    Refreshing replaces sections 1-5 and 10 and keeps what the facilitator wrote."""
    if enrollment.status not in SUMMARY_STATUSES:
        raise Conflict(
            f"A closure summary is written for members who joined the group; this enrollment is {enrollment.status}.",
            code="not_enrolled",
        )
    if await Enrollment.exists(transferred_from_id=enrollment.id):
        raise Conflict(
            "This member moved to another group; their closure summary is written there, for the "
            "whole treatment episode.", code="transferred",
        )
    if not await termination_reached(enrollment.cohort, now=now):
        raise Conflict(
            "Summaries can be drafted from the first session of the termination phase on.",
            code="too_early",
        )
    facts = (await cohort_record(enrollment.cohort, [enrollment], now=now))[enrollment.id]
    other_names = await other_member_names(enrollment)
    try:
        async with in_transaction():
            latest = await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("-version").first()
            if latest is not None and latest.is_final:
                raise finalized_conflict(latest)
            previous = SummaryRecord.from_json(latest.content) if latest is not None else None
            content = redact_record_names(
                draft_summary(facts, previous=previous), other_names, own_name=enrollment.member.display_name,
            ).to_json()
            if latest is None:
                row = await ClosureSummary.create(
                    enrollment_id=enrollment.id, version=1, status=SummaryStatus.DRAFT,
                    content=content, created_by=actor, updated_by=actor,
                )
            else:
                await _update_draft(latest, actor, content, now=now)
                row = latest
    except IntegrityError:
        raise Conflict("Someone else started this summary a moment ago; reload the page.") from None
    await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                       detail=f"drafted version {row.version} from the record")
    return row


def finalized_conflict(row: Any) -> Conflict:
    return Conflict(
        f"Version {row.version} is finalized and cannot change. Make an amendment instead.",
        code="finalized",
    )


async def draft_missing(cohort: Any, actor: Any, *, now: Any) -> int:
    """Draft a summary for every member who has none yet; returns how many were started."""
    if not await termination_reached(cohort, now=now):
        raise Conflict(
            "Summaries can be drafted from the first session of the termination phase on.",
            code="too_early",
        )
    started = ClosureSummary.filter(enrollment__cohort_id=cohort.id).values_list("enrollment_id", flat=True)
    enrollments = await _without_transferred(await Enrollment.filter(
        cohort_id=cohort.id, status__in=list(SUMMARY_STATUSES), member__restricted_at=None).exclude(
        id__in=await started
    ).select_related("cohort__template", "member").order_by("id"))
    for enrollment in enrollments:
        await draft(enrollment, actor, now=now)
    return len(enrollments)


async def _without_transferred(enrollments: Sequence[Any]) -> list[Any]:
    """Members who moved to another group have their summary there (the episode's)."""
    moved = set(await Enrollment.filter(transferred_from_id__in=[e.id for e in enrollments]).values_list(
        "transferred_from_id", flat=True)) if enrollments else set()
    return [e for e in enrollments if e.id not in moved]


async def _update_draft(row: Any, actor: Any, content: dict[str, Any], *, now: Any) -> None:
    """Write a draft's content; refuses (409) if the version was finalized, or submitted for
    sign-off, meanwhile."""
    # The status test is inside the UPDATE itself, so a form replayed after finalizing or
    # submitting, or a finalize racing an edit, can never change a frozen version.
    changed = await ClosureSummary.filter(id=row.id, status__in=list(signoff_rules.EDITABLE)).update(
        content=content, updated_by_id=actor.id, updated_at=now,
    )
    if not changed:
        raise await _frozen_conflict(row)
    row.content = content


async def _frozen_conflict(row: Any) -> Conflict:
    found = await ClosureSummary.get_or_none(id=row.id)
    status = found.status if found is not None else SummaryStatus.FINALIZED
    if status == SummaryStatus.FINALIZED:
        return finalized_conflict(row)
    return Conflict(signoff_rules.edit_refusal(status, row.version) or "The summary changed; reload the page.",
                    code="signoff_state")


async def save_edits(row: Any, actor: Any, form: Mapping[str, Any], *, now: Any) -> SummaryRecord:
    if row.is_final:
        raise finalized_conflict(row)
    if why := signoff_rules.edit_refusal(row.status, row.version):
        raise Conflict(why, code="signoff_state")
    try:
        edited = apply_edits(SummaryRecord.from_json(row.content), form)
    except SummaryInputError as exc:
        raise BadRequest("Some fields need attention: " + "; ".join(exc.problems.values()),
                         fields=exc.problems) from None
    await _update_draft(row, actor, edited.to_json(), now=now)
    await audit.record(actor, "change", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"edited version {row.version}")
    return edited


async def finalize(row: Any, actor: Any, *, now: Any) -> Any:
    """Where the cohort requires sign-off, only an approved version (signoff_rules)."""
    enrollment = row.enrollment
    required = signoff.requires_signoff(enrollment.cohort)
    _refuse_finalize(row, required=required)
    open_items = await safety.open_item_count(enrollment.member_id)
    if open_items:  # the ending is not written over a risk that nobody has yet followed up
        raise Conflict(
            f"This member has {open_items} open safety item(s). Record the risk check (a documented contact) "
            "before finalizing the closure summary.", code="safety_open")
    other_names = await other_member_names(enrollment)
    problems = finalize_problems(
        SummaryRecord.from_json(row.content), other_member_names=other_names,
        own_name=enrollment.member.display_name,
    )
    if problems:
        raise BadRequest("This summary cannot be finalized yet: " + " ".join(problems),
                         fields={f"problem_{i}": p for i, p in enumerate(problems, 1)}, code="incomplete")
    async with in_transaction():
        current = await ClosureSummary.select_for_update().get(id=row.id)
        _refuse_finalize(current, required=required)
        digest = signoff_rules.content_hash(current.content)
        if current.status == SummaryStatus.APPROVED and digest != current.submitted_hash:
            raise Conflict("The text differs from the version the supervisor approved. Withdraw it and submit "
                           "it for sign-off again.", code="changed")
        changed = await ClosureSummary.filter(
            id=row.id, status__in=list(signoff_rules.finalizable(required=required))).update(
            status=SummaryStatus.FINALIZED, finalized_by_id=actor.id, finalized_at=now,
        )
        if not changed:
            raise Conflict(f"Version {row.version} changed a moment ago (finalized, or sent for sign-off); "
                           "reload the page.", code="finalized")
        if current.status == SummaryStatus.APPROVED:
            await signoff.record_finalized(row, actor, version=current.version, content_hash=digest, now=now)
        await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                           detail=f"finalized version {row.version}"
                           + (" after sign-off" if current.status == SummaryStatus.APPROVED else ""))
    row.status, row.finalized_by, row.finalized_at = SummaryStatus.FINALIZED, actor, now
    return row


def _refuse_finalize(row: Any, *, required: bool) -> None:
    if why := signoff_rules.finalize_refusal(row.status, row.version, required=required):
        raise Conflict(why, code="finalized" if row.is_final else "signoff_required")


async def amend(enrollment: Any, actor: Any, reason: str, *, now: Any) -> Any:
    """A new draft version from the latest finalized one; earlier versions stay as they were."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("Say why the summary is being amended.", fields={"reason": "Required."})
    if len(reason) > 500:
        raise BadRequest("Keep the reason under 500 characters.", fields={"reason": "Too long."})
    try:
        async with in_transaction():
            latest = await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("-version").first()
            if latest is None:
                raise NotFound("There is no summary to amend yet; draft one first.")
            if not latest.is_final:
                raise Conflict(
                    f"Version {latest.version} is still a draft; edit it instead of amending.",
                    code="draft_open",
                )
            row = await ClosureSummary.create(
                enrollment_id=enrollment.id, version=latest.version + 1, status=SummaryStatus.DRAFT,
                content=latest.content, amendment_reason=reason, created_by=actor, updated_by=actor,
            )
    except IntegrityError:
        raise Conflict("Someone else amended this summary a moment ago; reload the page.") from None
    await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                       detail=f"amendment: version {row.version}")
    return row


async def summary_row(summary_id: Any, user: Any) -> Any:
    """One version, if this person may see it (members: only their own, finalized)."""
    row = await ClosureSummary.get_or_none(id=_positive_id(summary_id)).select_related(
        "created_by", "updated_by", "finalized_by"
    )
    if row is None:
        raise NotFound("There is no such summary.")
    row.enrollment = await readable_enrollment(user, row.enrollment_id)
    if user.role == Role.MEMBER and not row.is_final:
        raise NotFound("There is no such summary.")
    return row


async def readable_enrollment(user: Any, enrollment_id: Any) -> Any:
    """Whose summaries this person may read: the member their own; staff as
    `viewable_enrollment` (coordinators, the cohort's facilitators and their supervisors)."""
    if user.role == Role.MEMBER:
        return await visible_enrollment(user, enrollment_id)
    return await viewable_enrollment(user, enrollment_id)


def _positive_id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("There is no such summary.") from None
    if not 0 < number < 2**31:
        raise NotFound("There is no such summary.")
    return number


async def cohort_overview(cohort: Any) -> list[dict[str, Any]]:
    """Each member's summary state (see `_summary_state`) with their latest and finalized versions."""
    enrollments = await _without_transferred(await Enrollment.filter(
        cohort_id=cohort.id, status__in=list(SUMMARY_STATUSES), member__restricted_at=None,
    ).select_related("member").order_by("id"))
    rows = await ClosureSummary.filter(enrollment_id__in=[e.id for e in enrollments]).order_by("version")
    latest: dict[int, Any] = {}
    finalized: dict[int, Any] = {}
    for row in rows:
        latest[row.enrollment_id] = row
        if row.is_final:
            finalized[row.enrollment_id] = row
    return [
        {
            "enrollment": e,
            "latest": latest.get(e.id),
            "finalized": finalized.get(e.id),
            "state": _summary_state(latest.get(e.id), finalized.get(e.id)),
            # awaiting_signoff, returned or approved while the latest version is in sign-off
            "signoff": _signoff_state(latest.get(e.id)),
        }
        for e in enrollments
    ]


def _summary_state(latest: Any, finalized: Any) -> str:
    """missing, draft, finalized, or amending (finalized, with the next version in draft)."""
    if latest is None:
        return "missing"
    if latest.is_final:
        return "finalized"
    return "amending" if finalized is not None else "draft"


def _signoff_state(latest: Any) -> str | None:
    if latest is None or latest.status in (SummaryStatus.DRAFT, SummaryStatus.FINALIZED):
        return None
    return str(latest.status)


def summary_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Members with a finalized summary (amending or not), with only a draft, with none."""
    states = [r["state"] for r in rows]
    return {
        "finalized": states.count("finalized") + states.count("amending"),
        "draft": states.count("draft"),
        "missing": states.count("missing"),
    }


async def cohort_outcomes(cohort: Any, *, now: Any) -> OutcomeReport:
    """The outcome report, from the record of members who stayed to the end."""
    enrollments = await Enrollment.filter(
        cohort_id=cohort.id, status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED]
    )
    facts = await cohort_record(cohort, enrollments, now=now)
    return outcome_report([draft_summary(f) for f in facts.values()])
