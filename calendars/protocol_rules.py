"""The rules a protocol template must keep: counts and bounds from the published formats,
the phase split, the late-join cutoff, and the problems a template or a cohort's adaptation
of it has. Pure: values in, values out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from calendars.errors import Problem
from calendars.vocabulary import Instrument, Phase, ProblemArea

if TYPE_CHECKING:
    from calendars.protocols import ProtocolTemplate

# Published formats run 6-20 group sessions (domain-ipt.md §1). Three is the least that
# gives every phase a session; 26 (half a year weekly) leaves room for custom extended
# protocols while still refusing an obvious typo such as 120.
MIN_GROUP_SESSIONS = 3
MAX_GROUP_SESSIONS = 26
MAX_PRE_GROUP_MEETINGS = 2  # 0-2 in every published format (domain-ipt.md §1, §10)
MIN_MINUTES, MAX_MINUTES = 15, 240
MAX_CADENCE_DAYS = 28
MAX_GROUP_SIZE = 30
# Adding members is allowed "only over the first 2-3 sessions" (Wilfley IPT-G, S12 /75479,
# domain-ipt.md section 7): no template's default cutoff is later than session 3.
LATE_JOIN_LATEST_SESSION = 3

# Measure schedule tokens, as server/measures/occasions.py reads them (instrument -> comma list).
_MEASURE_TOKEN = re.compile(r"^(baseline|every_group_session|midpoint|closure|every_[1-9]\d*_sessions|session_[1-9]\d*)$")


@dataclass(frozen=True, kw_only=True)
class PhaseRange:
    phase: Phase
    first: int
    last: int

    def __contains__(self, session: object) -> bool:
        return isinstance(session, int) and self.first <= session <= self.last

    @property
    def sessions(self) -> int:
        return self.last - self.first + 1


def phases_for(n: int, *, initial: int, termination: int) -> tuple[PhaseRange, ...]:
    return (
        PhaseRange(phase=Phase.INITIAL, first=1, last=initial),
        PhaseRange(phase=Phase.MIDDLE, first=initial + 1, last=n - termination),
        PhaseRange(phase=Phase.TERMINATION, first=n - termination + 1, last=n),
    )


def default_late_join_cutoff(phases: tuple[PhaseRange, ...]) -> int:
    """The last session a newcomer may first attend, by default.

    Two rules meet here (domain-ipt.md): members may be added "only over the first 2-3
    sessions" (section 7, S12 /75479), and the initial phase is where each member tells
    the group about their symptoms and problem area and the group sets its goals (section 2,
    S6 for WHO, S12 for Wilfley). A newcomer must still take part in at least one session
    of that phase, so the default is the earlier of session 3 and the initial phase's last
    session: 1 for WHO Group IPT (initial phase = session 1), 3 for Uganda and Wilfley."""
    initial = next((p for p in phases if p.phase is Phase.INITIAL), None)
    last_initial = initial.last if initial is not None else LATE_JOIN_LATEST_SESSION
    return max(1, min(LATE_JOIN_LATEST_SESSION, last_initial))


def adapted_late_join_cutoff(
    cutoff: int, template_phases: tuple[PhaseRange, ...], phases: tuple[PhaseRange, ...]
) -> int:
    """A cohort's cutoff when it changes the template's phases: a template that follows the
    initial-phase rule keeps following it for the cohort's own initial phase."""
    n = phases[-1].last if phases else cutoff
    if cutoff <= default_late_join_cutoff(template_phases):
        return max(1, min(cutoff, n, default_late_join_cutoff(phases)))
    return max(1, min(cutoff, n))


def late_join_warnings(cutoff: int, phases: tuple[PhaseRange, ...]) -> list[str]:
    initial = next((p for p in phases if p.phase is Phase.INITIAL), None)
    warnings = []
    if initial is not None and cutoff > initial.last:
        span = f"session {initial.last}" if initial.first == initial.last else f"sessions {initial.first}-{initial.last}"
        warnings.append(
            f"Members may join up to session {cutoff}, but the initial phase is {span}: a member "
            f"joining at session {cutoff} misses the whole initial phase, where the group shares "
            f"its problems and sets its goals. The protocol's default is session "
            f"{default_late_join_cutoff(phases)}."
        )
    if cutoff > LATE_JOIN_LATEST_SESSION:
        warnings.append(
            f"Members may join up to session {cutoff}; group IPT adds members only over the "
            f"first {LATE_JOIN_LATEST_SESSION} sessions (Wilfley IPT-G)."
        )
    return warnings


def phase_split_problems(n: int, initial: int, termination: int) -> list[Problem]:
    problems = []
    if not MIN_GROUP_SESSIONS <= n <= MAX_GROUP_SESSIONS:
        problems.append(
            Problem(
                "group_sessions",
                f"Number of group sessions must be between {MIN_GROUP_SESSIONS} and "
                f"{MAX_GROUP_SESSIONS}; got {n}. Each phase needs at least one session.",
            )
        )
        return problems
    if initial < 1:
        problems.append(Problem("initial_sessions", "The initial phase needs at least 1 session."))
    if termination < 1:
        problems.append(
            Problem("termination_sessions", "The termination phase needs at least 1 session.")
        )
    if initial >= 1 and termination >= 1 and initial + termination > n - 1:
        problems.append(
            Problem(
                "initial_sessions",
                f"Initial ({initial}) and termination ({termination}) sessions leave no middle "
                f"phase in {n} sessions; make them add up to at most {n - 1}.",
            )
        )
    return problems


def template_problems(t: ProtocolTemplate) -> list[Problem]:
    problems: list[Problem] = []
    if not t.key.strip():
        problems.append(Problem("key", "A template needs a key."))
    if not t.name.strip():
        problems.append(Problem("name", "A template needs a name."))
    if not 0 <= t.pre_group_meetings <= MAX_PRE_GROUP_MEETINGS:
        problems.append(
            Problem(
                "pre_group_meetings",
                f"Pre-group individual meetings must be 0 to {MAX_PRE_GROUP_MEETINGS}; "
                f"got {t.pre_group_meetings}.",
            )
        )
    n = t.group_sessions
    if not MIN_GROUP_SESSIONS <= n <= MAX_GROUP_SESSIONS:
        problems.extend(phase_split_problems(n, 1, 1))
        return problems
    for name in ("session_minutes", "individual_minutes"):
        minutes = getattr(t, name)
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            problems.append(
                Problem(name, f"Minutes must be {MIN_MINUTES} to {MAX_MINUTES}; got {minutes}.")
            )
    if not 1 <= t.cadence_days <= MAX_CADENCE_DAYS:
        problems.append(
            Problem("cadence_days", f"Cadence must be 1 to {MAX_CADENCE_DAYS} days; got {t.cadence_days}.")
        )
    phases = tuple(p.phase for p in t.phases)
    if phases != tuple(Phase):
        problems.append(
            Problem("phases", "Phases must be initial, middle and termination, in that order.")
        )
    else:
        expected = 1
        for p in t.phases:
            if p.first != expected or p.last < p.first:
                problems.append(
                    Problem(
                        "phases",
                        f"The {p.phase} phase must start at session {expected} and hold at "
                        f"least one session; got {p.first}-{p.last}.",
                    )
                )
                break
            expected = p.last + 1
        else:
            if expected != n + 1:
                problems.append(
                    Problem("phases", f"Phases must end at session {n}; they end at {expected - 1}.")
                )
    if t.mid_group_after_session is not None and not 1 <= t.mid_group_after_session < n:
        problems.append(
            Problem(
                "mid_group_after_session",
                f"The mid-group meeting must come after a session from 1 to {n - 1}; "
                f"got {t.mid_group_after_session}.",
            )
        )
    if t.post_group_within_days is not None and not 1 <= t.post_group_within_days <= 28:
        problems.append(
            Problem(
                "post_group_within_days",
                f"The post-group meeting window must be 1 to 28 days; got {t.post_group_within_days}.",
            )
        )
    size = t.group_size
    if not 1 <= size.minimum <= size.target_low <= size.target_high <= size.maximum <= MAX_GROUP_SIZE:
        problems.append(
            Problem(
                "group_size",
                "Group size must satisfy 1 <= minimum <= target low <= target high <= maximum "
                f"<= {MAX_GROUP_SIZE}; got {size.minimum}/{size.target_low}/"
                f"{size.target_high}/{size.maximum}.",
            )
        )
    if not 1 <= t.facilitator_count <= 2:
        problems.append(
            Problem("facilitator_count", f"Facilitators must be 1 or 2; got {t.facilitator_count}.")
        )
    if not 1 <= t.late_join_cutoff_session <= n:
        problems.append(
            Problem(
                "late_join_cutoff_session",
                f"The late-join cutoff must be a session from 1 to {n}; got {t.late_join_cutoff_session}.",
            )
        )
    areas = set(t.problem_areas)
    if len(areas) != len(t.problem_areas) or not areas - {ProblemArea.GRIEF}:
        problems.append(
            Problem(
                "problem_areas",
                "List each problem area once and keep at least role disputes, role transitions "
                "or interpersonal deficits.",
            )
        )
    instruments = [name for name, _ in t.measures]
    if len(set(instruments)) != len(instruments):
        problems.append(Problem("measures_schedule", "Each questionnaire may appear only once."))
    for name, tokens in t.measures:
        if name not in {i.value for i in Instrument}:
            problems.append(
                Problem("measures_schedule", f"Unknown questionnaire '{name}'; use {' or '.join(Instrument)}.")
            )
        for token in (part.strip() for part in tokens.split(",")):
            if not _MEASURE_TOKEN.match(token):
                problems.append(
                    Problem(
                        "measures_schedule",
                        f"'{token}' is not a measure occasion; use baseline, every_group_session, "
                        "every_N_sessions, session_N, midpoint or closure.",
                    )
                )
    return problems


