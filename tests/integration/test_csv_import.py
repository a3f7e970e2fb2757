"""CSV import over a real server: the preview names every row's outcome and error, and the
import writes every row or none."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import User
from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.clients import bearer
from tests.support.world import make_cohort

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def cohort_for(world, capacity=3):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, f"Import {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                  start=start, capacity=capacity)
    return cohort


def emails(n):
    tag = uuid.uuid4().hex[:6]
    return [f"csv{i}-{tag}@example.org" for i in range(n)]


async def test_a_bad_row_writes_nothing_and_is_named(world):
    cohort = await cohort_for(world)
    a, b, c = emails(3)
    consent = ",2026-11-20,signed_form"
    text = (f"name,email,consent_at,consent_method\nAda Csv,{a}{consent}\nBob Csv,bob@nowhere{consent}\n"
            f"Cid Csv,{c}{consent}\nDup Csv,{a.upper()}{consent}\n")
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        preview = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import?dry_run=1", content=text.encode())
        run = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=text.encode())
    for response in (preview, run):
        assert response.status_code == 422
        body = response.json()
        assert body["imported"] is False
        rows = {r["line"]: r for r in body["rows"]}
        assert rows[2]["errors"] == [] and rows[2]["outcome"].startswith("Enrolled")
        assert rows[3]["errors"] == ["'bob@nowhere' is not an e-mail address"]
        assert rows[5]["errors"] == ["duplicate of line 2"]
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    assert not await User.filter(email__in=[a, c]).exists()


async def test_over_capacity_rows_waitlist_or_error_as_chosen(world):
    cohort = await cohort_for(world, capacity=2)
    addresses = emails(3)
    text = "Email;Name;Status;Consent_at;Consent_method\n" + "".join(
        f"{e};Person {i};;2026-11-20T10:00;verbal_in_person\n" for i, e in enumerate(addresses))
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        strict = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import?over_capacity=error", content=text.encode())
        assert strict.status_code == 422
        assert strict.json()["rows"][2]["errors"] == ["over capacity: the cohort has 2 places"]
        assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
        done = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=text.encode())
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["imported"] is True
    assert body["counts"] == {"rows": 3, "errors": 0, "enrolled": 2, "waitlisted": 1}
    rows = await Enrollment.filter(cohort_id=cohort.id)
    assert sorted(e.status.value for e in rows) == ["enrolled", "enrolled", "waitlisted"]
    # The cohort's zone (Europe/London) reads the naive consent time; the version is the cohort's.
    assert {(e.consent_at.isoformat(), e.consent_method.value, e.consent_version) for e in rows} == {
        ("2026-11-20T10:00:00+00:00", "verbal_in_person", "1")}


async def test_rows_already_in_the_cohort_and_staff_addresses_are_errors(world):
    cohort = await cohort_for(world)
    await Enrollment.create(cohort=cohort, member=world.users["other_member"], status=EnrollmentStatus.ENROLLED)
    text = (f"name,email,status\nNils,{world.email('other_member')},\nFiona,{world.email('facilitator')},screening\n"
            f"Someone,{emails(1)[0]},graduated\n")
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        response = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import?dry_run=true", content=text.encode())
    errors = [r["errors"] for r in response.json()["rows"]]
    assert errors == [["already in this cohort (enrolled)"], ["this address belongs to a staff account"],
                      ["status 'graduated' is not enrolled, screening or invited"]]


@pytest.mark.parametrize("content,message", [
    (b"", "The file is empty."),
    (b"first,last\nA,B\n", "at least 'name' and 'email'"),
    (b"name,email\n", "no rows"),
    ("name,email\nZo\u00eb,z@example.org\n".encode("latin-1"), "not UTF-8"),
])
async def test_unreadable_files_are_refused(world, content, message):
    cohort = await cohort_for(world)
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        response = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=content)
    assert response.status_code == 422
    assert message in response.json()["detail"]


async def test_import_pages_preview_then_import(world):
    cohort = await cohort_for(world, capacity=5)
    a, b = emails(2)
    client = await world.client("coordinator")
    form = await client.get(f"/cohorts/{cohort.id}/enrollment/import")
    assert form.status_code == 200 and 'type="file"' in form.text and "consent_method" in form.text
    csv_with_consent = f"name,email,consent_at,consent_method\nUla,{a},2026-11-01,phone\nVic,{b},2026-11-02,video\n"
    bad = await client.submit(f"/cohorts/{cohort.id}/enrollment/import/preview",
                              {"over_capacity": "waitlist", "csv_text": f"name,email\nUla,{a}\nVic,vic@\n"})
    assert bad.status_code == 400
    assert "vic@" in bad.text and "Nothing can be imported" in bad.text and "import-confirm" not in bad.text
    good = await client.submit(f"/cohorts/{cohort.id}/enrollment/import/preview",
                               {"over_capacity": "waitlist", "csv_text": csv_with_consent})
    assert good.status_code == 200 and "import-confirm" in good.text
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    done = await client.submit(f"/cohorts/{cohort.id}/enrollment/import",
                               {"csv_text": csv_with_consent, "over_capacity": "waitlist"})
    assert done.status_code == 200 and "2 rows imported: 2 enrolled" in done.text
    assert done.text.count("/invitations/") == 2
    empty = await client.submit(f"/cohorts/{cohort.id}/enrollment/import/preview", {"csv_text": "  "})
    assert empty.status_code == 400 and "paste its rows" in empty.text
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 2


async def test_a_large_file_imports_in_one_go(world):
    cohort = await cohort_for(world, capacity=20)
    addresses = emails(300)
    text = "name,email,consent_at,consent_method\n" + "".join(
        f"Bulk Person {i},{e},2026-11-20,online\n" for i, e in enumerate(addresses))
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        response = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=text.encode())
    assert response.status_code == 200, response.text[:500]
    assert response.json()["counts"] == {"rows": 300, "errors": 0, "enrolled": 20, "waitlisted": 280}
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 300


async def test_rows_that_enroll_without_consent_are_refused_and_name_what_is_missing(world):
    cohort = await cohort_for(world, capacity=5)
    a, b, c, d = emails(4)
    text = ("name,email,status,consent_at,consent_method\n"
            f"No Consent,{a},,,\n"          # enrolled by default: refused
            f"Half Consent,{b},enrolled,2026-11-20,\n"
            f"Screening Only,{c},screening,,\n"  # no consent needed to screen
            f"Bad Method,{d},,2026-11-20,shrug\n")
    async with bearer(world.base_url, world.tokens["coordinator"]) as client:
        response = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=text.encode())
        assert response.status_code == 422
        rows = response.json()["rows"]
        assert "when it was given (consent_at), how it was given (consent_method) missing" in rows[0]["errors"][0]
        assert rows[1]["errors"] == ["consent is not recorded: how it was given (consent_method) missing; "
                                     "add the consent columns, or import as screening"]
        assert rows[2]["errors"] == [] and rows[2]["outcome"].startswith("Screening")
        assert "'shrug' is not a way of giving consent" in rows[3]["errors"][0]
        assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
        screening = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import",
                                      content=f"name,email,status\nLater Consent,{a},screening\n".encode())
    assert screening.status_code == 200, screening.text
    (row,) = await Enrollment.filter(cohort_id=cohort.id)
    assert row.status == EnrollmentStatus.SCREENING and row.consent_at is None
