"""Closure summaries: the cohort's overview, the editor, versions and their differences,
the member's copy, print and PDF, and the cohort outcome report. Sign-off's own pages
(submit, withdraw, approve, return, the queue) are in `server.web.routes.closure_signoff`,
the JSON API in `server.web.routes.closure_api`.

Who may do what:
- the cohort's facilitators draft, edit, finalize and amend; where the cohort requires
  sign-off (server.closure.signoff) they submit a finished version for sign-off, and may
  withdraw it to edit it again;
- coordinators, the cohort's facilitators and their supervisors read every version,
  section 10 included, and the sign-off steps with the supervisors' comments;
- a supervisor of one of the cohort's facilitators (or a coordinator who is a clinician)
  approves a version awaiting sign-off or returns it with a comment; the versions awaiting
  someone's sign-off are listed at /supervision/sign-off;
- a member reads their own finalized versions, never section 10 or a sign-off comment;
- the outcome report (coordinators and the cohort's facilitators) carries no names.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Enrollment
from server import clock, closure
from server.accounts import access, audit
from server.closure import SummaryRecord, signoff
from server.closure.signoff_rules import MAX_COMMENT
from server.errors import BadRequest, Conflict, Forbidden, NotFound, PlatformError
from server.measures import charts
from server.platform.pdf import render_pdf
from server.web import auth
from server.web.forms import form_data
from server.web.templating import render, templates

# --- helpers ------------------------------------------------------------------------------


async def _writable_enrollment(user: User, enrollment_id: Any) -> Enrollment:
    enrollment = await access.staff_enrollment(user, enrollment_id)
    if user.role != Role.FACILITATOR:
        raise Forbidden("Only the cohort's facilitators write closure summaries.")
    return enrollment


async def _writable_cohort(user: User, cohort_id: Any) -> Any:
    cohort = await access.staff_cohort(user, cohort_id)
    if user.role != Role.FACILITATOR:
        raise Forbidden("Only the cohort's facilitators write closure summaries.")
    return cohort


async def writable_row(user: User, summary_id: Any) -> ClosureSummary:
    row = await closure.summary_row(summary_id, user)
    # Supervisors read the summaries of the cohorts they supervise; only its own facilitators write.
    if user.role != Role.FACILITATOR or not await access.facilitates(user, row.enrollment.cohort_id):
        raise Forbidden("Only the cohort's facilitators write closure summaries.")
    return row


async def reviewable_row(user: User, summary_id: Any) -> ClosureSummary:
    row = await closure.summary_row(summary_id, user)
    if not await signoff.may_sign_off(user, row.enrollment.cohort):
        raise Forbidden("Only a clinician who supervises one of this cohort's facilitators signs off its summaries.")
    return row


async def _can_write(user: User, cohort_id: int) -> bool:
    return user.role == Role.FACILITATOR and await access.facilitates(user, cohort_id)


async def signoff_context(row: ClosureSummary, user: User) -> dict[str, Any]:
    """What the pages show of sign-off: whether it is required, this version's steps (with
    the supervisors' comments), the latest return, and whether this person may sign off now."""
    if user.role == Role.MEMBER:
        return {"signoff_required": False, "signoff_events": [], "may_review": False}
    events = (await signoff.events_of([row]))[row.id]
    submitted = [e for e in events if e.action == "submitted"]
    returned = [e for e in events if e.action == "returned"]
    may_review = (
        row.status == SummaryStatus.AWAITING_SIGNOFF
        and not (submitted and submitted[-1].by_id == user.id)
        and await signoff.may_sign_off(user, row.enrollment.cohort)
    )
    return {
        "signoff_required": signoff.requires_signoff(row.enrollment.cohort),
        "signoff_events": events,
        "last_return": returned[-1] if row.status == SummaryStatus.RETURNED and returned else None,
        "may_review": may_review,
        "max_comment": MAX_COMMENT,
    }


def _audience(user: User) -> str:
    return "member" if user.role == Role.MEMBER else "staff"


def _document(row: ClosureSummary, audience: str) -> SummaryRecord:
    doc = SummaryRecord.from_json(row.content)
    # The member's copy never carries section 10, whatever the template does with it.
    return dataclasses.replace(doc, safety=[]) if audience == "member" else doc


def _charts(doc: SummaryRecord) -> dict[str, Any]:
    return {
        t.instrument: charts.trend_chart(
            t.instrument,
            [charts.TrendPoint(when=p.on, total=p.total, label=p.label) for p in t.points],
            chart_id=f"chart-{t.instrument}",
        )
        for t in doc.symptoms
    }


def document_context(row: ClosureSummary, audience: str, user: User) -> dict[str, Any]:
    doc = _document(row, audience)
    return {
        "row": row,
        "doc": doc,
        "audience": audience,
        "charts": _charts(doc),
        "member_name": row.enrollment.member.display_name,
        "zone": user.time_zone,
        "status_labels": closure.GOAL_STATUS_LABELS,
        "next_step_labels": closure.NEXT_STEP_LABELS,
    }


def _problems(exc: PlatformError) -> list[str]:
    return list(exc.fields.values()) if exc.fields else [exc.message]


# --- pages: staff -------------------------------------------------------------------------


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def cohort_summaries(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    rows = await closure.cohort_overview(cohort)
    can_draft = await closure.termination_reached(cohort, now=clock.now())
    counts = closure.summary_counts(rows)
    drafted = request.query_params.get("drafted", "")
    return render(request, "closure/overview.html", {
        "cohort": cohort, "rows": rows, "can_draft": can_draft, "counts": counts,
        "can_write": user.role == Role.FACILITATOR,
        "signoff_required": signoff.requires_signoff(cohort),
        "signoff_choice": signoff.REQUIREMENT_CHOICES[cohort.requires_signoff],
        "is_coordinator": user.role == Role.COORDINATOR,
        "notice": f"Drafted {drafted} summaries from the record." if drafted.isdigit() else
        ("Saved whether this cohort's summaries need sign-off." if request.query_params.get("signoff") else None),
    })


@auth.requires(Role.FACILITATOR)
async def draft_all(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await _writable_cohort(user, request.path_params["cohort_id"])
    started = await closure.draft_missing(cohort, user, now=clock.now())
    return RedirectResponse(f"/cohorts/{cohort.id}/summaries?drafted={started}", status_code=303)


@auth.requires(Role.FACILITATOR)
async def start_draft(request: Request) -> Response:
    user = auth.user_of(request)
    enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
    row = await closure.draft(enrollment, user, now=clock.now())
    return RedirectResponse(f"/summaries/{row.id}/edit", status_code=303)


@auth.requires()
async def view_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _audience(user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"version {row.version} ({audience} view)")
    versions = await closure.versions_of(row.enrollment)
    if audience == "member":
        versions = [v for v in versions if v.is_final]
    return render(request, "closure/view.html", await view_context(request, row, user, versions))


VIEW_NOTICES = {
    "finalized": "The summary is finalized. The member can now read it in their portal.",
    "amended": "A new version was started; the earlier versions stay as they were.",
    "submitted": "Submitted for sign-off. Its supervisor can now read it; it stays as it is until they approve or return it.",
    "approved": "Approved. The facilitator can now finalize it and give it to the member.",
    "returned": "Returned to the facilitator with your comment.",
    "withdrawn": "Withdrawn from sign-off; it is a draft again and can be edited.",
}


async def view_context(request: Request, row: ClosureSummary, user: User, versions: list[Any],
                        **extra: Any) -> dict[str, Any]:
    audience = _audience(user)
    context = document_context(row, audience, user)
    context.update(await signoff_context(row, user))
    context.update({
        "versions": versions,
        "latest": versions[-1] if versions else row,
        "can_write": await _can_write(user, row.enrollment.cohort_id),
        "notice": VIEW_NOTICES.get(request.query_params.get("done", "")),
        **extra,
    })
    return context


def _editor_context(row: ClosureSummary, user: User, doc: SummaryRecord, form: Any = None) -> dict[str, Any]:
    context = document_context(row, "staff", user)
    context.update({
        "edit": doc,
        "form": form,
        "next_step_kinds": closure.NEXT_STEP_KINDS,
        "max_text": closure.MAX_TEXT,
    })
    return context


@auth.requires(Role.FACILITATOR)
async def edit_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    if request.method == "GET":
        if row.status not in (SummaryStatus.DRAFT, SummaryStatus.RETURNED):  # finalized, or frozen for sign-off
            return RedirectResponse(f"/summaries/{row.id}", status_code=303)
        await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                           detail=f"version {row.version} (editor)")
        doc = SummaryRecord.from_json(row.content)
        other_names = await closure.other_member_names(row.enrollment)
        warnings = closure.finalize_problems(doc, other_member_names=other_names,
                                             own_name=row.enrollment.member.display_name)
        context = {**_editor_context(row, user, doc), **await signoff_context(row, user), "warnings": warnings}
        return render(request, "closure/editor.html", context)
    form = await form_data(request)
    fields = {k: v for k, v in form.items() if k in closure.NARRATIVE_FIELDS or k.startswith(closure.GOAL_WORDS_PREFIX)}
    try:
        await closure.save_edits(row, user, fields, now=clock.now())
    except Conflict:
        raise  # a finalized version: a replayed form must not look like a validation problem
    except BadRequest as exc:
        doc = SummaryRecord.from_json(row.content)
        context = _editor_context(row, user, doc, form=form)
        context.update(await signoff_context(row, user))
        context.update({"error": "Some fields need attention.", "field_errors": exc.fields, "warnings": []})
        return render(request, "closure/editor.html", context, status_code=400)
    if form.get("then") == "finalize":
        return await _finalize_and_redirect(request, row, user)
    if form.get("then") == "submit":
        return await submit_and_redirect(request, row, user)
    return RedirectResponse(f"/summaries/{row.id}/edit?saved=1", status_code=303)


async def _refused_in_editor(request: Request, row: ClosureSummary, user: User, exc: PlatformError,
                             error: str) -> Response:
    doc = SummaryRecord.from_json(row.content)
    context = _editor_context(row, user, doc)
    context.update(await signoff_context(row, user))
    context.update({"error": error, "warnings": _problems(exc)})
    return render(request, "closure/editor.html", context, status_code=400)


async def submit_and_redirect(request: Request, row: ClosureSummary, user: User) -> Response:
    try:
        await signoff.submit(row, user, now=clock.now())
    except BadRequest as exc:
        if isinstance(exc, Conflict) or exc.code != "incomplete":
            raise
        return await _refused_in_editor(request, row, user, exc, "This summary cannot be submitted for sign-off yet.")
    return RedirectResponse(f"/summaries/{row.id}?done=submitted", status_code=303)


async def _finalize_and_redirect(request: Request, row: ClosureSummary, user: User) -> Response:
    try:
        await closure.finalize(row, user, now=clock.now())
    except BadRequest as exc:
        if isinstance(exc, Conflict) or exc.code != "incomplete":
            raise
        return await _refused_in_editor(request, row, user, exc, "This summary cannot be finalized yet.")
    return RedirectResponse(f"/summaries/{row.id}?done=finalized", status_code=303)


@auth.requires(Role.FACILITATOR)
async def redraft_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    if row.is_final:
        raise closure.finalized_conflict(row)
    await closure.draft(row.enrollment, user, now=clock.now())
    return RedirectResponse(f"/summaries/{row.id}/edit?refreshed=1", status_code=303)


@auth.requires(Role.FACILITATOR)
async def finalize_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    return await _finalize_and_redirect(request, row, user)


@auth.requires(Role.FACILITATOR)
async def amend_summary(request: Request) -> Response:
    user = auth.user_of(request)
    enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
    form = await form_data(request)
    row = await closure.amend(enrollment, user, form.get("reason") or "", now=clock.now())
    return RedirectResponse(f"/summaries/{row.id}/edit", status_code=303)


@auth.requires()
async def history(request: Request) -> Response:
    user = auth.user_of(request)
    enrollment = await closure.readable_enrollment(user, request.path_params["enrollment_id"])
    audience = _audience(user)
    versions = await closure.versions_of(enrollment)
    if audience == "member":
        versions = [v for v in versions if v.is_final]
    if not versions:
        raise NotFound("There is no closure summary for this member yet.")
    await audit.record(user, "read", "closure_summary", versions[-1].id, member=enrollment.member_id,
                       detail=f"version history ({audience})")
    entries = []
    previous = None
    for v in versions:
        doc = SummaryRecord.from_json(v.content)
        entries.append({
            "row": v,
            "changes": closure.diff_summaries(previous, doc, include_safety=audience == "staff")
            if previous is not None else None,
        })
        previous = doc
    events = await signoff.events_of(versions) if audience == "staff" else {}
    for entry in entries:
        entry["signoff"] = events.get(entry["row"].id, [])
    return render(request, "closure/history.html", {
        "enrollment": enrollment, "entries": list(reversed(entries)), "audience": audience,
        "can_write": await _can_write(user, enrollment.cohort_id),
    })


@auth.requires()
async def print_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _print_audience(request, user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"version {row.version} printed ({audience} copy)")
    return render(request, "closure/print.html", {**document_context(row, audience, user), "for_pdf": False})


@auth.requires()
async def summary_pdf(request: Request) -> Response:
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _print_audience(request, user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"version {row.version} PDF ({audience} copy)")
    html = templates.get_template("closure/print.html").render(
        {**document_context(row, audience, user), "for_pdf": True, "request": request, "user": user}
    )
    pdf = await render_pdf(html)
    suffix = "" if row.is_final else "-draft"
    filename = f"closure-summary-v{row.version}{suffix}.pdf"
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "private, no-store",
    })


def _print_audience(request: Request, user: User) -> str:
    # Staff may print the member's copy to hand over; members only ever get theirs.
    if user.role == Role.MEMBER or request.query_params.get("copy") == "member":
        return "member"
    return "staff"


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def outcomes(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    report = await closure.cohort_outcomes(cohort, now=clock.now())
    summaries = closure.summary_counts(await closure.cohort_overview(cohort))
    await audit.record(user, "read", "cohort_outcomes", cohort.id, detail="aggregate report, no names")
    return render(request, "closure/outcomes.html", {
        "cohort": cohort, "report": report, "status_labels": closure.GOAL_STATUS_LABELS, "summaries": summaries,
    })


# --- pages: the member's portal -------------------------------------------------------------


@auth.requires(Role.MEMBER)
async def my_summaries(request: Request) -> Response:
    user = auth.user_of(request)
    rows = await ClosureSummary.filter(
        enrollment__member_id=user.id, status=SummaryStatus.FINALIZED
    ).select_related("enrollment__cohort").order_by("enrollment_id", "-version")
    latest: dict[int, ClosureSummary] = {}
    earlier: dict[int, list[ClosureSummary]] = {}
    for row in rows:
        if row.enrollment_id in latest:
            earlier.setdefault(row.enrollment_id, []).append(row)
        else:
            latest[row.enrollment_id] = row
    return render(request, "closure/portal_list.html", {"latest": list(latest.values()), "earlier": earlier})


routes = [
    Route("/cohorts/{cohort_id:id}/summaries", cohort_summaries, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/summaries/draft-all", draft_all, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/outcomes", outcomes, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/summary/draft", start_draft, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/summary/amend", amend_summary, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/summary/history", history, methods=["GET"]),
    Route("/summaries/{summary_id:id}", view_summary, methods=["GET"]),
    Route("/summaries/{summary_id:id}/edit", edit_summary, methods=["GET", "POST"]),
    Route("/summaries/{summary_id:id}/redraft", redraft_summary, methods=["POST"]),
    Route("/summaries/{summary_id:id}/finalize", finalize_summary, methods=["POST"]),
    Route("/summaries/{summary_id:id}/print", print_summary, methods=["GET"]),
    Route("/summaries/{summary_id:id}/pdf", summary_pdf, methods=["GET"]),
    Route("/portal/summaries", my_summaries, methods=["GET"]),
]
