"""Pure scheduling for group-IPT cohorts: protocol templates, meeting plans, schedule
changes and iCalendar feeds. Values in, values out: no database, no clock, no server."""

from calendars.changes import (
    ChangeResult,
    MakeUp,
    add_skip_dates,
    cancel,
    reschedule,
    schedule_make_up,
    shift_remaining,
)
from calendars.errors import ChangeError, PlanError, Problem, ScheduleError, TemplateError
from calendars.feed import FeedEvent, Organizer, build_feed, feed_etag
from calendars.meetings import Busy, Facilitator, PlannedMeeting, meeting_title
from calendars.cohort_spec import CohortSpec, IndividualHours
from calendars.individual_meetings import member_meetings
from calendars.planning import SchedulePlan, plan_meetings
from calendars.protocols import ProtocolTemplate, shipped_template, shipped_templates
from calendars.vocabulary import Instrument, MeetingKind, MeetingStatus, Phase, ProblemArea
from calendars.wallclock import WallClockAdjustment, local_start

__all__ = [
    "Busy",
    "ChangeError",
    "ChangeResult",
    "CohortSpec",
    "Facilitator",
    "FeedEvent",
    "IndividualHours",
    "Instrument",
    "MakeUp",
    "MeetingKind",
    "MeetingStatus",
    "Organizer",
    "Phase",
    "PlanError",
    "PlannedMeeting",
    "Problem",
    "ProblemArea",
    "ProtocolTemplate",
    "ScheduleError",
    "SchedulePlan",
    "TemplateError",
    "WallClockAdjustment",
    "add_skip_dates",
    "build_feed",
    "cancel",
    "feed_etag",
    "local_start",
    "meeting_title",
    "member_meetings",
    "plan_meetings",
    "reschedule",
    "schedule_make_up",
    "shift_remaining",
    "shipped_template",
    "shipped_templates",
]
