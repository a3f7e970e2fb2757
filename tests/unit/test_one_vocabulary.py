"""Each domain word is defined once: the API bodies, the models and the pure layer all take
it from the same enum, and the pure layer imports nothing from the server or the database."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from calendars.vocabulary import CompositionRule, Instrument, LabelStyle, Phase, ProblemArea
from models.accounts import Role
from models.clinical import ContactMethod, RiskAction, RiskLevel, SuicidalThoughts
from models.cohorts import ConsentMethod, EnrollmentStatus
from server.web import api_models

ROOT = Path(__file__).resolve().parents[2]


def _accepted(model: type, field: str) -> list[str]:
    """The words a body field accepts, as the API document states them."""
    schema = model.model_json_schema()["properties"][field]
    for part in [schema, schema.get("items", {}), *schema.get("anyOf", [])]:
        if "enum" in part:
            return part["enum"]
    if "propertyNames" in schema:
        return schema["propertyNames"]["enum"]
    raise AssertionError(f"{model.__name__}.{field} states no words: {schema}")


@pytest.mark.parametrize(
    ("model", "field", "enum"),
    [
        (api_models.Invitation, "role", Role),
        (api_models.Phase, "name", Phase),
        (api_models.ProtocolTemplateBody, "composition", CompositionRule),
        (api_models.ProtocolTemplateBody, "problem_areas", ProblemArea),
        (api_models.ProtocolTemplateBody, "label_style", LabelStyle),
        (api_models.ProtocolTemplateBody, "measures_schedule", Instrument),
        (api_models.ConsentFields, "consent_method", ConsentMethod),
        (api_models.StatusChange, "status", EnrollmentStatus),
        (api_models.MeasureAnswers, "instrument", Instrument),
        (api_models.RiskCheckBody, "contact_method", ContactMethod),
        (api_models.RiskCheckBody, "thoughts", SuicidalThoughts),
        (api_models.RiskCheckBody, "risk_level", RiskLevel),
        (api_models.RiskCheckBody, "action", RiskAction),
    ],
)
def test_a_body_accepts_exactly_the_words_of_its_enum(model, field, enum):
    assert _accepted(model, field) == [member.value for member in enum]


def test_a_new_enrollment_starts_only_as_invited_screening_or_enrolled():
    assert set(_accepted(api_models.Enroll, "status")) == {"invited", "screening", "enrolled"}


def test_answers_per_item_come_from_the_questionnaires():
    assert api_models.ITEM_COUNTS == {"phq9": 9, "gad7": 7}
    with pytest.raises(ValueError, match="The GAD-7 has 7 items; 9 answers were given"):
        api_models.MeasureAnswers.model_validate_json('{"instrument": "gad7", "items": [0, 0, 0, 0, 0, 0, 0, 0, 0]}')


def test_the_models_store_the_pure_layers_instrument():
    from models import clinical
    from server.measures import instruments

    assert clinical.Instrument is Instrument
    assert instruments.Instrument is Instrument


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "calendars").glob("*.py")), ids=lambda p: p.name)
def test_calendars_imports_neither_the_server_nor_the_database(path):
    forbidden = {"server", "models", "tortoise", "starlette"}
    assert not {name for name in _imported_modules(path) if name.split(".")[0] in forbidden}
