"""The cohort still enrolling (Uganda format): two members with consent and problem areas."""
from __future__ import annotations

from datetime import datetime, timedelta

from models.accounts import User
from models.cohorts import Cohort, CohortStatus, ConsentMethod, ProtocolTemplate
from server import schedule
from server.demo.halfway import HALFWAY_MEMBERS, MEMBERS
from server.demo.people import ZONE
from server.enrollment import ConsentGiven, enroll, intake

ENROLLING = "Demo: Thursday morning group"


async def enrolling_cohort(people: dict[str, User], members: list[User], now: datetime) -> Cohort:
    coordinator, f2 = people["coordinator"], people["facilitator2"]
    template = await ProtocolTemplate.get(slug="uganda-ipt-g")
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
