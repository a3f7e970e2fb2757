"""Server-rendered SVG trend charts of a member's PHQ-9 / GAD-7 totals.

The chart needs no JavaScript and no stylesheet (colours are attributes, so the same markup
works in the browser, in print and in the PDF renderer). It is a ``<figure>`` holding:
- an ``<svg role="img">`` with ``<title>`` and ``<desc>`` (the desc states baseline, latest,
  change, response and remission in words);
- the severity bands shaded and their thresholds drawn and labelled;
- a caption with the 2-week recall note: weekly administrations of a 2-week instrument
  cover overlapping periods (domain-ipt.md 5e), so the line is a trend, not separate weeks;
- a plain ``<table>`` with every point, for screen readers and anyone who prefers numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from server.measures.instruments import RECALL_WINDOW_DAYS, Instrument, band_for, questionnaire
from server.measures.outcomes import LATE_BASELINE_LABEL, STANDING_LABELS, Standing, episode_outcome


@dataclass(frozen=True)
class TrendPoint:
    when: date
    total: int
    label: str
    window: str = ""  # the occasion key ("baseline", "session-3"); picks the baseline


RECALL_NOTE = (
    f"Each answer looks back over the previous {RECALL_WINDOW_DAYS // 7} weeks, so answers "
    "given less than 2 weeks apart cover overlapping periods. Read the line as a trend, "
    "not as separate weeks."
)

# Light tints, darkening with severity; text never relies on colour alone (each band is
# labelled, and the table carries the band name).
_BAND_FILLS = ("#eef5ee", "#f6f3df", "#f9e8d2", "#f7dccb", "#f3cfcf")

# A compact viewBox so the labels stay legible when a phone scales the chart down.
_WIDTH = 560
_HEIGHT = 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 156, 16, 52
_MAX_X_LABELS = 10


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _yes_no(value: bool | None, undefined: str) -> str:
    if value is None:
        return undefined
    return "yes" if value else "no"


def _ordered(points: Sequence[TrendPoint]) -> list[TrendPoint]:
    return sorted(points, key=lambda p: p.when)


def describe_trend(instrument: Instrument | str, points: Sequence[TrendPoint]) -> str:
    q = questionnaire(instrument)
    if not points:
        return f"No {q.name} answers yet."
    ordered = _ordered(points)
    outcome = episode_outcome(q.instrument, [(p.window, p.total) for p in ordered])
    assert outcome.baseline_index is not None
    base = ordered[outcome.baseline_index]
    base_band = band_for(q.instrument, base.total)
    parts = [
        f"{q.name} totals over {len(ordered)} "
        f"{'administration' if len(ordered) == 1 else 'administrations'}, scale 0 to "
        f"{q.max_total}.",
    ]
    if outcome.late_baseline:
        parts.append(
            f"The baseline questionnaire was missed; {LATE_BASELINE_LABEL} {base.total} "
            f"({base_band.label}) on {base.when.isoformat()}."
        )
    else:
        parts.append(f"Baseline {base.total} ({base_band.label}) on {base.when.isoformat()}.")
    change = outcome.change
    if change is not None and outcome.last_index is not None:
        last = ordered[outcome.last_index]
        parts.append(
            f"Latest {last.total} ({change.current_band.label}) on {last.when.isoformat()}; "
            f"change {change.difference:+d}."
        )
        if outcome.standing is Standing.BELOW_THRESHOLD:
            parts.append(
                f"Response and remission are not counted: {STANDING_LABELS[outcome.standing]} "
                "(a baseline below 10)."
            )
        else:
            parts.append(f"Response (a drop of at least 50%): {_yes_no(change.response, '')}.")
            if change.remission is not None:
                parts.append(f"Remission (below 5): {_yes_no(change.remission, '')}.")
    return " ".join(parts)


def trend_chart(
    instrument: Instrument | str,
    points: Sequence[TrendPoint],
    *,
    chart_id: str = "trend",
) -> Markup:
    q = questionnaire(instrument)
    ident = escape(chart_id)
    heading = f"{q.name} over time"
    ordered = _ordered(points)
    for p in ordered:
        band_for(q.instrument, p.total)  # raises InvalidAnswers on an impossible total
    if not ordered:
        return Markup(
            f'<figure class="trend-chart" id="{ident}">'
            f"<figcaption><strong>{escape(heading)}</strong>: "
            f"{escape(describe_trend(q.instrument, ordered))}</figcaption></figure>"
        )

    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def y_of(total: float) -> float:
        return _TOP + plot_h * (1 - total / q.max_total)

    first_day = ordered[0].when
    span = (ordered[-1].when - first_day).days

    def x_of(index: int, when: date) -> float:
        if len(ordered) == 1:
            return _LEFT + plot_w / 2
        if span == 0:
            return _LEFT + plot_w * index / (len(ordered) - 1)
        return _LEFT + plot_w * (when - first_day).days / span

    svg: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="sans-serif" font-size="13">',
        f'<title id="{ident}-title">{escape(heading)}</title>',
        f'<desc id="{ident}-desc">{escape(describe_trend(q.instrument, ordered))}</desc>',
    ]
    # Bands: shaded from low to high (one unit above the band's top, so bands touch).
    for n, band in enumerate(q.bands):
        top = y_of(min(band.high + 1, q.max_total))
        bottom = y_of(band.low)
        fill = _BAND_FILLS[min(n, len(_BAND_FILLS) - 1)]
        svg.append(
            f'<rect x="{_LEFT}" y="{_fmt(top)}" width="{plot_w}" '
            f'height="{_fmt(bottom - top)}" fill="{fill}"/>'
        )
        svg.append(
            f'<text x="{_LEFT + plot_w + 6}" y="{_fmt((top + bottom) / 2 + 4)}" '
            f'fill="#333" font-size="12">{escape(band.label)} {band.low}\u2013{band.high}</text>'
        )
    # Thresholds: the lower edge of every band above the first.
    for band in q.bands[1:]:
        y = _fmt(y_of(band.low))
        svg.append(
            f'<line class="threshold" data-threshold="{band.low}" x1="{_LEFT}" y1="{y}" '
            f'x2="{_LEFT + plot_w}" y2="{y}" stroke="#8a8a8a" stroke-dasharray="4 3"/>'
        )
    # Axes and y ticks at 0, each threshold and the maximum.
    svg.append(
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#333"/>'
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" '
        f'y2="{_TOP + plot_h}" stroke="#333"/>'
    )
    ticks = [0, *(b.low for b in q.bands[1:]), q.max_total]
    for tick in ticks:
        y = y_of(tick)
        svg.append(
            f'<text x="{_LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end" fill="#333">{tick}</text>'
        )
    svg.append(
        f'<text x="12" y="{_fmt(_TOP + plot_h / 2)}" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 12 {_fmt(_TOP + plot_h / 2)})">Total</text>'
    )
    # Line and points.
    coords = [(x_of(i, p.when), y_of(p.total)) for i, p in enumerate(ordered)]
    if len(coords) > 1:
        path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
        svg.append(
            f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="2.5"/>'
        )
    step = max(1, -(-len(ordered) // _MAX_X_LABELS))
    for i, (p, (x, y)) in enumerate(zip(ordered, coords)):
        band = band_for(q.instrument, p.total)
        tip = f"{p.label}, {p.when.isoformat()}: {p.total} ({band.label})"
        svg.append(
            f'<circle class="point" cx="{_fmt(x)}" cy="{_fmt(y)}" r="4.5" fill="#1f4e79" '
            f'data-total="{p.total}"><title>{escape(tip)}</title></circle>'
        )
        if i % step == 0 or i == len(ordered) - 1:
            label_y = _TOP + plot_h + 16
            svg.append(
                f'<text x="{_fmt(x)}" y="{label_y}" text-anchor="middle" fill="#333">'
                f"{escape(p.label)}</text>"
                f'<text x="{_fmt(x)}" y="{label_y + 15}" text-anchor="middle" fill="#555" '
                f'font-size="10">{p.when.strftime("%d %b")}</text>'
            )
    svg.append("</svg>")

    rows: list[str] = []
    outcome = episode_outcome(q.instrument, [(p.window, p.total) for p in ordered])
    base_index = outcome.baseline_index or 0
    baseline = ordered[base_index].total
    for i, p in enumerate(ordered):
        band = band_for(q.instrument, p.total)
        if i == base_index:
            change = LATE_BASELINE_LABEL if outcome.late_baseline else "baseline"
        else:
            change = f"{p.total - baseline:+d}"
        rows.append(
            f"<tr><td>{p.when.isoformat()}</td><td>{escape(p.label)}</td>"
            f"<td>{p.total}</td><td>{escape(band.label)}</td><td>{change}</td></tr>"
        )
    table = (
        f'<table class="trend-table" id="{ident}-table"><caption>{escape(q.name)} answers '
        f"(total 0\u2013{q.max_total})</caption><thead><tr><th scope=\"col\">Date</th>"
        '<th scope="col">Occasion</th><th scope="col">Total</th>'
        '<th scope="col">Severity band</th><th scope="col">Change from baseline</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return Markup(
        f'<figure class="trend-chart" id="{ident}">{"".join(svg)}'
        f"<figcaption><strong>{escape(heading)}</strong>. {escape(RECALL_NOTE)}</figcaption>"
        f"<details><summary>{escape(q.name)} answers as a table</summary>{table}</details>"
        "</figure>"
    )
