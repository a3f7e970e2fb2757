"""FHIR R4 resources of the record, built and validated by `fhir.resources` (its R4B models;
the tests check every resource against HL7's R4 JSON schema too).

Pure: rows in, validated resources out; no query, no clock. Ids are the rows' own: Patient
and Practitioner are users, Group a cohort, Appointment a meeting, QuestionnaireResponse and
Observation a questionnaire answer (the Observation is its total, `derivedFrom` the
response), Goal a member's goal. Questionnaire/phq9 and Questionnaire/gad7 are fixed.

LOINC codes, checked against LOINC's PHQ-9 panel 44249-1 and GAD-7 panel 69737-5 as the HL7
Personal Health Record IG's examples carry them (items in the questionnaires' own order), and
the answer list LL358-3 (LA6568-5 ... LA6571-9) both questionnaires share.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.group import Group
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from models.accounts import User
from models.clinical import Goal, GoalStatus, MeasureResponse
from models.cohorts import Cohort, Enrollment, Meeting, MeetingStatus
from server.measures.instruments import ANSWER_SCALE, QUESTIONNAIRES, Instrument

LOINC = "http://loinc.org"
MEDIA_TYPE = "application/fhir+json"
IDENTIFIER_SYSTEM = "urn:groupipt:"  # + "user", "cohort", "meeting": the rows' ids, as a clinic's own system


def _panel(code: str, display: str, total: str, total_display: str, items: Sequence[str]) -> dict[str, Any]:
    return {"code": code, "display": display, "total": total, "total_display": total_display, "items": tuple(items)}


LOINC_CODES: dict[Instrument, dict[str, Any]] = {
    Instrument.PHQ9: _panel(
        "44249-1", "PHQ-9 quick depression assessment panel",
        "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]),
    Instrument.GAD7: _panel(
        "69737-5", "Generalized anxiety disorder 7 item (GAD-7)",
        "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]),
}
# LOINC answer list LL358-3, by score 0..3.
ANSWER_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")

APPOINTMENT_STATUS = {MeetingStatus.SCHEDULED: "booked", MeetingStatus.CANCELLED: "cancelled",
                      MeetingStatus.COMPLETED: "fulfilled"}
GOAL_STATUS = {GoalStatus.ACTIVE: "active", GoalStatus.REVISED: "active", GoalStatus.ACHIEVED: "completed",
               GoalStatus.DROPPED: "cancelled"}
GOAL_ACHIEVEMENT = {GoalStatus.ACHIEVED: "achieved", GoalStatus.REVISED: "in-progress",
                    GoalStatus.ACTIVE: "in-progress", GoalStatus.DROPPED: "not-achieved"}

TYPES = ("Patient", "Practitioner", "Group", "Appointment", "Questionnaire", "QuestionnaireResponse",
         "Observation", "Goal")


def _instant(value: datetime) -> str:
    return value.isoformat()


def _identifier(kind: str, value: int) -> list[dict[str, str]]:
    return [{"system": IDENTIFIER_SYSTEM + kind, "value": str(value)}]


def patient(member: User) -> Patient:
    # Minimal, as the issue asks: a name and an e-mail, nothing the clinic does not hold.
    words = member.display_name.split()
    name: dict[str, Any] = {"text": member.display_name}
    if len(words) > 1:
        name.update(family=words[-1], given=words[:-1])
    return Patient.model_validate({
        "resourceType": "Patient", "id": str(member.id), "identifier": _identifier("user", member.id),
        "active": member.is_active, "name": [name],
        "telecom": [{"system": "email", "value": member.email}],
    })


def practitioner(person: User) -> Practitioner:
    return Practitioner.model_validate({
        "resourceType": "Practitioner", "id": str(person.id), "identifier": _identifier("user", person.id),
        "active": person.is_active, "name": [{"text": person.display_name}],
    })


def group(cohort: Cohort, enrollments: Iterable[Enrollment]) -> Group:
    """A therapy group (FHIR's Group is meant for them): its public title, never the internal
    name, and a member entry per enrollment, active while enrolled."""
    members = [{"entity": {"reference": f"Patient/{e.member_id}"},
                "period": {"start": _instant(e.created_at)},
                "inactive": str(e.status) not in ("enrolled", "completed")} for e in enrollments]
    return Group.model_validate({
        "resourceType": "Group", "id": str(cohort.id), "identifier": _identifier("cohort", cohort.id),
        "active": str(cohort.status) in ("enrolling", "active"), "type": "person", "actual": True,
        "name": cohort.public_title, "quantity": len(members), "member": members or None,
    })


def appointment(meeting: Meeting, *, members: Iterable[int], facilitators: Iterable[int], title: str) -> Appointment:
    participants = [{"actor": {"reference": f"Patient/{m}"}, "status": "accepted", "required": "required"}
                    for m in members]
    participants += [{"actor": {"reference": f"Practitioner/{f}"}, "status": "accepted", "required": "required"}
                     for f in facilitators]
    if not participants:
        # FHIR requires one participant; a meeting no one is in yet still has its place.
        participants = [{"type": [{"text": "group members"}], "status": "needs-action"}]
    return Appointment.model_validate({
        "resourceType": "Appointment", "id": str(meeting.id), "identifier": _identifier("meeting", meeting.id),
        "status": APPOINTMENT_STATUS[MeetingStatus(meeting.status)], "description": title,
        "start": _instant(meeting.starts_at), "end": _instant(meeting.ends_at),
        "minutesDuration": max(1, int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)),
        "participant": participants,
    })


def questionnaire(instrument: Instrument) -> Questionnaire:
    spec, codes = QUESTIONNAIRES[instrument], LOINC_CODES[instrument]
    options = [{"valueCoding": {"system": LOINC, "code": ANSWER_CODES[o.value], "display": o.label}}
               for o in ANSWER_SCALE]
    return Questionnaire.model_validate({
        "resourceType": "Questionnaire", "id": instrument.value, "status": "active",
        "url": f"urn:groupipt:questionnaire:{instrument.value}", "name": instrument.value.upper(),
        "title": spec.title, "subjectType": ["Patient"],
        "code": [{"system": LOINC, "code": codes["code"], "display": codes["display"]}],
        "item": [{"linkId": code, "code": [{"system": LOINC, "code": code}], "text": text, "type": "choice",
                  "required": True, "answerOption": options}
                 for code, text in zip(codes["items"], spec.items, strict=True)]
               + [{"linkId": codes["total"], "code": [{"system": LOINC, "code": codes["total"],
                                                        "display": codes["total_display"]}],
                   "text": "Total score", "type": "integer", "readOnly": True}],
    })


def questionnaire_response(row: MeasureResponse, member_id: int) -> QuestionnaireResponse:
    instrument = Instrument(row.instrument)
    spec, codes = QUESTIONNAIRES[instrument], LOINC_CODES[instrument]
    labels = {o.value: o.label for o in ANSWER_SCALE}
    items = [{"linkId": code, "text": text, "answer": [{"valueCoding": {
        "system": LOINC, "code": ANSWER_CODES[answer], "display": labels[answer]}}]}
        for code, text, answer in zip(codes["items"], spec.items, row.items, strict=True)]
    items.append({"linkId": codes["total"], "text": "Total score", "answer": [{"valueInteger": row.total}]})
    return QuestionnaireResponse.model_validate({
        "resourceType": "QuestionnaireResponse", "id": str(row.id),
        "questionnaire": f"urn:groupipt:questionnaire:{instrument.value}",
        # A correction replaced it: "amended" would be the new one; the replaced one stays, marked.
        "status": "stopped" if row.superseded else "completed",
        "subject": {"reference": f"Patient/{member_id}"}, "authored": _instant(row.administered_at),
        "source": {"reference": f"Patient/{member_id}"}, "item": items,
    })


def observation(row: MeasureResponse, member_id: int) -> Observation:
    instrument = Instrument(row.instrument)
    codes = LOINC_CODES[instrument]
    return Observation.model_validate({
        "resourceType": "Observation", "id": str(row.id),
        "status": "cancelled" if row.superseded else "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "survey", "display": "Survey"}]}],
        "code": {"coding": [{"system": LOINC, "code": codes["total"], "display": codes["total_display"]}],
                 "text": f"{QUESTIONNAIRES[instrument].name} total score"},
        "subject": {"reference": f"Patient/{member_id}"}, "effectiveDateTime": _instant(row.administered_at),
        "valueInteger": row.total,
        "interpretation": [{"text": row.band}] if row.band else None,
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{row.id}"}],
    })


def goal(row: Goal, member_id: int) -> FhirGoal:
    status = GoalStatus(row.status)
    return FhirGoal.model_validate({
        "resourceType": "Goal", "id": str(row.id), "lifecycleStatus": GOAL_STATUS[status],
        "achievementStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": GOAL_ACHIEVEMENT[status]}]},
        "description": {"text": row.text}, "subject": {"reference": f"Patient/{member_id}"},
        "startDate": row.created_at.date().isoformat(),
    })


def as_json(resource: Resource) -> dict[str, Any]:
    import json

    return json.loads(resource.model_dump_json())


def searchset(resources: Sequence[Resource], *, base_url: str, self_url: str) -> Bundle:
    return Bundle.model_validate({
        "resourceType": "Bundle", "type": "searchset", "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [{"fullUrl": f"{base_url}/{r.get_resource_type()}/{r.id}", "resource": as_json(r),
                   "search": {"mode": "match"}} for r in resources] or None,
    })


def capability_statement(*, date: str, base_url: str) -> Resource:
    """What this server answers (FHIR's `metadata`): read and search on each type, JSON only."""
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    patient_scoped = {"Appointment", "QuestionnaireResponse", "Observation", "Goal"}
    return CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active", "date": date, "kind": "instance",
        "implementation": {"description": "Group IPT records, read-only", "url": base_url},
        # R4: built with fhir.resources' R4B models, and every resource served also validates
        # against HL7's R4 JSON schema (tests/js/validate_fhir.mjs), as an EHR reading R4 needs.
        "fhirVersion": "4.0.1", "format": [MEDIA_TYPE, "json"],
        "rest": [{"mode": "server", "resource": [
            {"type": kind, "interaction": [{"code": "read"}, {"code": "search-type"}],
             "searchParam": [{"name": "_id", "type": "token"}]
             + ([{"name": "patient", "type": "reference"}, {"name": "subject", "type": "reference"}]
                if kind in patient_scoped else []),
             **({"operation": [{"name": "everything", "definition":
                                "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]}
                if kind == "Patient" else {})}
            for kind in TYPES]}],
    })
