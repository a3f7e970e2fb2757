"""PHQ-9 and GAD-7: wording, answer scale, scoring and change from baseline.

Pure code: plain values in, plain values out; no database and no clock.

Sources (see ../shared/domain-ipt.md, section 5):
- PHQ-9: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression
  severity measure. J Gen Intern Med 2001;16:606-613. Bands 0-4, 5-9, 10-14, 15-19, 20-27.
- GAD-7: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing
  generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097.
  Bands 0-4, 5-9, 10-14, 15-21.
- Both are in the public domain; no permission is required to reproduce them.
- Response = a drop of at least 50% from baseline; remission = PHQ-9 below 5, both
  counted only from a baseline of 10 or more (measurement-based care metrics, Psychiatric
  Services 2020, appi.ps.201900295): server/measures/outcomes.py.

Item 9 of the PHQ-9 asks about thoughts of being better off dead or of self-harm. Any answer
above 0 needs a documented risk check. An answer of 0 is *not* evidence of safety (71.6% of
suicides in the VA cohort had answered "not at all"; Louzon et al. 2016), so nothing here
ever describes it as "no risk".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Defined with the other domain words, so calendars/ (protocol templates) can name it too;
# the measures code imports it from here.
from calendars.vocabulary import Instrument


@dataclass(frozen=True)
class AnswerOption:
    value: int
    label: str


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    low: int
    high: int

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Questionnaire:
    instrument: Instrument
    name: str
    title: str
    stem: str
    items: tuple[str, ...]
    difficulty_question: str
    bands: tuple[Band, ...]
    citation: str

    @property
    def max_total(self) -> int:
        return 3 * len(self.items)

    @property
    def item_fields(self) -> tuple[str, ...]:
        return tuple(f"item{n}" for n in range(1, len(self.items) + 1))


RECALL_WINDOW_DAYS = 14

ANSWER_SCALE: tuple[AnswerOption, ...] = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "Several days"),
    AnswerOption(2, "More than half the days"),
    AnswerOption(3, "Nearly every day"),
)

DIFFICULTY_SCALE: tuple[AnswerOption, ...] = (
    AnswerOption(0, "Not difficult at all"),
    AnswerOption(1, "Somewhat difficult"),
    AnswerOption(2, "Very difficult"),
    AnswerOption(3, "Extremely difficult"),
)

_DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you "
    "to do your work, take care of things at home, or get along with other people?"
)

PHQ9 = Questionnaire(
    instrument=Instrument.PHQ9,
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the "
        "following problems?"
    ),
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself \u2014 or that you are a failure or have let yourself "
        "or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching "
        "television",
        "Moving or speaking so slowly that other people could have noticed? Or the "
        "opposite \u2014 being so fidgety or restless that you have been moving around a "
        "lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    difficulty_question=_DIFFICULTY_QUESTION,
    # Kroenke 2001: "scores of 5, 10, 15, and 20 represented mild, moderate,
    # moderately severe, and severe depression".
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("moderately_severe", "Moderately severe", 15, 19),
        Band("severe", "Severe", 20, 27),
    ),
    citation="Kroenke, Spitzer & Williams 2001 (public domain)",
)

GAD7 = Questionnaire(
    instrument=Instrument.GAD7,
    name="GAD-7",
    title="Generalized Anxiety Disorder scale (GAD-7)",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ),
    difficulty_question=_DIFFICULTY_QUESTION,
    # Spitzer 2006: "scores of 5, 10, and 15 represent cut points for mild, moderate,
    # and severe anxiety".
    bands=(
        Band("minimal", "Minimal", 0, 4),
        Band("mild", "Mild", 5, 9),
        Band("moderate", "Moderate", 10, 14),
        Band("severe", "Severe", 15, 21),
    ),
    citation="Spitzer, Kroenke, Williams & Löwe 2006 (public domain)",
)

QUESTIONNAIRES: dict[Instrument, Questionnaire] = {
    Instrument.PHQ9: PHQ9,
    Instrument.GAD7: GAD7,
}

# Zero-based position of the PHQ-9's self-harm item.
ITEM9_INDEX = 8


class InvalidAnswers(ValueError):
    """Raised when a submission does not fit the questionnaire.

    ``errors`` maps a form field ("item3", "difficulty", "items") to a message a person
    can act on.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def questionnaire(instrument: Instrument | str) -> Questionnaire:
    try:
        return QUESTIONNAIRES[Instrument(instrument)]
    except ValueError:
        raise InvalidAnswers({"instrument": f"Unknown questionnaire {instrument!r}."}) from None


def answer_label(value: int) -> str:
    return ANSWER_SCALE[value].label


def band_for(instrument: Instrument | str, total: int) -> Band:
    q = questionnaire(instrument)
    if isinstance(total, bool) or not isinstance(total, int):
        raise InvalidAnswers({"total": "The total must be a whole number."})
    for band in q.bands:
        if band.contains(total):
            return band
    raise InvalidAnswers({"total": f"A {q.name} total runs from 0 to {q.max_total}."})


@dataclass(frozen=True)
class Score:
    instrument: Instrument
    items: tuple[int, ...]
    total: int
    band: Band
    difficulty: int | None = None

    @property
    def item9(self) -> int | None:
        return self.items[ITEM9_INDEX] if self.instrument is Instrument.PHQ9 else None

    @property
    def item9_positive(self) -> bool:
        return (self.item9 or 0) > 0

    @property
    def questionnaire(self) -> Questionnaire:
        return QUESTIONNAIRES[self.instrument]


def _check_answer(value: object, field: str, scale_max: int = 3) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{field} needs an answer from 0 to {scale_max}."
    if not 0 <= value <= scale_max:
        return f"{field} must be between 0 and {scale_max}, not {value}."
    return value


def score(
    instrument: Instrument | str,
    items: Sequence[int],
    *,
    difficulty: int | None = None,
) -> Score:
    """Score one administration; raise InvalidAnswers naming every problem."""
    q = questionnaire(instrument)
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidAnswers({"items": f"The {q.name} needs a list of {len(q.items)} answers."})
    if len(items) != len(q.items):
        raise InvalidAnswers(
            {"items": f"The {q.name} has {len(q.items)} items; {len(items)} answers were given."}
        )
    errors: dict[str, str] = {}
    clean: list[int] = []
    for n, value in enumerate(items, start=1):
        checked = _check_answer(value, f"Item {n}")
        if isinstance(checked, str):
            errors[f"item{n}"] = checked
        else:
            clean.append(checked)
    if difficulty is not None:
        checked = _check_answer(difficulty, "The difficulty question")
        if isinstance(checked, str):
            errors["difficulty"] = checked
    if errors:
        raise InvalidAnswers(errors)
    total = sum(clean)
    return Score(
        instrument=q.instrument,
        items=tuple(clean),
        total=total,
        band=band_for(q.instrument, total),
        difficulty=difficulty,
    )


def parse_form(instrument: Instrument | str, form: Mapping[str, object]) -> Score:
    """Score answers posted as item1..itemN (and an optional difficulty) form fields."""
    q = questionnaire(instrument)
    errors: dict[str, str] = {}
    items: list[int] = []
    for n, field in enumerate(q.item_fields, start=1):
        raw = form.get(field)
        value = _parse_int(raw)
        if value is None:
            errors[field] = f"Please answer item {n}."
        elif not 0 <= value <= 3:
            errors[field] = f"Item {n} must be between 0 and 3, not {value}."
        else:
            items.append(value)
    difficulty: int | None = None
    raw_difficulty = form.get("difficulty")
    if raw_difficulty not in (None, ""):
        difficulty = _parse_int(raw_difficulty)
        if difficulty is None or not 0 <= difficulty <= 3:
            errors["difficulty"] = "The difficulty question must be between 0 and 3."
    if errors:
        raise InvalidAnswers(errors)
    return score(q.instrument, items, difficulty=difficulty)


def _parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and len(raw) < 8:
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def item9_statement(value: int) -> str:
    """What staff pages say about a PHQ-9 item 9 answer.

    A 0 is reported as the answer given, with the reminder that it does not rule risk
    out; it is never summarized as "no risk".
    """
    checked = _check_answer(value, "Item 9")
    if isinstance(checked, str):
        raise InvalidAnswers({"item9": checked})
    label = ANSWER_SCALE[checked].label
    if checked == 0:
        return (
            f"Item 9 answered \u201c{label}\u201d. This answer alone does not rule out "
            "risk; ask directly if anything else raises concern."
        )
    return (
        f"Item 9 answered \u201c{label}\u201d ({checked} of 3). A documented risk check "
        "is needed."
    )


def describe_total(score_: Score) -> str:
    q = score_.questionnaire
    return f"{q.name} {score_.total} of {q.max_total} ({score_.band.label})"
