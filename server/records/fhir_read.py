"""The FHIR read API's queries: what one person may read, as resources (server/records/fhir.py).

Authorization is the records' own: a member reads their own record, a facilitator the
members of the cohorts they lead (and, read-only as everywhere, those of the facilitators
they supervise), a coordinator everyone's. Restricted and purged members are never read.
A member never sees another member: no Group (it lists the others), and the Appointment of a
group session names only them and the facilitators.

Each search is a fixed number of queries, whatever the rows: the scope (two or three), then
one or two per type.
"""
from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fhir.resources.R4B.resource import Resource
from tortoise.expressions import Q

from models.accounts import Role, User
from models.clinical import Goal, MeasureResponse
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting, MeetingKind
from server.accounts import audit
from server.accounts.access import supervised_facilitator_ids
from server.errors import BadRequest, NotFound
from server.measures.instruments import Instrument
from server.records import fhir

# Those an Appointment of a group session lists: the people in the room.
IN_THE_ROOM = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED)
PATIENT_SCOPED = {"Appointment", "QuestionnaireResponse", "Observation", "Goal"}


@dataclass(frozen=True)
class Scope:
    viewer_role: Role | None  # None: a clinic-wide export (the CLI)
    own_member: int | None  # a member reading their own record
    cohort_ids: frozenset[int]
    enrollments: tuple[Enrollment, ...]  # readable, of members neither restricted nor purged
    patients: frozenset[int]

    @property
    def enrollment_ids(self) -> list[int]:
        return [e.id for e in self.enrollments]


def _readable_members(query):
    return query.filter(member__restricted_at=None).exclude(member__email__endswith="@invalid")


async def scope_for(user: User) -> Scope:
    if user.role == Role.MEMBER:
        enrollments: Sequence[Enrollment] = []
        if user.restricted_at is None:
            enrollments = await Enrollment.filter(member_id=user.id).order_by("id")
        return Scope(viewer_role=user.role, own_member=user.id, cohort_ids=frozenset(e.cohort_id for e in enrollments),
                     enrollments=tuple(enrollments), patients=frozenset({user.id} if user.restricted_at is None else ()))
    if user.role == Role.COORDINATOR:
        cohort_ids = frozenset(await Cohort.all().values_list("id", flat=True))
        members = await User.filter(role=Role.MEMBER, restricted_at=None).exclude(
            email__endswith="@invalid").values_list("id", flat=True)
        enrollments = await _readable_members(Enrollment.all()).order_by("id")
        return Scope(viewer_role=user.role, own_member=None, cohort_ids=cohort_ids, enrollments=tuple(enrollments),
                     patients=frozenset(members))
    leaders = [user.id, *await supervised_facilitator_ids(user)]
    cohort_ids = frozenset(await Cohort.filter(facilitators__id__in=leaders).values_list("id", flat=True))
    return await cohort_scope(cohort_ids, viewer_role=user.role)


async def cohort_scope(cohort_ids: Iterable[int], *, viewer_role: Role | None = None) -> Scope:
    ids = frozenset(cohort_ids)
    enrollments = await _readable_members(Enrollment.filter(cohort_id__in=list(ids))).order_by("id") if ids else []
    return Scope(viewer_role=viewer_role, own_member=None, cohort_ids=ids, enrollments=tuple(enrollments),
                 patients=frozenset(e.member_id for e in enrollments))


def _parse(resource_type: str, params: dict[str, str]) -> tuple[set[str] | None, set[int] | None]:
    """(ids wanted or None, patients wanted or None), from `_id` and `patient`/`subject`."""
    ids: set[str] | None = None
    patients: set[int] | None = None
    for name, value in params.items():
        if name == "_id":
            ids = {v.strip() for v in value.split(",") if v.strip()}
        elif name in ("patient", "subject") and resource_type in PATIENT_SCOPED:
            patients = set()
            for v in value.split(","):
                ref = v.strip().removeprefix("Patient/")
                if not ref.isdigit():
                    raise BadRequest(f"{name} must name a Patient, like Patient/12 or 12.", fields={name: "Not a Patient."})
                patients.add(int(ref))
        elif name in ("_format",) and value in ("json", fhir.MEDIA_TYPE, "application/json"):
            continue
        else:
            raise BadRequest(f"This server does not support the search parameter {name!r} on {resource_type} "
                             f"(it supports _id{', patient' if resource_type in PATIENT_SCOPED else ''}).",
                             fields={name: "Not supported."})
    return ids, patients


def _int_ids(ids: set[str] | None) -> list[int] | None:
    return None if ids is None else [int(i) for i in ids if i.isdigit() and 0 < int(i) < 2**31]


async def search(scope: Scope, resource_type: str, params: dict[str, str]) -> list[Resource]:
    if resource_type not in fhir.TYPES:
        raise NotFound(f"This server has no resource type {resource_type!r}; it serves {', '.join(fhir.TYPES)}.")
    ids, patients = _parse(resource_type, params)
    wanted = _int_ids(ids)
    enrollments = [e for e in scope.enrollments if patients is None or e.member_id in patients]
    member_of = {e.id: e.member_id for e in enrollments}

    if resource_type == "Questionnaire":
        return [fhir.questionnaire(i) for i in Instrument if ids is None or i.value in ids]
    if resource_type == "Patient":
        chosen = sorted(scope.patients if wanted is None else scope.patients & set(wanted))
        return [fhir.patient(u) for u in await User.filter(id__in=chosen).order_by("id")] if chosen else []
    if resource_type == "Practitioner":
        people = set(await User.filter(facilitated_cohorts__id__in=list(scope.cohort_ids)).values_list("id", flat=True))
        people |= set(await Meeting.filter(enrollment_id__in=scope.enrollment_ids).exclude(
            facilitator_id=None).values_list("facilitator_id", flat=True))
        chosen = sorted(people if wanted is None else people & set(wanted))
        return [fhir.practitioner(u) for u in await User.filter(id__in=chosen).order_by("id")] if chosen else []
    if resource_type == "Group":
        if scope.own_member is not None:
            return []  # a Group lists the other members
        chosen = sorted(scope.cohort_ids if wanted is None else scope.cohort_ids & set(wanted))
        by_cohort: dict[int, list[Enrollment]] = defaultdict(list)
        for e in scope.enrollments:
            by_cohort[e.cohort_id].append(e)
        return [fhir.group(c, by_cohort[c.id]) for c in await Cohort.filter(id__in=chosen).order_by("id")] if chosen else []
    if resource_type == "Appointment":
        return await _appointments(scope, enrollments, wanted, patients)
    if resource_type in ("QuestionnaireResponse", "Observation"):
        query = MeasureResponse.filter(enrollment_id__in=list(member_of))
        if wanted is not None:
            query = query.filter(id__in=wanted)
        build = fhir.questionnaire_response if resource_type == "QuestionnaireResponse" else fhir.observation
        return [build(r, member_of[r.enrollment_id]) for r in await query.order_by("administered_at", "id")] \
            if member_of else []
    query = Goal.filter(enrollment_id__in=list(member_of))
    if wanted is not None:
        query = query.filter(id__in=wanted)
    return [fhir.goal(g, member_of[g.enrollment_id]) for g in await query.order_by("enrollment_id", "position", "id")] \
        if member_of else []


async def _appointments(scope: Scope, enrollments: list[Enrollment], wanted: list[int] | None,
                        patients: set[int] | None) -> list[Resource]:
    own = {e.id: e for e in enrollments}
    cohorts = sorted({e.cohort_id for e in enrollments} if patients is not None or scope.own_member is not None
                     else scope.cohort_ids)
    condition = Q(enrollment_id__in=list(own))
    if cohorts:
        condition |= Q(cohort_id__in=cohorts, kind=MeetingKind.GROUP)
    query = Meeting.filter(condition)
    if wanted is not None:
        query = query.filter(id__in=wanted)
    meetings = await query.order_by("starts_at", "id")
    if not meetings:
        return []
    facilitators: dict[int, list[int]] = defaultdict(list)
    for cohort_id, person in await Cohort.filter(id__in=list({m.cohort_id for m in meetings})).values_list(
            "id", "facilitators__id"):
        if person is not None:
            facilitators[cohort_id].append(person)
    room: dict[int, list[int]] = defaultdict(list)
    for e in enrollments:
        if e.status in IN_THE_ROOM:
            room[e.cohort_id].append(e.member_id)
    titles = dict(await Cohort.filter(id__in=list({m.cohort_id for m in meetings})).values_list("id", "public_title"))
    out = []
    for m in meetings:
        if m.kind == MeetingKind.GROUP:
            members, leads = room[m.cohort_id], sorted(facilitators[m.cohort_id])
            title = f"{titles[m.cohort_id]} {m.number}"
        else:
            members = [own[m.enrollment_id].member_id]
            leads = [m.facilitator_id] if m.facilitator_id else sorted(facilitators[m.cohort_id])
            title = f"Individual meeting ({m.kind.value})"
        out.append(fhir.appointment(m, members=sorted(members), facilitators=leads, title=title))
    return out


async def read(scope: Scope, resource_type: str, resource_id: str) -> Resource:
    found = await search(scope, resource_type, {"_id": resource_id})
    if not found:
        # Unknown and not yours look the same: existence is private.
        raise NotFound(f"There is no {resource_type}/{resource_id} you may read.")
    return found[0]


async def everything(scope: Scope, patient_id: str) -> list[Resource]:
    """Patient/{id}/$everything: the Patient and what is theirs, in one Bundle."""
    found = await read(scope, "Patient", patient_id)
    params = {"patient": patient_id}
    return [found, *[r for kind in ("Appointment", "QuestionnaireResponse", "Observation", "Goal")
                     for r in await search(scope, kind, params)]]


async def audit_read(user: User | None, what: str, resources: Sequence[Resource]) -> None:
    patients = {r.id for r in resources if r.get_resource_type() == "Patient"}
    await audit.record(user, "read", "fhir", what[:64], member=int(next(iter(patients))) if len(patients) == 1 else None,
                       detail=f"FHIR {what}: {len(resources)} resource(s)"[:255])


async def export_cohort(cohort_id: int) -> dict[str, list[Resource]]:
    """Every resource of one cohort, by type, for the NDJSON export (groupipt export fhir)."""
    if not await Cohort.exists(id=cohort_id):
        raise NotFound(f"There is no cohort {cohort_id}.")
    scope = await cohort_scope([cohort_id])
    return {kind: await search(scope, kind, {}) for kind in fhir.TYPES}


def ndjson(resources: Sequence[Resource]) -> bytes:
    # FHIR Bulk Data: one resource per line, UTF-8, newline-delimited.
    return b"".join(r.model_dump_json().encode() + b"\n" for r in resources)


async def write_cohort_ndjson(cohort_id: int, directory: Path) -> dict[str, int]:
    """`{Type}.ndjson` per resource type into `directory` (new or empty), readable by its owner
    only: it holds health records. Audited as one read."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BadRequest(f"{directory} exists and is not an empty directory; an export never overwrites. "
                         "Choose a new directory.")
    exported = await export_cohort(cohort_id)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    counts: dict[str, int] = {}
    for kind, resources in exported.items():
        if not resources:
            continue
        target = directory / f"{kind}.ndjson"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(ndjson(resources))
        counts[kind] = len(resources)
    await audit.record(None, "read", "fhir", f"cohort:{cohort_id}",
                       detail=("FHIR NDJSON export: " + ", ".join(f"{v} {k}" for k, v in counts.items()))[:255])
    return counts
