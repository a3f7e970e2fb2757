"""The platform's one error tree, and the one translation into it.

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

The pure layer cannot import this tree, so it raises its own families, translated here:

    calendars.ScheduleError (TemplateError, PlanError, ChangeError)  BadRequest  schedule_refused
    measures.occasions.InvalidMeasureSchedule                        BadRequest
    measures.instruments.InvalidAnswers                              BadRequest  (fields per answer)

Services raise either and let them rise. server/web/app.py registers one handler per
family (a friendly page for browsers, an RFC 9457 problem body for /api/v1), the API's
body validation treats a translated BadRequest like any other (422 once the body fitted
the document), and the CLI prints them. A handler that shows its form again catches
`REFUSALS` and reads `refusal(exc)`. Nothing else produces a 4xx by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from calendars.errors import ScheduleError
from server.measures.instruments import InvalidAnswers
from server.measures.occasions import InvalidMeasureSchedule


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


# --- the pure layer's families, translated ---------------------------------------------


def _schedule_refused(exc: ScheduleError) -> PlatformError:
    fields = {field: " ".join(messages) for field, messages in exc.by_field().items()}
    return BadRequest(str(exc), fields=fields, code="schedule_refused")


def _measure_schedule_invalid(exc: InvalidMeasureSchedule) -> PlatformError:
    return BadRequest(f"The protocol's measure schedule is not valid: {exc}")


def _answers_invalid(exc: InvalidAnswers) -> PlatformError:
    return BadRequest("Some answers are missing or not valid: " + "; ".join(exc.errors.values()), fields=exc.errors)


TRANSLATIONS: dict[type[Exception], Callable[..., PlatformError]] = {
    ScheduleError: _schedule_refused,
    InvalidMeasureSchedule: _measure_schedule_invalid,
    InvalidAnswers: _answers_invalid,
}

# Everything a request can be refused with: the tree and the families translated into it.
REFUSALS: tuple[type[Exception], ...] = (PlatformError, *TRANSLATIONS)


def refusal(exc: Exception) -> PlatformError:
    """`exc` as the tree's error: itself if it is one, else its family's translation."""
    if isinstance(exc, PlatformError):
        return exc
    for family, translate in TRANSLATIONS.items():
        if isinstance(exc, family):
            translated = translate(exc)
            translated.__cause__ = exc
            return translated
    raise TypeError(f"{type(exc).__name__} is not a refusal the platform knows how to answer") from exc
