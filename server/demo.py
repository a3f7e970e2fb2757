"""A realistic demo clinic, built through the same services the pages use.

Two cohorts: one half-way through the WHO format (sessions 1-4 held on the live board, with
attendance, role plays, goal progress and weekly PHQ-9 history), one still enrolling
(Uganda format). Eight members with problem areas, two facilitators, one coordinator, and
a supervisor (a clinician) who supervises both facilitators (issue 17).
A third cohort has finished and needs supervisor sign-off: its closure summaries are two
finalized after approval, one awaiting the supervisor, two drafts; its five members' logins
are under "finished_members" of `demo --json`.
Everything here is invented; no real person is described.

Running it again resets the demo people's passwords and mints new API tokens and feed URLs;
it does not create the cohorts twice.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyotp
from tortoise.transactions import in_transaction

from models.accounts import ApiToken, FactorKind, Role, SecondFactor, User
from models.board import Attendance, AttendanceStatus
from models.closure import ClosureSummary
from models.clinical import Goal, SafetyItem
from models.reminders import NotifiedAbsence
from models.cohorts import (
    Cohort,
    CohortStatus,
    ConsentMethod,
    Enrollment,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from server import accounts, clock, reminders, schedule
from server import fidelity
from server.board.hub import Hub
from server.closure import service, signoff
from server.board.service import BoardService
from server.board.state import Command
from server.enrollment import intake
from server.enrollment import ConsentGiven, enroll
from server.measures import responses, safety
from server.platform.settings import Settings
from server.schedule import feeds
from server.supervision import assignments
from server.reminders import follow_ups, online

DOMAIN = "demo.groupipt.example"
HALFWAY = "Demo: Tuesday evening group"
ENROLLING = "Demo: Thursday morning group"
ZONE = "Europe/London"
SESSION_TIME = time(18, 0)  # the half-way cohort meets on Tuesdays at six

@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: Role

STAFF = [
    Person("coordinator", "Carmen Okafor", Role.COORDINATOR),
    Person("facilitator1", "Farah Haddad", Role.FACILITATOR),
    Person("facilitator2", "Tomasz Nowak", Role.FACILITATOR),
]
# A clinician who facilitates no demo cohort and supervises both facilitators. Not in
# `users` of `demo --json` (which promises two facilitators) but beside it, as "supervisor".
SUPERVISOR = Person("supervisor", "Dr Nadia Rahman", Role.FACILITATOR)

# Member, problem areas, goals in their own words, inventory entries (role labels only),
# and a weekly PHQ-9 total trajectory: baseline, then before sessions 1-4.
MEMBERS = [
    ("Amara Diallo", "grief", "", ["Talk with my brother about Mum without shutting down",
                                   "Go back to the Sunday walking group"],
     ["my brother", "my aunt"], [18, 17, 15, 13, 11]),
    ("Ben Carter", "role_dispute", "interpersonal_deficits", ["Ask my partner for help with the evenings without a row"],
     ["my partner", "my manager"], [16, 16, 14, 12, 9]),
    ("Chloé Martin", "role_transition", "", ["Build a routine since moving to the city",
                                             "Tell one colleague how I really feel"],
     ["my flatmate", "a colleague"], [14, 13, 13, 11, 10]),
    ("Dev Patel", "interpersonal_deficits", "", ["Say yes to one invitation a week"],
     ["my cousin", "old school friend"], [21, 20, 19, 18, 17]),
    ("Elena Rossi", "role_dispute", "role_transition", ["Set a boundary with my mother about visits"],
     ["my mother", "my sister"], [12, 11, 9, 7, 5]),
    ("Femi Adeyemi", "role_transition", "grief", ["Find my place at home since retiring"],
     ["my wife", "my neighbour"], [15, 15, 14, 13, 12]),
    ("Grace Lin", "grief", "", ["Share memories of Dad with my children"],
     ["my daughter", "my son"], [17, 0, 0, 0, 0]),
    ("Hugo Fischer", "interpersonal_deficits", "role_dispute", ["Rejoin my five-a-side team"],
     ["my teammate", "my landlord"], [13, 0, 0, 0, 0]),
]
HALFWAY_MEMBERS = 6  # the first six; the last two are enrolled in the enrolling cohort

GROUP_GOALS = ["Start and end on time, and let each person finish speaking",
               "Offer each other encouragement, not advice"]

def _items_for(total: int, item9: int = 0) -> list[int]:
    """Nine PHQ-9 answers (0-3) adding up to `total`, with item 9 as given."""
    answers = [0] * 9
    answers[8] = item9
    remaining = total - item9
    for index in [0, 1, 3, 2, 5, 6, 4, 7] * 3:
        if remaining <= 0:
            break
        if answers[index] < 3:
            answers[index] += 1
            remaining -= 1
    return answers

def _gad_items(total: int) -> list[int]:
    answers = [0] * 7
    for index in list(range(7)) * 3:
        if total <= 0:
            break
        if answers[index] < 3:
            answers[index] += 1
            total -= 1
    return answers

async def _person(person: Person, password: str, existing: User | None = None) -> User:
    hasher = accounts.Passwords("cheapest")  # demo only: fast to load; real accounts use argon2 defaults
    password_hash = await hasher.hash(password)
    email = f"{person.key}@{DOMAIN}"
    user = existing or await User.get_or_none(email=email)
    if user is None:
        return await User.create(email=email, display_name=person.name, role=person.role,
                                 password_hash=password_hash, time_zone=ZONE)
    user.password_hash = password_hash
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "session_epoch"])
    return user

async def _demo_totp(user: User, now: datetime) -> str:
    """A fresh authenticator for a demo staff login (its secret goes into `demo --json`)."""
    await SecondFactor.filter(user=user).delete()
    factor = await SecondFactor.create(user=user, kind=FactorKind.TOTP, name="demo", secret=pyotp.random_base32(),
                                       confirmed_at=now)
    return factor.secret


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)

async def load_demo(settings: Settings, *, coordinator: User | None = None, now: datetime | None = None) -> dict:
    """Load (or refresh) the demo in one transaction: all of it, or nothing."""
    async with in_transaction():
        return await _load(settings, coordinator=coordinator, now=now or clock.now())


async def _load(settings: Settings, *, coordinator: User | None, now: datetime) -> dict:
    await schedule.ensure_builtin_templates()
    logins: list[dict] = []
    people: dict[str, User] = {}

    for person in STAFF:
        if person.key == "coordinator" and coordinator is not None:
            people["coordinator"] = coordinator
            continue
        password = _password()
        people[person.key] = await _person(person, password)
        logins.append({"key": person.key, "password": password})
    members: list[User] = []
    for index, (name, *_rest) in enumerate(MEMBERS, start=1):
        password = _password()
        user = await _person(Person(f"member{index}", name, Role.MEMBER), password)
        members.append(user)
        logins.append({"key": f"member{index}", "password": password})
    people.update({f"member{i}": m for i, m in enumerate(members, start=1)})

    halfway = await Cohort.get_or_none(name=HALFWAY)
    if halfway is None:
        halfway = await _halfway_cohort(people, members, now)
    enrolling = await Cohort.get_or_none(name=ENROLLING)
    if enrolling is None:
        enrolling = await _enrolling_cohort(people, members, now)
    await _online_and_followed_up(halfway, settings, now)

    supervisor_password = _password()
    supervisor = await _supervisor(people, supervisor_password)

    users_json = []
    feed_urls = await feeds.mint_feed_urls([*people.values(), supervisor], base_url=settings.base_url)
    passwords = {login["key"]: login["password"] for login in logins}
    for key, user in people.items():
        if key not in passwords:
            continue  # the coordinator who ran setup keeps their own password
        users_json.append(await _login_json(user, passwords[key], feed_urls.get(user.email), now))
    supervisor_json = await _login_json(supervisor, supervisor_password, feed_urls.get(supervisor.email), now)
    supervisor_json["supervises"] = [people["facilitator1"].email, people["facilitator2"].email]
    finished, finished_logins = await load_finished_cohort(people, supervisor, now)
    finished_users = [await _login_json(u, p, None, now) for u, p in finished_logins]
    return {
        "base_url": settings.base_url,
        "users": users_json,
        "supervisor": supervisor_json,
        "cohorts": [await _cohort_json(settings, halfway, now), await _cohort_json(settings, enrolling, now),
                    await finished_cohort_json(settings, finished, now)],
        "finished_members": finished_users,
        "boards": await _boards_json(settings, halfway, now),
        "reminders": await _reminders_json(settings, halfway, now),
    }

async def _login_json(user: User, password: str, feed_url: str | None, now: datetime) -> dict:
    await ApiToken.filter(user=user, name="demo", revoked_at=None).update(revoked_at=now)
    _, token = await accounts.create_api_token(user, "demo")
    entry = {
        "email": user.email, "password": password, "role": user.role.value, "name": user.display_name,
        "api_token": token, "feed_url": feed_url,
    }
    if user.role != Role.MEMBER:  # staff sign in with a second factor: scripts compute codes from this
        entry["totp_secret"] = await _demo_totp(user, now)
    return entry


async def _supervisor(people: dict[str, User], password: str) -> User:
    """The demo's supervisor, marked a clinician, supervising both facilitators."""
    user = await _person(SUPERVISOR, password)
    if user.clinician is not True:
        user.clinician = True
        await user.save(update_fields=["clinician"])
    await assignments.set_supervisees(user, [people["facilitator1"].id, people["facilitator2"].id],
                                      by=people["coordinator"])
    return user


async def _template(slug: str) -> ProtocolTemplate:
    return await ProtocolTemplate.get(slug=slug)

def halfway_start(now: datetime) -> date:
    """The Tuesday of the half-way cohort's first session: sessions 1-4 (weekly, Tuesdays at
    SESSION_TIME in ZONE) have begun by `now` and session 5 has not, whatever the day and hour."""
    zone = ZoneInfo(ZONE)
    local = now.astimezone(zone)
    fourth = local.date() - timedelta(days=(local.weekday() - 1) % 7)  # this week's Tuesday, or today
    if datetime.combine(fourth, SESSION_TIME, tzinfo=zone) >= local:  # a Tuesday before the session
        fourth -= timedelta(days=7)
    return fourth - timedelta(days=21)


async def _halfway_cohort(people: dict[str, User], members: list[User], now: datetime) -> Cohort:
    coordinator, f1, f2 = people["coordinator"], people["facilitator1"], people["facilitator2"]
    template = await _template("who-group-ipt")
    first_session = halfway_start(now)
    planned_at = now - timedelta(days=46)  # the cohort was set up three weeks before session 1
    values = schedule.parse_cohort_input({
        "name": HALFWAY, "public_title": "Tuesday group", "template": template.id, "time_zone": ZONE,
        "start_date": first_session.isoformat(), "weekday": first_session.weekday(),
        "start_time": SESSION_TIME.strftime("%H:%M"),
        "capacity": 8, "location": "Room 2, Elm Street Centre", "video_link": "",
    }, facilitator_ids=[f1.id, f2.id])
    cohort = await schedule.create_cohort(values, by=coordinator, now=planned_at)
    await schedule.set_status(cohort, CohortStatus.ENROLLING, by=coordinator)
    enrollments = []
    for user in members[:HALFWAY_MEMBERS]:
        # Each signed the group agreement at screening, before being enrolled.
        consent = ConsentGiven(at=planned_at - timedelta(hours=1), method=ConsentMethod.SIGNED_FORM,
                               version=cohort.group_agreement_version)
        outcome = await enroll(cohort.id, by=coordinator, member_id=user.id, consent=consent, now=planned_at)
        enrollments.append(outcome.enrollment)
    # Enrolled before the first meeting, so their measures were due from baseline.
    await Enrollment.filter(id__in=[e.id for e in enrollments]).update(created_at=planned_at)
    # WHO Group IPT is led by one facilitator; this group has a second while he trains.
    await schedule.activate(cohort, by=coordinator, now=planned_at, override_reason=(
        f"{f2.display_name} co-facilitates while he completes his group IPT training; "
        f"{f1.display_name} leads the group."))
    for enrollment, spec in zip(enrollments, MEMBERS, strict=False):
        await _intake(enrollment, template, spec, by=f1 if enrollment.id % 2 else f2)
    for position, text in enumerate(GROUP_GOALS):
        await Goal.create(cohort=cohort, enrollment=None, text=text, position=position, created_by=f1)
    await _measures(cohort, enrollments, f1, now)
    await _run_held_sessions(cohort, enrollments, f1, f2, now)
    await _session_checklists(cohort, f1, now)
    return cohort

async def _intake(enrollment: Enrollment, template: ProtocolTemplate, spec, *, by: User) -> None:
    name, primary, secondary, goals, relations, _scores = spec
    await intake.set_problem_areas(enrollment, template, by=by, primary=primary, secondary=secondary)
    first = name.split()[0]
    # Agreed with the member at the end of their pre-group meeting.
    pregroup = await Meeting.filter(enrollment_id=enrollment.id, kind=MeetingKind.PREGROUP).order_by("starts_at").first()
    await intake.set_formulation(enrollment, by=by, agreement="agreed", agreed_at=pregroup.ends_at if pregroup else None, text=(
        f"{first}'s low mood began around a change in an important relationship. We agreed to work on "
        f"{primary.replace('_', ' ')} in the group: noticing how it shows up week to week, and practising "
        "new ways of asking for what is needed."))
    for text in goals:
        await intake.add_goal(enrollment, by=by, text=text)
    for label in relations:
        await intake.add_inventory_entry(enrollment, by=by, form={
            "role_label": label, "relationship_type": "family" if label.startswith("my ") else "friend",
            "contact_frequency": "weekly", "wants_to_change": "Talk more openly",
            "is_support": "yes" if label != relations[0] else "unknown",
        })

async def _measures(cohort: Cohort, enrollments: list[Enrollment], facilitator: User, now: datetime) -> None:
    """Baseline at the pre-group meeting, then a PHQ-9 before each group session held."""
    for enrollment, spec in zip(enrollments, MEMBERS, strict=False):
        trajectory = spec[5]
        occasions = (await responses.occasions_for(enrollment.id))
        phq = [o for o in occasions.get("phq9", []) if o.meeting_starts_at is None or o.meeting_starts_at < now]
        for occasion, total in zip(phq, trajectory, strict=False):
            at = (occasion.meeting_starts_at or now) - timedelta(hours=2)
            if at > now:
                continue
            # Dev (member 4) answered item 9 above 0 before session 2 (checked and closed), and
            # again before session 4: that one is still open for the facilitators to see.
            item9 = 1 if spec[0].startswith("Dev") and occasion.key in ("session-2", "session-4") else 0
            submission = await responses.record_on_behalf(
                enrollment.id, "phq9", _items_for(total, item9), by=facilitator, window=occasion.key, at=at)
            if submission.safety_item is not None:
                # History: the item was opened when the answer was given, not when loaded.
                await SafetyItem.filter(id=submission.safety_item.id).update(opened_at=at)
            if submission.safety_item is not None and occasion.key == "session-2":
                await safety.close_with_check(
                    submission.safety_item.id, by=facilitator, checked_at=at + timedelta(hours=1),
                    outcome="Passive thoughts after a hard week; no plan or intent. Agreed who to call.",
                    action="safety_plan", follow_up_date=(at + timedelta(days=7)).date())
        for occasion in occasions.get("gad7", [])[:1]:
            at = (occasion.meeting_starts_at or now) - timedelta(hours=2)
            if at <= now:
                await responses.record_on_behalf(
                    enrollment.id, "gad7", _gad_items(max(trajectory[0] - 4, 0)), by=facilitator,
                    window=occasion.key, at=at)
    # The pre-group meetings have been held.
    await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.PREGROUP, starts_at__lt=now).update(
        status=MeetingStatus.COMPLETED)

ABSENT = {2: {3: ("absent_notified", "Childcare fell through; let us know in the morning")},
          3: {1: ("late", ""), 3: ("absent_unnotified", "")}}
# Amara misses sessions 3 and 4: two in a row, so her facilitators are asked to call her (issue 16).
ABSENT[3][0] = ("absent_notified", "Unwell, will try to make next week")
ABSENT[4] = {0: ("absent_unnotified", "")}
TURNS = {
    2: [(0, "my brother", "Telling my brother I miss Mum and want to talk about her", "Call him on Sunday")],
    3: [(1, "my partner", "Asking for help with bedtime without blaming", "Ask on Wednesday, calmly"),
        (4, "my mother", "Saying no to a surprise visit", "Text her before the weekend")],
    4: [(2, "a colleague", "Telling a colleague I've been struggling", "Have coffee with her on Friday"),
        (5, "my wife", "Talking about what retirement feels like", "Plan one shared activity")],
}

async def _run_held_sessions(cohort: Cohort, enrollments: list[Enrollment], f1: User, f2: User, now: datetime) -> None:
    """Sessions already held were run on the real live board and closed there."""
    hub = Hub.from_url("memory://")
    service = BoardService(hub)
    held = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, starts_at__lt=now).order_by("number")
    async with hub.running():
        for meeting in held:
            board = await service.board_for(meeting)
            state = await service.state(board.id)

            async def run(name: str, actor: User = f1, **data):
                await service.execute(board.id, Command(name, data), actor, client_cmd_id=None)

            absences = ABSENT.get(meeting.number, {})
            for index, enrollment in enumerate(enrollments):
                status, reason = absences.get(index, ("present", ""))
                await run("mark_attendance", member=str(enrollment.id), status=status, reason=reason)
            for who, label, scenario, next_step in TURNS.get(meeting.number, []):
                protagonist = enrollments[who]
                goal = next((gid for gid, g in state["goals"].items() if g["member"] == str(protagonist.id)), None)
                await run("add_turn", protagonist=str(protagonist.id), role_label=label, scenario=scenario,
                          counterpart={"kind": "facilitator", "id": str(f2.id)}, goal=goal)
                turn = str((await service.state(board.id))["next_turn"] - 1)
                await run("start_turn", turn=turn)
                await run("start_feedback", turn=turn, actor=f2)
                for _stage in range(3):
                    await run("next_feedback", turn=turn)
                await run("record_next_step", turn=turn, text=next_step)
                await run("end_turn", turn=turn)
            for gid, goal in state["goals"].items():
                present = goal["member"] is None or goal["member"] in {
                    str(e.id) for i, e in enumerate(enrollments) if absences.get(i, ("present",))[0] in ("present", "late")}
                if present:
                    await run("rate_goal", goal=gid, rating=min(4, meeting.number - 1 + (int(gid) % 2)))
            await run("add_note", text=f"Session {meeting.number}: the group settled well; keep an eye on energy after the break.")
            # Used only where a member in the room still has an item with no documented contact.
            await run("close_meeting", confirm_unmarked=True,
                      confirm_safety_reason="Talked with Dev after the session; a phone check is booked for tomorrow.")

async def _online_and_followed_up(cohort: Cohort, settings: Settings, now: datetime) -> None:
    """Issue 16: the Tuesday group meets online too (a join link and dial-in), and the member who
    missed two sessions in a row has a follow-up raised for the facilitators."""
    if not cohort.video_link:
        await online.set_cohort_join(cohort, video_link="https://meet.example.org/tuesday-group",
                                     dial_in="+44 20 7946 0000, meeting code 482 913", now=now)
    # Shown even where the clinic raises none (GROUPIPT_FOLLOW_UP_AFTER_ABSENCES=none): it is demo data.
    await follow_ups.raise_follow_ups(now=now, cohort_ids=[cohort.id], settings=replace(
        settings, follow_up_after_absences=settings.follow_up_after_absences or 2))

async def _enrolling_cohort(people: dict[str, User], members: list[User], now: datetime) -> Cohort:
    coordinator, f2 = people["coordinator"], people["facilitator2"]
    template = await _template("uganda-ipt-g")
    start = (now + timedelta(days=24)).date()
    values = schedule.parse_cohort_input({
        "name": ENROLLING, "public_title": "Thursday group", "template": template.id, "time_zone": ZONE,
        "start_date": start.isoformat(), "weekday": 3, "start_time": "10:00",
        "capacity": 8, "location": "Room 1, Elm Street Centre",
    }, facilitator_ids=[f2.id])
    cohort = await schedule.create_cohort(values, by=coordinator, now=now)
    await schedule.set_status(cohort, CohortStatus.ENROLLING, by=coordinator)
    for user, spec in zip(members[HALFWAY_MEMBERS:], MEMBERS[HALFWAY_MEMBERS:], strict=True):
        consent = ConsentGiven(at=now - timedelta(days=1), method=ConsentMethod.VERBAL_IN_PERSON,
                               version=cohort.group_agreement_version)
        outcome = await enroll(cohort.id, by=coordinator, member_id=user.id, consent=consent, now=now)
        await intake.set_problem_areas(outcome.enrollment, template, by=f2, primary=spec[1], secondary=spec[2])
    return cohort

async def _cohort_json(settings: Settings, cohort: Cohort, now: datetime) -> dict:
    cohort = await Cohort.get(id=cohort.id).prefetch_related("template", "facilitators")
    next_group = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                      starts_at__gte=now).order_by("starts_at").first()
    held = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.COMPLETED).count()
    return {
        "id": cohort.id,
        "name": cohort.name,
        "status": cohort.status.value,
        "template": cohort.template.name,
        "n_group_sessions": cohort.n_group_sessions,
        "sessions_held": held,
        "start_date": cohort.start_date.isoformat(),
        "enrolled": await Enrollment.filter(cohort_id=cohort.id, status="enrolled").count(),
        "facilitators": [f.email for f in cohort.facilitators],
        "url": f"{settings.base_url}/cohorts/{cohort.id}",
        "next_group_meeting_id": next_group.id if next_group else None,
    }

async def _boards_json(settings: Settings, cohort: Cohort, now: datetime) -> list[dict]:
    meeting = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                   starts_at__gte=now - timedelta(hours=3)).order_by("starts_at").first()
    if meeting is None:
        return []
    ws_base = "ws" + settings.base_url[len("http"):]
    return [{
        "meeting_id": meeting.id,
        "ws_url": f"{ws_base}/boards/{meeting.id}/ws",
        "display_url": f"{settings.base_url}/boards/{meeting.id}/display",
        "facilitator_url": f"{settings.base_url}/boards/{meeting.id}",
        "number": meeting.number,
        "starts_at": meeting.starts_at.isoformat(),
    }]


async def _reminders_json(settings: Settings, cohort: Cohort, now: datetime) -> list[dict]:
    """Each member's reminder for the active cohort's next session, as the sweep will send it;
    one member has already said they can't come (issue 16)."""
    meeting = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                   starts_at__gt=now).order_by("starts_at").first()
    if meeting is None:
        return []
    enrolled = await Enrollment.filter(cohort_id=cohort.id, status="enrolled").order_by("id")
    if enrolled and not await NotifiedAbsence.filter(meeting_id=meeting.id).exists():
        await NotifiedAbsence.create(meeting_id=meeting.id, enrollment_id=enrolled[-1].id, notified_at=now,
                                     reason="Visiting family that week")
    return [r.as_json() for r in await reminders.reminders_for_meeting(meeting, settings=settings)]


# Session fidelity (issue 17): what the facilitator answered after each meeting held, by
# session number -> {item key: (answer, note)}; items not named were done.
CHECKLIST_ANSWERS = {
    2: {"homework-every-member": ("partly", "Two members left before we agreed theirs.")},
    3: {"decision-analysis": ("not_done", "Ran out of time after a long check-in."),
        "on-time": ("partly", "Started ten minutes late: the room was booked.")},
}
CHECKLIST_RATINGS = {1: 4, 2: 3, 3: 3}


async def _session_checklists(cohort: Cohort, facilitator: User, now: datetime, *, skip_latest: bool = True) -> None:
    """The checklists filled in after the meetings held, through the service the page uses;
    the latest session's is still to do (a missing checklist for the supervision agenda)."""
    held = await Meeting.filter(cohort_id=cohort.id, status=MeetingStatus.COMPLETED).order_by("starts_at")
    latest = max((m.number for m in held if m.kind == MeetingKind.GROUP), default=None)
    for meeting in held:
        if skip_latest and meeting.kind == MeetingKind.GROUP and meeting.number == latest:
            continue
        current = await fidelity.meeting_checklist(facilitator, meeting.id, now=now)
        given = CHECKLIST_ANSWERS.get(meeting.number, {}) if meeting.kind == MeetingKind.GROUP else {}
        answers = {item.key: fidelity.Answer(answer=fidelity.ChecklistAnswer(given.get(item.key, ("done", ""))[0]),
                                             note=given.get(item.key, ("done", ""))[1]) for item in current.items}
        await fidelity.save_checklist(facilitator, meeting.id, answers=answers, note="",
                                      rating=CHECKLIST_RATINGS.get(meeting.number, 4) if meeting.kind == MeetingKind.GROUP else 4,
                                      now=meeting.ends_at + timedelta(minutes=20))


# A finished cohort whose closure summaries need supervisor sign-off (issue 17): all eight
# sessions held, PHQ-9/GAD-7 from baseline to closure, and summaries drafted, one awaiting
# the supervisor, two finalized after approval, two still in draft.
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
FINISHED_ABSENT = {1: {4}, 4: {5, 6}}  # member index -> sessions missed
FINISHED_EDITS = {
    "warning_signs": "Staying in bed late and not answering calls.",
    "who_to_tell": "My sister, and the GP practice nurse.",
    "relapse_strategies": "Keep the weekly call; say early when something is wrong.",
    "relapse_supports": "Family and the community centre.",
    "seek_help": "Call the GP surgery or NHS 111 if low for two weeks.",
    "feelings_about_ending": "Sad to finish, and ready to keep going.",
    "next_step_kind": "maintenance",
}


async def load_finished_cohort(people: dict[str, User], supervisor: User, now: datetime) -> tuple[Cohort, list[dict]]:
    """The finished cohort (made once) and its members' logins (passwords reset each load)."""
    logins = []
    members = []
    for index, (name, *_rest) in enumerate(FINISHED_MEMBERS, start=1):
        password = _password()
        members.append(await _person(Person(f"finished{index}", name, Role.MEMBER), password))
        logins.append((members[-1], password))
    cohort = await Cohort.get_or_none(name=FINISHED)
    if cohort is None:
        cohort = await _finished_cohort(people, supervisor, members, now)
    return cohort, logins


async def _finished_cohort(people: dict[str, User], supervisor: User, members: list[User], now: datetime) -> Cohort:
    coordinator, f1 = people["coordinator"], people["facilitator1"]
    template = await _template("who-group-ipt")
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
    # Held sessions as direct rows (as the half-way cohort's pre-group meetings): attendance
    # marked, every meeting completed, the checklist filled in after each group session.
    held = await Meeting.filter(cohort_id=cohort.id, starts_at__lt=now).order_by("starts_at")
    await Meeting.filter(id__in=[m.id for m in held]).update(status=MeetingStatus.COMPLETED)
    for meeting in held:
        if meeting.kind != MeetingKind.GROUP:
            continue
        for index, enrollment in enumerate(enrollments):
            missed = meeting.number in FINISHED_ABSENT.get(index, set())
            await Attendance.create(meeting_id=meeting.id, enrollment_id=enrollment.id, recorded_by=f1,
                                    status=AttendanceStatus.ABSENT_NOTIFIED if missed else AttendanceStatus.PRESENT)
    await _session_checklists(cohort, f1, now, skip_latest=False)
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
                items = _items_for(total) if instrument == "phq9" else _gad_items(total)
                await responses.record_on_behalf(enrollment.id, instrument, items, by=facilitator,
                                                 window=occasion.key, at=occasion.meeting_starts_at - timedelta(hours=2))


async def _finished_summaries(cohort: Cohort, facilitator: User, supervisor: User, now: datetime) -> None:
    """Drafted and edited by the facilitator; members 1-2 approved and finalized, member 3
    awaiting sign-off, members 4-5 still in draft (5 not yet edited)."""
    enrollments = await Enrollment.filter(cohort_id=cohort.id).order_by("id").prefetch_related("member", "cohort__template")
    for index, enrollment in enumerate(enrollments):
        row = await service.draft(enrollment, facilitator, now=now - timedelta(days=3))
        if index == 4:
            continue
        row = await service.summary_row(row.id, facilitator)
        content = row.content
        goal_ids = [g["goal_id"] for g in content.get("goals", [])]
        form = dict(FINISHED_EDITS, **{f"goal_words_{g}": "I did this most weeks." for g in goal_ids})
        await service.save_edits(row, facilitator, form, now=now - timedelta(days=2))
        if index == 3:
            continue
        row = await service.summary_row(row.id, facilitator)
        await signoff.submit(row, facilitator, now=now - timedelta(days=2))
        if index == 2:
            continue
        row = await service.summary_row(row.id, supervisor)
        await signoff.approve(row, supervisor, now=now - timedelta(days=1))
        row = await service.summary_row(row.id, facilitator)
        await service.finalize(row, facilitator, now=now - timedelta(days=1))


async def finished_cohort_json(settings: Settings, cohort: Cohort, now: datetime) -> dict:
    entry = await _cohort_json(settings, cohort, now)
    rows = await ClosureSummary.filter(enrollment__cohort_id=cohort.id).order_by("enrollment_id", "version") \
        .select_related("enrollment__member")
    entry["requires_signoff"] = True
    entry["summaries"] = [{"id": r.id, "enrollment_id": r.enrollment_id, "member": r.enrollment.member.email,
                           "version": r.version, "status": r.status.value} for r in rows]
    return entry
