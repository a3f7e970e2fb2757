"""The one translation of the pure layer's refusals into the platform's error tree, and
the three edges that use it: pages and /api/v1 (app.py), the API's 422 rule, the CLI."""
from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from calendars import ChangeError, PlanError, Problem, TemplateError
from server import cli
from server.errors import REFUSALS, BadRequest, Conflict, NotFound, PlatformError, Unprocessable, refusal
from server.measures.instruments import InvalidAnswers
from server.measures.occasions import InvalidMeasureSchedule
from server.platform.settings import Settings
from server.web.api_schema import broken_rules
from server.web.app import create_app


def test_a_refused_plan_is_a_400_with_the_message_per_field():
    exc = PlanError([Problem("start_date", "Pick a Monday."), Problem("start_date", "Not in the past."),
                     Problem("capacity", "At most 12.")])
    translated = refusal(exc)
    assert type(translated) is BadRequest and translated.status_code == 400
    assert translated.code == "schedule_refused"
    assert translated.message == "Pick a Monday.; Not in the past.; At most 12."
    assert translated.fields == {"start_date": "Pick a Monday. Not in the past.", "capacity": "At most 12."}
    assert translated.__cause__ is exc


def test_every_schedule_family_translates_alike():
    for family in (TemplateError, ChangeError):
        assert refusal(family.single("weekday", "No.")).fields == {"weekday": "No."}


def test_measure_schedule_and_answers_keep_the_words_they_had():
    schedule = refusal(InvalidMeasureSchedule("Unknown questionnaire 'bdi' in the measure schedule."))
    assert schedule.message == "The protocol's measure schedule is not valid: Unknown questionnaire 'bdi' in the measure schedule."
    answers = refusal(InvalidAnswers({"item3": "Choose an answer.", "difficulty": "Choose one."}))
    assert answers.message == "Some answers are missing or not valid: Choose an answer.; Choose one."
    assert answers.fields == {"item3": "Choose an answer.", "difficulty": "Choose one."}


def test_the_tree_passes_unchanged_and_anything_else_is_not_a_refusal():
    not_found = NotFound("There is no such cohort.")
    assert refusal(not_found) is not_found
    assert issubclass(PlanError, REFUSALS) and PlatformError in REFUSALS
    with pytest.raises(TypeError):
        refusal(KeyError("x"))


def test_after_a_valid_body_a_pure_refusal_is_a_422_and_a_conflict_stays_409():
    with pytest.raises(Unprocessable) as caught:
        with broken_rules():
            raise ChangeError.single("new_start", "The make-up falls after the next session.")
    assert caught.value.status_code == 422 and caught.value.code == "schedule_refused"
    assert caught.value.fields == {"new_start": "The make-up falls after the next session."}
    with pytest.raises(Conflict):
        with broken_rules():
            raise Conflict("Already cancelled.")


@pytest.fixture
def app_raising(tmp_path):
    app = create_app(Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path), "GROUPIPT_SECRET_KEY": "k" * 40}))

    async def refuses(request):
        raise PlanError.single("start_date", "Pick a Monday.")

    app.router.routes[0:0] = [Route("/api/v1/refuses", refuses), Route("/refuses", refuses)]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.asyncio
async def test_the_api_answers_a_pure_refusal_as_a_problem_body(app_raising):
    answer = await app_raising.get("/api/v1/refuses")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"type": "about:blank", "status": 400, "title": "Please check what you entered",
                             "detail": "Pick a Monday.", "code": "schedule_refused",
                             "fields": {"start_date": "Pick a Monday."}}


@pytest.mark.asyncio
async def test_a_page_answers_a_pure_refusal_with_the_friendly_error_page(app_raising):
    answer = await app_raising.get("/refuses", headers={"accept": "text/html"})
    assert answer.status_code == 400
    assert "text/html" in answer.headers["content-type"]
    assert "Please check what you entered" in answer.text and "Pick a Monday." in answer.text


def test_the_cli_prints_a_refusal_without_a_traceback(monkeypatch, capsys):
    def refuses(settings, args):
        raise PlanError.single("start_date", "The demo's first session would fall on a holiday.")

    monkeypatch.setattr(cli, "cmd_migrate", refuses)
    monkeypatch.setattr(cli.Settings, "from_env", classmethod(lambda cls: None))
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("groupipt: The demo's first session would fall on a holiday.")
    assert "start_date: The demo's first session" in err and "Traceback" not in err
