"""The /api/v1 document is derived from the routes, so it cannot leave anything out:
path parameters, bodies and the error statuses every operation can answer."""
from __future__ import annotations

import random
import re

import pytest
from starlette.routing import Route, WebSocketRoute

from server.web.api_schema import ApiSchemaGenerator
from server.web.convertors import MAX_ID, IdConvertor
from server.web.routes import ROUTE_MODULES
from server.web.routes.api import OPENAPI_BASE

ALL_ROUTES = [route for module in ROUTE_MODULES for route in module.routes]
API_ROUTES = [r for r in ALL_ROUTES if isinstance(r, Route) and r.path.startswith("/api/v1/")]
DOCUMENT = ApiSchemaGenerator(OPENAPI_BASE).get_schema(API_ROUTES)
OPERATIONS = [(path, method, op) for path, item in DOCUMENT["paths"].items() for method, op in item.items()]
ID_PATTERN = re.compile(f"^{IdConvertor.regex}$")


def test_every_id_segment_of_every_route_uses_the_id_convertor():
    for route in ALL_ROUTES:
        assert isinstance(route, (Route, WebSocketRoute)), route
        for name, convertor in re.findall(r"{(\w+)(?::(\w+))?}", route.path):
            if name.endswith("_id"):
                assert convertor == "id", f"{route.path}: {{{name}}} should be {{{name}:id}}"


@pytest.mark.parametrize("value", [1, 9, 10, 999_999_999, 1_000_000_000, 1_999_999_999, 2_047_483_647, MAX_ID - 1, MAX_ID])
def test_the_convertor_matches_every_id_up_to_the_largest(value):
    assert ID_PATTERN.match(str(value))
    assert IdConvertor().convert(str(value)) == value


@pytest.mark.parametrize("segment", ["0", "00", "01", "-1", "+1", "1.0", "1e3", str(MAX_ID + 1), "2147483650", "3000000000", "9" * 30])
def test_the_convertor_matches_nothing_else(segment):
    assert not ID_PATTERN.match(segment)


def test_the_convertor_agrees_with_the_range_on_random_numbers():
    rng = random.Random(12)
    for _ in range(20_000):
        value = rng.choice([rng.randint(0, 10**12), rng.randint(MAX_ID - 10**6, MAX_ID + 10**6)])
        assert bool(ID_PATTERN.match(str(value))) == (1 <= value <= MAX_ID), value


def test_every_operation_declares_its_path_parameters():
    assert len(OPERATIONS) >= 45
    for path, method, operation in OPERATIONS:
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == set(re.findall(r"{(\w+)}", path)), (method, path)
        for parameter in declared.values():
            assert parameter["required"] is True
            assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def test_every_error_is_a_problem_document_and_every_operation_may_answer_401():
    for path, method, operation in OPERATIONS:
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        if "{" in path:
            assert {"403", "404"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                assert "application/problem+json" in response["content"], (method, path, status)


def test_every_json_body_is_a_model_in_the_components():
    schemas = DOCUMENT["components"]["schemas"]
    bodies = 0
    for path, method, operation in OPERATIONS:
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        bodies += 1
        ref = content["application/json"]["schema"]["$ref"]
        assert ref.removeprefix("#/components/schemas/") in schemas
        assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)
    assert bodies >= 20


def test_every_integer_in_a_body_is_bounded():
    def walk(schema, where):
        if isinstance(schema, dict):
            if schema.get("type") == "integer":
                assert "minimum" in schema and "maximum" in schema, where
            for key, value in schema.items():
                walk(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                walk(value, f"{where}[{i}]")

    bodies = {name: schema for name, schema in DOCUMENT["components"]["schemas"].items() if name != "Problem"}
    walk(bodies, "components")


def test_operations_of_one_docstring_are_split_by_method():
    users = DOCUMENT["paths"]["/api/v1/users"]
    assert set(users) == {"get", "post"}
    assert "get" not in users["get"] and "post" not in users["post"]
    assert users["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Invitation")
