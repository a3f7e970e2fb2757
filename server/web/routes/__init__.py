"""Route modules, one per area; each exports `routes`."""
from server.web import convertors  # noqa: F401  registers {name:id} before any route is built
from server.web.routes import (
    accounts,
    api,
    audit,
    boards,
    closure,
    closure_api,
    cohorts,
    enrollment,
    feeds,
    home,
    intake,
    measures,
    meetings,
    portal,
    records,
    safety,
    templates,
)

# Feeds first: calendar clients poll them most, and Starlette matches routes in order.
ROUTE_MODULES = [feeds, accounts, home, api, audit, templates, cohorts, meetings, enrollment, intake, measures, safety, portal, records, boards, closure, closure_api]
