"""Cohorts on the calendar: creating and changing cohorts and their meetings over the
database, the notices a change sends, and the private iCal feeds. The pure rules live in
calendars/."""
