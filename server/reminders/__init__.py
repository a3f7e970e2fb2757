"""Reminders before meetings and "I can't come" (issue 16).

`messages` builds each reminder (the sweep, the demo and the tests use the same function),
`sweep` sends the due ones once, `links` signs the "I can't come" link, `absences` records
what a member says, `sms` is the pluggable text-message sender.
"""
from server.reminders.absences import (
    AbsenceContext,
    MeetingPassed,
    context_for,
    context_for_member,
    context_for_token,
    notified_absences,
    say_can_come,
    say_cant_come,
)
from server.reminders.links import cant_come_path, cant_come_token, read_cant_come_token
from server.reminders.messages import Reminder, reminders_for_meeting
from server.reminders.sweep import MEMBER_CHOICES, lead_time_due, sweep, sweeping

__all__ = [
    "MEMBER_CHOICES", "AbsenceContext", "MeetingPassed", "Reminder", "cant_come_path", "cant_come_token",
    "context_for", "context_for_member", "context_for_token", "lead_time_due", "notified_absences", "read_cant_come_token",
    "reminders_for_meeting", "say_can_come", "say_cant_come", "sweep", "sweeping",
]
