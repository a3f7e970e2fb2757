"""A member's own record (issue 19): the member downloads their own; a coordinator
produces it for a member. `user_id` is the member of cohort A."""
from __future__ import annotations

from tests.integration.authz_rows import DENY, LOGIN, OK, Row, any_user, coordinator_only


def members_themselves(method: str, path: str, **kw) -> Row:
    """Every member, each for their own record only (nothing in the path names another)."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=OK, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, **kw)


ROWS = [
    members_themselves("GET", "/portal/record.zip"),
    members_themselves("GET", "/api/v1/me/export"),
    coordinator_only("GET", "/people/{user_id}/record.zip"),
    coordinator_only("GET", "/api/v1/users/{user_id}/export"),
    # Staff exports ask for a fresh proof in a browser: the confirmed download is a POST.
    coordinator_only("POST", "/people/{user_id}/record.zip"),
    # Restriction (GDPR Art. 18): the record page, restrict and lift (refused here for the
    # empty reason, so nothing is restricted), and the list of restricted records.
    coordinator_only("GET", "/people/{user_id}/record"),
    coordinator_only("POST", "/people/{user_id}/restriction"),
    coordinator_only("POST", "/people/{user_id}/restriction/lift"),
    coordinator_only("GET", "/people/restricted"),
    # FHIR R4 (read-only): everyone searches, each finding only what the records let them read.
    any_user("GET", "/api/v1/fhir/metadata"),
    any_user("GET", "/api/v1/fhir/{resource_type}", params={"resource_type": lambda world: "Patient"}),
    # One Patient (the member of cohort A): themself, A's facilitator and supervisor, coordinators.
    Row("GET", "/api/v1/fhir/{resource_type}/{ident}", anon=LOGIN, member=OK, other_member=DENY,
        other_facilitator=DENY, facilitator=OK, coordinator=OK, supervisor=OK,
        params={"resource_type": lambda world: "Patient", "ident": lambda world: str(world.users["member"].id)}),
    Row("GET", "/api/v1/fhir/Patient/{patient_id}/$everything", anon=LOGIN, member=OK, other_member=DENY,
        other_facilitator=DENY, facilitator=OK, coordinator=OK, supervisor=OK,
        params={"patient_id": lambda world: world.users["member"].id}),
]
