"""What a member's measures pages show: each questionnaire's trend, change from baseline,
and the answers themselves, across the member's episode (transfers included)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from models.accounts import User
from models.clinical import MeasureResponse
from models.cohorts import Enrollment
from server.accounts import audit
from server.measures import charts
from server.measures.instruments import QUESTIONNAIRES, band_for
from server.measures.outcomes import STANDING_LABELS, episode_outcome
from server.measures.responses import lineages, trend_points_of


async def episode_responses(enrollments: Sequence[Enrollment]) -> dict[int, list[MeasureResponse]]:
    """Every answer of each enrollment's episode, oldest first: one query, however many."""
    chains = await lineages(enrollments)
    rows = await MeasureResponse.filter(
        enrollment_id__in={i for chain in chains.values() for i in chain}
    ).order_by("administered_at", "id")
    return {e.id: [r for r in rows if r.enrollment_id in chains[e.id]] for e in enrollments}


def measures_view(enrollment: Enrollment, responses: Sequence[MeasureResponse], *, chart_prefix: str) -> dict[str, Any]:
    """The sections of the measures page from the episode's answers (cohort loaded)."""
    zone = ZoneInfo(enrollment.cohort.time_zone)
    sections = []
    for instrument, q in QUESTIONNAIRES.items():
        current = [r for r in responses if r.instrument == instrument and not r.superseded]
        outcome = episode_outcome(instrument, [(r.window, r.total) for r in current])
        sections.append({
            "q": q, "responses": [r for r in responses if r.instrument == instrument], "current": current,
            "chart": charts.trend_chart(instrument, trend_points_of(current, zone),
                                        chart_id=f"{chart_prefix}-{instrument.value}"),
            "outcome": outcome,
            "baseline": current[outcome.baseline_index] if outcome.baseline_index is not None else None,
            "baseline_band": band_for(instrument, outcome.baseline_total) if outcome.baseline_total is not None else None,
            "standing_labels": STANDING_LABELS,
        })
    return {"sections": sections, "zone": zone}


async def member_measures(enrollment: Enrollment, viewer: User, *, chart_prefix: str) -> dict[str, Any]:
    """One enrollment's measures page, its reading audited."""
    responses = (await episode_responses([enrollment]))[enrollment.id]
    await audit.record(viewer, "read", "measure_response", enrollment.id, member=enrollment.member_id,
                       detail=f"{len(responses)} responses")
    return measures_view(enrollment, responses, chart_prefix=chart_prefix)
