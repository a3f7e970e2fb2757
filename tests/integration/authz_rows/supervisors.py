"""Who supervises whom (issue 17): set by coordinators, on a person's page and in the API.

`user_id` is the world's member by default; the rows that set someone's supervisees name the
supervisor, so that a coordinator's empty form is a real (and accepted) change to nobody.
"""
from __future__ import annotations

from tests.integration.authz_rows import coordinator_only

SUPERVISOR = {"user_id": lambda w: w.users["other_facilitator"].id}

ROWS = [
    coordinator_only("GET", "/people/{user_id}"),
    coordinator_only("POST", "/people/{user_id}/supervisees", params=SUPERVISOR,
                     note="an empty form sets 'supervises nobody' for a person who supervised nobody"),
    coordinator_only("GET", "/api/v1/users/{user_id}/supervisees"),
    coordinator_only("PUT", "/api/v1/users/{user_id}/supervisees", json=True, body={},
                     note="facilitator_ids is required: 400"),
]
