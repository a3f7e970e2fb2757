"""Closure summaries: the cohort's overview, the editor, versions and their differences,
the member's copy, print and PDF, and the cohort outcome report. The JSON API is in
`server.web.routes.closure_api`.

Who may do what:
- the cohort's facilitators draft, edit, finalize and amend;
- coordinators and the cohort's facilitators read every version, section 10 included;
- a member reads their own finalized versions, never section 10;
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
from server.closure import SummaryRecord
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


async def _writable_row(user: User, summary_id: Any) -> ClosureSummary:
    row = await closure.summary_row(summary_id, user)
    if user.role != Role.FACILITATOR:
        raise Forbidden("Only the cohort's facilitators write closure summaries.")
    return row


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
        "notice": f"Drafted {drafted} summaries from the record." if drafted.isdigit() else None,
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
    context = document_context(row, audience, user)
    context.update({
        "versions": versions,
        "latest": versions[-1] if versions else row,
        "can_write": user.role == Role.FACILITATOR,
        "notice": {"finalized": "The summary is finalized. The member can now read it in their portal.",
                   "amended": "A new version was started; the earlier versions stay as they were."}.get(
            request.query_params.get("done", "")),
    })
    return render(request, "closure/view.html", context)


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
    row = await _writable_row(user, request.path_params["summary_id"])
    if request.method == "GET":
        if row.is_final:
            return RedirectResponse(f"/summaries/{row.id}", status_code=303)
        await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                           detail=f"version {row.version} (editor)")
        doc = SummaryRecord.from_json(row.content)
        other_names = await closure.other_member_names(row.enrollment)
        warnings = closure.finalize_problems(doc, other_member_names=other_names,
                                             own_name=row.enrollment.member.display_name)
        return render(request, "closure/editor.html", {**_editor_context(row, user, doc), "warnings": warnings})
    form = await form_data(request)
    fields = {k: v for k, v in form.items() if k in closure.NARRATIVE_FIELDS or k.startswith(closure.GOAL_WORDS_PREFIX)}
    try:
        await closure.save_edits(row, user, fields, now=clock.now())
    except Conflict:
        raise  # a finalized version: a replayed form must not look like a validation problem
    except BadRequest as exc:
        doc = SummaryRecord.from_json(row.content)
        context = _editor_context(row, user, doc, form=form)
        context.update({"error": "Some fields need attention.", "field_errors": exc.fields, "warnings": []})
        return render(request, "closure/editor.html", context, status_code=400)
    if form.get("then") == "finalize":
        return await _finalize_and_redirect(request, row, user)
    return RedirectResponse(f"/summaries/{row.id}/edit?saved=1", status_code=303)


async def _finalize_and_redirect(request: Request, row: ClosureSummary, user: User) -> Response:
    try:
        await closure.finalize(row, user, now=clock.now())
    except BadRequest as exc:
        if isinstance(exc, Conflict) or exc.code != "incomplete":
            raise
        doc = SummaryRecord.from_json(row.content)
        context = _editor_context(row, user, doc)
        context.update({"error": "This summary cannot be finalized yet.", "warnings": _problems(exc)})
        return render(request, "closure/editor.html", context, status_code=400)
    return RedirectResponse(f"/summaries/{row.id}?done=finalized", status_code=303)


@auth.requires(Role.FACILITATOR)
async def redraft_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await _writable_row(user, request.path_params["summary_id"])
    if row.is_final:
        raise closure.finalized_conflict(row)
    await closure.draft(row.enrollment, user, now=clock.now())
    return RedirectResponse(f"/summaries/{row.id}/edit?refreshed=1", status_code=303)


@auth.requires(Role.FACILITATOR)
async def finalize_summary(request: Request) -> Response:
    user = auth.user_of(request)
    row = await _writable_row(user, request.path_params["summary_id"])
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
    enrollment = await access.visible_enrollment(user, request.path_params["enrollment_id"])
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
    return render(request, "closure/history.html", {
        "enrollment": enrollment, "entries": list(reversed(entries)), "audience": audience,
        "can_write": user.role == Role.FACILITATOR,
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
