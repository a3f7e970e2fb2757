"""The member portal: upcoming meetings, calendar links, measures due, own goals and progress.

Everything here is the logged-in member's own; no query on these pages reads another
member's row, and nothing names other members (domain-ipt.md 9).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.accounts import Role, User
from models.clinical import Goal, GoalProgress
from models.cohorts import Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from server import audit, auth, measure_responses, safety
from server.auth import requires, user_of
from server.errors import Conflict, NotFound, PlatformError
from server.forms import form_data
from server.measure_schedule import WINDOW_RULE
from server.measures import ANSWER_SCALE, DIFFICULTY_SCALE, Instrument, questionnaire
from server.routes.measures import member_measures
from server.templating import render

VISIBLE = [EnrollmentStatus.INVITED, EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED,
           EnrollmentStatus.WAITLISTED, EnrollmentStatus.COMPLETED]


async def calendar_section(request: Request) -> Markup | None:
    """The private calendar-feed card from the feeds area (create, rotate, subscribe links).

    The feed secret is shown only when it is minted, so the portal embeds the feeds area's
    own card rather than re-deriving a URL. None when that area is not installed.
    """
    try:
        from server.routes.feeds import account_feed_section  # owned by schedules + feeds
    except ImportError:
        return None
    return await account_feed_section(request)


def _zone(user: User, enrollment: Enrollment) -> ZoneInfo:
    for name in (user.time_zone, enrollment.cohort.time_zone, "UTC"):
        try:
            return ZoneInfo(name)
        except Exception:
            continue
    return ZoneInfo("UTC")


@requires(Role.MEMBER)
async def portal(request: Request) -> Response:
    user = user_of(request)
    now = auth.now()
    enrollments = await Enrollment.filter(member_id=user.id, status__in=VISIBLE).prefetch_related(
        "cohort", "cohort__template"
    ).order_by("-created_at")
    blocks = []
    for enrollment in enrollments:
        zone = _zone(user, enrollment)
        meetings = await Meeting.filter(cohort_id=enrollment.cohort_id, ends_at__gt=now).filter(
            kind=MeetingKind.GROUP
        ).order_by("starts_at").limit(6)
        own = await Meeting.filter(enrollment_id=enrollment.id, ends_at__gt=now).order_by("starts_at")
        upcoming = sorted([*meetings, *own], key=lambda m: m.starts_at)[:8]
        goals = await Goal.filter(enrollment_id=enrollment.id).order_by("position", "id")
        progress = await GoalProgress.filter(goal_id__in=[g.id for g in goals]).order_by("at", "id")
        by_goal: dict[int, list[GoalProgress]] = {}
        for p in progress:
            by_goal.setdefault(p.goal_id, []).append(p)
        await audit.record(user, "read", "goal", enrollment.id, member=user.id, detail="portal")
        due = await measure_responses.due_now(enrollment, now=now)
        measures = await member_measures(enrollment, user, chart_prefix=f"mine{enrollment.id}")
        position = None
        if enrollment.status == EnrollmentStatus.WAITLISTED and enrollment.waitlisted_at:
            # Only a number: how many are ahead, never who.
            ahead = await Enrollment.filter(
                cohort_id=enrollment.cohort_id, status=EnrollmentStatus.WAITLISTED,
                waitlisted_at__lt=enrollment.waitlisted_at,
            ).count()
            position = ahead + 1
        blocks.append({
            "enrollment": enrollment, "cohort": enrollment.cohort, "zone": zone, "upcoming": upcoming,
            "goals": goals, "progress": by_goal, "due": due, "measures": measures,
            "total_sessions": enrollment.cohort.n_group_sessions, "waitlist_position": position,
        })
    return render(request, "portal/home.html", {
        "blocks": blocks, "calendar": await calendar_section(request),
        "questionnaire": questionnaire, "cancelled": MeetingStatus.CANCELLED, "window_rule": WINDOW_RULE,
        "help_now": (await safety.crisis_help(request.app.state.settings)).text,
    })


async def _answering_enrollment(user: User) -> Enrollment:
    enrollment = await Enrollment.filter(
        member_id=user.id, status__in=list(measure_responses.ANSWERING)
    ).prefetch_related("cohort", "cohort__template").order_by("-created_at").first()
    if enrollment is None:
        raise Conflict("You have no questionnaires to fill in right now.")
    return enrollment


def _instrument(raw: str) -> Instrument:
    try:
        return Instrument(raw)
    except ValueError:
        raise NotFound(f"There is no questionnaire called {raw!r}.") from None


def _form_context(q, *, due=None, values=None, error="", field_errors=None) -> dict:
    return {"q": q, "scale": ANSWER_SCALE, "difficulty_scale": DIFFICULTY_SCALE, "due": due,
            "values": values or {}, "error": error, "field_errors": field_errors or {},
            "window_rule": WINDOW_RULE}


@requires(Role.MEMBER)
async def measure_form(request: Request) -> Response:
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    enrollment = await _answering_enrollment(user)
    due = next((d for d in await measure_responses.due_now(enrollment) if d.instrument == q.instrument), None)
    return render(request, "portal/measure_form.html", _form_context(q, due=due))


@requires(Role.MEMBER)
async def measure_submit(request: Request) -> Response:
    user = user_of(request)
    q = questionnaire(_instrument(request.path_params["instrument"]))
    form = await form_data(request)
    try:
        enrollment = await _answering_enrollment(user)
        submission = await measure_responses.submit(enrollment, q.instrument, form, by=user)
    except PlatformError as exc:
        return render(request, "portal/measure_form.html",
                      _form_context(q, values=dict(form), error=exc.message, field_errors=exc.fields),
                      status_code=exc.status_code)
    message = help_text = ""
    if submission.safety_item:  # what will actually happen, and the clinic's own crisis help
        message = await safety.member_message(submission.safety_item, safety.member_zone(user, enrollment.cohort))
        help_text = (await safety.crisis_help(request.app.state.settings)).text
    return render(request, "portal/measure_done.html", {
        "q": q, "submission": submission, "score": submission.score,
        "safety_message": message, "help_text": help_text,
    })


routes = [
    Route("/portal", portal, methods=["GET"]),
    Route("/portal/measures/{instrument}", measure_form, methods=["GET"]),
    Route("/portal/measures/{instrument}", measure_submit, methods=["POST"]),
]
