"""Jinja2 pages: one environment, autoescaped, with what every page needs."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from server.platform.settings import PROJECT_ROOT

# Autoescaping is on for .html (Starlette uses select_autoescape).
templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))


def _csrf_token(request: Request) -> str:
    factory = request.scope.get("csrftoken")
    return factory() if factory else ""


def _local(value: datetime | None, zone: str = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except Exception:
        tz = ZoneInfo("UTC")
    return value.astimezone(tz).strftime(fmt)


templates.env.globals["csrf_token"] = _csrf_token
templates.env.filters["local"] = _local


def render(request: Request, name: str, context: dict | None = None, *, status_code: int = 200, headers=None):
    ctx = dict(context or {})
    ctx.setdefault("user", request.user if request.user.is_authenticated else None)
    ctx.setdefault("settings", request.app.state.settings)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
