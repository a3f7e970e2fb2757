"""The programme figures without names: CSV and JSON rows, the same numbers and suppression.

No person is named: not a member, and not a facilitator either (staff, but the export is
meant to travel). Cohorts (whose internal names may say who runs them or where) and
facilitators are given stable pseudonymous labels, "Cohort C-7KQ2PD" and "Facilitator
F-3MZ8TA": a keyed hash of the record's id under the server's secret key, so a label is the
same in every export from this server, means nothing outside it, and staff find it beside
the name on the /programme page. Templates keep their protocol's name; quarters are dates.

Suppressed groups keep their row, with `suppressed` set and every figure empty (null in
JSON): figures.SUPPRESSION_RULE says why no figure of a small cohort can be recovered.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from typing import Any

from server.programme.figures import MINIMUM_PEOPLE, SUPPRESSION_RULE, Figures, Group, InstrumentFigures
from server.programme.report import Grouping, Report, Row

_PREFIX = {"cohort": ("Cohort", "C"), "facilitator": ("Facilitator", "F")}

COLUMNS = (
    "group_by", "group", "suppressed", "cohorts",
    "enrolled", "started", "completed", "dropped_out", "still_attending", "not_started", "left_before_starting",
    "completion_rate", "dropout_rate",
    "sessions_attended", "sessions_marked", "attendance_rate",
    "phq9_counted", "phq9_responders", "phq9_response_rate", "phq9_remitters", "phq9_remission_rate",
    "phq9_below_threshold", "phq9_no_later_score", "phq9_mean_change",
    "gad7_counted", "gad7_responders", "gad7_response_rate",
    "gad7_below_threshold", "gad7_no_later_score", "gad7_mean_change",
)

DEFINITIONS = {
    "people": f"Groups are counted over cohorts of {MINIMUM_PEOPLE} or more people; see suppression.",
    "enrolled": "Members enrolled in the group at some point (enrolled, completed, or withdrawn after being enrolled), "
                "once per treatment episode, in the cohort where the episode is now (a transfer counts where it went).",
    "started": "Attended (present or late) at least one group session.",
    "completed": "Started, never withdrew, and the cohort has finished (its last group session has taken place, "
                 "or the cohort or enrollment is marked completed).",
    "dropped_out": "Started, then withdrawn.",
    "still_attending": "Started, not withdrawn, in a cohort still running.",
    "not_started": "Enrolled, not withdrawn, no group session attended yet.",
    "left_before_starting": "Withdrawn before attending any group session.",
    "completion_rate": "completed / started.",
    "dropout_rate": "dropped_out / started.",
    "attendance_rate": "Group sessions marked present or late, of sessions marked present, late or absent, "
                       "for members who started.",
    "phq9_counted": "Members with a baseline PHQ-9 of 10 or more and a later score: the only members in the "
                    "response and remission rates and the mean change (domain-ipt.md 5a).",
    "phq9_response_rate": "A drop of at least 50% from the baseline, of phq9_counted.",
    "phq9_remission_rate": "A last PHQ-9 below 5, of phq9_counted.",
    "phq9_below_threshold": "Below the clinical threshold at baseline (under 10): reported apart, never in the rates.",
    "phq9_mean_change": "Mean of last score minus baseline over phq9_counted (negative is improvement).",
    "gad7_counted": "As phq9_counted, from a GAD-7 baseline of 10 or more (GAD-7 has no remission definition here).",
    "rates": "Fractions from 0 to 1, rounded to 3 places; empty when there is nothing to divide by.",
}


def label(kind: str, subject_id: int, key: bytes) -> str:
    """A stable pseudonym for a cohort or a facilitator (see the module docstring)."""
    word, letter = _PREFIX[kind]
    digest = hmac.new(key, f"groupipt-programme:{kind}:{subject_id}".encode(), hashlib.sha256).digest()
    return f"{word} {letter}-{base64.b32encode(digest).decode()[:6]}"


def row_label(grouping: Grouping, row: Row, key: bytes) -> str:
    if grouping is Grouping.COHORT and row.subject_id is not None:
        return label("cohort", row.subject_id, key)
    if grouping is Grouping.FACILITATOR and row.subject_id is not None:
        return label("facilitator", row.subject_id, key)
    if grouping is Grouping.FACILITATOR:
        return "No facilitator assigned"
    return row.name


def _instrument(prefix: str, f: InstrumentFigures) -> dict[str, Any]:
    out = {
        f"{prefix}_counted": f.counted, f"{prefix}_responders": f.responders, f"{prefix}_response_rate": f.response.rate,
    }
    if f.remission is not None:
        out |= {f"{prefix}_remitters": f.remitters, f"{prefix}_remission_rate": f.remission.rate}
    return out | {f"{prefix}_below_threshold": f.below_threshold, f"{prefix}_no_later_score": f.no_later_score,
                  f"{prefix}_mean_change": f.mean_change}


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "enrolled": f.enrolled, "started": f.started, "completed": f.completed, "dropped_out": f.dropped_out,
        "still_attending": f.still_attending, "not_started": f.not_started,
        "left_before_starting": f.left_before_starting,
        "completion_rate": f.completion.rate, "dropout_rate": f.dropout.rate,
        "sessions_attended": f.sessions_attended, "sessions_marked": f.sessions_marked,
        "attendance_rate": f.attendance.rate,
        **_instrument("phq9", f.phq9), **_instrument("gad7", f.gad7),
    }


def _record(grouping: str, name: str, group: Group) -> dict[str, Any]:
    figures = _figures(group.figures) if group.figures is not None else {}
    record: dict[str, Any] = {"group_by": grouping, "group": name, "suppressed": group.suppressed,
                              "cohorts": len(group.shown_cohort_ids) if not group.suppressed else None}
    for column in COLUMNS[4:]:
        record[column] = figures.get(column)  # every figure of a suppressed group is empty
    return record


def records(report: Report, key: bytes) -> list[dict[str, Any]]:
    grouping = report.filters.group_by
    rows = [_record(grouping.value, row_label(grouping, row, key), row.group) for row in report.rows]
    return rows + [_record(grouping.value, "Total", report.total)]


def as_json(report: Report, key: bytes) -> dict[str, Any]:
    f = report.filters
    *groups, total = records(report, key)
    return {
        "group_by": f.group_by.value,
        "filters": {
            "template_id": f.template_id, "facilitator": label("facilitator", f.facilitator_id, key)
            if f.facilitator_id is not None else None,
            "from": f.starts_from.isoformat() if f.starts_from else None,
            "to": f.starts_to.isoformat() if f.starts_to else None,
        },
        "suppression": {"minimum_people": MINIMUM_PEOPLE, "rule": SUPPRESSION_RULE,
                        "cohorts_left_out": report.cohorts_left_out},
        "definitions": DEFINITIONS,
        "groups": groups,
        "total": total,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula (OWASP "CSV injection").
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def as_csv(report: Report, key: bytes) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(COLUMNS)
    for record in records(report, key):
        writer.writerow([_cell(record[column]) for column in COLUMNS])
    return out.getvalue()
