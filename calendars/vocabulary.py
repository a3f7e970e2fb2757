"""The domain's words shared by the pure layer and the server, defined once.

`models/` stores these enums as they are (their member names and order make the column
descriptions in the migrations, so keep both); everything else imports them from here.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    INITIAL = "initial"
    MIDDLE = "middle"
    TERMINATION = "termination"


class MeetingKind(StrEnum):
    GROUP = "group"
    PREGROUP = "pregroup"  # individual, before the first group session
    MID = "mid"  # individual, mid-group (Wilfley: between sessions 10 and 11)
    POST = "post"  # individual, within a week after the last group session


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class ProblemArea(StrEnum):
    GRIEF = "grief"
    ROLE_DISPUTE = "role_dispute"
    ROLE_TRANSITION = "role_transition"
    INTERPERSONAL_DEFICITS = "interpersonal_deficits"


class Instrument(StrEnum):
    """The self-report questionnaires a protocol schedules (server/measures/instruments.py
    holds their items and scoring)."""

    PHQ9 = "phq9"
    GAD7 = "gad7"


class LabelStyle(StrEnum):
    CLINICAL = "clinical"
    LAY = "lay"


# Clinical names after ISIPT / Weissman [S15]; lay names as WHO-derived group IPT [S4] and
# StrongMinds [S52] use them (domain-ipt.md §3).
PROBLEM_AREA_LABELS: dict[LabelStyle, dict[ProblemArea, str]] = {
    LabelStyle.CLINICAL: {
        ProblemArea.GRIEF: "Grief",
        ProblemArea.ROLE_DISPUTE: "Role dispute",
        ProblemArea.ROLE_TRANSITION: "Role transition",
        ProblemArea.INTERPERSONAL_DEFICITS: "Interpersonal deficits",
    },
    LabelStyle.LAY: {
        ProblemArea.GRIEF: "Grief",
        ProblemArea.ROLE_DISPUTE: "Disputes",
        ProblemArea.ROLE_TRANSITION: "Life changes",
        ProblemArea.INTERPERSONAL_DEFICITS: "Loneliness / isolation",
    },
}


class CompositionRule(StrEnum):
    ANY = "any"
    SINGLE_SEX = "single_sex"
    MIXED = "mixed"
    AGE_BAND = "age_band"
