"""The finished cohort (issues 17 and 20): the whole journey, held in the past. Eight group
sessions run on the live board, PHQ-9/GAD-7 from baseline to closure (the outcome report has
its figures), a checklist after every meeting, and closure summaries needing supervisor
sign-off: one finalized and later amended (the amendment signed off and finalized too), one
finalized, one awaiting the supervisor, two drafts. The first member can open her summary
and its PDF from the portal; `demo --json` names her as "journey_member"."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.accounts import Role, User
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Cohort, CohortStatus, ConsentMethod, Enrollment, Meeting, MeetingKind, MeetingStatus, ProtocolTemplate
from server import schedule
from server.closure import service, signoff
from server.demo.answers import gad7_items, phq9_items
from server.demo.board_sessions import HeldSession, Turn, run_held_sessions
from server.demo.checklists import session_checklists
from server.demo.people import Person, ZONE, new_password, person
from server.enrollment import ConsentGiven, enroll, intake
from server.measures import responses
from server.platform.settings import Settings

FINISHED = "Demo: Monday afternoon group (finished)"
# Name, goal in their own words, PHQ-9 totals (baseline, then before sessions 1-8); the
# fifth improves least. Session numbers each member missed.
FINISHED_MEMBERS = [
    ("Ines Moreau", "Call my sister every week", [17, 16, 15, 13, 12, 10, 9, 8, 7]),
    ("Jonas Berg", "Tell my manager when the workload is too much", [15, 15, 13, 12, 10, 9, 8, 7, 6]),
    ("Kemi Balogun", "Make one new friend at the community centre", [19, 18, 17, 15, 14, 12, 11, 10, 9]),
    ("Luca Romano", "Talk with my son about the divorce", [14, 13, 13, 12, 11, 10, 9, 9, 8]),
    ("Mei Tanaka", "Get back to my choir", [16, 16, 16, 15, 15, 14, 14, 13, 13]),
]
FINISHED_ABSENT = {1: {4}, 4: {5, 6}}  # member index -> sessions missed (each told the group beforehand)
FINISHED_TURNS = {
    2: [Turn(0, "my sister", "Telling my sister I have been low since the move", "Call her on Sunday")],
    3: [Turn(1, "my manager", "Saying calmly that the workload is too much", "Ask for a meeting on Monday")],
    4: [Turn(2, "a neighbour", "Inviting a neighbour in for tea", "Knock on Saturday morning")],
    5: [Turn(3, "my son", "Starting a talk with my son about the divorce", "Walk with him after school")],
    6: [Turn(1, "my manager", "Following up on the workload talk", "Send the list of tasks on Friday")],
    7: [Turn(4, "the choir leader", "Asking to come back to the choir", "Go to Thursday's practice")],
}
FINISHED_EDITS = {
    "warning_signs": "Staying in bed late and not answering calls.",
    "who_to_tell": "My sister, and the GP practice nurse.",
    "relapse_strategies": "Keep the weekly call; say early when something is wrong.",
    "relapse_supports": "Family and the community centre.",
    "seek_help": "Call the GP surgery or NHS 111 if low for two weeks.",
    "feelings_about_ending": "Sad to finish, and ready to keep going.",
    "next_step_kind": "maintenance",
}
# What the facilitator corrected after the first member's summary was finalized.
AMENDMENT_REASON = "Ines asked at her follow-up call to add the choir to her supports."
AMENDED_EDITS = {**FINISHED_EDITS, "relapse_supports": "Family, the community centre and the choir on Thursdays."}


def _session(number: int) -> HeldSession:
    away = {index: ("absent_notified", "Told the group the week before")
            for index, missed in FINISHED_ABSENT.items() if number in missed}
    note = ("Last session: each member named their early warning signs and who they will tell."
            if number == 8 else f"Session {number}: warm and focused; members gave each other specific feedback.")
    return HeldSession(absences=away, turns=FINISHED_TURNS.get(number, []), note=note)


async def load_finished_cohort(people: dict[str, User], supervisor: User, now: datetime) -> tuple[Cohort, list[tuple[User, str]]]:
    """The finished cohort (made once) and its members' logins (passwords reset each load)."""
    logins = []
    members = []
    for index, (name, *_rest) in enumerate(FINISHED_MEMBERS, start=1):
        password = new_password()
        members.append(await person(Person(f"finished{index}", name, Role.MEMBER), password))
        logins.append((members[-1], password))
    cohort = await Cohort.get_or_none(name=FINISHED)
    if cohort is None:
        cohort = await _finished_cohort(people, supervisor, members, now)
    return cohort, logins


async def _finished_cohort(people: dict[str, User], supervisor: User, members: list[User], now: datetime) -> Cohort:
    coordinator, f1 = people["coordinator"], people["facilitator1"]
    template = await ProtocolTemplate.get(slug="who-group-ipt")
    zone = ZoneInfo(ZONE)
    first_session = (now.astimezone(zone) - timedelta(days=70)).date()
    first_session -= timedelta(days=first_session.weekday())  # Mondays
    planned_at = datetime.combine(first_session - timedelta(days=21), time(9), tzinfo=zone)
    values = schedule.parse_cohort_input({
        "name": FINISHED, "public_title": "Monday group", "template": template.id, "time_zone": ZONE,
        "start_date": first_session.isoformat(), "weekday": 0, "start_time": "14:00",
        "capacity": 8, "location": "Room 3, Elm Street Centre", "video_link": "",
    }, facilitator_ids=[f1.id])
    cohort = await schedule.create_cohort(values, by=coordinator, now=planned_at)
    await signoff.set_requirement(cohort, True, by=coordinator)
    await schedule.set_status(cohort, CohortStatus.ENROLLING, by=coordinator)
    enrollments = []
    for user in members:
        consent = ConsentGiven(at=planned_at - timedelta(hours=1), method=ConsentMethod.SIGNED_FORM,
                               version=cohort.group_agreement_version)
        enrollments.append((await enroll(cohort.id, by=coordinator, member_id=user.id, consent=consent,
                                         now=planned_at)).enrollment)
    await Enrollment.filter(id__in=[e.id for e in enrollments]).update(created_at=planned_at)
    await schedule.activate(cohort, by=coordinator, now=planned_at)
    for enrollment, (_name, goal, _scores) in zip(enrollments, FINISHED_MEMBERS, strict=True):
        await intake.set_problem_areas(enrollment, template, by=f1, primary="role_transition", secondary="")
        await intake.add_goal(enrollment, by=f1, text=goal)
    await _finished_measures(enrollments, f1, now)
    # The eight group sessions on the live board (attendance, role plays, goal ratings, notes,
    # closed); the individual meetings held are marked held, as the half-way cohort's pre-group
    # meetings are. Then the checklist after each meeting, and the cohort is completed.
    await run_held_sessions(cohort, enrollments, _session, lead=f1, counterpart=f1, now=now)
    await Meeting.filter(cohort_id=cohort.id, starts_at__lt=now).exclude(kind=MeetingKind.GROUP).update(
        status=MeetingStatus.COMPLETED)
    await session_checklists(cohort, f1, now, skip_latest=False)
    await Cohort.filter(id=cohort.id).update(status=CohortStatus.COMPLETED)
    cohort = await Cohort.get(id=cohort.id).prefetch_related("template")
    await _finished_summaries(cohort, f1, supervisor, now)
    return cohort


async def _finished_measures(enrollments: list[Enrollment], facilitator: User, now: datetime) -> None:
    for enrollment, (_name, _goal, trajectory) in zip(enrollments, FINISHED_MEMBERS, strict=True):
        occasions = await responses.occasions_for(enrollment.id)
        for instrument, scale in (("phq9", 1.0), ("gad7", 0.7)):
            past = [o for o in occasions.get(instrument, []) if o.meeting_starts_at is not None and o.meeting_starts_at < now]
            for position, occasion in enumerate(past):
                total = trajectory[min(position, len(trajectory) - 1)] if instrument == "phq9" else \
                    round(trajectory[min(position * 8 // max(len(past) - 1, 1), len(trajectory) - 1)] * scale)
                items = phq9_items(total) if instrument == "phq9" else gad7_items(total)
                await responses.record_on_behalf(enrollment.id, instrument, items, by=facilitator,
                                                 window=occasion.key, at=occasion.meeting_starts_at - timedelta(hours=2))


async def _finished_summaries(cohort: Cohort, facilitator: User, supervisor: User, now: datetime) -> None:
    """Drafted and edited by the facilitator; members 1-2 approved and finalized (member 1's
    then amended, and the amendment approved and finalized), member 3 awaiting sign-off,
    members 4-5 still in draft (5 not yet edited)."""
    enrollments = await Enrollment.filter(cohort_id=cohort.id).order_by("id").prefetch_related("member", "cohort__template")
    for index, enrollment in enumerate(enrollments):
        row = await service.draft(enrollment, facilitator, now=now - timedelta(days=3))
        if index == 4:
            continue
        await _edit(row, facilitator, FINISHED_EDITS, now - timedelta(days=2))
        if index == 3:
            continue
        row = await service.summary_row(row.id, facilitator)
        await signoff.submit(row, facilitator, now=now - timedelta(days=2))
        if index == 2:
            continue
        await _approve_and_finalize(row.id, facilitator, supervisor, now - timedelta(days=1))
        if index == 0:
            amended = await service.amend(enrollment, facilitator, AMENDMENT_REASON, now=now - timedelta(hours=20))
            await _edit(amended, facilitator, AMENDED_EDITS, now - timedelta(hours=20))
            await signoff.submit(await service.summary_row(amended.id, facilitator), facilitator,
                                 now=now - timedelta(hours=19))
            await _approve_and_finalize(amended.id, facilitator, supervisor, now - timedelta(hours=18))


async def _edit(row: ClosureSummary, facilitator: User, edits: dict[str, str], now: datetime) -> None:
    row = await service.summary_row(row.id, facilitator)
    goal_ids = [g["goal_id"] for g in row.content.get("goals", [])]
    form = dict(edits, **{f"goal_words_{g}": "I did this most weeks." for g in goal_ids})
    await service.save_edits(row, facilitator, form, now=now)


async def _approve_and_finalize(summary_id: int, facilitator: User, supervisor: User, now: datetime) -> None:
    await signoff.approve(await service.summary_row(summary_id, supervisor), supervisor, now=now)
    await service.finalize(await service.summary_row(summary_id, facilitator), facilitator, now=now)


async def finished_cohort_json(settings: Settings, entry: dict, cohort: Cohort) -> dict:
    """The cohort's entry in `demo --json`, with its summaries' versions and statuses and
    where its outcome report is."""
    rows = await ClosureSummary.filter(enrollment__cohort_id=cohort.id).order_by("enrollment_id", "version") \
        .select_related("enrollment__member")
    entry["requires_signoff"] = True
    entry["outcomes_url"] = f"{settings.base_url}/cohorts/{cohort.id}/outcomes"
    entry["summaries"] = [{"id": r.id, "enrollment_id": r.enrollment_id, "member": r.enrollment.member.email,
                           "version": r.version, "status": r.status.value,
                           "amendment_reason": r.amendment_reason or None} for r in rows]
    return entry


async def journey_json(settings: Settings, cohort: Cohort, login: dict) -> dict:
    """The member whose finished journey a newcomer can follow: her login, and where her
    latest finalized summary (the amended one) and its PDF are."""
    latest = await ClosureSummary.filter(
        enrollment__cohort_id=cohort.id, enrollment__member__email=login["email"], status=SummaryStatus.FINALIZED,
    ).order_by("-version").first()
    return {
        **login,
        "cohort_id": cohort.id,
        "portal_url": f"{settings.base_url}/portal/summaries",
        "summary_id": latest.id if latest else None,
        "summary_url": f"{settings.base_url}/summaries/{latest.id}" if latest else None,
        "summary_pdf_url": f"{settings.base_url}/summaries/{latest.id}/pdf" if latest else None,
    }
