"""The member portal: upcoming meetings, calendar links, measures due, own goals and progress.

Everything here is the logged-in member's own; no query on these pages reads another
member's row, and nothing names other members (domain-ipt.md 9).
"""
from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.accounts import Role, User
from models.cohorts import Enrollment, MeetingStatus
from server import clock
from server.errors import REFUSALS, Conflict, NotFound, refusal
from server.measures import responses as measure_responses
from server.measures import safety
from server.measures.instruments import (
    ANSWER_SCALE,
    DIFFICULTY_SCALE,
    Instrument,
    questionnaire,
)
from server.measures.occasions import WINDOW_RULE
from server.portal import group_words, member_portal
from server.reminders.absences import joinable_now
from server.reminders.kiosk import codes_for_member
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render


async def calendar_section(request: Request) -> Markup | None:
    """The private calendar-feed card from the feeds area (create, rotate, subscribe links).

    The feed secret is shown only when it is minted, so the portal embeds the feeds area's
    own card rather than re-deriving a URL. None when that area is not installed.
    """
    try:
        from server.web.routes.feeds import (
            account_feed_section,  # owned by schedules + feeds
        )
    except ImportError:
        return None
    return await account_feed_section(request)


@requires(Role.MEMBER)
async def portal(request: Request) -> Response:
    groups = await member_portal(user_of(request), clock.now())
    return render(request, "portal/home.html", {
        "blocks": groups, "calendar": await calendar_section(request),
        "questionnaire": questionnaire, "cancelled": MeetingStatus.CANCELLED, "window_rule": WINDOW_RULE,
        "help_now": (await safety.crisis_help(request.app.state.settings)).text,
        "join_now": await joinable_now(user_of(request), now=clock.now(), settings=request.app.state.settings),
        "kiosk_codes": await codes_for_member(user_of(request), request.app.state.settings.secret_key, now=clock.now()),
    })


def _instrument(raw: str) -> Instrument:
    try:
        return Instrument(raw)
    except ValueError:
        raise NotFound(f"There is no questionnaire called {raw!r}.") from None


def _form_context(q, *, enrollment=None, due=None, values=None, error="", field_errors=None) -> dict:
    return {"q": q, "scale": ANSWER_SCALE, "difficulty_scale": DIFFICULTY_SCALE, "due": due,
            "enrollment": enrollment, "group": group_words(enrollment.cohort) if enrollment else "",
            "action": measure_responses.member_form_path(enrollment.id, q.instrument, due.occasion.key)
            if enrollment and due else "",
            "values": values or {}, "error": error, "field_errors": field_errors or {},
            "window_rule": WINDOW_RULE}


async def _own_enrollment(user: User, raw_id: object) -> Enrollment:
    enrollment = await Enrollment.get_or_none(id=record_id(raw_id), member_id=user.id).prefetch_related(
        "cohort", "cohort__template"
    )
    if enrollment is None:
        raise NotFound("There is no such group for you.")
    return enrollment


async def _due_for(enrollment: Enrollment, q, occasion_key: str):
    """The open window of this enrollment's `q` named by the link, or a clear refusal."""
    if enrollment.status not in measure_responses.ANSWERING:
        raise Conflict("You have no questionnaires to fill in for this group right now.")
    due = next((d for d in await measure_responses.due_now(enrollment) if d.instrument == q.instrument), None)
    schedule = (await measure_responses.schedules(
        enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)).get(q.instrument, [])
    named = next((o for o in schedule if o.key == occasion_key), None)
    if named is None:
        raise NotFound(f"There is no {q.name} for that occasion in this group.")
    if due is None or due.occasion.key != named.key:
        now_open = f" The one open now is for {due.occasion.label.lower()}." if due else ""
        raise Conflict(f"The {q.name} for {named.label.lower()} is not open now.{now_open}")
    return due


@requires(Role.MEMBER)
async def occasion_form(request: Request) -> Response:
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    enrollment = await _own_enrollment(user, request.path_params["enrollment_id"])
    due = await _due_for(enrollment, q, request.path_params["occasion"])
    return render(request, "portal/measure_form.html", _form_context(q, enrollment=enrollment, due=due))


@requires(Role.MEMBER)
async def occasion_submit(request: Request) -> Response:
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    enrollment = await _own_enrollment(user, request.path_params["enrollment_id"])
    occasion_key = request.path_params["occasion"]
    form = await form_data(request)
    try:
        submission = await measure_responses.submit(enrollment, q.instrument, form, by=user,
                                                    for_occasion=occasion_key)
    except REFUSALS as refused:
        exc = refusal(refused)
        if isinstance(exc, NotFound):
            raise
        # The form is shown again, with the answers kept: for the occasion open now if the
        # linked one closed meanwhile (the member sends it again knowingly), else the same.
        due = next((d for d in await measure_responses.due_now(enrollment) if d.instrument == q.instrument), None)
        context = _form_context(q, enrollment=enrollment, due=due, values=dict(form), error=exc.message,
                                field_errors=exc.fields)
        context["action"] = context["action"] or request.url.path
        return render(request, "portal/measure_form.html", context, status_code=exc.status_code)
    return await _done(request, q, submission, enrollment)


async def _done(request: Request, q, submission, enrollment: Enrollment) -> Response:
    message = help_text = ""
    if submission.safety_item:  # what will actually happen, and the clinic's own crisis help
        message = await safety.member_message(submission.safety_item, safety.member_zone(user_of(request), enrollment.cohort))
        help_text = (await safety.crisis_help(request.app.state.settings)).text
    return render(request, "portal/measure_done.html", {
        "q": q, "submission": submission, "score": submission.score, "group": group_words(enrollment.cohort),
        "safety_message": message, "help_text": help_text,
    })


def _only_open(found: list[measure_responses.MemberDue]) -> measure_responses.MemberDue | None:
    """The one questionnaire an unspecific link can mean, or None when it is ambiguous."""
    unanswered = [d for d in found if d.due.answered is None]
    if len(unanswered) == 1:
        return unanswered[0]
    if not unanswered and len(found) == 1:
        return found[0]
    return None


async def _choose(request: Request, q, found, *, status_code: int = 200, error: str = "") -> Response:
    return render(request, "portal/measure_choose.html", {
        "q": q, "choices": [{"due": d.due, "path": d.path, "group": group_words(d.enrollment.cohort)} for d in found],
        "error": error, "window_rule": WINDOW_RULE,
    }, status_code=status_code)


@requires(Role.MEMBER)
async def measure_form(request: Request) -> Response:
    """The old, unspecific link: the form of the one questionnaire it can mean (posting to
    that questionnaire's own link), or a choice when the member has several open."""
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    if not await measure_responses.member_answering(user):
        raise Conflict("You have no questionnaires to fill in right now.")
    found = await measure_responses.due_for_member(user, q.instrument)
    if not found:
        raise Conflict(f"No {q.name} is due for you right now. Thank you.")
    only = _only_open(found)
    if only is not None:
        return render(request, "portal/measure_form.html", _form_context(q, enrollment=only.enrollment, due=only.due))
    return await _choose(request, q, found)


@requires(Role.MEMBER)
async def measure_submit(request: Request) -> Response:
    """Answers posted to the old link are stored only when they can mean one questionnaire."""
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    form = await form_data(request)
    found = await measure_responses.due_for_member(user, q.instrument)
    unanswered = [d for d in found if d.due.answered is None]
    if len(unanswered) > 1:
        return await _choose(request, q, unanswered, status_code=409, error=(
            f"You are in more than one group with a {q.name} open. Nothing was saved: please choose "
            "the group these answers are for."))
    only = _only_open(found)
    try:
        if only is not None:
            enrollment = only.enrollment
            submission = await measure_responses.submit(enrollment, q.instrument, form, by=user,
                                                        for_occasion=only.due.occasion.key)
        else:
            enrollments = await measure_responses.member_answering(user)
            if len(enrollments) != 1:
                raise Conflict(f"You have already answered the {q.name} for each of your groups. Thank you."
                               if found else f"No {q.name} is due for you right now. Thank you.")
            enrollment = enrollments[0]  # the old behaviour, with its own refusal messages
            submission = await measure_responses.submit(enrollment, q.instrument, form, by=user)
    except REFUSALS as refused:
        exc = refusal(refused)
        return render(request, "portal/measure_form.html",
                      _form_context(q, enrollment=only.enrollment if only else None, due=only.due if only else None,
                                    values=dict(form), error=exc.message, field_errors=exc.fields),
                      status_code=exc.status_code)
    return await _done(request, q, submission, enrollment)


routes = [
    Route("/portal", portal, methods=["GET"]),
    Route("/portal/measures/{instrument}", measure_form, methods=["GET"]),
    Route("/portal/measures/{instrument}", measure_submit, methods=["POST"]),
    Route("/portal/enrollments/{enrollment_id:id}/measures/{instrument}/{occasion}", occasion_form, methods=["GET"]),
    Route("/portal/enrollments/{enrollment_id:id}/measures/{instrument}/{occasion}", occasion_submit, methods=["POST"]),
]
