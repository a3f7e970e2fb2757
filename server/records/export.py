"""A member's own record, to take away: a ZIP of JSON files and the PDF of each finalized
closure summary (GDPR Art. 15 and 20: access, in a structured, machine-readable form).

Only the member's own rows are read. Other members never appear: their enrollments,
answers, goals and individual meetings are not queried, and any other member's name that
the free text of this record carries is reduced to initials, as closure summaries do
(domain-ipt.md section 9). Clinical notes that are the facilitators' own (attendance
reasons, safety section 10, risk checks) stay out, as they do on the member's pages.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from models.accounts import Role, User
from models.board import Attendance
from models.clinical import Goal, GoalProgress, MeasureResponse
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Enrollment, Meeting, MeetingKind
from server.accounts import audit
from server.closure import SummaryRecord, member_view, other_member_names
from server.closure.names import name_redactor  # the one place a name becomes initials
from server.errors import NotFound

RenderSummaryPdf = Callable[[ClosureSummary, User], Awaitable[bytes]]

README = """Your record from the group programme
=====================================

Taken {taken} for {name}. Every file is JSON (UTF-8), dates and times are UTC (ISO 8601).

  account.json            your account: e-mail, name, time zone, when it was created
  groups.json             the groups you were invited to or joined: status, consent, problem areas
  meetings.json           your calendar: the group sessions and your individual meetings
  attendance.json         whether you attended each session
  goals.json              your goals and each progress check-in
  measures.json           your questionnaire answers (PHQ-9, GAD-7), item by item, with totals
  closure_summaries.json  your finalized closure summaries, every version
  summaries/*.pdf         the same summaries as printable documents

Other members of your groups are never named here: where a note mentioned someone, they
appear by their initials or their role ("my sister"), as in your closure summary.
"""


@dataclass(frozen=True)
class RecordExport:
    filename: str
    content: bytes
    files: list[str]


async def member_record_export(member: User, *, actor: User, now: datetime,
                               render_summary_pdf: RenderSummaryPdf) -> RecordExport:
    """The ZIP for `member`, asked for by `actor` (the member, or a coordinator): audited."""
    if member.role != Role.MEMBER:
        raise NotFound("There is no member with this id.")
    enrollments = await Enrollment.filter(member_id=member.id).select_related("cohort").order_by("created_at", "id")
    ids = [e.id for e in enrollments]
    others: set[str] = set()
    for enrollment in enrollments:
        others.update(await other_member_names(enrollment))
    redact = _redactor(others, own_name=member.display_name)

    summaries = await ClosureSummary.filter(enrollment_id__in=ids, status=SummaryStatus.FINALIZED).select_related(
        "enrollment__member", "enrollment__cohort", "finalized_by", "created_by", "updated_by"
    ).order_by("enrollment_id", "version")
    files: dict[str, bytes] = {
        "account.json": _json(_account(member)),
        "groups.json": _json(redact([_group(e) for e in enrollments])),
        "meetings.json": _json(await _meetings(enrollments)),
        "attendance.json": _json(await _attendance(ids)),
        "goals.json": _json(redact(await _goals(ids))),
        "measures.json": _json(redact(await _measures(ids))),
        "closure_summaries.json": _json(redact([_summary(row) for row in summaries])),
    }
    for row in summaries:
        files[f"summaries/{_summary_pdf_name(row)}"] = await render_summary_pdf(row, member)
    files = {"README.txt": README.format(taken=now.isoformat(timespec="seconds"), name=member.display_name).encode(),
             **files}

    own = actor.id == member.id
    await audit.record(actor, "read", "member_record", member.id, member=member.id,
                       detail="own record exported" if own else f"record exported for the member by {actor.role.value}")
    prefix = "my-record" if own else f"member-{member.id}-record"
    return RecordExport(filename=f"{prefix}-{now.date().isoformat()}.zip", content=_zip(files, now), files=list(files))


def _redactor(other_names: set[str], *, own_name: str) -> Callable[[Any], Any]:
    return name_redactor(sorted(other_names), own_name=own_name)


def _account(member: User) -> dict[str, Any]:
    return {"email": member.email, "name": member.display_name, "role": member.role, "time_zone": member.time_zone,
            "active": member.is_active, "created_at": member.created_at, "last_login_at": member.last_login_at}


def _group(enrollment: Enrollment) -> dict[str, Any]:
    cohort = enrollment.cohort
    # The public title only: the internal name is staff's and may be clinical.
    return {
        "group": {"title": cohort.public_title, "time_zone": cohort.time_zone, "weekday": cohort.weekday,
                  "local_start_time": cohort.local_start_time, "duration_minutes": cohort.duration_minutes,
                  "group_sessions": cohort.n_group_sessions, "start_date": cohort.start_date,
                  "location": cohort.location, "status": cohort.status},
        "status": enrollment.status,
        "joined_list_at": enrollment.created_at,
        "consent": {"at": enrollment.consent_at, "method": enrollment.consent_method,
                    "version": enrollment.consent_version or None},
        "problem_areas": {"primary": enrollment.primary_problem_area, "secondary": enrollment.secondary_problem_area},
        "formulation": enrollment.formulation,
        "formulation_agreed": enrollment.formulation_agreed,
        "withdrawal_reason": enrollment.withdrawal_reason or None,
    }


async def _meetings(enrollments: list[Enrollment]) -> list[dict[str, Any]]:
    cohort_ids = [e.cohort_id for e in enrollments]
    titles = {e.cohort_id: e.cohort.public_title for e in enrollments}
    group = await Meeting.filter(cohort_id__in=cohort_ids, kind=MeetingKind.GROUP)
    own = await Meeting.filter(enrollment_id__in=[e.id for e in enrollments])  # never another member's
    rows = sorted({m.id: m for m in [*group, *own]}.values(), key=lambda m: (m.starts_at, m.id))
    return [{"group": titles[m.cohort_id], "kind": m.kind, "number": m.number, "phase": m.phase,
             "starts_at": m.starts_at, "ends_at": m.ends_at, "status": m.status,
             "location": m.location or None, "calendar_uid": m.uid} for m in rows]


async def _attendance(enrollment_ids: list[int]) -> list[dict[str, Any]]:
    rows = await Attendance.filter(enrollment_id__in=enrollment_ids).select_related("meeting__cohort").order_by(
        "meeting__starts_at", "id")
    # The reason is the facilitators' note and stays with them.
    return [{"group": a.meeting.cohort.public_title, "session": a.meeting.number, "kind": a.meeting.kind,
             "meeting_starts_at": a.meeting.starts_at, "status": a.status} for a in rows]


async def _goals(enrollment_ids: list[int]) -> list[dict[str, Any]]:
    goals = await Goal.filter(enrollment_id__in=enrollment_ids).select_related("cohort").order_by(
        "enrollment_id", "position", "id")
    progress = await GoalProgress.filter(goal_id__in=[g.id for g in goals]).select_related("meeting").order_by(
        "at", "id")
    by_goal: dict[int, list[dict[str, Any]]] = {}
    for p in progress:
        by_goal.setdefault(p.goal_id, []).append({
            "at": p.at, "session": p.meeting.number if p.meeting else None, "rating": p.rating,
            "rating_scale": "0 (no progress) to 4 (achieved)", "status": p.status, "note": p.note or None})
    return [{"group": g.cohort.public_title, "goal": g.text, "status": g.status, "created_at": g.created_at,
             "progress": by_goal.get(g.id, [])} for g in goals]


async def _measures(enrollment_ids: list[int]) -> list[dict[str, Any]]:
    rows = await MeasureResponse.filter(enrollment_id__in=enrollment_ids).select_related(
        "enrollment__cohort").order_by("administered_at", "id")
    return [{"group": r.enrollment.cohort.public_title, "questionnaire": r.instrument, "occasion": r.window or None,
             "answered_at": r.administered_at, "items": r.items, "total": r.total, "band": r.band,
             "difficulty": r.difficulty, "entered_with_a_facilitator": r.on_behalf,
             "replaced_by_a_correction": r.superseded, "correction_reason": r.correction_reason or None}
            for r in rows]


def _summary(row: ClosureSummary) -> dict[str, Any]:
    return {"group": row.enrollment.cohort.public_title, "version": row.version, "finalized_at": row.finalized_at,
            "amendment_reason": row.amendment_reason or None, "pdf": f"summaries/{_summary_pdf_name(row)}",
            "summary": member_view(SummaryRecord.from_json(row.content))}


def _summary_pdf_name(row: ClosureSummary) -> str:
    return f"closure-summary-group-{row.enrollment_id}-v{row.version}.pdf"


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_default).encode()


def _zip(files: dict[str, bytes], now: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
