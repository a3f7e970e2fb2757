"""The programme dashboard over a real server, on SQLite and PostgreSQL: figures of a
hand-built programme that match what was counted by hand, suppression under 5 people, a CSV
and a JSON without any name, supervisors kept to their facilitators' cohorts, and a
statement count that does not grow with the cohorts.

The programme (one fresh template, so the shared test world's cohorts stay out of the sums):
- cohort X, led by Pia, finished (all 8 sessions in the past), 6 people counted:
  m1 attended 8, PHQ-9 20 -> 4 (response, remission), GAD-7 12 -> 5 (response);
  m2 attended 7 missed 1, PHQ-9 14 -> 10 (no response), GAD-7 8 -> 6 (below 10);
  m3 attended 6 missed 2, PHQ-9 8 -> 7 (below 10, reported apart);
  m4 attended 2 missed 1 then withdrew (dropped out), PHQ-9 18 -> 9 (response, no remission);
  m5 enrolled then withdrew before any session (left before starting);
  m6 enrolled, never came, PHQ-9 baseline 16 only (not started, no later score);
  and m7, withdrawn from screening, never in the group: not counted at all.
- cohort Y, led by Quinn, running (sessions 1-3 held): 5 people, each attended 3 of 3.
- cohort Z, led by Pia, 3 people: fewer than 5, left out of every figure.
Sol supervises Pia only.
"""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from models.accounts import Role, User
from models.board import Attendance, AttendanceStatus
from models.clinical import MeasureResponse
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, EnrollmentTransition
from models.supervision import Supervision
from server import programme
from server.measures.instruments import band_for
from server.programme.report import Filters, Grouping, Scope
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")
P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT_NOTIFIED


def items_for(instrument: str, total: int) -> list[int]:
    n = 9 if instrument == "phq9" else 7
    answers = [min(3, max(0, total - 3 * i)) for i in range(n - 1)] + [0]
    assert sum(answers) == total
    return answers


async def scores(enrollment: Enrollment, instrument: str, by_window: list[tuple[str, int]], first: datetime) -> None:
    for n, (window, total) in enumerate(by_window):
        await MeasureResponse.create(
            enrollment=enrollment, instrument=instrument, items=items_for(instrument, total), total=total,
            band=band_for(instrument, total).key, item9=0 if instrument == "phq9" else None,
            window=window, administered_at=first + timedelta(days=7 * n))


async def attend(enrollment: Enrollment, meetings, marks: list[AttendanceStatus]) -> None:
    await Attendance.bulk_create([Attendance(meeting=m, enrollment=enrollment, status=s) for m, s in zip(meetings, marks)])


async def member(cohort: Cohort, name: str, status=EnrollmentStatus.ENROLLED, *, was_enrolled: bool = True) -> Enrollment:
    person = await make_user(Role.MEMBER, name)
    enrollment = await enroll(cohort, person, status)
    if was_enrolled:
        await EnrollmentTransition.create(enrollment=enrollment, from_status="", to_status=EnrollmentStatus.ENROLLED.value)
    if status == EnrollmentStatus.WITHDRAWN and was_enrolled:
        await EnrollmentTransition.create(enrollment=enrollment, from_status="enrolled", to_status="withdrawn")
    return enrollment


@pytest_asyncio.fixture(scope="module")
async def programme_world(live_server, db):
    tag = uuid.uuid4().hex[:6]
    pia = await make_user(Role.FACILITATOR, f"Pia Programmeleader {tag}")
    quinn = await make_user(Role.FACILITATOR, f"Quinn Programmeleader {tag}")
    sol = await make_user(Role.FACILITATOR, f"Sol Programmesupervisor {tag}")
    cora = await make_user(Role.COORDINATOR, f"Coral Programmecoordinator {tag}")
    await Supervision.create(supervisor=sol, facilitator=pia)
    template = await make_template()
    now = datetime.now(timezone.utc)
    x, x_meetings = await make_cohort(template, f"Xavier street group {tag}", pia, start=(now - timedelta(days=7 * 9)).date())
    y, y_meetings = await make_cohort(template, f"Yellow room group {tag}", quinn)
    z, z_meetings = await make_cohort(template, f"Zinnia small group {tag}", pia, start=(now - timedelta(days=7 * 5)).date())
    first = x_meetings[0].starts_at - timedelta(days=3)

    m1 = await member(x, f"Mona Firstmember {tag}")
    await attend(m1, x_meetings, [P] * 8)
    await scores(m1, "phq9", [("baseline", 20), ("session-4", 12), ("closure", 4)], first)
    await scores(m1, "gad7", [("baseline", 12), ("closure", 5)], first)
    m2 = await member(x, f"Milo Secondmember {tag}")
    await attend(m2, x_meetings, [P] * 7 + [A])
    await scores(m2, "phq9", [("baseline", 14), ("closure", 10)], first)
    await scores(m2, "gad7", [("baseline", 8), ("closure", 6)], first)
    m3 = await member(x, f"Maya Thirdmember {tag}")
    await attend(m3, x_meetings, [P, A, P, P, A, P, P, P])
    await scores(m3, "phq9", [("baseline", 8), ("closure", 7)], first)
    m4 = await member(x, f"Marek Fourthmember {tag}", EnrollmentStatus.WITHDRAWN)
    await attend(m4, x_meetings, [P, AttendanceStatus.LATE, AttendanceStatus.ABSENT_UNNOTIFIED])
    await scores(m4, "phq9", [("baseline", 18), ("session-2", 9)], first)
    await member(x, f"Mabel Fifthmember {tag}", EnrollmentStatus.WITHDRAWN)
    m6 = await member(x, f"Moss Sixthmember {tag}")
    await scores(m6, "phq9", [("baseline", 16)], first)
    await member(x, f"Mira Screenedout {tag}", EnrollmentStatus.WITHDRAWN, was_enrolled=False)

    for n in range(5):
        e = await member(y, f"Yusuf Ymember{n} {tag}")
        await attend(e, y_meetings[:3], [P, P, P])
    for n in range(3):
        e = await member(z, f"Zora Zmember{n} {tag}")
        await attend(e, z_meetings[:1], [P])

    tokens = {}
    from server import accounts
    for key, person in (("coordinator", cora), ("supervisor", sol), ("facilitator", quinn)):
        _, tokens[key] = await accounts.create_api_token(person, "programme")
    yield dict(template=template, x=x, y=y, z=z, pia=pia, quinn=quinn, sol=sol, cora=cora, tokens=tokens,
               url=live_server.url)


async def api_get(world, who: str, **params):
    async with bearer(world["url"], world["tokens"][who]) as api:
        return await api.get("/api/v1/programme", params={k: v for k, v in params.items() if v is not None})


def by_group(body: dict) -> dict[str, dict]:
    return {g["group"]: g for g in body["groups"]}


async def test_the_figures_of_a_hand_built_programme_match_by_hand(programme_world):
    w = programme_world
    response = await api_get(w, "coordinator", group_by="cohort", template=w["template"].id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [g["suppressed"] for g in body["groups"]] == [False, True, False]  # X, Z, Y by start date
    x, z, y = body["groups"]
    assert {k: x[k] for k in ("enrolled", "started", "completed", "dropped_out", "still_attending", "not_started",
                              "left_before_starting", "sessions_attended", "sessions_marked")} == {
        "enrolled": 6, "started": 4, "completed": 3, "dropped_out": 1, "still_attending": 0, "not_started": 1,
        "left_before_starting": 1, "sessions_attended": 23, "sessions_marked": 27}
    assert (x["completion_rate"], x["dropout_rate"], x["attendance_rate"]) == (0.75, 0.25, round(23 / 27, 3))
    assert {k: x[k] for k in x if k.startswith("phq9")} == {
        "phq9_counted": 3, "phq9_responders": 2, "phq9_response_rate": 0.667, "phq9_remitters": 1,
        "phq9_remission_rate": 0.333, "phq9_below_threshold": 1, "phq9_no_later_score": 1,
        "phq9_mean_change": -9.7}  # (-16 - 4 - 9) / 3
    assert {k: x[k] for k in x if k.startswith("gad7")} == {
        "gad7_counted": 1, "gad7_responders": 1, "gad7_response_rate": 1.0, "gad7_below_threshold": 1,
        "gad7_no_later_score": 0, "gad7_mean_change": -7.0}
    assert (y["enrolled"], y["started"], y["still_attending"], y["completed"], y["attendance_rate"]) == (5, 5, 5, 0, 1.0)
    assert y["phq9_counted"] == 0 and y["phq9_response_rate"] is None
    total = body["total"]
    assert (total["enrolled"], total["started"], total["cohorts"]) == (11, 9, 2)
    assert body["suppression"]["cohorts_left_out"] == 1


async def test_a_group_under_five_is_suppressed_in_every_cell_and_the_total_gives_it_away_nowhere(programme_world):
    w = programme_world
    body = (await api_get(w, "coordinator", group_by="cohort", template=w["template"].id)).json()
    z = body["groups"][1]
    assert z["suppressed"] is True
    assert all(value is None for key, value in z.items() if key not in ("group_by", "group", "suppressed")), z
    shown = [g for g in body["groups"] if not g["suppressed"]]
    for column in ("enrolled", "started", "completed", "sessions_attended", "phq9_counted", "phq9_responders"):
        assert body["total"][column] == sum(g[column] for g in shown), column
    # Grouped by facilitator, Pia's row has X only: Z is left out there too, so X's row and
    # Pia's row cannot be subtracted to show Z.
    by_facilitator = (await api_get(w, "coordinator", group_by="facilitator", template=w["template"].id)).json()
    rows = [g for g in by_facilitator["groups"] if not g["suppressed"]]
    assert sorted(g["enrolled"] for g in rows) == [5, 6]
    assert by_facilitator["total"]["enrolled"] == 11
    by_template = (await api_get(w, "coordinator", group_by="template", template=w["template"].id)).json()
    assert [g["enrolled"] for g in by_template["groups"]] == [11]
    # Only Z started in its week: the period's one cohort is under 5, so the group shows nothing.
    z_start = w["z"].start_date.isoformat()
    alone = (await api_get(w, "coordinator", group_by="quarter", template=w["template"].id, **{"from": z_start, "to": z_start})).json()
    assert alone["total"]["suppressed"] is True and all(g["suppressed"] for g in alone["groups"])


async def test_the_csv_names_nobody_and_has_the_same_numbers_as_the_json(programme_world):
    w = programme_world
    client = await logged_in(w["url"], w["cora"].email, PASSWORD)
    try:
        texts = {}
        for grouping in ("cohort", "facilitator", "template", "quarter"):
            response = await client.get("/programme.csv", params={"group_by": grouping})
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
            assert "attachment" in response.headers["content-disposition"]
            texts[grouping] = response.text
        scoped = await client.get("/programme.csv", params={"group_by": "cohort", "template": w["template"].id})
    finally:
        await client.aclose()
    people = await User.all().values_list("display_name", "email")
    cohort_names = await Cohort.all().values_list("name", flat=True)
    for grouping, text in texts.items():
        for name, email in people:
            assert name not in text and email not in text, (grouping, name)
        for name in cohort_names:
            assert name not in text, (grouping, name)
    table = list(csv.DictReader(io.StringIO(scoped.text)))
    body = (await api_get(w, "coordinator", group_by="cohort", template=w["template"].id)).json()
    for row, group in zip(table, [*body["groups"], body["total"]], strict=True):
        assert row["group"] == group["group"]
        for column, value in group.items():
            if column in ("group_by", "group"):
                continue
            expected = "" if value is None else ("yes" if value is True else "no" if value is False else str(value))
            assert row[column] == expected, (row["group"], column)
    assert table[1]["suppressed"] == "yes" and table[1]["enrolled"] == ""
    assert table[0]["group"].startswith("Cohort C-") and table[-1]["group"] == "Total"


async def test_a_supervisor_sees_only_the_cohorts_of_the_facilitators_they_supervise(programme_world):
    w = programme_world
    body = (await api_get(w, "supervisor", group_by="cohort")).json()
    keys = {g["group"] for g in body["groups"]}
    everyone = by_group((await api_get(w, "coordinator", group_by="cohort", template=w["template"].id)).json())
    x_label, z_label, y_label = list(everyone)
    assert keys == {x_label, z_label}  # Pia's X and Z; never Quinn's Y
    assert body["total"]["enrolled"] == 6
    facilitators = (await api_get(w, "supervisor", group_by="facilitator")).json()
    assert len(facilitators["groups"]) == 1 and facilitators["groups"][0]["enrolled"] == 6
    refused = await api_get(w, "supervisor", facilitator=w["quinn"].id)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    # A facilitator who supervises nobody is refused.
    assert (await api_get(w, "facilitator")).status_code == 403


async def test_the_world_supervisor_sees_cohort_a_and_not_cohort_b(world, live_server):
    from server.programme.export import label

    async with bearer(world.base_url, world.tokens["supervisor"]) as api:
        body = (await api.get("/api/v1/programme", params={"template": world.template.id})).json()
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        everyone = (await api.get("/api/v1/programme", params={"template": world.template.id})).json()
    # The pseudonyms are keyed by the server's secret, which the test server was given.
    key = live_server.env["GROUPIPT_SECRET_KEY"].encode()
    a_label, b_label = label("cohort", world.cohort.id, key), label("cohort", world.other_cohort.id, key)
    assert {a_label, b_label} <= {g["group"] for g in everyone["groups"]}
    assert a_label in {g["group"] for g in body["groups"]} and b_label not in {g["group"] for g in body["groups"]}
    # Other tests on the shared world enroll members into cohort A; suppression follows the count.
    counted = await Enrollment.filter(cohort_id=world.cohort.id, status__in=["enrolled", "completed", "withdrawn"]).count()
    if counted < 5:
        assert by_group(body)[a_label]["suppressed"]


async def test_the_page_shows_names_to_staff_charts_with_text_and_the_filters(programme_world):
    w = programme_world
    client = await logged_in(w["url"], w["sol"].email, PASSWORD)
    try:
        page = await client.get("/programme", params={"group_by": "cohort"})
        # The form sends its empty fields too: "any" on the page and for its CSV link.
        blank = {"group_by": "template", "template": "", "facilitator": "", "from": "", "to": ""}
        assert (await client.get("/programme", params=blank)).status_code == 200
        assert (await client.get("/programme.csv", params=blank)).status_code == 200
        home = await client.get("/")
    finally:
        await client.aclose()
    assert page.status_code == 200
    assert w["x"].name in page.text and w["y"].name not in page.text
    assert 'data-suppressed="yes"' in page.text and "in exports: Cohort C-" in page.text
    assert '<title id="chart-phq9-response-title">' in page.text and "<desc" in page.text
    assert "2 of 3 (67%)" in page.text  # X's PHQ-9 response
    assert 'id="programme-link"' in home.text


async def test_a_transferred_member_is_one_episode_counted_where_it_went(programme_world):
    """Tam attended 2 sessions of the first group (baseline PHQ-9 18), moved, attended 1 more
    and answered 8 at closure: one member, in the second group, started, a responder over
    the episode (18 -> 8); the first group counts its 5 others only."""
    w = programme_world
    template = await make_template()
    first, first_meetings = await make_cohort(template, "Transfer source group", w["pia"])
    second, second_meetings = await make_cohort(template, "Transfer target group", w["pia"])
    for cohort, meetings in ((first, first_meetings), (second, second_meetings)):
        for n in range(5 if cohort is first else 4):
            e = await member(cohort, f"Tess Transferpeer{n}")
            await attend(e, meetings[:3], [P, P, P])
    old = await member(first, "Tam Transferredmember", EnrollmentStatus.WITHDRAWN)
    await attend(old, first_meetings[:2], [P, P])
    await scores(old, "phq9", [("baseline", 18)], first_meetings[0].starts_at - timedelta(days=2))
    new = await Enrollment.create(cohort=second, member_id=old.member_id, status=EnrollmentStatus.ENROLLED, transferred_from=old)
    await attend(new, second_meetings[2:3], [P])
    await MeasureResponse.create(enrollment=new, instrument="phq9", items=items_for("phq9", 8), total=8, band="mild",
                                 item9=0, window="closure", administered_at=second_meetings[2].starts_at)
    body = (await api_get(w, "coordinator", group_by="cohort", template=template.id)).json()
    source, target = body["groups"]
    assert (source["enrolled"], source["dropped_out"], source["sessions_attended"]) == (5, 0, 15)
    assert (target["enrolled"], target["started"], target["sessions_attended"]) == (5, 5, 4 * 3 + 2 + 1)
    assert (target["phq9_counted"], target["phq9_responders"], target["phq9_mean_change"]) == (1, 1, -10.0)


async def test_bad_filters_get_a_clear_4xx(programme_world):
    w = programme_world
    for params, status in (({"group_by": "member"}, 400), ({"template": "abc"}, 400), ({"template": "9" * 30}, 400),
                           ({"from": "yesterday"}, 400), ({"to": ""}, 400), ({"template": 2**31 - 1}, 404),
                           ({"facilitator": w["cora"].id}, 404),
                           ({"from": "2027-02-01", "to": "2027-01-01"}, 422)):
        response = await api_get(w, "coordinator", **params)
        assert response.status_code == status, (params, response.text)
        assert response.json()["detail"]


async def test_the_statements_do_not_grow_with_the_cohorts(programme_world):
    """In process: the report over 1 cohort and over 13 sends the same number of statements."""
    from tortoise import connections

    w = programme_world
    connection = connections.get("default")
    counted = [0]
    names = ("execute_query", "execute_query_dict")
    originals = {n: getattr(connection, n) for n in names}

    def counting(method):
        async def wrapper(*args, **kwargs):
            counted[0] += 1
            return await method(*args, **kwargs)
        return wrapper

    async def statements(template_id: int) -> tuple[int, programme.Report]:
        counted[0] = 0
        for n in names:
            setattr(connection, n, counting(originals[n]))
        try:
            report = await programme.programme_report(
                Scope(facilitator_ids=None), Filters(group_by=Grouping.FACILITATOR, template_id=template_id),
                now=datetime.now(timezone.utc), names={})
        finally:
            for n in names:
                setattr(connection, n, originals[n])
        return counted[0], report

    template = await make_template()
    await make_cohort(template, "Scale one", w["pia"])
    one, _ = await statements(template.id)
    for n in range(12):
        cohort, meetings = await make_cohort(template, f"Scale {n}", w["quinn"] if n % 2 else w["pia"])
        people = [await make_user(Role.MEMBER, f"Scale member {n}-{k}") for k in range(5)]
        enrollments = [await enroll(cohort, p) for p in people]
        await Attendance.bulk_create([Attendance(meeting=m, enrollment=e, status=P)
                                      for e in enrollments for m in meetings[:3]])
        for e in enrollments:
            await scores(e, "phq9", [("baseline", 15), ("session-3", 7)], meetings[0].starts_at)
    many, report = await statements(template.id)
    assert report.total.figures.enrolled == 60 and report.total.figures.phq9.responders == 60
    assert many == one and one <= 12, (one, many)
