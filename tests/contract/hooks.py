"""Schemathesis hooks for the contract test: ids of real rows beside the generated ones.

Random integers almost never name a row, so most requests with an id would only ever see
a 404. The test passes the ids of the demo clinic's rows in GROUPIPT_CONTRACT_IDS
({"cohort_id": [...], ...}); each generated path then keeps its drawn values or takes
real ids, so handlers run past their lookups too.
"""
from __future__ import annotations

import json
import os

import schemathesis
from hypothesis import strategies as st

REAL_IDS: dict[str, list[int]] = json.loads(os.environ.get("GROUPIPT_CONTRACT_IDS", "{}"))


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    names = [name for name in path_parameters or {} if REAL_IDS.get(name)]
    if not names:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(REAL_IDS[name]) for name in names})
    return st.one_of(st.just(path_parameters), real.map(lambda ids: {**path_parameters, **ids}))
