"""Closure summaries: one per member at the end of a cohort (domain-ipt.md section 8).

The pure modules turn plain facts gathered from the record into a `SummaryRecord`
(`record`, `drafting`), let the facilitator edit its narrative fields (`edits`), project
it for the member (without section 10), compare two versions (`diff`), check that the
text names no other member (`names`) and total a cohort's outcomes (`outcomes`).
`loading` reads the record from the database; `service` reads and writes the versions
and keeps finalized versions immutable. `signoff` is a supervisor's sign-off where the
cohort requires it (submit, approve, return with a comment, withdraw), its rules in
`signoff_rules`.

Sections, as the issue numbers them:
 1 overview      cohort, protocol, dates, attendance, individual meetings
 2 problem areas primary and secondary, formulation
 3 goals         status, progress across meetings, the member's own words
 4 symptoms      PHQ-9 (and GAD-7) baseline to last, bands, change, response, remission
 5 skills        role-play turns done: role label, scenario, next step
 6-9 narrative   areas still needing work, warning signs, relapse plan, next step
10 safety        facilitators only: safety items raised and how they closed
"""
from server.closure.diff import diff_summaries, word_diff
from server.closure.drafting import draft_summary, goal_status, protocol_label
from server.closure.edits import (
    GOAL_WORDS_PREFIX,
    MAX_TEXT,
    NARRATIVE_FIELDS,
    SummaryInputError,
    apply_edits,
    finalize_problems,
)
from server.closure.names import NameFound, names_mentioned, redact_record_names
from server.closure.outcomes import Rate, outcome_report
from server.closure.record import (
    GOAL_STATUS_LABELS,
    NEXT_STEP_KINDS,
    NEXT_STEP_LABELS,
    GoalFact,
    MeasureFact,
    MeetingFact,
    ProgressFact,
    RecordFacts,
    RolePlayFact,
    SafetyFact,
    SummaryRecord,
    member_view,
)
from server.closure.service import (
    amend,
    cohort_outcomes,
    cohort_overview,
    draft,
    draft_missing,
    finalize,
    finalized_conflict,
    other_member_names,
    readable_enrollment,
    save_edits,
    summary_counts,
    summary_row,
    termination_reached,
    versions_of,
)

__all__ = [
    "GOAL_STATUS_LABELS",
    "GOAL_WORDS_PREFIX",
    "MAX_TEXT",
    "NARRATIVE_FIELDS",
    "NEXT_STEP_KINDS",
    "NEXT_STEP_LABELS",
    "GoalFact",
    "MeasureFact",
    "MeetingFact",
    "NameFound",
    "ProgressFact",
    "Rate",
    "RecordFacts",
    "RolePlayFact",
    "SafetyFact",
    "SummaryInputError",
    "SummaryRecord",
    "amend",
    "apply_edits",
    "cohort_outcomes",
    "cohort_overview",
    "diff_summaries",
    "draft",
    "draft_missing",
    "draft_summary",
    "finalize",
    "finalize_problems",
    "finalized_conflict",
    "goal_status",
    "member_view",
    "names_mentioned",
    "other_member_names",
    "outcome_report",
    "protocol_label",
    "readable_enrollment",
    "redact_record_names",
    "save_edits",
    "summary_counts",
    "summary_row",
    "termination_reached",
    "versions_of",
    "word_diff",
]
