"""Reading HTML forms: one place for size limits and the messages for missing fields."""
from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from server.errors import BadRequest

MAX_FIELDS = 200


async def form_data(request: Request, *, max_files: int = 0) -> FormData:
    try:
        form = await request.form(max_files=max_files, max_fields=MAX_FIELDS)
    except Exception as exc:  # multipart errors, too many fields
        raise BadRequest(f"The form could not be read: {exc}") from None
    if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
        # PostgreSQL text cannot hold U+0000 (SQLite can): refuse it on both, before any write.
        raise BadRequest("The form contains a NUL character (U+0000); remove it and try again.")
    return form


def require_text(form, name: str, label: str, *, max_length: int = 500) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise BadRequest(f"{label} is required.", fields={name: "Required."})
    if len(value) > max_length:
        raise BadRequest(f"{label} is too long ({max_length} characters at most).", fields={name: "Too long."})
    return value


def optional_text(form, name: str, label: str, *, max_length: int = 2000) -> str:
    value = (form.get(name) or "").strip()
    if len(value) > max_length:
        raise BadRequest(f"{label} is too long ({max_length} characters at most).", fields={name: "Too long."})
    return value


async def json_body(request: Request) -> dict:
    """The JSON object of an API request, or a 400 that says what was wrong."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadRequest("Send a JSON object with Content-Type: application/json.")
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body
