"""Protocol templates, cohorts, who is enrolled in them, and their meetings."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

# The domain's words live in the pure layer; the columns below store them as they are.
from calendars.vocabulary import MeetingKind, MeetingStatus, ProblemArea

__all__ = [
    "Cohort", "CohortStatus", "ConsentMethod", "Enrollment", "EnrollmentStatus",
    "EnrollmentTransition", "Meeting", "MeetingKind", "MeetingStatus", "ProblemArea",
    "ProtocolTemplate",
]


class ProtocolTemplate(Model):
    """A published group-IPT format as data (domain-ipt.md section 1 and 10)."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=120)
    is_builtin = fields.BooleanField(default=False)
    n_pregroup_individual = fields.IntField(default=1)
    n_group_sessions = fields.IntField()
    session_minutes = fields.IntField(default=90)
    individual_minutes = fields.IntField(default=60)
    cadence_days = fields.IntField(default=7)
    # [{"name": "initial", "first": 1, "last": 1}, ...]
    phases = fields.JSONField(default=list)
    mid_individual_after_session = fields.IntField(null=True)
    post_individual_within_days = fields.IntField(null=True)
    group_size_min = fields.IntField(default=4)
    group_size_target_low = fields.IntField(default=6)
    group_size_target_high = fields.IntField(default=9)
    group_size_max = fields.IntField(default=12)
    facilitator_count = fields.IntField(default=1)
    late_join_cutoff_session = fields.IntField(default=3)
    # Whether a member needs recorded consent (when, how, which agreement) to be enrolled.
    consent_required = fields.BooleanField(default=True, db_default=True)
    # "clinical" (role dispute, ...) or "lay" (disputes, life changes, ...)
    problem_area_labels = fields.CharField(max_length=16, default="clinical")
    grief_enabled = fields.BooleanField(default=True)
    homework_enabled = fields.BooleanField(default=False)
    # {"phq9": "baseline,every_group_session,closure", "gad7": "baseline,midpoint,closure"}
    measures_schedule = fields.JSONField(default=dict)
    # Session fidelity checklists, {"group:middle": [{"key": ..., "label": ...}], "pregroup": [...]}
    # (calendars/checklists.py); null: none. And where their items come from.
    checklists = fields.JSONField(null=True)
    checklist_notes = fields.TextField(default="", db_default="")
    # Closure summaries of this protocol's cohorts need a supervisor's sign-off (issue 17).
    requires_signoff = fields.BooleanField(default=False, db_default=False)
    created_by = fields.ForeignKeyField("models.User", related_name="templates", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "protocol_templates"

    def __str__(self) -> str:
        return self.name


class CohortStatus(StrEnum):
    DRAFT = "draft"
    ENROLLING = "enrolling"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Cohort(Model):
    id = fields.IntField(primary_key=True)
    template = fields.ForeignKeyField("models.ProtocolTemplate", related_name="cohorts")
    # Internal name, seen by staff only; calendars and e-mails show public_title.
    name = fields.CharField(max_length=120)
    public_title = fields.CharField(max_length=120, default="Group session")
    status = fields.CharEnumField(CohortStatus, max_length=16, default=CohortStatus.DRAFT)
    time_zone = fields.CharField(max_length=64)
    weekday = fields.IntField()  # Monday = 0, as datetime.date.weekday()
    local_start_time = fields.CharField(max_length=5)  # "18:00", wall-clock in time_zone
    duration_minutes = fields.IntField(default=90)
    n_group_sessions = fields.IntField()
    phases = fields.JSONField(default=list)  # copied from the template, editable per cohort
    start_date = fields.DateField()
    skip_dates = fields.JSONField(default=list)  # ISO dates
    capacity = fields.IntField(default=9)
    location = fields.CharField(max_length=200, default="")
    video_link = fields.CharField(max_length=500, default="")
    group_agreement_version = fields.CharField(max_length=32, default="1")
    # A coordinator activated the cohort outside its protocol (size, facilitators): why, and
    # what the checks said at that moment.
    # db_default: SQLite adds a NOT NULL column to an existing table only with a default.
    activation_override_reason = fields.CharField(max_length=500, default="", db_default="")
    activation_override_problems = fields.JSONField(null=True)
    activation_override_by = fields.ForeignKeyField(
        "models.User", related_name="activation_overrides", null=True, on_delete=fields.SET_NULL
    )
    activation_override_at = fields.DatetimeField(null=True)
    facilitators = fields.ManyToManyField(
        "models.User", related_name="facilitated_cohorts", through="cohort_facilitators"
    )
    # Closure summaries need a supervisor's sign-off; None follows the template.
    requires_signoff = fields.BooleanField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cohorts"

    def __str__(self) -> str:
        return self.name


class EnrollmentStatus(StrEnum):
    INVITED = "invited"
    SCREENING = "screening"
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


class ConsentMethod(StrEnum):
    SIGNED_FORM = "signed_form"
    VERBAL_IN_PERSON = "verbal_in_person"
    PHONE = "phone"
    VIDEO = "video"
    ONLINE = "online"


class Enrollment(Model):
    id = fields.IntField(primary_key=True)
    cohort = fields.ForeignKeyField("models.Cohort", related_name="enrollments")
    member = fields.ForeignKeyField("models.User", related_name="enrollments")
    status = fields.CharEnumField(EnrollmentStatus, max_length=16)
    primary_problem_area = fields.CharEnumField(ProblemArea, max_length=32, null=True)
    secondary_problem_area = fields.CharEnumField(ProblemArea, max_length=32, null=True)
    formulation = fields.TextField(default="")
    # Whether the member agreed to the formulation as written (None: not yet discussed), and when.
    formulation_agreed = fields.BooleanField(null=True)
    formulation_agreed_at = fields.DatetimeField(null=True)
    consent_at = fields.DatetimeField(null=True)
    consent_method = fields.CharEnumField(ConsentMethod, max_length=16, null=True)
    consent_version = fields.CharField(max_length=32, default="")
    withdrawal_reason = fields.CharField(max_length=500, default="")
    late_join_reason = fields.CharField(max_length=500, default="")
    transferred_from = fields.ForeignKeyField(
        "models.Enrollment", related_name="transferred_to", null=True
    )
    # When the member reached the waitlist; the earliest is promoted first.
    waitlisted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "enrollments"
        unique_together = (("cohort", "member"),)


class EnrollmentTransition(Model):
    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="transitions")
    from_status = fields.CharField(max_length=16, default="")
    to_status = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=500, default="")
    by = fields.ForeignKeyField("models.User", related_name="enrollment_transitions", null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "enrollment_transitions"


class Meeting(Model):
    id = fields.IntField(primary_key=True)
    cohort = fields.ForeignKeyField("models.Cohort", related_name="meetings")
    kind = fields.CharEnumField(MeetingKind, max_length=16)
    # Group sessions: 1..n ("3 of 12"); a make-up session takes the number of the one it
    # replaces. Individual meetings: their ordinal for that member (pre-group 1, 2).
    number = fields.IntField()
    phase = fields.CharField(max_length=16, default="")
    enrollment = fields.ForeignKeyField(
        "models.Enrollment", related_name="individual_meetings", null=True
    )
    facilitator = fields.ForeignKeyField(
        "models.User", related_name="individual_meetings", null=True
    )
    starts_at = fields.DatetimeField()  # UTC, derived from local wall time + cohort zone
    ends_at = fields.DatetimeField()
    status = fields.CharEnumField(MeetingStatus, max_length=16, default=MeetingStatus.SCHEDULED)
    replaces = fields.ForeignKeyField("models.Meeting", related_name="made_up_by", null=True)
    location = fields.CharField(max_length=200, default="")
    uid = fields.CharField(max_length=64, unique=True)
    # RFC 5545 SEQUENCE; grows on every change a calendar client must notice.
    sequence = fields.IntField(default=0)
    # Revision time: DTSTAMP and LAST-MODIFIED in feeds. Set explicitly on each change.
    revised_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meetings"
        ordering = ["starts_at", "id"]
        # Each cohort's next session (dashboard.next_group_meetings) and the clinic's next ones.
        indexes = (("cohort_id", "kind", "starts_at"), ("kind", "status", "starts_at"))
