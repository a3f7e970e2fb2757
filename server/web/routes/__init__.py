"""Route modules, one per area; each exports `routes`."""
from server.web import convertors  # noqa: F401  registers {name:id} before any route is built
from server.web.routes import (
    accounts,
    api,
    audit,
    boards,
    closure,
    closure_api,
    closure_signoff,
    cohorts,
    enrollment,
    enrollment_api,
    feeds,
    fidelity,
    follow_ups,
    home,
    intake,
    kiosk,
    measures,
    meetings,
    portal,
    programme,
    pwa,
    records,
    reminders,
    safety,
    safety_items,
    supervision,
    templates,
)

# Feeds first: calendar clients poll them most, and Starlette matches routes in order.
ROUTE_MODULES = [feeds, accounts, home, api, audit, templates, cohorts, meetings, enrollment, enrollment_api, intake, measures, safety_items, safety, reminders, portal, records, boards, closure, closure_api, closure_signoff, fidelity, programme, supervision]
ROUTE_MODULES.append(follow_ups)  # follow-ups and online meetings (issue 16)
ROUTE_MODULES.append(kiosk)  # measures on a shared tablet (issue 16)
ROUTE_MODULES.append(pwa)  # the service worker at /sw.js, so the site is installable (issue 20)
