"""Route modules, one per area; each exports `routes`."""
from server.routes import (
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
    schedule,
)

ROUTE_MODULES = [accounts, home, api, audit, schedule, feeds, enrollment, intake, measures, portal, boards, closure, closure_api]
