"""Closure summaries (issue 6) and their sign-off (issue 17). `summary_id` is a finalized
version 1 of the member's summary in cohort A, made for the table; writing to it is refused
with 409 (authorized, then refused because it is finalized), which the table counts as OK.

The supervisor (of cohort A's facilitator) reads every version, signs off (approve, return:
400 here, the empty form names no content hash) and has a list of what awaits sign-off;
they never write a summary. Coordinators sign off only when marked as clinicians (the
table's coordinator is not)."""
from __future__ import annotations

from models.closure import ClosureSummary, SummaryStatus
from server import clock
from server.closure import RecordFacts, draft_summary
from tests.integration.authz_rows import DENY, LOGIN, OK, Row, staff_only


async def finalized_summary(world) -> int:
    existing = getattr(world, "closure_summary_id", None)
    if existing is None:
        content = draft_summary(RecordFacts(
            cohort_title=world.cohort.public_title, n_group_sessions=world.cohort.n_group_sessions,
            start_date=world.cohort.start_date, end_date=None,
        )).to_json()
        row = await ClosureSummary.create(
            enrollment_id=world.enrollment.id, version=1, status=SummaryStatus.FINALIZED, content=content,
            created_by=world.users["facilitator"], finalized_by=world.users["facilitator"], finalized_at=clock.now(),
        )
        world.closure_summary_id = existing = row.id
    return existing


async def enrollment_with_summary(world) -> int:
    await finalized_summary(world)
    return world.enrollment.id


SUMMARY = {"summary_id": finalized_summary}
ENROLLMENT = {"enrollment_id": enrollment_with_summary}


def facilitator_only(method: str, path: str, **kw) -> Row:
    """This cohort's facilitators write summaries; coordinators read them."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=DENY, **kw)


def read_with_supervisor(method: str, path: str, **kw) -> Row:
    """The member themself, this cohort's facilitators, coordinators, and the supervisors of
    the cohort's facilitators (read-only)."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=OK, supervisor=OK, **kw)


def signer_only(method: str, path: str, **kw) -> Row:
    """A clinician supervising one of the cohort's facilitators (or a clinician coordinator)."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, supervisor=OK, **kw)


def clinician_list(method: str, path: str, **kw) -> Row:
    """Each clinician's own list (empty for a facilitator who supervises nobody)."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=OK,
               facilitator=OK, coordinator=DENY, supervisor=OK,
               note="the table's coordinator is not a clinician", **kw)


ROWS = [
    staff_only("GET", "/cohorts/{cohort_id}/summaries"),
    staff_only("GET", "/cohorts/{cohort_id}/outcomes"),
    facilitator_only("POST", "/cohorts/{cohort_id}/summaries/draft-all",
                     note="409 for the facilitator: cohort A has not reached the termination phase"),
    Row("POST", "/cohorts/{cohort_id}/summaries/signoff", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator=OK, note="303: the empty form follows the protocol"),
    facilitator_only("POST", "/enrollments/{enrollment_id}/summary/draft",
                     note="409 for the facilitator: cohort A has not reached the termination phase"),
    facilitator_only("POST", "/enrollments/{enrollment_id}/summary/amend", params=ENROLLMENT,
                     note="400 for the facilitator: no reason given"),
    read_with_supervisor("GET", "/enrollments/{enrollment_id}/summary/history", params=ENROLLMENT),
    read_with_supervisor("GET", "/summaries/{summary_id}", params=SUMMARY),
    facilitator_only("GET", "/summaries/{summary_id}/edit", params=SUMMARY,
                     note="a finalized version redirects to its page"),
    facilitator_only("POST", "/summaries/{summary_id}/edit", params=SUMMARY, note="409: finalized"),
    facilitator_only("POST", "/summaries/{summary_id}/redraft", params=SUMMARY, note="409: finalized"),
    facilitator_only("POST", "/summaries/{summary_id}/finalize", params=SUMMARY, note="409: already finalized"),
    read_with_supervisor("GET", "/summaries/{summary_id}/print", params=SUMMARY),
    read_with_supervisor("GET", "/summaries/{summary_id}/pdf", params=SUMMARY),
    facilitator_only("POST", "/summaries/{summary_id}/submit", params=SUMMARY, note="409: finalized"),
    facilitator_only("POST", "/summaries/{summary_id}/withdraw", params=SUMMARY, note="409: finalized"),
    signer_only("POST", "/summaries/{summary_id}/approve", params=SUMMARY, note="400: no content hash"),
    signer_only("POST", "/summaries/{summary_id}/return", params=SUMMARY, note="400: no content hash"),
    clinician_list("GET", "/supervision/sign-off"),
    Row("GET", "/portal/summaries", anon=LOGIN, member=OK, other_member=OK, other_facilitator=DENY,
        facilitator=DENY, coordinator=DENY, note="each member sees only their own list"),
    # JSON API
    staff_only("GET", "/api/v1/cohorts/{cohort_id}/summaries"),
    staff_only("GET", "/api/v1/cohorts/{cohort_id}/outcomes"),
    facilitator_only("POST", "/api/v1/cohorts/{cohort_id}/summaries", json=True, body={}, note="409: too early"),
    read_with_supervisor("GET", "/api/v1/enrollments/{enrollment_id}/summaries", params=ENROLLMENT),
    facilitator_only("POST", "/api/v1/enrollments/{enrollment_id}/summaries", json=True, body={},
                     note="409 for the facilitator: too early"),
    facilitator_only("POST", "/api/v1/enrollments/{enrollment_id}/summaries/amend", params=ENROLLMENT, json=True, body={},
                     note="400: no reason"),
    read_with_supervisor("GET", "/api/v1/summaries/{summary_id}", params=SUMMARY),
    facilitator_only("PATCH", "/api/v1/summaries/{summary_id}", params=SUMMARY, json=True, body={},
                     note="409: finalized"),
    facilitator_only("POST", "/api/v1/summaries/{summary_id}/finalize", params=SUMMARY, json=True, body={},
                     note="409: already finalized"),
    read_with_supervisor("GET", "/api/v1/summaries/{summary_id}/diff", params=SUMMARY, note="400 without ?against="),
    facilitator_only("POST", "/api/v1/summaries/{summary_id}/submit", params=SUMMARY, json=True, body={},
                     note="409: finalized"),
    facilitator_only("POST", "/api/v1/summaries/{summary_id}/withdraw", params=SUMMARY, json=True, body={},
                     note="409: finalized"),
    signer_only("POST", "/api/v1/summaries/{summary_id}/approve", params=SUMMARY, json=True, body={},
                note="400: no content hash"),
    signer_only("POST", "/api/v1/summaries/{summary_id}/return", params=SUMMARY, json=True, body={},
                note="400: no comment"),
    clinician_list("GET", "/api/v1/supervision/sign-off"),
]
