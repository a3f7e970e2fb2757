"""Closure summaries: the cohort's overview, the editor, versions and their differences,
the member's copy, print and PDF, the cohort outcome report, and the JSON API.

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
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Enrollment
from server import access, audit, auth, charts, closure
from server.closure import SummaryRecord
from server.errors import BadRequest, Conflict, Forbidden, NotFound, PlatformError
from server.forms import form_data, json_body
from server.pdf import render_pdf
from server.templating import render, templates

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


def _document_context(row: ClosureSummary, audience: str, user: User) -> dict[str, Any]:
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
    can_draft = await closure.termination_reached(cohort, now=auth.now())
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
    started = await closure.draft_missing(cohort, user, now=auth.now())
    return RedirectResponse(f"/cohorts/{cohort.id}/summaries?drafted={started}", status_code=303)


@auth.requires(Role.FACILITATOR)
async def start_draft(request: Request) -> Response:
    user = auth.user_of(request)
    enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
    row = await closure.draft(enrollment, user, now=auth.now())
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
    context = _document_context(row, audience, user)
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
    context = _document_context(row, "staff", user)
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
        await closure.save_edits(row, user, fields, now=auth.now())
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
        await closure.finalize(row, user, now=auth.now())
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
    await closure.draft(row.enrollment, user, now=auth.now())
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
    row = await closure.amend(enrollment, user, form.get("reason") or "", now=auth.now())
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
    return render(request, "closure/print.html", {**_document_context(row, audience, user), "for_pdf": False})


@auth.requires()
async def summary_pdf(request: Request) -> Response:
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _print_audience(request, user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"version {row.version} PDF ({audience} copy)")
    html = templates.get_template("closure/print.html").render(
        {**_document_context(row, audience, user), "for_pdf": True, "request": request, "user": user}
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
    report = await closure.cohort_outcomes(cohort, now=auth.now())
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


# --- JSON API ---------------------------------------------------------------------------------


def summary_json(row: ClosureSummary, audience: str) -> dict[str, Any]:
    doc = _document(row, audience)
    content = closure.member_view(doc) if audience == "member" else doc.to_json()
    return {
        "id": row.id,
        "enrollment_id": row.enrollment_id,
        "version": row.version,
        "status": str(row.status),
        "amendment_reason": row.amendment_reason or None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finalized_at": row.finalized_at.isoformat() if row.finalized_at else None,
        "finalized_by": row.finalized_by.display_name if row.is_final and row.finalized_by else None,
        "content": content,
    }


async def _reload(row: ClosureSummary, user: User) -> ClosureSummary:
    return await closure.summary_row(row.id, user)


@auth.requires()
async def api_enrollment_summaries(request: Request) -> Response:
    """
    get:
      summary: Every version of a member's closure summary (members see their finalized versions, without section 10)
      tags: [closure]
      parameters:
        - {name: enrollment_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: The versions, oldest first}
        404: {description: No such enrollment, or not one you may see}
    post:
      summary: Draft the summary from the record, or refresh the open draft (the cohort's facilitators)
      tags: [closure]
      parameters:
        - {name: enrollment_id, in: path, required: true, schema: {type: integer}}
      responses:
        201: {description: The draft version}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The termination phase has not started, or the latest version is finalized}
    """
    user = auth.user_of(request)
    if request.method == "POST":
        enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
        row = await closure.draft(enrollment, user, now=auth.now())
        return JSONResponse(summary_json(await _reload(row, user), "staff"), status_code=201)
    enrollment = await access.visible_enrollment(user, request.path_params["enrollment_id"])
    audience = _audience(user)
    versions = await closure.versions_of(enrollment)
    if audience == "member":
        versions = [v for v in versions if v.is_final]
    await audit.record(user, "read", "closure_summary", enrollment.id, member=enrollment.member_id,
                       detail=f"API list of {len(versions)} versions")
    return JSONResponse({"items": [summary_json(v, audience) for v in versions]})


@auth.requires()
async def api_summary(request: Request) -> Response:
    """
    get:
      summary: One version of a closure summary
      tags: [closure]
      parameters:
        - {name: summary_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: The version; members get their finalized versions without section 10}
        404: {description: No such summary, or not one you may see}
    patch:
      summary: Edit the narrative of a draft (goal words and sections 6-9); a finalized version answers 409
      tags: [closure]
      parameters:
        - {name: summary_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                goal_words: {type: object, additionalProperties: {type: string}, description: "goal id -> the member's words"}
                areas_needing_work: {type: string}
                warning_signs: {type: string}
                who_to_tell: {type: string}
                relapse_strategies: {type: string}
                relapse_supports: {type: string}
                seek_help: {type: string}
                next_step_kind: {type: string, enum: [maintenance, referral, follow_up, none]}
                next_step_details: {type: string}
                follow_up_date: {type: string, format: date}
      responses:
        200: {description: The edited draft}
        400: {description: A field is not acceptable; `fields` says which}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The version is finalized}
    """
    user = auth.user_of(request)
    if request.method == "PATCH":
        row = await _writable_row(user, request.path_params["summary_id"])
        body = await json_body(request)
        await closure.save_edits(row, user, _flatten_api_edit(body), now=auth.now())
        return JSONResponse(summary_json(await _reload(row, user), "staff"))
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _audience(user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"API version {row.version} ({audience})")
    return JSONResponse(summary_json(row, audience))


def _flatten_api_edit(body: dict[str, Any]) -> dict[str, Any]:
    unknown = [k for k in body if k != "goal_words" and k not in closure.NARRATIVE_FIELDS]
    if unknown:
        raise BadRequest(
            f"These fields cannot be edited: {', '.join(sorted(unknown))}. Sections 1-5 and 10 come from the record.",
            fields={k: "Not editable." for k in unknown},
        )
    flat = {k: v for k, v in body.items() if k != "goal_words"}
    words = body.get("goal_words", {})
    if not isinstance(words, dict):
        raise BadRequest("goal_words must be an object of goal id to text.", fields={"goal_words": "Must be an object."})
    for goal_id, text in words.items():
        flat[f"{closure.GOAL_WORDS_PREFIX}{goal_id}"] = text
    return flat


@auth.requires(Role.FACILITATOR)
async def api_finalize(request: Request) -> Response:
    """
    post:
      summary: Finalize a draft; the version becomes immutable
      tags: [closure]
      parameters:
        - {name: summary_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: The finalized version}
        400: {description: Something is missing, or the text names another member; `fields` lists each problem}
        403: {description: Not one of the cohort's facilitators}
        409: {description: Already finalized}
    """
    user = auth.user_of(request)
    row = await _writable_row(user, request.path_params["summary_id"])
    await closure.finalize(row, user, now=auth.now())
    return JSONResponse(summary_json(await _reload(row, user), "staff"))


@auth.requires(Role.FACILITATOR)
async def api_amend(request: Request) -> Response:
    """
    post:
      summary: Amend a finalized summary; creates the next version as a draft and keeps the earlier ones
      tags: [closure]
      parameters:
        - {name: enrollment_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [reason], properties: {reason: {type: string, maxLength: 500}}}
      responses:
        201: {description: The new draft version}
        400: {description: No reason given}
        404: {description: Nothing to amend yet}
        409: {description: The latest version is still a draft}
    """
    user = auth.user_of(request)
    enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
    body = await json_body(request)
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise BadRequest("Give the reason for the amendment as text.", fields={"reason": "Required."})
    row = await closure.amend(enrollment, user, reason, now=auth.now())
    return JSONResponse(summary_json(await _reload(row, user), "staff"), status_code=201)


@auth.requires()
async def api_diff(request: Request) -> Response:
    """
    get:
      summary: What changed between two versions of one member's summary, per section
      tags: [closure]
      parameters:
        - {name: summary_id, in: path, required: true, schema: {type: integer}}
        - {name: against, in: query, required: true, schema: {type: integer}, description: the earlier version's id}
      responses:
        200: {description: Sections with their changed fields (before, after)}
        400: {description: The two versions belong to different members}
        404: {description: No such summary, or not one you may see}
    """
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    against = request.query_params.get("against")
    if not against:
        raise BadRequest("Name the version to compare with: ?against=<summary id>.", fields={"against": "Required."})
    other = await closure.summary_row(against, user)
    if other.enrollment_id != row.enrollment_id:
        raise BadRequest("Both versions must belong to the same member's summary.", fields={"against": "Another member's summary."})
    audience = _audience(user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"API diff v{other.version}..v{row.version}")
    changes = closure.diff_summaries(
        SummaryRecord.from_json(other.content), SummaryRecord.from_json(row.content),
        include_safety=audience == "staff",
    )
    return JSONResponse({
        "from": {"id": other.id, "version": other.version},
        "to": {"id": row.id, "version": row.version},
        "sections": [
            {"section": s.section, "title": s.title,
             "changes": [{"field": c.label, "before": c.before, "after": c.after} for c in s.changes]}
            for s in changes
        ],
    })


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_cohort_summaries(request: Request) -> Response:
    """
    get:
      summary: Each member's summary state in a cohort (missing, draft, finalized, or amending = finalized with the next version in draft)
      tags: [closure]
      parameters:
        - {name: cohort_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: One item per enrollment}
        403: {description: A facilitator of another cohort}
        404: {description: No such cohort}
    post:
      summary: Draft a summary from the record for every member who has none yet (the cohort's facilitators)
      tags: [closure]
      parameters:
        - {name: cohort_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: How many were drafted, and every member's state}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The termination phase has not started}
    """
    user = auth.user_of(request)
    drafted = None
    if request.method == "POST":
        cohort = await _writable_cohort(user, request.path_params["cohort_id"])
        drafted = await closure.draft_missing(cohort, user, now=auth.now())
    else:
        cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    rows = await closure.cohort_overview(cohort)
    return JSONResponse({"drafted": drafted, "items": [
        {
            "enrollment_id": r["enrollment"].id,
            "member": r["enrollment"].member.display_name,
            "enrollment_status": str(r["enrollment"].status),
            "state": r["state"],
            "latest_version": r["latest"].version if r["latest"] else None,
            "latest_id": r["latest"].id if r["latest"] else None,
            "finalized_version": r["finalized"].version if r["finalized"] else None,
        }
        for r in rows
    ]})


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_outcomes(request: Request) -> Response:
    """
    get:
      summary: The cohort outcome report (attendance, response and remission rates, goals); no names, no narrative
      tags: [closure]
      parameters:
        - {name: cohort_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: Aggregate figures}
        403: {description: A facilitator of another cohort}
        404: {description: No such cohort}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    report = await closure.cohort_outcomes(cohort, now=auth.now())
    await audit.record(user, "read", "cohort_outcomes", cohort.id, detail="API aggregate report, no names")

    def rate(r: closure.Rate) -> dict[str, Any]:
        return {"count": r.count, "of": r.of, "percent": r.percent}

    return JSONResponse({
        "cohort_id": cohort.id,
        "members": report.members,
        "attendance": rate(report.attendance),
        "phq9_response": rate(report.phq9_response),
        "phq9_remission": rate(report.phq9_remission),
        "gad7_response": rate(report.gad7_response),
        "goals": dict(report.goals),
        "goals_achieved": rate(report.goals_achieved),
        "role_plays_done": report.role_plays_done,
    })


routes = [
    Route("/cohorts/{cohort_id:int}/summaries", cohort_summaries, methods=["GET"]),
    Route("/cohorts/{cohort_id:int}/summaries/draft-all", draft_all, methods=["POST"]),
    Route("/cohorts/{cohort_id:int}/outcomes", outcomes, methods=["GET"]),
    Route("/enrollments/{enrollment_id:int}/summary/draft", start_draft, methods=["POST"]),
    Route("/enrollments/{enrollment_id:int}/summary/amend", amend_summary, methods=["POST"]),
    Route("/enrollments/{enrollment_id:int}/summary/history", history, methods=["GET"]),
    Route("/summaries/{summary_id:int}", view_summary, methods=["GET"]),
    Route("/summaries/{summary_id:int}/edit", edit_summary, methods=["GET", "POST"]),
    Route("/summaries/{summary_id:int}/redraft", redraft_summary, methods=["POST"]),
    Route("/summaries/{summary_id:int}/finalize", finalize_summary, methods=["POST"]),
    Route("/summaries/{summary_id:int}/print", print_summary, methods=["GET"]),
    Route("/summaries/{summary_id:int}/pdf", summary_pdf, methods=["GET"]),
    Route("/portal/summaries", my_summaries, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:int}/summaries", api_cohort_summaries, methods=["GET", "POST"]),
    Route("/api/v1/cohorts/{cohort_id:int}/outcomes", api_outcomes, methods=["GET"]),
    Route("/api/v1/enrollments/{enrollment_id:int}/summaries", api_enrollment_summaries, methods=["GET", "POST"]),
    Route("/api/v1/enrollments/{enrollment_id:int}/summaries/amend", api_amend, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:int}", api_summary, methods=["GET", "PATCH"]),
    Route("/api/v1/summaries/{summary_id:int}/finalize", api_finalize, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:int}/diff", api_diff, methods=["GET"]),
]
