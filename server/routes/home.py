"""The start page: cohorts for staff, the portal for members."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.cohorts import Cohort
from server import auth
from server.templating import render


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
    context = {"cohorts": await cohorts}
    overview = getattr(request.app.state, "cohort_overview", None)
    if overview is not None:  # the enrollment area's dashboard figures, when present
        context["overview"] = await overview(user, context["cohorts"])
    return render(request, "home/staff.html", context)


routes = [Route("/", home, methods=["GET"])]
