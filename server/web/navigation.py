"""Pure-ASGI middleware: whether the signed-in person supervises anyone, for the
navigation's "Supervision" link (templates/base.html reads `request.state.supervises`).

One small query, and only for a facilitator's page requests: coordinators always see the
link, members never, and the API, feeds, static files and sockets do not render the nav.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from models.accounts import Role
from server.accounts import supervised_facilitator_ids

NOT_PAGES = ("/api/", "/feeds/", "/static/", "/healthz")


class SupervisionLink:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(NOT_PAGES):
            user = scope.get("user")
            if getattr(user, "is_authenticated", False) and user.role == Role.FACILITATOR:
                scope.setdefault("state", {})["supervises"] = bool(await supervised_facilitator_ids(user.user))
        await self.app(scope, receive, send)
