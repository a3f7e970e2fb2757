"""Cohorts on the calendar, over the database. The rules themselves live in calendars (pure).

templates     protocol templates as rows: the shipped formats and coordinators' own
cohort_input  what a coordinator asks for, parsed from a form or JSON body (pure)
cohorts       preview, create and edit a draft, activate; stored meetings as plain values
changes       reschedule, cancel, make up, shift, skip dates on an active cohort
notices       who a change's notices reached, and who waits in the outbox
feeds         private iCal feeds: tokens, building, caching

Callers use this surface (`from server import schedule`; `schedule.preview(...)`).
"""
from __future__ import annotations

from server.schedule.changes import (
    Applied,
    add_cohort_skip_dates,
    cancel_meeting,
    make_up_meeting,
    meeting_row,
    reschedule_meeting,
    shift_cohort,
    upcoming_window,
)
from server.schedule.cohort_input import (
    PUBLIC_FIELDS,
    CohortInput,
    confirmed,
    parse_cohort_input,
)
from server.schedule.cohorts import (
    EDITABLE,
    activate,
    add_member_meetings,
    busy_time,
    cohort_spec,
    create_cohort,
    input_from_cohort,
    meeting_values,
    preview,
    set_status,
    skip_dates_of,
    stored_meetings,
    update_draft,
)
from server.schedule.notices import Notices
from server.schedule.notices import read_param as read_notices
from server.schedule.templates import (
    ensure_builtin_templates,
    save_template,
    template_from_row,
    template_row,
    template_row_values,
    template_rows,
)

__all__ = [
    "EDITABLE",
    "PUBLIC_FIELDS",
    "Applied",
    "CohortInput",
    "Notices",
    "activate",
    "add_cohort_skip_dates",
    "add_member_meetings",
    "busy_time",
    "cancel_meeting",
    "cohort_spec",
    "confirmed",
    "create_cohort",
    "ensure_builtin_templates",
    "input_from_cohort",
    "make_up_meeting",
    "meeting_row",
    "meeting_values",
    "parse_cohort_input",
    "preview",
    "read_notices",
    "reschedule_meeting",
    "save_template",
    "set_status",
    "shift_cohort",
    "skip_dates_of",
    "stored_meetings",
    "template_from_row",
    "template_row",
    "template_row_values",
    "template_rows",
    "update_draft",
    "upcoming_window",
]
