"""The programme dashboard (issue 17): the page, its CSV and its JSON in /api/v1.

Coordinators see every cohort, supervisors the cohorts of the facilitators they supervise;
other facilitators and members are refused (server.programme.report.scope_of). The CSV and
the JSON carry no names and the same suppression as the page (server.programme.export).
"""
from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from server import clock, programme
from server.accounts import audit
from server.errors import BadRequest
from server.programme import charts, export
from server.programme.report import Filters, Grouping
from server.web.auth import requires, user_of
from server.web.convertors import MAX_ID
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)


# The page's form sends every field, empty ones as "name=": pages read those as "any";
# the API, whose document says a parameter is an id or a date, refuses them.


def _id(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 1 <= int(text) <= MAX_ID:
        raise BadRequest(f"{name} must be the id of a record (a whole number from 1).", fields={name: "Not an id."})
    return int(text)


def _day(raw: str | None, name: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2027-01-05.", fields={name: "Not a date like 2027-01-05."}) from None


def filters_of(request: Request) -> Filters:
    query = request.query_params
    if not request.url.path.startswith("/api/"):
        query = {name: value for name, value in query.items() if value.strip()}
    raw_grouping = query.get("group_by", Grouping.COHORT.value)
    try:
        grouping = Grouping(raw_grouping)
    except ValueError:
        words = ", ".join(g.value for g in Grouping)
        raise BadRequest(f"group_by must be one of {words}.", fields={"group_by": f"One of {words}."}) from None
    return Filters(group_by=grouping, template_id=_id(query.get("template"), "template"),
                   facilitator_id=_id(query.get("facilitator"), "facilitator"),
                   starts_from=_day(query.get("from"), "from"), starts_to=_day(query.get("to"), "to"))


async def _report(request: Request, what: str) -> tuple[User, programme.Report, programme.Choices]:
    user = user_of(request)
    scope = await programme.scope_of(user)
    filters = filters_of(request)
    options = await programme.choices_for(scope)
    programme.check_filters(scope, filters, options)
    report = await programme.programme_report(scope, filters, now=clock.now(), names=options.facilitator_names)
    await audit.record(user, "read", "programme_outcomes", filters.group_by.value,
                       detail=f"{what}: {len(report.cohorts)} cohorts, aggregate figures, no names")
    return user, report, options


def _key(request: Request) -> bytes:
    return request.app.state.settings.secret_key.encode()


@requires(*STAFF)
async def dashboard(request: Request) -> Response:
    _, report, options = await _report(request, "page")
    key = _key(request)
    grouping = report.filters.group_by
    labels = {row.group.key: export.row_label(grouping, row, key) for row in report.rows}
    named = [(row.name or labels[row.group.key], row.group) for row in report.rows]
    return render(request, "programme/dashboard.html", {
        "report": report, "options": options, "filters": report.filters, "groupings": programme.GROUPING_LABELS,
        "labels": labels, "charts": charts.dashboard_charts(named),
        "minimum": programme.MINIMUM_PEOPLE, "rule": programme.SUPPRESSION_RULE, "definitions": export.DEFINITIONS,
        "query": request.url.query,
    })


@requires(*STAFF)
async def dashboard_csv(request: Request) -> Response:
    _, report, _ = await _report(request, "csv")
    return Response(export.as_csv(report, _key(request)), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="programme-by-{report.filters.group_by.value}.csv"',
        "Cache-Control": "no-store",
    })


@requires(*STAFF)
async def api_programme(request: Request) -> Response:
    """
    summary: "Programme outcomes per cohort, facilitator, template or quarter, without names (coordinators: every cohort; supervisors: the cohorts of the facilitators they supervise)"
    description: "The figures of /programme and /programme.csv. Cohorts and facilitators carry stable pseudonymous labels, never names. A cohort of fewer than 5 people is left out of every figure, and a group with fewer than 5 people has `suppressed: true` and every figure null; `suppression.rule` says why nothing suppressed can be recovered from the total. `definitions` states each figure's rule."
    tags: [programme]
    parameters:
      - {name: group_by, in: query, required: false, schema: {type: string, enum: [cohort, template, facilitator, quarter], default: cohort}}
      - {name: template, in: query, required: false, description: A protocol template's id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
      - {name: facilitator, in: query, required: false, description: A facilitator's user id, schema: {type: integer, minimum: 1, maximum: 2147483647}}
      - {name: from, in: query, required: false, description: Cohorts starting on or after this date, schema: {type: string, format: date}}
      - {name: to, in: query, required: false, description: Cohorts starting on or before this date, schema: {type: string, format: date}}
    responses:
      200:
        description: The groups' figures and the total, with the suppression rule and the definitions
        content:
          application/json:
            schema:
              type: object
              required: [group_by, filters, suppression, definitions, groups, total]
              properties:
                group_by: {type: string}
                filters: {type: object}
                suppression: {type: object, required: [minimum_people, rule, cohorts_left_out]}
                definitions: {type: object}
                groups: {type: array, items: {type: object, required: [group, suppressed, enrolled]}}
                total: {type: object, required: [group, suppressed, enrolled]}
      403: {description: "Not a coordinator or a supervisor, or a facilitator you do not supervise"}
      404: {description: No such template or facilitator}
      422: {description: The period ends before it starts}
    """
    _, report, _ = await _report(request, "api")
    return JSONResponse(export.as_json(report, _key(request)), headers={"Cache-Control": "no-store"})


routes = [
    Route("/programme", dashboard, methods=["GET"]),
    Route("/programme.csv", dashboard_csv, methods=["GET"]),
    Route("/api/v1/programme", api_programme, methods=["GET"]),
]
