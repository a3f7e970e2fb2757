"""Staff views of measures, entry on a member's behalf, and the /api/v1 side. Safety items
and their risk checks are safety_items.py.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.clinical import MeasureResponse
from models.cohorts import Enrollment, EnrollmentStatus, Meeting
from server import clock
from server.accounts import access, audit
from server.errors import REFUSALS, NotFound, refusal
from server.measures import safety
from server.measures import responses as measure_responses
from server.measures.instruments import (
    ANSWER_SCALE,
    DIFFICULTY_SCALE,
    QUESTIONNAIRES,
    Instrument,
    item9_statement,
    questionnaire,
)
from server.measures.outcomes import STANDING_LABELS, Outcome, episode_outcome
from server.measures.occasions import WINDOW_RULE
from server.measures.progress import member_measures
from server.web.api_models import MeasureAnswers
from server.web.api_schema import body, read_body
from server.web import read_only
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)


def _instrument(raw: str) -> Instrument:
    try:
        return Instrument(raw)
    except ValueError:
        raise NotFound(f"There is no questionnaire called {raw!r}.") from None


def response_json(r: MeasureResponse) -> dict:
    q = questionnaire(r.instrument)
    band = next(b for b in q.bands if b.key == r.band)
    body = {
        "id": r.id, "instrument": q.instrument.value, "items": r.items, "total": r.total,
        "band": r.band, "band_label": band.label, "difficulty": r.difficulty, "window": r.window,
        "meeting_id": r.meeting_id, "administered_at": r.administered_at.isoformat(),
        "on_behalf": r.on_behalf, "superseded": r.superseded, "correction_reason": r.correction_reason,
    }
    if r.item9 is not None:
        body["item9"] = r.item9
        body["item9_statement"] = item9_statement(r.item9)
    return body


# --- pages --------------------------------------------------------------------------------

@requires(*STAFF)
async def cohort_measures(request: Request) -> Response:
    user = user_of(request)
    cohort = await access.viewable_cohort(user, request.path_params["cohort_id"])
    items = await safety.open_items(user, cohort_id=cohort.id)
    enrollments = await Enrollment.filter(
        cohort_id=cohort.id, status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.SCREENING, EnrollmentStatus.COMPLETED],
        member__restricted_at=None,
    ).prefetch_related("member").order_by("id")
    latest: dict[tuple[int, str], MeasureResponse] = {}
    # A transferred member's episode includes what they answered in the earlier group.
    chains = await measure_responses.lineages(enrollments)
    current_of = {episode_id: e.id for e in enrollments for episode_id in reversed(chains[e.id])}
    rows = await MeasureResponse.filter(enrollment_id__in=list(current_of), superseded=False).order_by("administered_at", "id")
    answered: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for r in rows:
        key = (current_of[r.enrollment_id], str(r.instrument.value if hasattr(r.instrument, "value") else r.instrument))
        latest[key] = r
        answered.setdefault(key, []).append((r.window, r.total))
    outcomes = {key: episode_outcome(key[1], points) for key, points in answered.items()}
    await audit.record(user, "read", "measure_response", f"cohort:{cohort.id}", detail=f"cohort overview, {len(rows)} responses")
    next_meeting = await safety.next_group_meeting(cohort.id, clock.now())
    return render(request, "measures/cohort.html", {
        "cohort": cohort, "items": items, "enrollments": enrollments, "latest": latest, "outcomes": outcomes,
        "standing_labels": STANDING_LABELS, "questionnaires": QUESTIONNAIRES, "next_meeting": next_meeting,
        "action_labels": safety.ACTION_LABELS, **await read_only.viewer(user, cohort),
    })


@requires(*STAFF)
async def meeting_measures(request: Request) -> Response:
    """The facilitator's view of one meeting: open safety items first, then who has answered."""
    user = user_of(request)
    meeting = await Meeting.get_or_none(id=record_id(request.path_params["meeting_id"]))
    if meeting is None:
        raise NotFound("There is no such meeting.")
    cohort = await access.viewable_cohort(user, meeting.cohort_id)
    items = await safety.open_items(user, cohort_id=cohort.id)
    enrollments = await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED,
                                          member__restricted_at=None).prefetch_related("member").order_by("id")
    answers = await MeasureResponse.filter(meeting_id=meeting.id, superseded=False).order_by("administered_at")
    await audit.record(user, "read", "measure_response", f"meeting:{meeting.id}", detail=f"{len(answers)} responses")
    by_enrollment: dict[int, list[MeasureResponse]] = {}
    for a in answers:
        by_enrollment.setdefault(a.enrollment_id, []).append(a)
    return render(request, "measures/meeting.html", {
        "cohort": cohort, "meeting": meeting, "items": items, "enrollments": enrollments,
        "answers": by_enrollment, "questionnaires": QUESTIONNAIRES, "action_labels": safety.ACTION_LABELS,
        **await read_only.viewer(user, cohort),
    })


async def _member_page(request: Request, enrollment: Enrollment, *, notice: str = "", error: str = "",
                       status_code: int = 200, submission=None) -> Response:
    user = user_of(request)
    data = await member_measures(enrollment, user, chart_prefix=f"e{enrollment.id}")
    schedules = await measure_responses.schedules(enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)
    all_items = await safety.open_items(user, cohort_id=enrollment.cohort_id)
    items = [i for i in all_items if i.enrollment_id == enrollment.id]
    return render(request, "measures/member.html", {
        **data, "enrollment": enrollment, "member": enrollment.member, "cohort": enrollment.cohort,
        "schedules": schedules, "items": items, "item9_statement": item9_statement,
        "window_rule": WINDOW_RULE, "notice": notice, "error": error, "submission": submission,
        "action_labels": safety.ACTION_LABELS, **await read_only.viewer(user, enrollment.cohort_id),
    }, status_code=status_code)


@requires(*STAFF)
async def member_page(request: Request) -> Response:
    enrollment = await access.viewable_enrollment(user_of(request), request.path_params["enrollment_id"])
    return await _member_page(request, enrollment)


@requires(*STAFF)
async def entry_form(request: Request) -> Response:
    user = user_of(request)
    enrollment = await access.staff_enrollment(user, request.path_params["enrollment_id"])
    instrument = _instrument(request.path_params["instrument"])
    schedules = await measure_responses.schedules(enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)
    return render(request, "measures/entry.html", {
        "enrollment": enrollment, "member": enrollment.member, "cohort": enrollment.cohort,
        "q": questionnaire(instrument), "scale": ANSWER_SCALE, "difficulty_scale": DIFFICULTY_SCALE,
        "occasions": schedules.get(instrument, []), "now": clock.now(), "window_rule": WINDOW_RULE,
        "values": {},
    })


@requires(*STAFF)
async def entry_submit(request: Request) -> Response:
    user = user_of(request)
    enrollment = await access.staff_enrollment(user, request.path_params["enrollment_id"])
    instrument = _instrument(request.path_params["instrument"])
    form = await form_data(request)
    try:
        submission = await measure_responses.submit(
            enrollment, instrument, form, by=user, window=str(form.get("window") or ""),
            correction_reason=str(form.get("correction_reason") or "") if form.get("correction") else "",
        )
    except REFUSALS as refused:
        exc = refusal(refused)
        schedules = await measure_responses.schedules(enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)
        return render(request, "measures/entry.html", {
            "enrollment": enrollment, "member": enrollment.member, "cohort": enrollment.cohort,
            "q": questionnaire(instrument), "scale": ANSWER_SCALE, "difficulty_scale": DIFFICULTY_SCALE,
            "occasions": schedules.get(instrument, []), "now": clock.now(), "window_rule": WINDOW_RULE,
            "error": exc.message, "field_errors": exc.fields, "values": dict(form),
        }, status_code=exc.status_code)
    q = submission.score.questionnaire
    notice = f"Saved: {q.name} {submission.score.total} ({submission.score.band.label}) for {submission.occasion.label.lower()}."
    if submission.safety_item:
        notice += " Item 9 was above 0, so a safety item is open for this member."
    return await _member_page(request, enrollment, notice=notice, submission=submission)


# --- API ----------------------------------------------------------------------------------

@requires(*STAFF, Role.MEMBER)
async def api_measures(request: Request) -> Response:
    """
    summary: A member's PHQ-9 / GAD-7 responses, what is due now, and change from baseline
    responses:
      200: {description: "Responses (superseded ones flagged), due windows, change from baseline, and per instrument how it counts (outcomes: standing, late_baseline; staff also referral_suggested)"}
      404: {description: Not this person's enrollment}
    """
    user = user_of(request)
    # The member themself, or staff who may read the cohort (its supervisors too).
    find = access.visible_enrollment if user.role == Role.MEMBER else access.viewable_enrollment
    enrollment = await find(user, request.path_params["enrollment_id"])
    responses = await MeasureResponse.filter(
        enrollment_id__in=await measure_responses.lineage(enrollment)
    ).order_by("administered_at", "id")
    await audit.record(user, "read", "measure_response", enrollment.id, member=enrollment.member_id, detail="api")
    due = await measure_responses.due_now(enrollment)
    change = {}
    outcomes = {}
    for instrument in QUESTIONNAIRES:
        current = [r for r in responses if r.instrument == instrument and not r.superseded]
        if current:
            o = episode_outcome(instrument, [(r.window, r.total) for r in current])
            latest = o.last_total if o.last_total is not None else o.baseline_total
            change[instrument.value] = {
                "baseline": o.baseline_total, "latest": latest, "difference": latest - o.baseline_total,
                "response": o.response, "remission": o.remission,
            }
            outcomes[instrument.value] = _outcome_json(o, current, staff=user.role != Role.MEMBER)
    return JSONResponse({
        "enrollment_id": enrollment.id,
        "window_rule": WINDOW_RULE,
        "responses": [_for_viewer(response_json(r), user) for r in responses],
        "due": [{"instrument": d.instrument.value, "window": d.occasion.key, "label": d.occasion.label,
                 "closes_at": d.occasion.closes_at.isoformat() if d.occasion.closes_at else None,
                 "answered": d.answered is not None} for d in due],
        "change_from_baseline": change,
        "outcomes": outcomes,
    })


def _outcome_json(o: Outcome, current: list[MeasureResponse], *, staff: bool) -> dict:
    """How the figures above were reached (the definition is server.measures.outcomes.episode_outcome)."""
    body = {
        "standing": o.standing.value, "standing_label": STANDING_LABELS[o.standing],
        "below_threshold": o.below_threshold, "late_baseline": o.late_baseline,
        "baseline_response_id": current[o.baseline_index].id if o.baseline_index is not None else None,
        "last_response_id": current[o.last_index].id if o.last_index is not None else None,
    }
    if staff:
        body["referral_suggested"] = o.referral_suggested
    return body


def _for_viewer(body: dict, user) -> dict:
    if user.role == Role.MEMBER:
        body.pop("item9_statement", None)  # staff wording about the risk check
    return body


@requires(*STAFF, Role.MEMBER)
@body(MeasureAnswers)
async def api_submit(request: Request) -> Response:
    """
    summary: Submit a PHQ-9 or GAD-7 (a member for themself, or staff on the member's behalf)
    responses:
      201: {description: "Stored; safety_item_id is set when item 9 was above 0"}
      409: {description: "Not due now, or already answered in this window"}
    """
    user = user_of(request)
    enrollment = await access.visible_enrollment(user, request.path_params["enrollment_id"])
    answers = await read_body(request, MeasureAnswers)
    body = answers.fields_sent()
    items = answers.items
    q = questionnaire(Instrument(answers.instrument))
    form = {f"item{n}": value for n, value in enumerate(items, start=1)}
    if body.get("difficulty") is not None:
        form["difficulty"] = body.get("difficulty")
    staff = user.role != Role.MEMBER
    submission = await measure_responses.submit(
        enrollment, q.instrument, form, by=user,
        window=str(body.get("window") or "") if staff else "",
        # A member may name the occasion they answer; it is stored for exactly that one.
        for_occasion="" if staff else str(body.get("window") or "")[:32],
        correction_reason=str(body.get("correction_reason") or "") if staff else "",
    )
    payload = response_json(submission.response)
    payload["occasion"] = submission.occasion.label
    if user.role == Role.MEMBER:
        payload.pop("item9_statement", None)
        if submission.safety_item:
            payload["message"] = await safety.member_message(
                submission.safety_item, safety.member_zone(user, enrollment.cohort))
            payload["help"] = (await safety.crisis_help(request.app.state.settings)).text
    else:
        payload["safety_item_id"] = submission.safety_item.id if submission.safety_item else None
    return JSONResponse(payload, status_code=201)


routes = [
    Route("/cohorts/{cohort_id:id}/measures", cohort_measures, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/measures", meeting_measures, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/measures", member_page, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/measures/{instrument}", entry_form, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/measures/{instrument}", entry_submit, methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/measures", api_measures, methods=["GET"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/measures", api_submit, methods=["POST"]),
]
