"""Supervisor sign-off of closure summaries (issue 17): submit, approve, return with a
comment, withdraw, and who may sign off. The rules are `signoff_rules`; this module keeps
them in the database.

Each step is one transaction: the row is locked, the step's rule checked, the status changed
by an UPDATE that names the status it starts from (so of two approvals, or an approval and a
return, clicked at once only one changes a row; the other is refused and writes nothing),
and the step written to the sign-off log (`SignoffEvent`) and the audit log.

Who signs off: a clinician who supervises one of the cohort's facilitators
(`server.accounts.supervises`), or a coordinator who is a clinician (the clinic's clinical
lead, who reads every cohort already, so that a summary never waits on one absent
supervisor). Nobody signs off a version they submitted themself.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.closure import ClosureSummary, SignoffAction, SignoffEvent, SummaryStatus
from server.accounts import audit
from server.accounts.access import supervised_facilitator_ids, supervises
from server.closure import signoff_rules as rules
from server.closure.edits import finalize_problems
from server.closure.record import SummaryRecord
from server.errors import BadRequest, Conflict, Forbidden


def requires_signoff(cohort: Any) -> bool:
    """The cohort's own setting, or its template's when the cohort has none (template loaded)."""
    if cohort.requires_signoff is not None:
        return bool(cohort.requires_signoff)
    return bool(cohort.template.requires_signoff)


async def may_sign_off(user: User, cohort: Any) -> bool:
    if user.role == Role.MEMBER or not user.is_active or not user.is_clinician:
        return False
    if user.role == Role.COORDINATOR:
        return True
    return await supervises(user, cohort)


def parse_requirement(raw: Any) -> bool | None:
    """A form's "follow the template" / "yes" / "no" as the cohort column stores it."""
    value = str(raw or "").strip().lower()
    if value in ("", "template"):
        return None
    if value in ("yes", "1", "true", "on"):
        return True
    if value in ("no", "0", "false", "off"):
        return False
    raise BadRequest("Choose whether summaries need sign-off: follow the protocol, yes or no.",
                     fields={"requires_signoff": "Choose one of the options."})


async def events_of(rows: Sequence[Any]) -> dict[int, list[SignoffEvent]]:
    """Each summary version's sign-off steps, oldest first (one query)."""
    by_summary: dict[int, list[SignoffEvent]] = {row.id: [] for row in rows}
    if rows:
        for event in await SignoffEvent.filter(summary_id__in=list(by_summary)).select_related("by").order_by("at", "id"):
            by_summary[event.summary_id].append(event)
    return by_summary


async def _locked(row: Any) -> ClosureSummary:
    return await ClosureSummary.select_for_update().get(id=row.id)


async def _step(row: Any, current: ClosureSummary, actor: User, action: SignoffAction, *, now: Any,
                comment: str = "", content_hash: str | None = None) -> None:
    await SignoffEvent.create(
        summary_id=row.id, version=current.version, content_hash=content_hash or current.submitted_hash,
        action=action, comment=comment, by=actor, at=now,
    )
    detail = f"sign-off: {action.value} version {current.version}"
    await audit.record(actor, "change", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=detail + (f" ({len(comment)}-character comment)" if comment else ""))


def _sync(row: Any, status: SummaryStatus, submitted_hash: str | None = None) -> None:
    row.status = status
    if submitted_hash is not None:
        row.submitted_hash = submitted_hash


async def submit(row: Any, actor: User, *, now: Any) -> Any:
    """The facilitator's finished summary goes to a supervisor; its content is frozen."""
    from server.closure.service import other_member_names  # service imports this module

    required = requires_signoff(row.enrollment.cohort)
    other_names = await other_member_names(row.enrollment)
    async with in_transaction():
        current = await _locked(row)
        if why := rules.submit_refusal(current.status, current.version, required=required):
            raise Conflict(why, code="signoff_state")
        problems = finalize_problems(SummaryRecord.from_json(current.content), other_member_names=other_names,
                                     own_name=row.enrollment.member.display_name)
        if problems:
            raise BadRequest("This summary cannot be submitted for sign-off yet: " + " ".join(problems),
                             fields={f"problem_{i}": p for i, p in enumerate(problems, 1)}, code="incomplete")
        digest = rules.content_hash(current.content)
        changed = await ClosureSummary.filter(id=row.id, status__in=list(rules.EDITABLE)).update(
            status=SummaryStatus.AWAITING_SIGNOFF, submitted_hash=digest, updated_at=now)
        if not changed:
            raise Conflict("The summary changed a moment ago; reload the page.", code="signoff_state")
        await _step(row, current, actor, SignoffAction.SUBMITTED, now=now, content_hash=digest)
    row.content = current.content
    _sync(row, SummaryStatus.AWAITING_SIGNOFF, digest)
    return row


async def _review(row: Any, actor: User, action: SignoffAction, to: SummaryStatus, *, now: Any,
                  content_hash: str | None, comment: str = "") -> Any:
    if not await may_sign_off(actor, row.enrollment.cohort):
        raise Forbidden("Only a clinician who supervises one of this cohort's facilitators signs off its summaries.")
    async with in_transaction():
        current = await _locked(row)
        if why := rules.review_refusal(current.status, current.version):
            raise Conflict(why + " Reload the page to see where it stands.", code="not_awaiting")
        if content_hash is not None and content_hash != current.submitted_hash:
            raise Conflict("The summary was changed and submitted again since you opened it; read it again "
                           "before signing it off.", code="changed")
        submitted = await SignoffEvent.filter(summary_id=row.id, action=SignoffAction.SUBMITTED).order_by(
            "-at", "-id").first()
        if submitted is not None and submitted.by_id == actor.id:
            raise Forbidden("You submitted this version; another clinician signs it off.")
        # The UPDATE names the status and the content it starts from: of two clicks at once,
        # only the first changes the row; the second finds nothing and is refused.
        changed = await ClosureSummary.filter(
            id=row.id, status=SummaryStatus.AWAITING_SIGNOFF, submitted_hash=current.submitted_hash,
        ).update(status=to)
        if not changed:
            raise Conflict("Someone signed this summary off a moment ago; reload the page.", code="not_awaiting")
        await _step(row, current, actor, action, now=now, comment=comment)
    _sync(row, to)
    return row


async def approve(row: Any, actor: User, *, now: Any, content_hash: str | None = None) -> Any:
    """`content_hash`: the version as the supervisor read it; refused if it changed since."""
    return await _review(row, actor, SignoffAction.APPROVED, SummaryStatus.APPROVED, now=now,
                         content_hash=content_hash)


async def return_for_changes(row: Any, actor: User, comment: str, *, now: Any,
                             content_hash: str | None = None) -> Any:
    comment = (comment or "").replace("\r\n", "\n").strip()
    if problem := rules.comment_problem(comment):
        raise BadRequest(problem, fields={"comment": problem}, code="comment")
    return await _review(row, actor, SignoffAction.RETURNED, SummaryStatus.RETURNED, now=now,
                         content_hash=content_hash, comment=comment)


async def withdraw(row: Any, actor: User, *, now: Any) -> Any:
    """The facilitator takes a version back from sign-off (an approval is then void) to edit it."""
    async with in_transaction():
        current = await _locked(row)
        if why := rules.withdraw_refusal(current.status, current.version):
            raise Conflict(why, code="signoff_state")
        changed = await ClosureSummary.filter(
            id=row.id, status__in=[SummaryStatus.AWAITING_SIGNOFF, SummaryStatus.APPROVED]).update(
            status=SummaryStatus.DRAFT, updated_at=now)
        if not changed:
            raise Conflict("The summary changed a moment ago; reload the page.", code="signoff_state")
        await _step(row, current, actor, SignoffAction.WITHDRAWN, now=now)
    _sync(row, SummaryStatus.DRAFT)
    return row


async def awaiting_signoff(supervisor: User) -> list[ClosureSummary]:
    """The versions awaiting this person's sign-off, longest waiting first, with enrollment,
    cohort and member loaded; not the ones they submitted themself."""
    if supervisor.role == Role.MEMBER or not supervisor.is_active or not supervisor.is_clinician:
        return []
    query = ClosureSummary.filter(status=SummaryStatus.AWAITING_SIGNOFF, enrollment__member__restricted_at=None)
    if supervisor.role != Role.COORDINATOR:
        facilitators = await supervised_facilitator_ids(supervisor)
        if not facilitators:
            return []
        query = query.filter(enrollment__cohort__facilitators__id__in=facilitators)
    ids = set(await query.values_list("id", flat=True))  # the join repeats co-facilitated rows
    # The member comes in its own query: one select_related over four joins once handed back
    # a User without its columns on PostgreSQL, in a full run only.
    rows = await ClosureSummary.filter(id__in=list(ids)).select_related(
        "enrollment", "enrollment__cohort", "enrollment__cohort__template",
    ).order_by("updated_at", "id")
    members = {u.id: u for u in await User.filter(id__in=list({r.enrollment.member_id for r in rows}))}
    for row in rows:
        row.enrollment.member = members[row.enrollment.member_id]
    events = await events_of(rows)
    waiting = []
    for row in rows:
        submitted = [e for e in events[row.id] if e.action == SignoffAction.SUBMITTED]
        if submitted and submitted[-1].by_id == supervisor.id:
            continue
        row.submitted_event = submitted[-1] if submitted else None
        waiting.append(row)
    return waiting


async def record_finalized(row: Any, actor: User, *, version: int, content_hash: str, now: Any) -> None:
    """The last step of a signed-off version (called inside finalize's transaction)."""
    await SignoffEvent.create(summary_id=row.id, version=version, content_hash=content_hash,
                              action=SignoffAction.FINALIZED, by=actor, at=now)


async def set_requirement(cohort: Any, required: bool | None, *, by: User) -> None:
    """A cohort's own setting (None: follow its template), as the cohort form saves it."""
    from models.cohorts import Cohort

    if cohort.requires_signoff == required:
        return
    await Cohort.filter(id=cohort.id).update(requires_signoff=required)
    cohort.requires_signoff = required
    await audit.record(by, "change", "cohort", cohort.id, detail="closure summaries need sign-off: "
                       + {None: "as the protocol says", True: "yes", False: "no"}[required])


REQUIREMENT_CHOICES = {None: "", True: "yes", False: "no"}
