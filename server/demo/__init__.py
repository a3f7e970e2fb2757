"""A realistic demo clinic, built through the same services the pages use.

Three cohorts (modules beside this one):
- `halfway`: half-way through the WHO format (sessions 1-4 held on the live board, with
  attendance, role plays, goal progress and weekly PHQ-9 history, one open safety item);
- `enrolling`: still enrolling (Uganda format);
- `finished`: the whole journey, held in the past on the live board, with closure summaries
  needing supervisor sign-off (finalized, one amended, one awaiting the supervisor, drafts)
  and the outcome report's figures; its members' logins are under "finished_members" of
  `demo --json`, and the one who can open her summary and its PDF is "journey_member".
Eight members with problem areas, two facilitators, one coordinator, and a supervisor (a
clinician) who supervises both facilitators (issue 17). Everything here is invented; no real
person is described.

Running it again resets the demo people's passwords and mints new API tokens and feed URLs;
it does not create the cohorts twice.
"""
from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.cohorts import Cohort
from server import clock, schedule
from server.demo.enrolling import ENROLLING, enrolling_cohort
from server.demo.finished import finished_cohort_json, journey_json, load_finished_cohort
from server.demo.halfway import HALFWAY, MEMBERS, SESSION_TIME, halfway_cohort, halfway_start, online_and_followed_up
from server.demo.output import boards_json, cohort_json, reminders_json
from server.demo.people import STAFF, ZONE, Person, login_json, new_password, person, supervisor
from server.platform.settings import Settings
from server.schedule import feeds

__all__ = ["SESSION_TIME", "ZONE", "halfway_start", "load_demo"]


async def load_demo(settings: Settings, *, coordinator: User | None = None, now: datetime | None = None) -> dict:
    """Load (or refresh) the demo in one transaction: all of it, or nothing."""
    async with in_transaction():
        return await _load(settings, coordinator=coordinator, now=now or clock.now())


async def _load(settings: Settings, *, coordinator: User | None, now: datetime) -> dict:
    await schedule.ensure_builtin_templates()
    passwords: dict[str, str] = {}
    people: dict[str, User] = {}
    for who in STAFF:
        if who.key == "coordinator" and coordinator is not None:
            people["coordinator"] = coordinator  # the coordinator who ran setup keeps their own password
            continue
        passwords[who.key] = new_password()
        people[who.key] = await person(who, passwords[who.key])
    members: list[User] = []
    for index, (name, *_rest) in enumerate(MEMBERS, start=1):
        passwords[f"member{index}"] = new_password()
        members.append(await person(Person(f"member{index}", name, Role.MEMBER), passwords[f"member{index}"]))
    people.update({f"member{i}": m for i, m in enumerate(members, start=1)})

    halfway = await Cohort.get_or_none(name=HALFWAY) or await halfway_cohort(people, members, now)
    enrolling = await Cohort.get_or_none(name=ENROLLING) or await enrolling_cohort(people, members, now)
    await online_and_followed_up(halfway, settings, now)

    supervisor_password = new_password()
    clinician = await supervisor(people, supervisor_password)
    feed_urls = await feeds.mint_feed_urls([*people.values(), clinician], base_url=settings.base_url,
                                         secret_key=settings.secret_key)
    users_json = [await login_json(user, passwords[key], feed_urls.get(user.email), now)
                  for key, user in people.items() if key in passwords]
    supervisor_json = await login_json(clinician, supervisor_password, feed_urls.get(clinician.email), now)
    supervisor_json["supervises"] = [people["facilitator1"].email, people["facilitator2"].email]
    finished, finished_logins = await load_finished_cohort(people, clinician, now)
    finished_users = [await login_json(u, p, None, now) for u, p in finished_logins]
    finished_entry = await finished_cohort_json(settings, await cohort_json(settings, finished, now), finished)
    return {
        "base_url": settings.base_url,
        "users": users_json,
        "supervisor": supervisor_json,
        "cohorts": [await cohort_json(settings, halfway, now), await cohort_json(settings, enrolling, now),
                    finished_entry],
        "finished_members": finished_users,
        "journey_member": await journey_json(settings, finished, finished_users[0]),
        "boards": await boards_json(settings, halfway, now),
        "reminders": await reminders_json(settings, halfway, now),
    }
