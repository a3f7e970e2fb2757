"""Consent before enrolling (every way in), the formulation the member agreed to, clinical
words in what calendars show, and protocol checks when a cohort starts: over a real server
(SQLite, and PostgreSQL when GROUPIPT_TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import AuditEvent, Role, User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, EnrollmentTransition, Meeting, ProtocolTemplate
from tests.integration.schedule_support import future_weekday, template_id
from tests.support.clients import bearer
from tests.support.world import consent_fields, make_cohort, make_user, unique_email

pytestmark = pytest.mark.asyncio(loop_scope="session")


def api(world, role="coordinator"):
    return bearer(world.base_url, world.tokens[role])


async def future_cohort(world, *, capacity: int = 5, template: ProtocolTemplate | None = None) -> Cohort:
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(template or world.template, f"Consent {uuid.uuid4().hex[:6]}",
                                  world.users["facilitator"], start=start, capacity=capacity)
    return cohort


# --- consent --------------------------------------------------------------------------------


async def test_enrolling_without_consent_is_refused_naming_what_is_missing_and_writes_nothing(world):
    cohort = await future_cohort(world)
    email = unique_email("noconsent")
    async with api(world) as client:
        bare = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={"name": "Nat Noconsent", "email": email})
        half = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments",
                                 json={"name": "Nat Noconsent", "email": email, "consent_method": "phone"})
        future = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Nat Noconsent", "email": email, "consent_method": "phone",
            "consent_at": (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()})
        unknown = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Nat Noconsent", "email": email, **consent_fields(), "consent_method": "telepathy"})
    # 422: as the API document says, but against the consent rule; 400: not as it says.
    assert bare.status_code == 422
    body = bare.json()
    assert body["code"] == "consent_missing"
    assert set(body["fields"]) == {"consent_at", "consent_method"}  # the version defaults to the cohort's
    assert "Nat Noconsent cannot be enrolled before their consent is recorded" in body["detail"]
    assert "when it was given and how it was given" in body["detail"]
    assert half.status_code == 422 and set(half.json()["fields"]) == {"consent_at"}
    assert future.status_code == 422 and future.json()["fields"] == {"consent_at": "In the future."}
    assert unknown.status_code == 400 and "consent_method" in unknown.json()["fields"]
    assert not await User.filter(email=email).exists()  # not even the account was created
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0


async def test_consent_given_with_the_enrollment_is_recorded_with_it(world):
    cohort = await future_cohort(world)
    async with api(world) as client:
        done = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Oda Consented", "email": unique_email("consent"), "consent_at": "2026-11-20T09:15",
            "consent_method": "verbal_in_person"})
    assert done.status_code == 201, done.text
    e = done.json()["enrollment"]
    assert e["status"] == "enrolled" and e["consent_method"] == "verbal_in_person" and e["consent_version"] == "1"
    assert e["consent_at"] == "2026-11-20T09:15:00+00:00"  # wall time in the cohort's zone (London, winter)
    assert e["consent_missing"] == []
    transition = await EnrollmentTransition.get(enrollment_id=e["id"])
    assert "consent recorded" in transition.reason and "verbally, in person" in transition.reason


async def test_screening_then_enrolled_needs_consent_and_a_refusal_changes_nothing(world):
    cohort = await future_cohort(world)
    async with api(world) as client:
        screening = (await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Pia Screening", "email": unique_email("screen"), "status": "screening"})).json()["enrollment"]
        url = f"/api/v1/enrollments/{screening['id']}/status"
        refused = await client.post(url, json={"status": "enrolled"})
        assert refused.status_code == 422 and refused.json()["code"] == "consent_missing"
        row = await Enrollment.get(id=screening["id"])
        assert row.status == EnrollmentStatus.SCREENING and row.consent_at is None
        assert await EnrollmentTransition.filter(enrollment_id=row.id).count() == 1
        done = await client.post(url, json={"status": "enrolled", **consent_fields("2026-10")})
    assert done.status_code == 200, done.text
    e = done.json()["enrollment"]
    assert e["status"] == "enrolled" and e["consent_version"] == "2026-10" and e["consent_method"] == "signed_form"


async def test_the_roster_shows_who_is_missing_consent(world):
    cohort = await future_cohort(world)
    legacy = await make_user(Role.MEMBER, "Quin Legacy")
    # Enrolled before consent was required (or by a protocol that did not require it).
    await Enrollment.create(cohort=cohort, member=legacy, status=EnrollmentStatus.ENROLLED)
    async with api(world) as client:
        await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments",
                          json={"name": "Rae Recorded", "email": unique_email("rec"), **consent_fields()})
    page = await (await world.client("facilitator")).get(f"/cohorts/{cohort.id}/enrollment")
    assert page.status_code == 200
    assert "1 enrolled member has no complete consent record" in page.text
    rows = {chunk.split("</a>")[0].rsplit(">", 1)[1]: chunk for chunk in page.text.split("<tr data-enrollment=")[1:]}
    assert 'data-consent="missing"' in rows["Quin Legacy"] and "how it was given" in rows["Quin Legacy"]
    assert 'data-consent="recorded"' in rows["Rae Recorded"] and "signed consent form" in rows["Rae Recorded"]
    detail = await (await world.client("coordinator")).get(f"/enrollments/{(await Enrollment.get(member=legacy)).id}")
    assert 'id="consent-missing"' in detail.text and "Enrolled without a complete consent record" in detail.text
    home = await (await world.client("coordinator")).get("/")
    row = home.text[home.text.index(f'data-cohort="{cohort.id}"'):]
    assert "1 enrolled member has no complete consent record" in row[: row.index("</tr>")]


async def test_the_enroll_form_refuses_without_consent_and_keeps_what_was_typed(world):
    cohort = await future_cohort(world)
    client = await world.client("coordinator")
    email = unique_email("form")
    refused = await client.submit(f"/cohorts/{cohort.id}/enrollment", {"name": "Sol Form", "email": email})
    assert refused.status_code == 400
    assert "cannot be enrolled before their consent is recorded" in refused.text
    assert f'value="{email}"' in refused.text and 'aria-invalid="true"' in refused.text
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    done = await client.submit(f"/cohorts/{cohort.id}/enrollment", {
        "name": "Sol Form", "email": email, "consent_at": "2026-11-02T10:00", "consent_method": "video",
        "consent_version": "1"})
    assert done.status_code == 200 and "Sol Form is now enrolled" in done.text


async def test_waitlist_promotion_waits_for_the_first_members_consent(world):
    cohort = await future_cohort(world, capacity=1)
    async with api(world) as client:
        holder = (await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Tam Holder", "email": unique_email("hold"), **consent_fields()})).json()["enrollment"]
        first = (await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Uma Firstwait", "email": unique_email("wait"), "status": "screening"})).json()["enrollment"]
        moved = await client.post(f"/api/v1/enrollments/{first['id']}/status", json={"status": "waitlisted"})
        assert moved.json()["enrollment"]["status"] == "waitlisted"
        second = (await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json={
            "name": "Val Secondwait", "email": unique_email("wait"), **consent_fields()})).json()["enrollment"]
        assert second["status"] == "waitlisted"
        done = (await client.post(f"/api/v1/enrollments/{holder['id']}/withdraw", json={"reason": "moved"})).json()
    assert "promoted" not in done
    assert "Nobody was promoted from the waitlist: Uma Firstwait, first on the waitlist, has no recorded consent" in done["message"]
    assert (await Enrollment.get(id=first["id"])).status == EnrollmentStatus.WAITLISTED
    assert (await Enrollment.get(id=second["id"])).status == EnrollmentStatus.WAITLISTED  # not passed over


async def test_a_transfer_needs_consent_to_the_new_groups_agreement(world):
    source = await future_cohort(world)
    target = await future_cohort(world)
    async with api(world) as client:
        moved = (await client.post(f"/api/v1/cohorts/{source.id}/enrollments", json={
            "name": "Wyn Mover", "email": unique_email("move"), **consent_fields()})).json()["enrollment"]
        refused = await client.post(f"/api/v1/enrollments/{moved['id']}/transfer",
                                    json={"to_cohort": target.id, "reason": "evenings suit better"})
        assert refused.status_code == 422 and refused.json()["code"] == "consent_missing"
        assert (await Enrollment.get(id=moved["id"])).status == EnrollmentStatus.ENROLLED
        assert await Enrollment.filter(cohort_id=target.id).count() == 0
        done = await client.post(f"/api/v1/enrollments/{moved['id']}/transfer", json={
            "to_cohort": target.id, "reason": "evenings suit better", "consent_at": "2026-11-25T18:00",
            "consent_method": "phone"})
    assert done.status_code == 200, done.text
    new = done.json()["enrollment"]
    assert new["cohort_id"] == target.id and new["status"] == "enrolled" and new["consent_method"] == "phone"


async def test_a_template_can_waive_consent_before_enrolling(world, live_server):
    async with api(world) as client:
        tid = await template_id("who-group-ipt", client)
        copy = (await client.get(f"/api/v1/templates/{tid}")).json()
        copy.update({"name": f"Consent later {uuid.uuid4().hex[:4]}", "consent_required": False})
        for read_only in ("id", "key", "builtin", "default_late_join_cutoff", "late_join_warnings"):
            copy.pop(read_only)
        made = await client.post("/api/v1/templates", json=copy)
        assert made.status_code == 201, made.text
        assert made.json()["consent_required"] is False
        cohort = await future_cohort(world, template=await ProtocolTemplate.get(id=made.json()["id"]))
        done = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments",
                                 json={"name": "Xan Later", "email": unique_email("later")})
    assert done.status_code == 201 and done.json()["enrollment"]["status"] == "enrolled"
    assert done.json()["enrollment"]["consent_missing"] == ["consent_at", "consent_method", "consent_version"]
    page = await (await world.client("coordinator")).get(f"/templates/{made.json()['id']}")
    assert "may be enrolled before their consent is recorded" in page.text


# --- the formulation as agreed ----------------------------------------------------------------


async def test_the_formulation_records_whether_and_when_the_member_agreed(world):
    cohort = await future_cohort(world)
    member = await make_user(Role.MEMBER, "Yara Formulation")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.SCREENING)
    client = await world.client("facilitator")
    base = f"/enrollments/{enrollment.id}/intake/formulation"
    text = "Low mood since the move; arguments with her sister about their mother's care."
    saved = await client.submit(base, {"formulation": text, "agreement": "agreed", "agreed_at": "2026-11-10T11:00"})
    assert saved.status_code == 200 and "The member agreed to this wording" in saved.text
    row = await Enrollment.get(id=enrollment.id)
    assert row.formulation_agreed is True and row.formulation_agreed_at.isoformat() == "2026-11-10T11:00:00+00:00"
    # The same text saved again keeps the agreement and its time.
    await client.submit(base, {"formulation": text, "agreement": "agreed"})
    assert (await Enrollment.get(id=enrollment.id)).formulation_agreed_at == row.formulation_agreed_at
    # New wording, with no answer from the member yet: the agreement no longer applies.
    await client.submit(base, {"formulation": text + " Also lonely at work.", "agreement": ""})
    row = await Enrollment.get(id=enrollment.id)
    assert row.formulation_agreed is None and row.formulation_agreed_at is None
    declined = await client.submit(base, {"formulation": row.formulation, "agreement": "not_agreed"})
    assert "did not agree" in declined.text
    assert (await Enrollment.get(id=enrollment.id)).formulation_agreed is False
    bad = await client.submit(base, {"formulation": row.formulation, "agreement": "maybe"})
    assert bad.status_code == 400 and (await Enrollment.get(id=enrollment.id)).formulation_agreed is False
    future = await client.submit(base, {"formulation": row.formulation, "agreement": "agreed",
                                        "agreed_at": (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")})
    assert future.status_code == 400 and (await Enrollment.get(id=enrollment.id)).formulation_agreed is False
    assert await AuditEvent.filter(subject="formulation", subject_id=str(enrollment.id)).count() >= 4


# --- clinical words in what calendars show -----------------------------------------------------


def _cohort_body(tid: int, lead: User, **changes) -> dict:
    return {"name": f"Words {uuid.uuid4().hex[:6]}", "template": tid, "time_zone": "Europe/London",
            "start_date": future_weekday(70, 2).isoformat(), "start_time": "18:00", "capacity": 8,
            "facilitators": [lead.id], **changes}


async def test_clinical_words_in_public_fields_must_be_confirmed_over_the_api(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Zed Wordslead")
    async with api(world) as client:
        tid = await template_id("uganda-ipt-g", client)
        body = _cohort_body(tid, lead, public_title="Depression group", location="Mental Health Unit, room 4")
        refused = await client.post("/api/v1/cohorts", json=body)
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["code"] == "clinical_words"
        assert set(problem["fields"]) == {"public_title", "location", "confirm_public_words"}
        assert "'depression'" in problem["detail"] and "'mental health'" in problem["detail"]
        assert not await Cohort.filter(name=body["name"]).exists()
        kept = await client.post("/api/v1/cohorts", json=body | {"confirm_public_words": True})
        assert kept.status_code == 201, kept.text
        cohort_id = kept.json()["id"]
        audit = await AuditEvent.filter(subject="cohort", subject_id=str(cohort_id), detail__contains="clinical words").first()
        assert audit is not None and "depression" in audit.detail
        # Editing the draft checks again.
        edit = await client.put(f"/api/v1/cohorts/{cohort_id}/draft", json=body | {"public_title": "Therapy group"})
        assert edit.status_code == 422 and edit.json()["code"] == "clinical_words"
        assert (await Cohort.get(id=cohort_id)).public_title == "Depression group"
        neutral = await client.put(f"/api/v1/cohorts/{cohort_id}/draft",
                                   json=body | {"public_title": "Wednesday group", "location": "Room 4"})
        assert neutral.status_code == 200, neutral.text
    assert (await Cohort.get(id=cohort_id)).public_title == "Wednesday group"


async def test_clinical_words_on_the_cohort_form_show_a_checkbox_to_confirm(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Abe Formwords")
    client = await world.client("coordinator")
    async with api(world) as json_client:
        tid = await template_id("uganda-ipt-g", json_client)
    fields = {k: str(v) for k, v in _cohort_body(tid, lead, public_title="Grief circle").items() if k != "facilitators"}
    fields["facilitators"] = str(lead.id)
    preview = await client.get("/cohorts/new/preview", params=fields)
    assert 'data-public-words="public_title"' in preview.text and "grief" in preview.text
    refused = await client.submit("/cohorts/new", fields | {"action": "save"})
    assert refused.status_code == 400
    assert 'id="public-words-warning"' in refused.text and 'name="confirm_public_words"' in refused.text
    assert not await Cohort.filter(name=fields["name"]).exists()
    kept = await client.submit("/cohorts/new", fields | {"action": "save", "confirm_public_words": "yes"},
                               follow_redirects=False)
    assert kept.status_code == 303
    page = await client.get(kept.headers["location"])
    assert 'id="public-words"' in page.text and "public title (grief)" in page.text


# --- protocol checks at activation ---------------------------------------------------------------


async def test_activation_checks_size_and_facilitators_and_takes_a_recorded_reason(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Bea Activationlead")
    async with api(world) as client:
        tid = await template_id("wilfley-ipt-g", client)  # 6-12 members, two co-therapists
        made = await client.post("/api/v1/cohorts", json=_cohort_body(tid, lead, capacity=9))
        cohort_id = made.json()["id"]
        refused = await client.post(f"/api/v1/cohorts/{cohort_id}/activate", json={})
        assert refused.status_code == 409
        problem = refused.json()
        assert problem["code"] == "protocol_checks"
        assert problem["fields"]["members"].startswith("Nobody is enrolled")
        assert "2 co-facilitators; 1 is assigned" in problem["fields"]["facilitators"]
        assert "override_reason" in problem["fields"]
        no_body = await client.post(f"/api/v1/cohorts/{cohort_id}/activate")
        assert no_body.status_code == 409
        too_long = await client.post(f"/api/v1/cohorts/{cohort_id}/activate", json={"override_reason": "x" * 501})
        assert too_long.status_code == 400
        assert await Meeting.filter(cohort_id=cohort_id).count() == 0
        assert (await Cohort.get(id=cohort_id)).status.value == "draft"
        reason = "Pilot of the evening format; the co-therapist starts at session 2"
        done = await client.post(f"/api/v1/cohorts/{cohort_id}/activate", json={"override_reason": reason})
    assert done.status_code == 200, done.text
    override = done.json()["override"]
    assert override["reason"] == reason and len(override["problems"]) == 2
    assert override["by"] == world.users["coordinator"].id and override["at"]
    cohort = await Cohort.get(id=cohort_id)
    assert cohort.status.value == "active" and cohort.activation_override_reason == reason
    audit = await AuditEvent.filter(subject="cohort", subject_id=str(cohort_id), detail__contains="outside the protocol").first()
    assert audit is not None and reason[:40] in audit.detail
    page = await (await world.client("coordinator")).get(f"/cohorts/{cohort_id}")
    section = page.text[page.text.index('id="activation-override"'):]
    assert reason in section and "Cora Coordinator" in section and "Nobody is enrolled" in section


async def test_a_cohort_that_fits_its_protocol_activates_without_a_reason(world, live_server):
    from tests.support.world import enroll

    lead = await make_user(Role.FACILITATOR, "Cal Fitslead")
    async with api(world) as client:
        tid = await template_id("uganda-ipt-g", client)  # at least 4, one facilitator
        cohort_id = (await client.post("/api/v1/cohorts", json=_cohort_body(tid, lead))).json()["id"]
        cohort = await Cohort.get(id=cohort_id)
        for n in range(4):
            await enroll(cohort, await make_user(Role.MEMBER, f"Fit Member{n}"))
        done = await client.post(f"/api/v1/cohorts/{cohort_id}/activate", json={})
    assert done.status_code == 200, done.text
    assert done.json()["override"] is None
    assert (await Cohort.get(id=cohort_id)).activation_override_reason == ""


# --- the late-join cutoff follows the initial phase ----------------------------------------------


async def test_a_template_whose_cutoff_passes_its_initial_phase_is_saved_with_a_warning(world, live_server):
    client = await world.client("coordinator")
    base = {"name": f"Eight weeks {uuid.uuid4().hex[:4]}", "pre_group_meetings": "1", "group_sessions": "8",
            "session_minutes": "90", "individual_minutes": "50", "cadence_days": "7", "initial_sessions": "1",
            "termination_sessions": "1", "group_size_min": "4", "group_size_target_low": "6",
            "group_size_target_high": "9", "group_size_max": "12", "facilitator_count": "1", "label_style": "lay"}
    derived = await client.submit("/templates/new", base, follow_redirects=False)
    assert derived.status_code == 303
    row = await ProtocolTemplate.get(id=int(derived.headers["location"].rsplit("/", 1)[1]))
    assert row.late_join_cutoff_session == 1 and row.consent_required is True
    later = await client.submit("/templates/new", base | {"name": base["name"] + " late", "late_join_cutoff_session": "3"},
                                follow_redirects=False)
    assert later.status_code == 303
    page = await client.get(later.headers["location"])
    assert 'data-warning="late-join"' in page.text and "misses the whole initial phase" in page.text
    edit = await client.get(later.headers["location"] + "/edit")
    assert "misses the whole initial phase" in edit.text
    async with api(world) as json_client:
        shown = (await json_client.get(f"/api/v1/templates/{later.headers['location'].rsplit('/', 1)[1]}")).json()
    assert shown["default_late_join_cutoff"] == 1 and len(shown["late_join_warnings"]) == 1


async def test_a_stored_shipped_template_from_an_older_release_is_brought_up_to_date(world, live_server):
    async with api(world) as client:
        tid = await template_id("who-group-ipt", client)
        await ProtocolTemplate.filter(id=tid).update(late_join_cutoff_session=3)  # as shipped before
        listing = await client.get("/api/v1/templates")
    who = next(t for t in listing.json()["templates"] if t["id"] == tid)
    assert who["late_join_cutoff_session"] == 1 and who["late_join_warnings"] == []
    assert (await ProtocolTemplate.get(id=tid)).late_join_cutoff_session == 1


async def test_the_formulation_api_reads_and_saves_the_agreement(world):
    cohort = await future_cohort(world)
    member = await make_user(Role.MEMBER, "Zia Formulationapi")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.SCREENING)
    url = f"/api/v1/enrollments/{enrollment.id}/formulation"
    async with api(world, "facilitator") as client:
        empty = (await client.get(url)).json()
        assert empty == {"enrollment_id": enrollment.id, "text": "", "agreement": "", "agreed_at": None}
        refused = await client.put(url, json={"text": "", "agreement": "agreed"})
        assert refused.status_code == 422 and "fields" in refused.json()
        saved = await client.put(url, json={"text": "Isolated since retiring.", "agreement": "agreed",
                                            "agreed_at": "2026-11-12T10:30:00+00:00"})
        assert saved.status_code == 200, saved.text
        assert saved.json()["agreement"] == "agreed" and saved.json()["agreed_at"] == "2026-11-12T10:30:00+00:00"
        reworded = (await client.put(url, json={"text": "Isolated since retiring; misses his team."})).json()
        assert reworded["agreement"] == "" and reworded["agreed_at"] is None
    async with api(world, "other_facilitator") as client:
        assert (await client.get(url)).status_code in (403, 404)
    assert await AuditEvent.filter(subject="formulation", subject_id=str(enrollment.id), action="read").exists()


async def test_a_who_cohort_closes_late_joining_once_its_initial_phase_is_over(world, live_server):
    async with api(world) as client:
        who = await ProtocolTemplate.get(id=await template_id("who-group-ipt", client))
        held, _ = await make_cohort(who, f"WHO held {uuid.uuid4().hex[:4]}", world.users["facilitator"],
                                    start=(datetime.now(timezone.utc) - timedelta(days=8)).date())  # sessions 1-2 held
        refused = await client.post(f"/api/v1/cohorts/{held.id}/enrollments",
                                    json={"name": "Ash Late", "email": unique_email("late"), **consent_fields()})
        assert refused.status_code == 409
        assert "Late joining closed after session 1" in refused.json()["detail"]
        upcoming = await future_cohort(world, template=who)
        joined = await client.post(f"/api/v1/cohorts/{upcoming.id}/enrollments",
                                   json={"name": "Bo Early", "email": unique_email("early"), **consent_fields()})
    assert joined.status_code == 201, joined.text
