"""A small clinic every integration test can stand on.

Two active cohorts (A and B), a facilitator for each, a member in each, a coordinator.
"member" is the member of cohort A; "other_member" belongs to cohort B;
"facilitator" leads cohort A; "other_facilitator" leads cohort B; "supervisor" is a
facilitator who leads no cohort and supervises "facilitator" (so reads cohort A).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pyotp

from models.accounts import FactorKind, Role, SecondFactor, User
from models.cohorts import (
    Cohort,
    CohortStatus,
    ConsentMethod,
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from models.supervision import Supervision
from server import accounts
from tests.support import totp

PASSWORD = "correct horse battery"
REAUTHENTICATE_AFTER = 4 * 60  # seconds; the server asks after five minutes
ROLES = ("member", "other_member", "other_facilitator", "facilitator", "supervisor", "coordinator")


@dataclass
class World:
    base_url: str
    users: dict[str, User]
    tokens: dict[str, str]
    cohort: Cohort
    other_cohort: Cohort
    template: ProtocolTemplate
    enrollment: Enrollment
    other_enrollment: Enrollment
    meetings: list[Meeting]
    other_meetings: list[Meeting]
    _clients: dict = field(default_factory=dict)
    _signed_in_at: dict = field(default_factory=dict)

    def email(self, role: str) -> str:
        return self.users[role].email

    async def client(self, role: str):
        """A logged-in browser-like client for this role (fresh login if the session died)."""
        from tests.support.clients import logged_in

        client = self._clients.get(role)
        if client is not None:
            probe = await client.get("/account", follow_redirects=False)
            if probe.status_code == 200:
                # Sensitive actions ask for the password again after five minutes: a person
                # at the keyboard would type it; this client gives it before each test.
                if time.monotonic() - self._signed_in_at.get(role, 0) > REAUTHENTICATE_AFTER:
                    answer = await client.submit("/account/reauthenticate", {"proof": PASSWORD})
                    assert answer.status_code == 303, answer.text[:300]
                    self._signed_in_at[role] = time.monotonic()
                return client
            await client.aclose()
        client = await logged_in(self.base_url, self.email(role), PASSWORD)
        self._clients[role] = client
        self._signed_in_at[role] = time.monotonic()
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


async def make_user(role: Role | str, name: str, *, password: str = PASSWORD, email: str | None = None,
                    second_factor: bool | None = None) -> User:
    """A person who can sign in; staff come with an authenticator app (as the server requires),
    whose codes tests/support/totp.py computes. second_factor=False: staff still to set one up."""
    hasher = accounts.Passwords("cheapest")
    user = await User.create(
        email=email or unique_email(str(role)),
        display_name=name,
        role=Role(role),
        password_hash=await hasher.hash(password),
        time_zone="Europe/London",
    )
    if second_factor if second_factor is not None else user.role != Role.MEMBER:
        factor = await SecondFactor.create(user=user, kind=FactorKind.TOTP, name="test phone",
                                           secret=pyotp.random_base32(), confirmed_at=datetime.now(timezone.utc))
        totp.remember(user.email, factor.secret)
    return user


async def make_template() -> ProtocolTemplate:
    return await ProtocolTemplate.create(
        slug=f"test-{uuid.uuid4().hex[:8]}",
        name="Test protocol (1 + 8)",
        n_pregroup_individual=1,
        n_group_sessions=8,
        phases=[
            {"name": "initial", "first": 1, "last": 1},
            {"name": "middle", "first": 2, "last": 7},
            {"name": "termination", "first": 8, "last": 8},
        ],
        group_size_min=4, group_size_target_low=6, group_size_target_high=9, group_size_max=12,
        measures_schedule={"phq9": ["baseline", "every_group_session", "closure"], "gad7": ["baseline", "midpoint", "closure"]},
    )


async def make_cohort(template: ProtocolTemplate, name: str, facilitator: User, *, start: date | None = None,
                      status: CohortStatus = CohortStatus.ACTIVE, capacity: int = 9) -> tuple[Cohort, list[Meeting]]:
    """A cohort whose first group session was three weeks ago (sessions 1-3 held)."""
    start = start or (datetime.now(timezone.utc) - timedelta(days=21)).date()
    cohort = await Cohort.create(
        template=template, name=name, public_title="Group session", status=status,
        time_zone="Europe/London", weekday=start.weekday(), local_start_time="18:00",
        duration_minutes=90, n_group_sessions=8, phases=template.phases, start_date=start,
        capacity=capacity, location="Room 2",
    )
    await cohort.facilitators.add(facilitator)
    meetings = []
    for number in range(1, 9):
        starts = datetime.combine(start + timedelta(days=7 * (number - 1)), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=18)
        phase = "initial" if number == 1 else "termination" if number == 8 else "middle"
        meetings.append(await Meeting.create(
            cohort=cohort, kind=MeetingKind.GROUP, number=number, phase=phase,
            starts_at=starts, ends_at=starts + timedelta(minutes=90),
            status=MeetingStatus.COMPLETED if number <= 3 else MeetingStatus.SCHEDULED,
            uid=str(uuid.uuid4()), revised_at=datetime.now(timezone.utc),
        ))
    return cohort, meetings


async def enroll(cohort: Cohort, member: User, status: EnrollmentStatus = EnrollmentStatus.ENROLLED) -> Enrollment:
    """An enrollment with a complete consent record (when, how, agreement version)."""
    return await Enrollment.create(cohort=cohort, member=member, status=status, consent_at=datetime.now(timezone.utc),
                                   consent_method=ConsentMethod.SIGNED_FORM, consent_version="1")


def consent_fields(version: str | None = None) -> dict[str, str]:
    """What a coordinator sends to enroll someone: their consent (API and form fields)."""
    fields = {"consent_at": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="minutes"),
              "consent_method": ConsentMethod.SIGNED_FORM.value}
    if version:
        fields["consent_version"] = version
    return fields


async def build_world(base_url: str) -> World:
    users = {
        "coordinator": await make_user(Role.COORDINATOR, "Cora Coordinator"),
        "facilitator": await make_user(Role.FACILITATOR, "Fiona Facilitator"),
        "other_facilitator": await make_user(Role.FACILITATOR, "Gus Otherfacilitator"),
        "member": await make_user(Role.MEMBER, "Mina Member"),
        "other_member": await make_user(Role.MEMBER, "Nils Othermember"),
        "supervisor": await make_user(Role.FACILITATOR, "Sam Supervisor"),
    }
    await Supervision.create(supervisor=users["supervisor"], facilitator=users["facilitator"])
    template = await make_template()
    cohort, meetings = await make_cohort(template, "Tuesday evening group", users["facilitator"])
    other_cohort, other_meetings = await make_cohort(template, "Thursday morning group", users["other_facilitator"])
    enrollment = await enroll(cohort, users["member"])
    other_enrollment = await enroll(other_cohort, users["other_member"])
    tokens = {}
    for role, user in users.items():
        _, secret = await accounts.create_api_token(user, "tests")
        tokens[role] = secret
    return World(
        base_url=base_url, users=users, tokens=tokens, cohort=cohort, other_cohort=other_cohort,
        template=template, enrollment=enrollment, other_enrollment=other_enrollment,
        meetings=meetings, other_meetings=other_meetings,
    )
