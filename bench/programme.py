"""The programme report at 20 and at 200 cohorts: time and statements, in process.

    .venv/bin/python bench/programme.py [--large 200]

Builds N cohorts x 8 members (8 group sessions each, all held; attendance for every session;
PHQ-9 at baseline, session 4 and closure; GAD-7 at baseline and closure) with bulk inserts
into a fresh SQLite database (or GROUPIPT_BENCH_DATABASE_URL, an existing PostgreSQL
database, which it migrates and fills), then times `programme_report` for a coordinator
grouped by cohort and by facilitator, the CSV and the charts, and counts the statements.
Targets: statements equal at both sizes; the report at the large N within 20x its time at
the small N (10x the rows) and under 2 s. The last line is `programme: N targets held, M missed`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBERS = 8
SESSIONS = 8


async def grow(to: int, made: list[int], template, facilitators) -> None:
    from models.accounts import Role, User
    from models.board import Attendance, AttendanceStatus
    from models.clinical import MeasureResponse
    from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus

    now = datetime.now(UTC)
    while len(made) < to:
        n = len(made)
        start = (now - timedelta(days=70 + n)).date()
        cohort = await Cohort.create(template=template, name=f"Bench {n}", status=CohortStatus.ACTIVE, time_zone="UTC",
                                     weekday=start.weekday(), local_start_time="18:00", n_group_sessions=SESSIONS,
                                     phases=template.phases, start_date=start)
        await cohort.facilitators.add(facilitators[n % len(facilitators)])
        tag = uuid.uuid4().hex[:8]
        await Meeting.bulk_create([Meeting(
            cohort=cohort, kind=MeetingKind.GROUP, number=k + 1, phase="middle",
            starts_at=datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(days=7 * k, hours=18),
            ends_at=datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(days=7 * k, hours=19, minutes=30),
            status=MeetingStatus.COMPLETED, uid=f"{tag}-{k}", revised_at=now) for k in range(SESSIONS)])
        meetings = await Meeting.filter(cohort=cohort).order_by("number")
        await User.bulk_create([User(email=f"m{tag}{k}@bench.example", display_name=f"Member {n}-{k}", role=Role.MEMBER)
                                for k in range(MEMBERS)])
        people = await User.filter(email__startswith=f"m{tag}")
        await Enrollment.bulk_create([Enrollment(cohort=cohort, member=p, status=EnrollmentStatus.ENROLLED) for p in people])
        enrollments = await Enrollment.filter(cohort=cohort)
        await Attendance.bulk_create([
            Attendance(meeting=m, enrollment=e, status=AttendanceStatus.PRESENT if (i + j) % 5 else AttendanceStatus.ABSENT_NOTIFIED)
            for i, e in enumerate(enrollments) for j, m in enumerate(meetings)])
        answers = []
        for i, e in enumerate(enrollments):
            base = 8 + (i * 3) % 15
            for window, total, day in (("baseline", base, 0), ("session-4", max(0, base - 4), 21), ("closure", max(0, base - 7 - i % 3), 49)):
                answers.append(MeasureResponse(enrollment=e, instrument="phq9", items=[0] * 9, total=total, band="none",
                                               window=window, administered_at=meetings[0].starts_at + timedelta(days=day)))
            for window, total, day in (("baseline", 6 + i, 0), ("closure", 3 + i // 2, 49)):
                answers.append(MeasureResponse(enrollment=e, instrument="gad7", items=[0] * 7, total=total, band="none",
                                               window=window, administered_at=meetings[0].starts_at + timedelta(days=day)))
        await MeasureResponse.bulk_create(answers)
        made.append(cohort.id)


async def measure(label: str) -> dict[str, float]:
    from tortoise import connections

    from server.programme import charts, export
    from server.programme.report import Filters, Grouping, Scope, programme_report

    counted = [0]
    connection = connections.get("default")
    originals = {name: getattr(connection, name) for name in ("execute_query", "execute_query_dict")}

    def counting(method):
        async def wrapper(*args, **kwargs):
            counted[0] += 1
            return await method(*args, **kwargs)
        return wrapper

    for name, method in originals.items():
        setattr(connection, name, counting(method))
    out = {}
    try:
        for grouping in (Grouping.COHORT, Grouping.FACILITATOR):
            best = float("inf")
            for _ in range(3):
                counted[0] = 0
                started = time.perf_counter()
                report = await programme_report(Scope(facilitator_ids=None), Filters(group_by=grouping),
                                                now=datetime.now(UTC), names={})
                export.as_csv(report, b"bench")
                charts.dashboard_charts([(r.name, r.group) for r in report.rows])
                best = min(best, time.perf_counter() - started)
            out[f"{grouping.value}_seconds"] = best
            out[f"{grouping.value}_statements"] = counted[0]
            out["members"] = report.total.figures.enrolled if report.total.figures else 0
    finally:
        for name in originals:
            delattr(connection, name)
    print(f"{label}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in out.items()))
    return out


async def main(large: int) -> int:
    from tortoise import Tortoise

    from models.accounts import Role, User
    from models.cohorts import ProtocolTemplate
    from server.platform.settings import tortoise_config

    url = os.environ.get("GROUPIPT_BENCH_DATABASE_URL") or f"sqlite://{tempfile.mkdtemp()}/bench.sqlite3"
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)
    template = await ProtocolTemplate.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench (1 + 8)", n_group_sessions=SESSIONS,
                                             phases=[{"name": "middle", "first": 1, "last": SESSIONS}])
    facilitators = [await User.create(email=f"f{uuid.uuid4().hex[:8]}@bench.example", display_name=f"Facilitator {k}",
                                      role=Role.FACILITATOR) for k in range(max(2, large // 10))]
    made: list[int] = []
    await grow(20, made, template, facilitators)
    small = await measure("20 cohorts")
    await grow(large, made, template, facilitators)
    big = await measure(f"{large} cohorts")
    await Tortoise.close_connections()
    checks = [
        ("statements equal, by cohort", big["cohort_statements"] == small["cohort_statements"]),
        ("statements equal, by facilitator", big["facilitator_statements"] == small["facilitator_statements"]),
        ("time within 20x of the small N", big["cohort_seconds"] <= 20 * small["cohort_seconds"]),
        ("under 2 s at the large N", big["cohort_seconds"] < 2 and big["facilitator_seconds"] < 2),
    ]
    for name, held in checks:
        print(f"  {'held' if held else 'MISSED'}: {name}")
    missed = sum(1 for _, held in checks if not held)
    print(f"programme: {len(checks) - missed} targets held, {missed} missed")
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args().large)))
