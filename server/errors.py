"""The platform's one error tree, translated at the edge (pages, JSON, board frames).

    PlatformError
     ├── BadRequest        400  the input is malformed or fails validation
     │    ├── Conflict     409  the request is valid but no longer applies
     │    ├── UnsupportedMediaType  415  the API body is not JSON
     │    └── Unprocessable 422  an API body fits the document but breaks a rule
     ├── NotAuthenticated  401  nobody is logged in (pages redirect to /login instead)
     ├── Forbidden         403  logged in, but this role may not do this
     ├── NotFound          404  no such thing, or not one this person may know exists
     ├── PayloadTooLarge   413
     └── TooManyRequests   429  login throttling, board floods

Domain code raises these; server/web/app.py's handlers render a friendly page for browsers
and an RFC 9457 problem body for /api/v1. Nothing else should produce a 4xx by hand.
"""
from __future__ import annotations

from collections.abc import Mapping


class PlatformError(Exception):
    status_code = 400
    code = "error"
    title = "Something went wrong"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code:
            self.code = code


class BadRequest(PlatformError):
    status_code = 400
    code = "bad_request"
    title = "Please check what you entered"


class Conflict(BadRequest):
    status_code = 409
    code = "conflict"
    title = "This no longer applies"


class UnsupportedMediaType(BadRequest):
    status_code = 415
    code = "unsupported_media_type"
    title = "Send JSON"


class Unprocessable(BadRequest):
    status_code = 422
    code = "unprocessable"
    title = "Please check what you entered"


class NotAuthenticated(PlatformError):
    status_code = 401
    code = "not_authenticated"
    title = "Please log in"


class Forbidden(PlatformError):
    status_code = 403
    code = "forbidden"
    title = "Not available to you"


class NotFound(PlatformError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class PayloadTooLarge(PlatformError):
    status_code = 413
    code = "payload_too_large"
    title = "That is too large"


class TooManyRequests(PlatformError):
    status_code = 429
    code = "too_many_requests"
    title = "Please wait a moment"
