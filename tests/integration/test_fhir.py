"""FHIR R4 read API and NDJSON export (issue 19): every resource validates with fhir.resources'
R4B models, the PHQ-9 and GAD-7 carry their LOINC codes, each person reads only what the
records let them, restricted members never appear, and the export's counts are the database's."""
from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from models.accounts import Role, User
from models.clinical import Goal, MeasureResponse
from models.cohorts import Meeting, MeetingKind
from server import accounts, clock
from tests.integration.test_retention import groupipt
from tests.support.clients import bearer
from tests.support.world import enroll, make_cohort, make_template, make_user

VALIDATOR = Path(__file__).resolve().parents[1] / "js" / "validate_fhir.mjs"
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]
GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]


async def token(user: User) -> str:
    return (await accounts.create_api_token(user, "fhir tests"))[1]


@pytest.fixture
async def clinic(db, live_server):
    tag = uuid.uuid4().hex[:6]
    lead = await make_user(Role.FACILITATOR, f"Lea Fhir{tag}")
    other_lead = await make_user(Role.FACILITATOR, f"Otto Fhir{tag}")
    coordinator = await make_user(Role.COORDINATOR, f"Coco Fhir{tag}")
    cohort, meetings = await make_cohort(await make_template(), f"Fhir group {tag}", lead)
    other, _ = await make_cohort(await make_template(), f"Other fhir group {tag}", other_lead)
    ana, ben, rae = [await make_user(Role.MEMBER, f"{n} Fhir{tag}") for n in ("Ana", "Ben", "Rae")]
    ana_e, ben_e, rae_e = await enroll(cohort, ana), await enroll(cohort, ben), await enroll(cohort, rae)
    await enroll(other, await make_user(Role.MEMBER, f"Zed Fhir{tag}"))
    for e, total in ((ana_e, 9), (ben_e, 14), (rae_e, 20)):
        await MeasureResponse.create(enrollment=e, instrument="phq9", items=[1] * 8 + [total - 8], total=total,
                                     band="mild", item9=total - 8 if total - 8 <= 3 else 0,
                                     window="baseline", administered_at=meetings[0].starts_at)
    await MeasureResponse.filter(enrollment_id__in=[ben_e.id, rae_e.id]).update(items=[2] * 7 + [0, 0])
    await MeasureResponse.create(enrollment=ana_e, instrument="gad7", items=[1, 2, 0, 1, 0, 1, 0], total=5,
                                 band="mild", window="baseline", administered_at=meetings[0].starts_at)
    await Goal.create(cohort=cohort, enrollment=ana_e, text="Call my sister weekly")
    await Goal.create(cohort=cohort, enrollment=None, text="A group goal")
    await User.filter(id=rae.id).update(restricted_at=clock.now(), restriction_reason="asked for erasure")
    return {"cohort": cohort, "other": other, "meetings": meetings, "lead": lead, "ana": ana, "ben": ben, "rae": rae,
            "ana_e": ana_e, "tokens": {"ana": await token(ana), "lead": await token(lead),
                                       "other_lead": await token(other_lead), "coordinator": await token(coordinator)}}


def valid(body: dict):
    """fhir.resources' R4B model for the resource's own type parses it, or the test fails."""
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


async def independently_valid(resources: list[dict]) -> None:
    """HL7's FHIR R4 JSON schema, checked by Ajv in node (tests/js/validate_fhir.mjs), finds no error."""
    node = shutil.which("node")
    assert node, "node is needed for the independent FHIR validator (make js-deps)"
    process = await asyncio.create_subprocess_exec(node, str(VALIDATOR), stdin=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate("\n".join(json.dumps(r) for r in resources).encode()), 120)
    assert process.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert len(results) == len(resources)
    invalid = [r for r in results if r["errors"]]
    assert not invalid, invalid[:3]


async def bundle(live_server, secret: str, path: str) -> list[dict]:
    async with bearer(live_server.url, secret) as api:
        answer = await api.get(f"/api/v1/fhir/{path}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    body = answer.json()
    valid(body)
    assert body["type"] == "searchset" and body["total"] == len(body.get("entry", []))
    resources = [entry["resource"] for entry in body.get("entry", [])]
    for resource in resources:
        valid(resource)
    return resources


async def test_questionnaires_and_answers_carry_the_loinc_codes_and_validate(live_server, clinic):
    questionnaires = {q["id"]: q for q in await bundle(live_server, clinic["tokens"]["ana"], "Questionnaire")}
    assert questionnaires["phq9"]["code"][0]["code"] == "44249-1"
    assert questionnaires["gad7"]["code"][0]["code"] == "69737-5"
    assert [i["linkId"] for i in questionnaires["phq9"]["item"]] == [*PHQ9_ITEMS, "44261-6"]
    assert [i["linkId"] for i in questionnaires["gad7"]["item"]] == [*GAD7_ITEMS, "70274-6"]

    responses = await bundle(live_server, clinic["tokens"]["ana"], "QuestionnaireResponse")
    phq9 = next(r for r in responses if r["questionnaire"].endswith("phq9"))
    assert [i["linkId"] for i in phq9["item"]] == [*PHQ9_ITEMS, "44261-6"]
    assert phq9["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6569-3"  # 1: several days
    assert phq9["item"][-1]["answer"][0]["valueInteger"] == 9
    observations = {o["code"]["coding"][0]["code"]: o for o in await bundle(
        live_server, clinic["tokens"]["ana"], "Observation")}
    assert set(observations) == {"44261-6", "70274-6"}
    assert observations["44261-6"]["valueInteger"] == 9 and observations["70274-6"]["valueInteger"] == 5
    assert observations["44261-6"]["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq9['id']}"}]


async def test_every_answer_of_the_api_validates_against_hl7s_json_schema(live_server, clinic):
    answers = []
    async with bearer(live_server.url, clinic["tokens"]["coordinator"]) as api:
        for path in ("metadata", "Patient", "Practitioner", "Group", "Appointment", "Questionnaire",
                     "QuestionnaireResponse", "Observation", "Goal", f"Patient/{clinic['ana'].id}/$everything",
                     f"Patient/{clinic['ana'].id}", "Questionnaire/phq9"):
            answer = await api.get(f"/api/v1/fhir/{path}")
            assert answer.status_code == 200, (path, answer.text)
            answers.append(answer.json())
    await independently_valid(answers)


async def test_the_capability_statement_lists_every_type_served(live_server, clinic):
    async with bearer(live_server.url, clinic["tokens"]["ana"]) as api:
        answer = await api.get("/api/v1/fhir/metadata")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+json")
    statement = valid(answer.json())
    served = {r.type for r in statement.rest[0].resource}
    assert served == {"Patient", "Practitioner", "Group", "Appointment", "Questionnaire", "QuestionnaireResponse",
                      "Observation", "Goal"}


async def test_a_member_reads_only_their_own_record(live_server, clinic):
    secret, ana = clinic["tokens"]["ana"], clinic["ana"]
    patients = await bundle(live_server, secret, "Patient")
    assert [p["id"] for p in patients] == [str(ana.id)]
    assert await bundle(live_server, secret, "Group") == []
    goals = await bundle(live_server, secret, "Goal")
    assert [g["description"]["text"] for g in goals] == ["Call my sister weekly"]
    appointments = await bundle(live_server, secret, "Appointment")
    assert len(appointments) == 8
    for appointment in appointments:
        actors = {p["actor"]["reference"] for p in appointment["participant"]}
        assert actors == {f"Patient/{ana.id}", f"Practitioner/{clinic['lead'].id}"}
    async with bearer(live_server.url, secret) as api:
        other = await api.get(f"/api/v1/fhir/Patient/{clinic['ben'].id}")
        everything = await api.get(f"/api/v1/fhir/Patient/{ana.id}/$everything")
    assert other.status_code == 404
    valid(everything.json())
    kinds = [e["resource"]["resourceType"] for e in everything.json()["entry"]]
    assert kinds[0] == "Patient" and kinds.count("Observation") == 2 and kinds.count("Goal") == 1


async def test_staff_read_their_cohorts_coordinators_all_and_restricted_members_never(live_server, clinic):
    ana, ben, rae = clinic["ana"], clinic["ben"], clinic["rae"]
    led = {p["id"] for p in await bundle(live_server, clinic["tokens"]["lead"], "Patient")}
    assert led == {str(ana.id), str(ben.id)}  # Rae is restricted
    groups = await bundle(live_server, clinic["tokens"]["lead"], "Group")
    assert [g["id"] for g in groups] == [str(clinic["cohort"].id)]
    assert {m["entity"]["reference"] for m in groups[0]["member"]} == {f"Patient/{ana.id}", f"Patient/{ben.id}"}
    assert "Fhir group" not in json.dumps(groups)  # the internal name stays in the clinic
    assert {p["id"] for p in await bundle(live_server, clinic["tokens"]["other_lead"], "Patient")}.isdisjoint(led)
    async with bearer(live_server.url, clinic["tokens"]["other_lead"]) as api:
        assert (await api.get(f"/api/v1/fhir/Patient/{ana.id}")).status_code == 404
        assert (await api.get(f"/api/v1/fhir/Group/{clinic['cohort'].id}")).status_code == 404

    everyone = {p["id"] for p in await bundle(live_server, clinic["tokens"]["coordinator"], "Patient")}
    assert led <= everyone and str(rae.id) not in everyone
    rae_observations = await bundle(live_server, clinic["tokens"]["coordinator"], f"Observation?patient=Patient/{rae.id}")
    assert rae_observations == []
    bens = await bundle(live_server, clinic["tokens"]["coordinator"], f"Observation?patient={ben.id}")
    assert [o["valueInteger"] for o in bens] == [14]
    async with bearer(live_server.url, clinic["tokens"]["coordinator"]) as api:
        unknown_param = await api.get("/api/v1/fhir/Observation?code=44261-6")
        bad_patient = await api.get("/api/v1/fhir/Observation?patient=Group/1")
        unknown_type = await api.get("/api/v1/fhir/Encounter")
    assert unknown_param.status_code == 400 and bad_patient.status_code == 400 and unknown_type.status_code == 404


async def test_the_ndjson_export_of_a_cohort_matches_the_database(live_server, clinic, tmp_path):
    target = tmp_path / "fhir"
    env = live_server.env
    code, out, err = await groupipt(env, "export", "fhir", "--cohort", str(clinic["cohort"].id), str(target))
    assert code == 0, err
    files = {p.stem: [json.loads(line) for line in p.read_text().splitlines()] for p in target.glob("*.ndjson")}
    for resources in files.values():
        for resource in resources:
            valid(resource)
    readable = [clinic["ana_e"].id, (await clinic["ben"].enrollments.all())[0].id]
    assert len(files["Patient"]) == 2
    assert len(files["Observation"]) == await MeasureResponse.filter(enrollment_id__in=readable).count() == 3
    assert len(files["QuestionnaireResponse"]) == 3
    assert len(files["Goal"]) == await Goal.filter(enrollment_id__in=readable).count()
    assert len(files["Appointment"]) == await Meeting.filter(cohort_id=clinic["cohort"].id, kind=MeetingKind.GROUP).count()
    assert [g["id"] for g in files["Group"]] == [str(clinic["cohort"].id)]
    assert "Rae" not in target.joinpath("Patient.ndjson").read_text()
    await independently_valid([r for resources in files.values() for r in resources])
    again, _, refused = await groupipt(env, "export", "fhir", "--cohort", str(clinic["cohort"].id), str(target))
    assert again != 0 and "not an empty directory" in refused
