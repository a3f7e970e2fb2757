"""The member portal's one service: each of the member's groups with its upcoming meetings,
questionnaires due, goals and progress, and measures, in a fixed number of queries however
many groups the member is in.

Everything is the member's own; nothing here reads another member's row beyond a count of
those ahead on a waitlist (domain-ipt.md 9). Reading goals and measures is audited, one
event each per group, as a staff page's reading is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from models.accounts import User
from models.clinical import Goal, GoalProgress
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting, MeetingKind
from server.accounts import audit
from server.measures import responses as measure_responses
from server.measures.instruments import Instrument
from server.measures.progress import episode_responses, measures_view

VISIBLE = [EnrollmentStatus.INVITED, EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED,
           EnrollmentStatus.WAITLISTED, EnrollmentStatus.COMPLETED]
GROUP_SESSIONS_SHOWN = 6
MEETINGS_SHOWN = 8
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass
class PortalGroup:
    """One group on the member's portal page."""

    enrollment: Enrollment
    cohort: Cohort
    zone: ZoneInfo
    group: str
    upcoming: list[Meeting]
    due: list[measure_responses.Due]
    due_paths: dict[tuple[Instrument, str], str]
    goals: list[Goal]
    progress: dict[int, list[GoalProgress]]
    measures: dict[str, Any]
    total_sessions: int
    waitlist_position: int | None = field(default=None)


def group_words(cohort: Cohort) -> str:
    """How a member tells their groups apart: the public title and when it meets."""
    when = f"{WEEKDAYS[cohort.weekday]} at {cohort.local_start_time}" if 0 <= cohort.weekday < 7 else ""
    return f"{cohort.public_title} ({when})" if when else cohort.public_title


def member_zone(user: User, enrollment: Enrollment) -> ZoneInfo:
    for name in (user.time_zone, enrollment.cohort.time_zone, "UTC"):
        try:
            return ZoneInfo(name)
        except Exception:
            continue
    return ZoneInfo("UTC")


async def member_portal(user: User, now: datetime) -> list[PortalGroup]:
    """The member's groups, newest first, as the portal shows them."""
    enrollments = await Enrollment.filter(member_id=user.id, status__in=VISIBLE).prefetch_related(
        "cohort", "cohort__template"
    ).order_by("-created_at")
    if not enrollments:
        return []
    ids = [e.id for e in enrollments]
    meetings = await Meeting.filter(
        (Q(cohort_id__in={e.cohort_id for e in enrollments}) & Q(kind=MeetingKind.GROUP)) | Q(enrollment_id__in=ids),
        ends_at__gt=now,
    ).order_by("starts_at")
    goals = await Goal.filter(enrollment_id__in=ids).order_by("position", "id")
    progress = await GoalProgress.filter(goal_id__in=[g.id for g in goals]).order_by("at", "id")
    due = await measure_responses.due_now_of(enrollments, now=now)
    answers = await episode_responses(enrollments)
    ahead = await _waitlist_ahead(enrollments)

    groups, reads = [], []
    for enrollment in enrollments:
        sessions = [m for m in meetings if m.cohort_id == enrollment.cohort_id and m.kind == MeetingKind.GROUP]
        own = [m for m in meetings if m.enrollment_id == enrollment.id]
        mine = [g for g in goals if g.enrollment_id == enrollment.id]
        mine_ids = {g.id for g in mine}
        by_goal: dict[int, list[GoalProgress]] = {}
        for p in progress:
            if p.goal_id in mine_ids:
                by_goal.setdefault(p.goal_id, []).append(p)
        reads.append(("goal", enrollment.id, "portal"))
        reads.append(("measure_response", enrollment.id, f"{len(answers[enrollment.id])} responses"))
        groups.append(PortalGroup(
            enrollment=enrollment, cohort=enrollment.cohort, zone=member_zone(user, enrollment),
            group=group_words(enrollment.cohort),
            upcoming=sorted([*sessions[:GROUP_SESSIONS_SHOWN], *own], key=lambda m: m.starts_at)[:MEETINGS_SHOWN],
            due=due[enrollment.id],
            due_paths={(d.instrument, d.occasion.key): measure_responses.member_form_path(
                enrollment.id, d.instrument, d.occasion.key) for d in due[enrollment.id]},
            goals=mine, progress=by_goal,
            measures=measures_view(enrollment, answers[enrollment.id], chart_prefix=f"mine{enrollment.id}"),
            total_sessions=enrollment.cohort.n_group_sessions,
            waitlist_position=ahead.get(enrollment.id),
        ))
    await audit.record_many(user, "read", reads, member=user)
    return groups


async def _waitlist_ahead(enrollments: list[Enrollment]) -> dict[int, int]:
    """For each waitlisted enrollment, its place in line: only a number, never who is ahead."""
    waiting = [e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED and e.waitlisted_at]
    if not waiting:
        return {}
    line = await Enrollment.filter(
        cohort_id__in={e.cohort_id for e in waiting}, status=EnrollmentStatus.WAITLISTED, waitlisted_at__isnull=False,
    ).values_list("cohort_id", "waitlisted_at")
    return {
        e.id: 1 + sum(1 for cohort_id, at in line if cohort_id == e.cohort_id and at < e.waitlisted_at)
        for e in waiting
    }
