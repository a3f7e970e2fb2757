"""The application factory: settings in, a Starlette app out."""
from __future__ import annotations

import contextlib
import logging
from urllib.parse import quote

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

from server import accounts, reminders
from server.board.hub import Hub
from server.errors import TRANSLATIONS, NotAuthenticated, PlatformError, refusal
from server.measures import safety, safety_alerts
from server.platform import mailer, sqlite_engine
from server.platform.settings import PROJECT_ROOT, Settings
from server.records import retention
from server.web import auth
from server.web.middleware import EdgeMiddleware
from server.web.navigation import SupervisionLink
from server.web.routes import ROUTE_MODULES
from server.web.templating import templates

log = logging.getLogger("groupipt")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    hub = Hub.from_url(settings.broadcast_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=settings.tortoise_config(), generate_schemas=False):
            safety.configure(settings)
            async with hub.running(), sqlite_engine.checkpoints(connections.get("default")), \
                    safety_alerts.watching(app, settings), \
                    retention.daily_purges(settings), \
                    reminders.sweeping(settings), \
                    mailer.sending_beside():  # escalations, follow-ups; retention; reminders; mail after its answer
                yield

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        *[route for module in ROUTE_MODULES for route in module.routes],
        Mount("/static", app=StaticFiles(directory=str(PROJECT_ROOT / "static")), name="static"),
    ]
    middleware = [
        Middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes),
        Middleware(EdgeMiddleware, allowed_origins={settings.origin}),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="__Host-session" if settings.https_only else "session",
            max_age=14 * 24 * 3600,
            same_site="lax",
            https_only=settings.https_only,
        ),
        Middleware(AuthenticationMiddleware, backend=auth.SessionOrTokenBackend()),
        Middleware(_CsrfMiddleware, secret=settings.secret_key, secure=settings.https_only),
        Middleware(SupervisionLink),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            PlatformError: platform_error,
            **{family: domain_refusal for family in TRANSLATIONS},
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    app.router.default = _unknown_address(app.router.not_found)
    app.state.settings = settings
    app.state.passwords = accounts.Passwords(settings.password_profile)
    app.state.hub = hub
    return app


class _ProtectAll:
    """asgi-csrf skips cookie-less requests unless their path is 'always protected'.

    Every browser form here is reached after a GET that set the CSRF cookie, so we protect
    all paths except the token-authenticated API and calendar feeds (tech-notes 5.1).
    """

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith(("/api/", "/feeds/"))


def _CsrfMiddleware(app, *, secret: str, secure: bool):
    async def csrf_failed(scope, send, message_id):
        response = HTMLResponse(
            templates.get_template("errors/csrf.html").render(),
            status_code=403,
        )
        await send({"type": "http.response.start", "status": 403, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})

    protected = asgi_csrf(
        app,
        signing_secret=secret,
        always_protect=_ProtectAll(),
        cookie_secure=secure,
        cookie_samesite="Lax",
        send_csrf_failed=csrf_failed,
    )

    async def refuse_multipart(scope, receive, send):
        # asgi-csrf 0.11 parses multipart bodies with an argument python-multipart >= 0.0.2x
        # no longer takes, and crashes. No form here uploads files (the CSV import reads the
        # file in the browser, or takes pasted rows), so multipart posts get a clear 415.
        if scope["type"] == "http" and scope["method"] not in {"GET", "HEAD", "OPTIONS"}:
            content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
            if content_type.lower().startswith(b"multipart/"):
                message = ("File-upload forms are not accepted. Send the form as ordinary fields "
                           "(application/x-www-form-urlencoded) or, for the API, as JSON.")
                if scope["path"].startswith("/api/"):
                    response = problem(415, "Send JSON", message, code="unsupported_media_type")
                else:
                    response = PlainTextResponse(message, status_code=415)
                await response(scope, receive, send)
                return
        await protected(scope, receive, send)

    return refuse_multipart


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def problem(status: int, title: str, detail: str, *, code: str, fields: dict | None = None) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, "code": code}
    if fields:
        body["fields"] = fields
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


async def platform_error(request: Request, exc: PlatformError) -> Response:
    if _wants_json(request):
        return problem(exc.status_code, exc.title, exc.message, code=exc.code, fields=exc.fields)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, exc.status_code, exc.title, exc.message)


async def domain_refusal(request: Request, exc: Exception) -> Response:
    """A pure-layer refusal (a schedule that cannot be planned, say) answered as its translation."""
    return await platform_error(request, refusal(exc))


def _unknown_address(not_found):
    """An unknown WebSocket address (a board id beyond any row, say) answers 404 as HTTP
    does, where Starlette would close it with a bare 403."""

    async def default(scope, receive, send):
        if scope["type"] == "websocket" and "websocket.http.response" in scope.get("extensions", {}):
            answer = problem(404, "Not found", "There is nothing at this address.", code="not_found")
            await WebSocket(scope, receive, send).send_denial_response(answer)
            return
        await not_found(scope, receive, send)

    return default


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (one path may be split over routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: HTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)  # RFC 9110 15.5.6: a 405 must list them
    titles = {404: "Not found", 405: "Not allowed", 413: "That is too large"}
    detail = {
        404: "There is nothing at this address. It may have moved, or the link may be incomplete.",
        405: "This address does not accept that kind of request.",
    }.get(exc.status_code, str(exc.detail))
    title = titles.get(exc.status_code, "Something is not right")
    if _wants_json(request):
        response = problem(exc.status_code, title, detail, code=f"http_{exc.status_code}")
        response.headers.update(headers)
        return response
    return _error_page(request, exc.status_code, title, detail, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "Something went wrong on our side. Nothing you did caused it; please try again in a moment."
    if _wants_json(request):
        return problem(500, "Server error", detail, code="server_error")
    return _error_page(request, 500, "Sorry, something went wrong", detail)


def _error_page(request: Request, status: int, title: str, detail: str, headers=None) -> Response:
    user = request.scope.get("user")
    context = {
        "status": status,
        "title": title,
        "detail": detail,
        "user": user if user is not None and user.is_authenticated else None,
        "settings": request.app.state.settings,
    }
    return templates.TemplateResponse(request, "errors/error.html", context, status_code=status, headers=headers)
