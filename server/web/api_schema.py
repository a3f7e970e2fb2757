"""The /api/v1 document, built so that it cannot drift from what the API does.

Each operation's docstring still says what it is for (summary, tags, query parameters,
the statuses only it knows about). What every operation shares is derived here, from the
route itself: its path parameters (from the `{name:id}` convertors), its JSON body (the
pydantic model that also validates it, see `body`), and the error statuses its guards and
lookups can answer, each an RFC 9457 problem document.

Validation answers 400 when the body does not match the schema (type, required, format,
enum, bounds), and 422 when it matches but breaks a rule the schema cannot state (the
start date is not that weekday, the make-up falls after the next session): so a body the
document accepts is never refused as malformed.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pydantic
from pydantic_core import PydanticCustomError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from models.accounts import Role
from server.errors import REFUSALS, BadRequest, Unprocessable, UnsupportedMediaType, refusal
from server.web.convertors import MAX_ID

Model = TypeVar("Model", bound=pydantic.BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]

METHODS = ("get", "put", "post", "delete", "patch")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PROBLEM_MEDIA_TYPE = "application/problem+json"
WALL_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"  # 18:00 or 18:00:00
RULE_PREFIX = "rule_"  # PydanticCustomError types for rules beyond the schema (answered 422)
_BODY_VALIDATED = "groupipt.api_body_validated"  # set in the request scope once read_body succeeded

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document. `fields` names each field that needs attention.",
    "required": ["type", "status", "title", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

# What each shared status means, when an operation's docstring does not say it better.
STATUS_TEXT = {
    400: "The request does not match this document; `fields` says what to change",
    401: "Not authenticated: send `Authorization: Bearer <personal API token>`",
    403: "Your role, or your relation to this cohort, does not allow this",
    404: "Nothing with this id, or nothing you may see",
    409: "The request no longer applies to the record as it stands",
    413: "The body is too large",
    415: "Send the body as application/json",
    422: "The body matches this document but breaks a rule; `fields` says which",
}


class RuleBroken(PydanticCustomError):
    """Raised inside a model's validators for a rule the JSON Schema cannot express."""

    def __new__(cls, rule: str, message: str):
        return super().__new__(cls, RULE_PREFIX + rule, message)


# --- request bodies ----------------------------------------------------------------------


def body(model: type[Model], *, required: bool = True) -> Callable[[Endpoint], Endpoint]:
    """The endpoint's POST/PUT/PATCH take this JSON body: declared from `model`; the
    handler reads it with `read_body(request, model)` once it has authorized the caller
    (so nobody learns from a 400 about a record they may not see). With required=False
    the body may be left out, and `read_body` then gives the model's defaults.

    A BadRequest raised once the body has validated (a pure-layer refusal included, as
    server.errors translates it) is a rule the schema cannot state, so it answers 422;
    Conflict (409) and every other error pass unchanged.
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def with_body(request: Request) -> Response:
            try:
                return await endpoint(request)
            except REFUSALS:
                if not request.scope.get(_BODY_VALIDATED):
                    raise
                with broken_rules():
                    raise


        with_body.request_model = model
        with_body.request_body_required = required
        return with_body

    return decorate


@contextlib.contextmanager
def broken_rules() -> Iterator[None]:
    """A plain BadRequest raised inside is a request that matches the document but breaks
    a rule only the service can check: 422, as is a pure-layer refusal (translated by
    server.errors into a BadRequest). Conflict (409) and the rest pass unchanged."""
    try:
        yield
    except REFUSALS as caught:
        exc = refusal(caught)
        if type(exc) is not BadRequest:
            raise  # Conflict, Forbidden, ...: every translation is a plain BadRequest
        code = exc.code if exc.code != BadRequest.code else None
        raise Unprocessable(exc.message, fields=exc.fields, code=code) from exc


async def read_body(request: Request, model: type[Model], *, optional: bool = False) -> Model:
    """The request's JSON body as `model`: 415 if it is not JSON, 400 unlike the model.
    An optional body left out (nothing sent) is the model's defaults."""
    if optional and not await request.body():
        request.scope[_BODY_VALIDATED] = True
        return model()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType("Send a JSON object with Content-Type: application/json.")
    raw = await request.body()
    try:
        parsed = model.model_validate_json(raw or b"null")
    except pydantic.ValidationError as exc:
        raise _validation_problem(exc, model) from None
    request.scope[_BODY_VALIDATED] = True
    return parsed


def _validation_problem(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> BadRequest:
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        if error["type"] == "json_invalid":
            return BadRequest(f"The body is not valid JSON ({error['msg'].removeprefix('Invalid JSON: ')}).")
        if error["type"] == "model_type" and not error["loc"]:
            return BadRequest("The body must be a JSON object.")
        name = _field_name(model, error["loc"])
        fields.setdefault(name, _human(error, model))
    summary = "; ".join(f"{name}: {message}" for name, message in fields.items())
    rules_only = all(e["type"].startswith(RULE_PREFIX) for e in exc.errors(include_url=False, include_input=False))
    error_class = Unprocessable if rules_only else BadRequest
    return error_class(f"Some fields need attention: {summary}", fields=fields)


def _field_name(model: type[pydantic.BaseModel], loc: tuple) -> str:
    name_of = getattr(model, "problem_field", None)  # a model may keep the page form's names
    if name_of is not None:
        return name_of(loc)
    return ".".join(str(part) for part in loc) or "body"


def _human(error: Any, model: type[pydantic.BaseModel]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "Required."
    if kind == "extra_forbidden":
        return getattr(model, "unknown_field_message", "Not a field of this request.")
    if kind == "string_too_long":
        return f"At most {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return "Required." if ctx.get("min_length") == 1 else f"At least {ctx.get('min_length')} characters."
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == WALL_CLOCK_PATTERN:
        return f"{_shown(error)} is not a time like 18:00."
    if kind == "string_pattern_mismatch":
        return "Not in the expected form; see the example in the API document."
    if kind.startswith("datetime_") and isinstance(error.get("input"), str):
        return f"{_shown(error)} is not a date and time like 2027-01-05T18:30:00+00:00."
    if kind.startswith("date_") and isinstance(error.get("input"), str):
        return f"{_shown(error)} is not a date like 2027-01-05."
    if kind == "literal_error" or kind == "enum":
        return f"Choose one of {ctx.get('expected')}."
    message = str(error["msg"])
    return message if message.endswith(".") else message + "."


def _shown(error: Any) -> str:
    text = str(error.get("input"))
    return repr(text if len(text) <= 40 else text[:40] + "…")


# --- the document ------------------------------------------------------------------------

_PATH_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")


class ApiSchemaGenerator(SchemaGenerator):
    """Starlette's generator, plus what the routes themselves say (see the module doc)."""

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = {**copy.deepcopy(self.base_schema), "paths": {}}
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for route in routes:
            if not isinstance(route, Route) or not route.include_in_schema:
                continue
            path = self._remove_converter(route.path)
            for method in sorted(m.lower() for m in route.methods or ["GET"] if m != "HEAD"):
                operation = self._operation(route, method)
                if operation is None:
                    continue
                self._complete(operation, route, method, schemas)
                schema["paths"].setdefault(path, {})[method] = operation
        return schema

    def _operation(self, route: Route, method: str) -> dict[str, Any] | None:
        parsed = self.parse_docstring(route.endpoint)
        if not parsed:
            return None
        # Docstrings of several methods say `get:` / `post:`; one-method ones are the operation.
        if any(key in METHODS for key in parsed):
            parsed = parsed.get(method)
        return dict(parsed) if isinstance(parsed, dict) else None

    def _complete(self, operation: dict[str, Any], route: Route, method: str, schemas: dict[str, Any]) -> None:
        operation["parameters"] = _path_parameters(route.path) + [
            p for p in operation.get("parameters", []) if p.get("in") != "path"
        ]
        if not operation["parameters"]:
            del operation["parameters"]
        model = getattr(route.endpoint, "request_model", None)
        if model is not None and method.upper() in BODY_METHODS:
            operation["requestBody"] = {
                "required": getattr(route.endpoint, "request_body_required", True),
                "content": {"application/json": {"schema": _component(model, schemas)}},
            }
        responses = {_status(code): value for code, value in operation.get("responses", {}).items()}
        json_body = model is not None and method.upper() in BODY_METHODS
        for status in _shared_statuses(route, operation, json_body=json_body):
            responses.setdefault(status, {"description": STATUS_TEXT[status]})
        for status, response in responses.items():
            if status >= 400 and "content" not in response:
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        operation["responses"] = {str(status): responses[status] for status in sorted(responses)}


def _status(code: Any) -> int:
    return int(str(code))


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name, convertor in _PATH_PARAM.findall(path):
        if convertor == "id":
            value_schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        else:
            value_schema = {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": value_schema})
    return parameters


def _shared_statuses(route: Route, operation: dict[str, Any], *, json_body: bool) -> list[int]:
    statuses = [401]  # every /api/v1 operation needs a person
    roles = getattr(route.endpoint, "allowed_roles", frozenset(Role))
    has_ids = ":id}" in route.path
    if roles != frozenset(Role) or has_ids:
        statuses.append(403)  # a guarded role, or a cohort that is not yours
    if has_ids:
        statuses.append(404)
    if json_body:
        statuses += [400, 413, 415, 422]
    elif "requestBody" in operation:
        statuses += [400, 413]  # another media type, declared in the docstring
    elif any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.append(400)
    return statuses


def _component(model: type[pydantic.BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """Put the model's JSON Schema (and the models it uses) under components/schemas."""
    generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in generated.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = generated
    return {"$ref": f"#/components/schemas/{model.__name__}"}
