"""The start page: cohorts for staff, the portal for members."""
from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.cohorts import CohortStatus, Meeting, MeetingStatus, ProtocolTemplate
from server import clock, dashboard
from server.accounts import access
from server.errors import BadRequest
from server.measures import safety
from server.reminders import follow_ups
from server.web import auth, paging
from server.web.convertors import MAX_ID
from server.web.templating import render


# Newest first: a cohort just made is at the top, and the id alone is a key every row has once.
COHORT_ORDER = paging.Keyset("home-cohorts", (paging.SortKey("id", descending=True),))
# The start page shows what needs attention; the rest is a filter or a page away. Fifteen is
# a small clinic's every cohort on one page (bench/scale.py's 10), and a large one's first screen.
HOME_PAGE_SIZE = 15


def _filters(request: Request) -> dashboard.CohortFilters:
    status = request.query_params.get("status", "")
    if status not in {"", dashboard.ALL_STATUSES, *(s.value for s in CohortStatus)}:
        raise BadRequest("Choose a status from the list.", fields={"status": "Unknown."})
    protocol = request.query_params.get("protocol", "")
    if protocol and not (protocol.isascii() and protocol.isdigit() and 0 < int(protocol) <= MAX_ID):
        raise BadRequest("Choose a protocol from the list.", fields={"protocol": "Unknown."})
    return dashboard.CohortFilters(status=status, facilitator=paging.text_filter(request, "facilitator"),
                                   protocol=int(protocol) if protocol else None, name=paging.text_filter(request, "name"))


async def home(request: Request) -> Response:
    if not request.user.is_authenticated:
        if not await User.filter(role=Role.COORDINATOR).exists():
            return render(request, "home/not_set_up.html", {})
        return RedirectResponse("/login", status_code=303)
    user = auth.user_of(request)
    if user.role == Role.MEMBER:
        return RedirectResponse("/portal", status_code=303)
    filters = _filters(request)
    page = await paging.fetch(request, dashboard.cohorts_for(user, filters).prefetch_related("template", "facilitators"),
                              COHORT_ORDER, paging.page_request(request, COHORT_ORDER, default_limit=HOME_PAGE_SIZE))
    rows = page.rows
    overview = await dashboard.cohort_overview(user, rows)
    help_text = await safety.crisis_help(request.app.state.settings)
    return render(request, "home/staff.html", {
        "cohorts": rows, "overview": overview, "boards": await _next_boards([c.id for c in rows]),
        "filters": filters, "statuses": list(CohortStatus), "paging": paging.links(request, page),
        "protocols": await ProtocolTemplate.all().order_by("name", "id").values_list("id", "name"),
        "next_meetings": await dashboard.next_meetings(user, now=clock.now()),
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
