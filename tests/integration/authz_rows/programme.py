"""The programme dashboard: coordinators (every cohort) and supervisors (the cohorts of the
facilitators they supervise). A facilitator who supervises nobody, and members, are refused."""
from tests.integration.authz_rows import DENY, LOGIN, OK, Row


def _coordinators_and_supervisors(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=OK, supervisor=OK, **kw)


ROWS = [
    _coordinators_and_supervisors("GET", "/programme"),
    _coordinators_and_supervisors("GET", "/programme.csv"),
    _coordinators_and_supervisors("GET", "/api/v1/programme"),
]
