"""The closure-summary JSON API (/api/v1): versions, edits, finalizing, amending, the
difference between two versions, a cohort's summary states and its outcome report, and
supervisor sign-off (submit, withdraw, approve, return, what awaits one's sign-off).
Who may do what is as for the pages (`server.web.routes.closure`).
"""
from __future__ import annotations

from typing import Annotated, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from pydantic import Field

from models.closure import ClosureSummary, SignoffEvent
from server import clock, closure
from server.accounts import access, audit
from server.closure import SummaryRecord, signoff
from server.closure.signoff_rules import MAX_COMMENT
from server.errors import BadRequest, Forbidden, Unprocessable
from server.web import auth
from server.web.api_models import Amendment, ApiBody, SummaryEdit
from server.web.api_schema import body, broken_rules, read_body
from server.web.routes.closure import (
    _audience,
    _document,
    _writable_cohort,
    _writable_enrollment,
    reviewable_row,
    writable_row,
)

# The sign-off bodies live beside their only endpoints.
ContentHash = Annotated[str, Field(pattern="^[0-9a-f]{64}$", description=(
    "`signoff.submitted_hash` of the version as you read it (GET /api/v1/summaries/{id}); "
    "refused with 409 if the version was changed and submitted again since"),
    examples=["0" * 64])]


class SignoffApproval(ApiBody):
    content_hash: ContentHash


class SignoffReturn(ApiBody):
    comment: Annotated[str, Field(min_length=1, max_length=MAX_COMMENT,
                                  description="What needs to change; the facilitator reads it, never the member")]
    content_hash: ContentHash


def signoff_json(row: ClosureSummary, events: list[SignoffEvent]) -> dict[str, Any]:
    return {
        "required": signoff.requires_signoff(row.enrollment.cohort),
        "submitted_hash": row.submitted_hash or None,
        "events": [
            {"action": str(e.action), "version": e.version, "content_hash": e.content_hash,
             "comment": e.comment or None, "by": e.by.display_name if e.by else None, "at": e.at.isoformat()}
            for e in events
        ],
    }


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


async def _staff_json(row: ClosureSummary, user: User) -> dict[str, Any]:
    """A version as staff read it, with its sign-off steps (never in a member's copy)."""
    row = await _reload(row, user)
    return {**summary_json(row, "staff"), "signoff": signoff_json(row, (await signoff.events_of([row]))[row.id])}


@auth.requires()
async def api_enrollment_summaries(request: Request) -> Response:
    """
    get:
      summary: Every version of a member's closure summary (members see their finalized versions, without section 10)
      tags: [closure]
      responses:
        200: {description: The versions, oldest first}
        404: {description: No such enrollment, or not one you may see}
    post:
      summary: Draft the summary from the record, or refresh the open draft (the cohort's facilitators)
      tags: [closure]
      responses:
        201: {description: The draft version}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The termination phase has not started, or the latest version is finalized}
    """
    user = auth.user_of(request)
    if request.method == "POST":
        enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
        with broken_rules():
            row = await closure.draft(enrollment, user, now=clock.now())
        return JSONResponse(summary_json(await _reload(row, user), "staff"), status_code=201)
    enrollment = await closure.readable_enrollment(user, request.path_params["enrollment_id"])
    audience = _audience(user)
    versions = await closure.versions_of(enrollment)
    if audience == "member":
        versions = [v for v in versions if v.is_final]
    await audit.record(user, "read", "closure_summary", enrollment.id, member=enrollment.member_id,
                       detail=f"API list of {len(versions)} versions")
    return JSONResponse({"items": [summary_json(v, audience) for v in versions]})


@auth.requires()
@body(SummaryEdit)
async def api_summary(request: Request) -> Response:
    """
    get:
      summary: One version of a closure summary
      tags: [closure]
      responses:
        200: {description: The version; members get their finalized versions without section 10}
        404: {description: No such summary, or not one you may see}
    patch:
      summary: Edit the narrative of a draft or a returned version (goal words and sections 6-9)
      tags: [closure]
      responses:
        200: {description: The edited draft}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The version is finalized, or awaiting sign-off or approved (withdraw it first)}
    """
    user = auth.user_of(request)
    if request.method == "PATCH":
        row = await writable_row(user, request.path_params["summary_id"])
        edit = await read_body(request, SummaryEdit)
        await closure.save_edits(row, user, _flatten_api_edit(edit), now=clock.now())
        return JSONResponse(await _staff_json(row, user))
    row = await closure.summary_row(request.path_params["summary_id"], user)
    audience = _audience(user)
    await audit.record(user, "read", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"API version {row.version} ({audience})")
    if audience == "staff":
        return JSONResponse(await _staff_json(row, user))
    return JSONResponse(summary_json(row, audience))


def _flatten_api_edit(edit: SummaryEdit) -> dict[str, Any]:
    """The edit as the page's form sends it: one field per goal, no date as ''."""
    flat = edit.fields_sent()
    words = flat.pop("goal_words", {})
    if "follow_up_date" in flat and flat["follow_up_date"] is None:
        flat["follow_up_date"] = ""
    for goal_id, text in words.items():
        flat[f"{closure.GOAL_WORDS_PREFIX}{goal_id}"] = text
    return flat


@auth.requires(Role.FACILITATOR)
async def api_finalize(request: Request) -> Response:
    """
    post:
      summary: Finalize a draft (or, where the cohort requires sign-off, an approved version); it becomes immutable and the member can read it
      tags: [closure]
      responses:
        200: {description: The finalized version}
        422: {description: Something is missing, or the text names another member; `fields` lists each problem}
        403: {description: Not one of the cohort's facilitators}
        409: {description: "Already finalized, or sign-off is required and the version is not approved (code signoff_required)"}
    """
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    with broken_rules():
        await closure.finalize(row, user, now=clock.now())
    return JSONResponse(await _staff_json(row, user))


@auth.requires(Role.FACILITATOR)
async def api_submit(request: Request) -> Response:
    """
    post:
      summary: Submit a finished draft (or a returned version, edited) for a supervisor's sign-off; its text is frozen until approved, returned or withdrawn
      tags: [closure]
      responses:
        200: {description: "The version, status awaiting_signoff, with signoff.submitted_hash"}
        422: {description: Something is missing, or the text names another member; `fields` lists each problem}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The cohort does not require sign-off, or the version is already submitted, approved or finalized}
    """
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    with broken_rules():
        await signoff.submit(row, user, now=clock.now())
    return JSONResponse(await _staff_json(row, user))


@auth.requires(Role.FACILITATOR)
async def api_withdraw(request: Request) -> Response:
    """
    post:
      summary: Take a version awaiting sign-off (or approved) back to draft, to edit it; an approval is then void
      tags: [closure]
      responses:
        200: {description: The version, status draft}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The version is not awaiting sign-off or approved}
    """
    user = auth.user_of(request)
    row = await writable_row(user, request.path_params["summary_id"])
    await signoff.withdraw(row, user, now=clock.now())
    return JSONResponse(await _staff_json(row, user))


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
@body(SignoffApproval)
async def api_approve(request: Request) -> Response:
    """
    post:
      summary: Approve a version awaiting sign-off (a supervisor of one of the cohort's facilitators, or a coordinator who is a clinician)
      tags: [closure]
      responses:
        200: {description: The version, status approved}
        403: {description: Not a supervisor of this cohort's facilitators, or you submitted this version}
        409: {description: Not awaiting sign-off (approved or returned already, or withdrawn), or changed since you read it}
    """
    user = auth.user_of(request)
    row = await reviewable_row(user, request.path_params["summary_id"])
    approval = await read_body(request, SignoffApproval)
    await signoff.approve(row, user, now=clock.now(), content_hash=approval.content_hash)
    return JSONResponse(await _staff_json(row, user))


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
@body(SignoffReturn)
async def api_return(request: Request) -> Response:
    """
    post:
      summary: Return a version awaiting sign-off to its facilitator with a comment saying what needs to change
      tags: [closure]
      responses:
        200: {description: The version, status returned; the comment is in signoff.events}
        403: {description: Not a supervisor of this cohort's facilitators, or you submitted this version}
        409: {description: Not awaiting sign-off (approved or returned already, or withdrawn), or changed since you read it}
    """
    user = auth.user_of(request)
    row = await reviewable_row(user, request.path_params["summary_id"])
    returned = await read_body(request, SignoffReturn)
    await signoff.return_for_changes(row, user, returned.comment, now=clock.now(), content_hash=returned.content_hash)
    return JSONResponse(await _staff_json(row, user))


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_awaiting_signoff(request: Request) -> Response:
    """
    get:
      summary: The closure summaries awaiting your sign-off, longest waiting first (without their content; read each one)
      tags: [closure]
      responses:
        200: {description: "items: summary id, version, member, cohort, who submitted it and when"}
        403: {description: Not a clinician}
    """
    user = auth.user_of(request)
    if not user.is_clinician:
        raise Forbidden("Sign-off is a clinician's: you are not marked as one.")
    rows = await signoff.awaiting_signoff(user)
    return JSONResponse({"items": [
        {
            "id": row.id, "enrollment_id": row.enrollment_id, "version": row.version,
            "member": row.enrollment.member.display_name,
            "cohort": {"id": row.enrollment.cohort_id, "name": row.enrollment.cohort.name},
            "amendment": bool(row.amendment_reason),
            "submitted_hash": row.submitted_hash,
            "submitted_by": row.submitted_event.by.display_name if row.submitted_event and row.submitted_event.by else None,
            "submitted_at": row.submitted_event.at.isoformat() if row.submitted_event else None,
        }
        for row in rows
    ]})


@auth.requires(Role.FACILITATOR)
@body(Amendment)
async def api_amend(request: Request) -> Response:
    """
    post:
      summary: Amend a finalized summary; creates the next version as a draft and keeps the earlier ones
      tags: [closure]
      responses:
        201: {description: The new draft version}
        404: {description: Nothing to amend yet}
        409: {description: The latest version is still a draft}
    """
    user = auth.user_of(request)
    enrollment = await _writable_enrollment(user, request.path_params["enrollment_id"])
    amendment = await read_body(request, Amendment)
    row = await closure.amend(enrollment, user, amendment.reason, now=clock.now())
    return JSONResponse(summary_json(await _reload(row, user), "staff"), status_code=201)


@auth.requires()
async def api_diff(request: Request) -> Response:
    """
    get:
      summary: What changed between two versions of one member's summary, per section
      tags: [closure]
      parameters:
        - {name: against, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 2147483647}, description: the earlier version's id}
      responses:
        200: {description: Sections with their changed fields (before, after)}
        422: {description: The two versions belong to different members}
        404: {description: No such summary, or not one you may see}
    """
    user = auth.user_of(request)
    row = await closure.summary_row(request.path_params["summary_id"], user)
    against = request.query_params.get("against")
    if not against:
        raise BadRequest("Name the version to compare with: ?against=<summary id>.", fields={"against": "Required."})
    other = await closure.summary_row(against, user)
    if other.enrollment_id != row.enrollment_id:
        raise Unprocessable("Both versions must belong to the same member's summary.",
                            fields={"against": "Another member's summary."})
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
      responses:
        200: {description: One item per enrollment}
        403: {description: A facilitator of another cohort}
        404: {description: No such cohort}
    post:
      summary: Draft a summary from the record for every member who has none yet (the cohort's facilitators)
      tags: [closure]
      responses:
        200: {description: How many were drafted, and every member's state}
        403: {description: Not one of the cohort's facilitators}
        409: {description: The termination phase has not started}
    """
    user = auth.user_of(request)
    drafted = None
    if request.method == "POST":
        cohort = await _writable_cohort(user, request.path_params["cohort_id"])
        with broken_rules():
            drafted = await closure.draft_missing(cohort, user, now=clock.now())
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
            "signoff": r["signoff"],
        }
        for r in rows
    ]})


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_outcomes(request: Request) -> Response:
    """
    get:
      summary: The cohort outcome report (attendance, response and remission rates, goals); no names, no narrative
      tags: [closure]
      responses:
        200: {description: Aggregate figures}
        403: {description: A facilitator of another cohort}
        404: {description: No such cohort}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    report = await closure.cohort_outcomes(cohort, now=clock.now())
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
        # Counted apart from the rates (server.measures.instruments, "Outcomes: the one definition").
        "phq9_below_threshold": report.phq9_below_threshold,
        "phq9_no_later_score": report.phq9_no_later_score,
        "phq9_no_answers": report.phq9_no_answers,
        "phq9_late_baseline": report.phq9_late_baseline,
        "phq9_baseline_missed": report.phq9_baseline_missed,
        "gad7_below_threshold": report.gad7_below_threshold,
        "referrals_suggested": report.referrals_suggested,
    })


routes = [
    Route("/api/v1/cohorts/{cohort_id:id}/summaries", api_cohort_summaries, methods=["GET", "POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/outcomes", api_outcomes, methods=["GET"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/summaries", api_enrollment_summaries, methods=["GET", "POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/summaries/amend", api_amend, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:id}", api_summary, methods=["GET", "PATCH"]),
    Route("/api/v1/summaries/{summary_id:id}/finalize", api_finalize, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:id}/diff", api_diff, methods=["GET"]),
    Route("/api/v1/summaries/{summary_id:id}/submit", api_submit, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:id}/withdraw", api_withdraw, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:id}/approve", api_approve, methods=["POST"]),
    Route("/api/v1/summaries/{summary_id:id}/return", api_return, methods=["POST"]),
    Route("/api/v1/supervision/sign-off", api_awaiting_signoff, methods=["GET"]),
]
