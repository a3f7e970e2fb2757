"""The live board: the facilitator page, the participant display, and their WebSocket.

Protocol: server/board/PROTOCOL.md. The socket authorizes (Origin, user, this board, this
view) before it accepts; every command is authorized again; the display never receives
an event meant for facilitators.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from models.accounts import Role, User
from models.cohorts import Enrollment, EnrollmentStatus, Meeting
from server.accounts import audit
from server.accounts.access import facilitates, supervises
from server.board.access import SESSION
from server import clock
from server.board import (
    DISPLAY,
    FACILITATOR,
    BoardConnection,
    BoardService,
    display_view,
    facilitator_view,
    page_words,
)
from server.errors import (
    BadRequest,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PlatformError,
)
from server.reminders.board_notices import board_reminders_context
from server.web.auth import requires, user_of
from server.web.templating import render


def board_service(app) -> BoardService:  # noqa: ANN001 (Starlette app)
    service = getattr(app.state, "board_service", None)
    if service is None:
        service = app.state.board_service = BoardService(app.state.hub)
    return service


async def authorize_board(user: User | None, meeting_id: int | str, view: str) -> tuple[Meeting, bool]:
    """The meeting whose board `user` may open in `view`, and whether only to observe it
    (a supervisor), or the reason why not.

    Facilitator view: coordinators and the cohort's facilitators, and (observing, read-only)
    the supervisors of its facilitators. Display: those, and the cohort's enrolled members
    (a member may follow the room's screen on their own device).
    """
    if user is None:
        raise NotAuthenticated("Please log in to open the board.")
    try:
        number = int(meeting_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such session.") from None
    meeting = await Meeting.get_or_none(id=number) if 0 < number < 2**31 else None
    if meeting is None:
        raise NotFound("There is no such session.")
    if user.role == Role.COORDINATOR:
        return meeting, False
    if user.role == Role.FACILITATOR:
        if await facilitates(user, meeting.cohort_id):
            return meeting, False
        if await supervises(user, meeting.cohort_id):
            return meeting, True
        raise Forbidden("You do not facilitate or supervise this group.")
    enrolled = await Enrollment.filter(cohort_id=meeting.cohort_id, member_id=user.id,
                                       status=EnrollmentStatus.ENROLLED, member__restricted_at=None).exists()
    if not enrolled:
        raise NotFound("There is no such session.")
    if view != DISPLAY:
        raise Forbidden("Members can follow the participant display of their group's board.")
    return meeting, False


@requires(Role.COORDINATOR, Role.FACILITATOR)
async def facilitator_page(request: Request) -> Response:
    return await _page(request, FACILITATOR, "boards/facilitator.html")


@requires()
async def display_page(request: Request) -> Response:
    return await _page(request, DISPLAY, "boards/display.html")


async def _page(request: Request, view: str, template: str) -> Response:
    user = user_of(request)
    meeting, observer = await authorize_board(user, request.path_params["meeting_id"], view)
    service = board_service(request.app)
    board = await service.board_for(meeting)
    state = await service.state(board.id)
    if view == FACILITATOR:
        await audit.record(user, "read", "board", board.id, detail=f"meeting {meeting.id}")
    body = facilitator_view(state) if view == FACILITATOR else display_view(state)
    return render(request, template, {
        **(await board_reminders_context(meeting, settings=request.app.state.settings, now=clock.now())
           if view == FACILITATOR else {}),
        "meeting": meeting, "board": board, "state": body, "words": page_words(), "observing": observer,
        "client": {"meeting_id": meeting.id, "ws_path": f"/boards/{meeting.id}/ws?view={view}", "view": view,
                   "read_only": observer, "user": {"id": str(user.id), "name": user.display_name}},
    })


async def board_socket(websocket: WebSocket) -> None:
    settings = websocket.app.state.settings
    try:
        view = websocket.query_params.get("view", FACILITATOR)
        if view not in (FACILITATOR, DISPLAY):
            raise BadRequest("view must be 'facilitator' or 'display'.")
        origin = websocket.headers.get("origin")
        # Cross-site WebSocket hijacking: browsers send cookies with any site's handshake,
        # so a browser's Origin must be ours (ASVS V4.4.2). Scripts with a token send none.
        if origin is not None and origin != settings.origin:
            raise Forbidden("This board does not accept connections from another site.")
        conn_user = websocket.scope.get("user")
        user = conn_user.user if conn_user is not None and conn_user.is_authenticated else None
        meeting, observer = await authorize_board(user, websocket.path_params["meeting_id"], view)
        board = await board_service(websocket.app).board_for(meeting)
    except PlatformError as exc:
        await _deny(websocket, exc)
        return
    credential = _credential(websocket, conn_user)
    await BoardConnection(websocket, board_service(websocket.app), board=board, meeting=meeting, user=user,
                          view=view, credential=credential, observer=observer).run()


def _credential(websocket: WebSocket, conn_user) -> dict:  # noqa: ANN001
    if getattr(conn_user, "via_token", False):
        header = websocket.headers.get("authorization", "")
        return {"token": header[7:].strip()}
    cookie = websocket.scope.get("session") or {}
    record = getattr(conn_user, "session", None)
    return {"epoch": cookie.get("epoch"), SESSION: record.id if record is not None else None}


async def _deny(websocket: WebSocket, exc: PlatformError) -> None:
    """Refuse before accepting: an HTTP answer the client can read, or a 403-like close."""
    body = {"code": exc.code, "message": exc.message}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=exc.status_code))
    else:
        await websocket.close(code=1008, reason=exc.message[:120])


routes = [
    Route("/boards/{meeting_id:id}", facilitator_page, methods=["GET"]),
    Route("/boards/{meeting_id:id}/display", display_page, methods=["GET"]),
    WebSocketRoute("/boards/{meeting_id:id}/ws", board_socket),
]
