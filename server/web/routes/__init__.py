"""Route modules, one per area; each exports `routes`."""
from server.web import convertors  # noqa: F401  registers {name:id} before any route is built
from server.web.routes import (
    accounts,
    api,
    audit,
    boards,
    closure,
    closure_api,
    enrollment,
    feeds,
    home,
    intake,
    measures,
    portal,
    safety,
    schedule,
)

# Feeds first: calendar clients poll them most, and Starlette matches routes in order.
ROUTE_MODULES = [feeds, accounts, home, api, audit, schedule, enrollment, intake, measures, safety, portal, boards, closure, closure_api]
