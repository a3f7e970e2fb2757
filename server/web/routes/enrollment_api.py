"""Enrollment /api/v1 endpoints: enroll, one enrollment, status, withdraw, transfer, consent,
CSV import. The same services and the same actions as the pages (enrollment.py).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.cohorts import Enrollment
from server.accounts import access, link_mail
from server import enrollment as service
from server.enrollment import csv_import
from server.errors import BadRequest, PayloadTooLarge
from server.web.api_models import Consent, Enroll, StatusChange, Transfer, Withdrawal
from server.web.api_schema import body, broken_rules, read_body
from server.web.auth import requires, user_of
from server.web.routes.enrollment import (
    COORD,
    MAX_CSV_BYTES,
    STAFF,
    _record_consent,
    _staff_enrollment,
    _status,
    _transfer,
    _withdraw,
    mail_invitation,
)


def enrollment_json(e: Enrollment) -> dict:
    return {
        "id": e.id,
        "cohort_id": e.cohort_id,
        "member": {"id": e.member_id, "display_name": e.member.display_name} if hasattr(e.member, "display_name") else {"id": e.member_id},
        "status": e.status.value if e.status else None,
        "waitlisted_at": e.waitlisted_at.isoformat() if e.waitlisted_at else None,
        "consent_at": e.consent_at.isoformat() if e.consent_at else None,
        "consent_method": e.consent_method.value if e.consent_method else None,
        "consent_version": e.consent_version,
        "consent_missing": service.consent_missing(e),
        "withdrawal_reason": e.withdrawal_reason,
        "late_join_reason": e.late_join_reason,
        "transferred_from": e.transferred_from_id,
    }


def outcome_json(outcome: service.Outcome, status_code: int = 200,
                 invitation_mail: link_mail.LinkMail | None = None) -> JSONResponse:
    body = {"enrollment": enrollment_json(outcome.enrollment), "message": outcome.message, "warnings": outcome.warnings}
    if outcome.invitation_path:
        body["invitation_path"] = outcome.invitation_path
    if invitation_mail is not None:  # sent, queued (no mail server: in the outbox) or failed (in the outbox)
        body["invitation_mail"] = invitation_mail.state.value
    if outcome.promoted is not None:
        body["promoted"] = enrollment_json(outcome.promoted)
    return JSONResponse(body, status_code=status_code)


# --- API ----------------------------------------------------------------------------------

@requires(*COORD)
@body(Enroll)
async def api_enroll(request: Request) -> Response:
    """
    summary: Enroll an existing member (member_id) or a new person (name, email) into a cohort
    description: "Give member_id, or name and email, not both: with both nobody could tell who was meant, so the
      request is refused (422, code ambiguous_person) and nothing is written."
    responses:
      201: {description: "Created; status may be waitlisted when the cohort is full. A new person's invitation is e-mailed: invitation_mail says sent, queued (no mail server is set, so it waits in the outbox) or failed (it waits in the outbox)"}
      409: {description: "Duplicate, cohort closed, or late-join cutoff passed"}
      422: {description: "Both member_id and a new person's name or email (code ambiguous_person), or another enrollment rule broken; nothing was written"}
    """
    user = user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    enroll = await read_body(request, Enroll)
    outcome = await service.enroll(
        cohort.id, by=user, member_id=enroll.member_id, name=enroll.name, email=enroll.email,
        status=enroll.status, late_override=enroll.late_join_reason,
        consent=service.parse_consent(enroll.fields_sent(), ZoneInfo(cohort.time_zone)),
    )
    return outcome_json(outcome, 201, await mail_invitation(request, outcome, by=user))


@requires(*STAFF)
async def api_enrollment(request: Request) -> Response:
    """
    summary: One enrollment with its full status history
    responses:
      200: {description: The enrollment and its transitions}
      403: {description: Neither this cohort's facilitator nor their supervisor}
    """
    enrollment = await access.viewable_enrollment(user_of(request), request.path_params["enrollment_id"])
    await enrollment.fetch_related("member")
    transitions = await service.history(enrollment)
    body = enrollment_json(enrollment)
    body["history"] = [
        {"from": t.from_status, "to": t.to_status, "reason": t.reason, "at": t.at.isoformat(),
         "by": t.by.display_name if t.by else None}
        for t in transitions
    ]
    return JSONResponse(body)


def _api_action(run, model: type, summary: str):
    @requires(*COORD)
    @body(model)
    async def endpoint(request: Request) -> Response:
        enrollment = await _staff_enrollment(request)
        await enrollment.fetch_related("cohort")
        change = await read_body(request, model)
        outcome = await run(enrollment, change.fields_sent(), user_of(request))
        return outcome_json(outcome)

    endpoint.__doc__ = f"""
    summary: {summary}
    responses:
      200: {{description: "The enrollment, a message, and any promotion or warnings"}}
      409: {{description: Not allowed from the current status, cohort full, or cutoff passed}}
    """
    endpoint.__name__ = "api_" + run.__name__.strip("_")
    return endpoint


api_status = _api_action(_status, StatusChange, "Change an enrollment's status (status, reason, late_join_reason; "
                         "consent_at, consent_method, consent_version to record consent with it)")
api_withdraw = _api_action(_withdraw, Withdrawal, "Withdraw (reason); promotes the first waitlisted member")
api_transfer = _api_action(_transfer, Transfer, "Transfer to another cohort (to_cohort, reason; "
                           "consent_at, consent_method, consent_version for the new group)")
api_consent = _api_action(_record_consent, Consent, "Record consent (consent_at, default now; consent_method; "
                          "consent_version, default the cohort's)")


@requires(*COORD)
async def api_import(request: Request) -> Response:
    """
    summary: Import members from CSV (name,email[,status]); dry_run=1 previews without writing
    parameters:
      - {name: dry_run, in: query, schema: {type: boolean}}
      - {name: over_capacity, in: query, schema: {type: string, enum: [waitlist, error]}}
      - {name: late_join_reason, in: query, schema: {type: string, maxLength: 500}}
    requestBody:
      required: true
      content:
        text/csv:
          schema: {type: string}
    responses:
      200: {description: "Preview, or the rows imported; each new member's invitation is written to the outbox and their row says how in invitation_mail: sending (a mail server is set: e-mailed after this answer, a few at a time; GET /api/v1/outbox shows each as it goes) or queued (no mail server is set, so it waits in the outbox)"}
      409: {description: "The cohort is completed or cancelled: nobody can be enrolled"}
      413: {description: The file is larger than 1 MB}
      422:
        description: "Not a readable CSV file (a problem), or row-level errors (the plan, each row's `errors`); nothing was written"
        content:
          application/json: {schema: {type: object, required: [imported, rows]}}
          application/problem+json: {schema: {$ref: "#/components/schemas/Problem"}}
    """
    user = user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge("The file is larger than 1 MB; split it up.")
    query = request.query_params
    if query.get("over_capacity", "waitlist") not in {"waitlist", "error"}:
        raise BadRequest("over_capacity must be waitlist or error.", fields={"over_capacity": "waitlist or error."})
    if query.get("dry_run", "false").lower() not in {"1", "true", "yes", "0", "false", "no"}:
        raise BadRequest("dry_run must be true or false.", fields={"dry_run": "true or false."})
    if len(query.get("late_join_reason", "")) > 500:
        raise BadRequest("late_join_reason is too long (500 characters at most).", fields={"late_join_reason": "Too long."})
    options = {
        "over_capacity_is_error": query.get("over_capacity") == "error",
        "late_override": query.get("late_join_reason", ""),
    }
    dry_run = query.get("dry_run", "").lower() in {"1", "true", "yes"}
    with broken_rules():  # the body may be any text, so a file that cannot be imported breaks a rule
        text = csv_import.decode(data)
        if "\x00" in text or "\x00" in options["late_override"]:  # PostgreSQL text cannot hold it
            raise BadRequest("The file or reason contains a NUL character (U+0000); remove it and try again.")
        if dry_run:
            plan = await csv_import.preview(cohort.id, text, by=user, **options)
        else:
            plan = await csv_import.run_import(cohort.id, text, by=user, **options)
    # Each new member's invitation goes to the outbox and is e-mailed after this answer (the
    # answer carries no links, only whether).
    mails = await link_mail.mail_invitations(plan.invitations, settings=request.app.state.settings, by=user)
    body = {
        "imported": plan.imported,
        "dry_run": dry_run,
        "counts": plan.counts(),
        "rows": [
            {"line": r.line, "name": r.name, "email": r.email, "status": r.status.value if r.status else None,
             "outcome": r.outcome, "errors": r.errors,
             **({"invitation_mail": mails[r.email].state.value} if r.email in mails else {})}
            for r in plan.rows
        ],
        "warnings": plan.warnings,
    }
    return JSONResponse(body, status_code=200 if plan.ok else 422)


routes = [
    Route("/api/v1/cohorts/{cohort_id:id}/enrollments", api_enroll, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/enrollments/import", api_import, methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}", api_enrollment, methods=["GET"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/status", api_status, methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/withdraw", api_withdraw, methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/transfer", api_transfer, methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/consent", api_consent, methods=["POST"]),
]
