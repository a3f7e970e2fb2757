"""The start page: cohorts for staff, the portal for members."""
from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Meeting, MeetingStatus
from server import clock, dashboard
from server.accounts import access
from server.measures import safety
from server.reminders import follow_ups
from server.web import auth
from server.web.templating import render


async def home(request: Request) -> Response:
    if not request.user.is_authenticated:
        if not await User.filter(role=Role.COORDINATOR).exists():
            return render(request, "home/not_set_up.html", {})
        return RedirectResponse("/login", status_code=303)
    user = auth.user_of(request)
    if user.role == Role.MEMBER:
        return RedirectResponse("/portal", status_code=303)
    cohorts = Cohort.all().prefetch_related("template", "facilitators").order_by("-start_date", "id")
    if user.role == Role.FACILITATOR:
        cohorts = cohorts.filter(facilitators__id=user.id)
    rows = await cohorts
    overview = await dashboard.cohort_overview(user, rows)
    help_text = await safety.crisis_help(request.app.state.settings)
    return render(request, "home/staff.html", {
        "cohorts": rows, "overview": overview, "boards": await _next_boards([c.id for c in rows]),
        "attention": await safety.attention_for(user),
        "supervision": await dashboard.supervision_overview(user),
        "help_text_unset": user.role == Role.COORDINATOR and not help_text.set_by_clinic,
        "programme_link": user.role == Role.COORDINATOR or bool(await access.supervised_facilitator_ids(user)),
        "follow_up_items": await follow_ups.follow_ups_for_staff_home(user), "show_cohort": True,
        "at_risk": await follow_ups.at_risk([c.id for c in rows if c.status == CohortStatus.ACTIVE]),
    })


async def _next_boards(cohort_ids: list[int]) -> dict[int, Meeting]:
    """Each cohort's next (or current) group session, whose live board staff will open."""
    return await dashboard.next_group_meetings(
        cohort_ids, statuses=(MeetingStatus.SCHEDULED,), starts_from=clock.now() - timedelta(hours=3),
    )


routes = [Route("/", home, methods=["GET"])]
