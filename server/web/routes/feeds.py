"""Calendar feeds over HTTP: the private token feed, subscribe links, rotation and
revocation, the coordinator's overview, cohort feeds behind login, one-meeting downloads.

The token URL answers like Radicale's GET (style.md): look up, then ETag and
Last-Modified, then 304 or the bytes. Unknown and revoked tokens get the same bare 404.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from tortoise.expressions import Q

from models.accounts import FeedToken, Role, User
from models.cohorts import Enrollment, EnrollmentStatus, MeetingKind
from server import clock, schedule
from server.accounts import access
from server.errors import Conflict, NotFound
from server.schedule import feeds
from server.web import auth, paging
from server.web.templating import render, templates

CALENDAR = "text/calendar; charset=utf-8"
_PRIVATE_HEADERS = {"Cache-Control": "private, max-age=0, must-revalidate", "Referrer-Policy": "no-referrer",
                    "X-Robots-Tag": "noindex, nofollow"}


def _not_found() -> Response:
    # No hint whether the token never existed or was revoked.
    return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": "no-store",
                                                                     "Referrer-Policy": "no-referrer"})


def _not_modified(request: Request, feed: feeds.FeedVersion) -> bool:
    """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip() for t in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags or f"W/{feed.etag}" in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            return False
        return feed.last_modified <= since
    return False


def _headers(feed: feeds.FeedVersion, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**_PRIVATE_HEADERS, "ETag": feed.etag, "Last-Modified": feed.http_last_modified, **(extra or {})}


def calendar_response(request: Request, feed: feeds.FeedBody, *, extra: dict[str, str] | None = None) -> Response:
    headers = _headers(feed, extra)
    if _not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(status_code=200, headers={**headers, "Content-Type": CALENDAR, "Content-Length": str(len(feed.body))})
    return Response(feed.body, status_code=200, media_type=CALENDAR, headers=headers)


async def token_feed(request: Request) -> Response:
    settings, now = request.app.state.settings, clock.now()
    presented = await feeds.token_version(request.path_params["token"], settings=settings, now=now)
    if presented is None:
        return _not_found()
    # The version is known without the feed: a calendar that has it is answered unbuilt.
    if _not_modified(request, presented.version):
        return Response(status_code=304, headers=_headers(presented.version))
    return calendar_response(request, await feeds.feed_body(presented, settings=settings, now=now))


# --- the person's own feed ------------------------------------------------------------------------


async def account_feed_context(request: Request, *, secret: str | None = None, notice: str | None = None) -> dict[str, Any]:
    """The signed-in person's own calendar card: only ever their own link, never anyone else's."""
    user = auth.user_of(request)
    settings = request.app.state.settings
    token = await feeds.active_feed_token(user)
    context: dict[str, Any] = {"token": token, "can_have_feed": feeds.can_have_feed(user),
                               "notice": notice, "just_made": bool(secret)}
    if not secret and context["can_have_feed"]:
        secret = feeds.readable_feed_secret(token, settings.secret_key)
    if secret:
        url = feeds.feed_url(settings.base_url, secret)
        context.update({"feed_url": url, "links": feeds.subscribe_links(url, name=settings.organizer_name)})
    if user.role == Role.COORDINATOR:
        context["cohort_feeds"] = True
    return context


@auth.requires()
async def account_calendar(request: Request) -> Response:
    notice = "Your calendar link was turned off." if request.query_params.get("done") == "revoked" else None
    return render(request, "feeds/account.html", await account_feed_context(request, notice=notice))


async def account_feed_section(request: Request) -> Markup:
    """The calendar card for the account page (hook: the account page's `feed_section`)."""
    context = await account_feed_context(request)
    context.update({"request": request, "user": auth.user_of(request), "csrf_token": templates.env.globals["csrf_token"]})
    return Markup(templates.get_template("feeds/_section.html").render(context))


@auth.requires()
async def account_calendar_new(request: Request) -> Response:
    """Create the link, or replace it: the old one stops working at once."""
    user = auth.user_of(request)
    if not feeds.can_have_feed(user):
        raise Conflict("Coordinators follow cohorts through each cohort's calendar on its schedule page.")
    had = await feeds.active_feed_token(user) is not None
    secret = await feeds.mint_feed_token(user, secret_key=request.app.state.settings.secret_key)
    notice = "Your new calendar link is below; the old one no longer works." if had else "Your calendar link is ready."
    return render(request, "feeds/account.html", await account_feed_context(request, secret=secret, notice=notice))


@auth.requires()
async def account_calendar_revoke(request: Request) -> Response:
    user = auth.user_of(request)
    await feeds.revoke_feed_tokens(user)
    return RedirectResponse("/account/calendar?done=revoked", status_code=303)


# --- the coordinator's overview ------------------------------------------------------------------------


FEED_PEOPLE = paging.Keyset("calendar-feeds", (paging.SortKey("display_name"), paging.SortKey("id")))


async def _overview_page(request: Request) -> tuple[list[dict], paging.Page, str]:
    """A page of the overview, by name, optionally only people whose name or e-mail has `person`."""
    query = feeds.feed_people()
    search = paging.text_filter(request, "person")
    if search:
        query = query.filter(Q(display_name__icontains=search) | Q(email__icontains=search))
    page = await paging.fetch(request, query, FEED_PEOPLE, paging.page_request(request, FEED_PEOPLE))
    return await feeds.feed_overview(page.rows), page, search


@auth.requires(Role.COORDINATOR)
async def feed_overview(request: Request) -> Response:
    rows, page, search = await _overview_page(request)
    return render(request, "feeds/overview.html", {
        "rows": rows, "person": search, "paging": paging.links(request, page),
        "notice": "That person's calendar link was revoked." if request.query_params.get("done") else None,
    })


@auth.requires(Role.COORDINATOR)
async def revoke_for_person(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    person = await User.get_or_none(id=user_id) if 0 < user_id < 2**31 else None
    if person is None:
        raise NotFound("There is no such person.")
    await feeds.revoke_feed_tokens(person)
    return RedirectResponse("/calendar-feeds?done=revoked", status_code=303)


# --- feeds behind login ---------------------------------------------------------------------------------


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def cohort_feed(request: Request) -> Response:
    cohort = await access.staff_cohort(auth.user_of(request), request.path_params["cohort_id"])
    feed = await feeds.feed_for_cohort(cohort, settings=request.app.state.settings, now=clock.now())
    return calendar_response(request, feed)


async def _visible_meeting(user: User, meeting_id: Any):
    row = await schedule.meeting_row(meeting_id)
    if user.role == Role.MEMBER:
        enrollment = await Enrollment.filter(
            cohort_id=row.cohort_id, member_id=user.id,
            status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED],
        ).first()
        mine = enrollment is not None and (row.kind == MeetingKind.GROUP or row.enrollment_id == enrollment.id)
        if not mine:
            raise NotFound("There is no such meeting.")
        return row
    await access.staff_cohort(user, row.cohort_id)
    return row


@auth.requires()
async def meeting_ics(request: Request) -> Response:
    """One meeting as a file to import into a calendar."""
    row = await _visible_meeting(auth.user_of(request), request.path_params["meeting_id"])
    body = await feeds.meeting_download(row, settings=request.app.state.settings)
    return Response(body, media_type=CALENDAR, headers={
        **_PRIVATE_HEADERS, "Content-Disposition": f'attachment; filename="meeting-{row.id}.ics"',
    })


# --- JSON API ---------------------------------------------------------------------------------------------


def _token_json(token: FeedToken | None) -> dict[str, Any]:
    if token is None:
        return {"active": False}
    return {"active": True, "created_at": token.created_at.isoformat(),
            "last_fetched_at": token.last_used_at.isoformat() if token.last_used_at else None}


@auth.requires()
async def api_my_feed(request: Request) -> Response:
    """
    get:
      summary: Whether you have a calendar feed, and when it was last fetched (never the URL)
      tags: [calendar]
      responses:
        200: {description: Feed status}
    post:
      summary: Create or replace your calendar feed; the URL is in this answer only
      tags: [calendar]
      responses:
        201: {description: "url and subscribe links (webcal, google, outlook)"}
        409: {description: Coordinators use cohort feeds}
    delete:
      summary: Revoke your calendar feed
      tags: [calendar]
      responses:
        200: {description: Revoked}
    """
    user = auth.user_of(request)
    settings = request.app.state.settings
    if request.method == "GET":
        return JSONResponse(_token_json(await feeds.active_feed_token(user)))
    if request.method == "DELETE":
        return JSONResponse({"revoked": await feeds.revoke_feed_tokens(user)})
    if not feeds.can_have_feed(user):
        raise Conflict("Coordinators follow cohorts through each cohort's calendar feed.")
    url = feeds.feed_url(settings.base_url, await feeds.mint_feed_token(user, secret_key=settings.secret_key))
    return JSONResponse({"url": url, "links": feeds.subscribe_links(url, name=settings.organizer_name)}, status_code=201)


@auth.requires(Role.COORDINATOR)
async def api_feed_overview(request: Request) -> Response:
    """
    get:
      summary: Every member's and facilitator's feed status, with last fetch time, by name, a page at a time
      tags: [calendar]
      parameters:
        - {name: person, in: query, required: false, description: "Part of the person's name or e-mail, any case", schema: {type: string, maxLength: 120}}
        - {name: limit, in: query, required: false, description: "Rows per page (default 100)", schema: {type: integer, minimum: 1, maximum: 200, default: 100}}
        - {name: cursor, in: query, required: false, description: "Where the page starts: from the previous page's `next`", schema: {type: string, pattern: "^[A-Za-z0-9_.-]{1,1000}$"}}
      responses:
        200:
          description: "people: a page of people; next: the next page's URL, or null on the last page (also a Link rel=next header)"
          headers: {Link: {description: "RFC 8288 link to the next page (rel=next), while more pages follow", schema: {type: string}}}
        422: {description: "A cursor this list did not give out"}
    """
    rows, page, _ = await _overview_page(request)
    next_url = paging.api_next(request, page)
    return JSONResponse({"people": [
        {"user_id": r["user"].id, "name": r["user"].display_name, "role": r["user"].role.value, **_token_json(r["token"])}
        for r in rows
    ], "next": next_url}, headers=paging.next_link_header(next_url))


@auth.requires(Role.COORDINATOR)
async def api_revoke_for_person(request: Request) -> Response:
    """
    delete:
      summary: Revoke a person's calendar feed
      tags: [calendar]
      responses:
        200: {description: Revoked}
        404: {description: No such person}
    """
    user_id = request.path_params["user_id"]
    person = await User.get_or_none(id=user_id) if 0 < user_id < 2**31 else None
    if person is None:
        raise NotFound("There is no such person.")
    return JSONResponse({"revoked": await feeds.revoke_feed_tokens(person)})


routes = [
    Route("/feeds/{token}.ics", token_feed, methods=["GET", "HEAD"]),
    Route("/account/calendar", account_calendar, methods=["GET"]),
    Route("/account/calendar", account_calendar_new, methods=["POST"]),
    Route("/account/calendar/revoke", account_calendar_revoke, methods=["POST"]),
    Route("/calendar-feeds", feed_overview, methods=["GET"]),
    Route("/calendar-feeds/{user_id:id}/revoke", revoke_for_person, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/calendar.ics", cohort_feed, methods=["GET"]),
    Route("/meetings/{meeting_id:id}.ics", meeting_ics, methods=["GET"]),
    Route("/api/v1/me/calendar-feed", api_my_feed, methods=["GET", "POST", "DELETE"]),
    Route("/api/v1/calendar-feeds", api_feed_overview, methods=["GET"]),
    Route("/api/v1/users/{user_id:id}/calendar-feed", api_revoke_for_person, methods=["DELETE"]),
]
