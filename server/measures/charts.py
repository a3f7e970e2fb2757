"""Server-rendered SVG trend charts of a member's PHQ-9 / GAD-7 totals.

The chart needs no JavaScript and no stylesheet (colours are attributes, so the same markup
works in the browser, in print and in the PDF renderer). It is a ``<figure>`` holding:
- two drawings of the same data, each an ``<svg role="img">`` with ``<title>`` and ``<desc>``
  (the desc states baseline, latest, change, response and remission in words): a wide one,
  and a compact one for a phone (``hidden``; site.css shows it, and hides the wide one, when
  the figure is narrower than WIDE_MIN_PX), so that the text is never under 12 px on screen.
  Only one is displayed, so only one is in the accessibility tree; their ids differ;
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

from server.measures.instruments import (
    RECALL_WINDOW_DAYS, Instrument, Questionnaire, band_for, questionnaire,
)
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

@dataclass(frozen=True)
class _Layout:
    """One drawing of the chart: its viewBox, margins and text sizes (user units)."""

    suffix: str  # added to the chart's id for this drawing's <title>/<desc> ids
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int  # ticks, occasion labels, the axis name
    small: int  # dates under the occasion labels, band names beside the plot
    bands_inside: bool  # band names written inside their band (no room beside the plot)


# Two drawings of the same data. The stylesheet (site.css, .trend-chart) shows the wide one
# where the figure is at least WIDE_MIN_PX wide, so one unit is at least 1.05 px and the
# smallest text (12 units) at least 12.6 px; on a narrower figure (a phone) it shows the
# compact one, whose every text is 13 units in a 300-unit viewBox: 13.8 px on a 360 px
# phone. Without the stylesheet (the PDF, print.css) the compact one stays `hidden`.
WIDE = _Layout("", 580, 300, 40, 170, 16, 52, font=13, small=12, bands_inside=False)
COMPACT = _Layout("-compact", 300, 290, 40, 12, 10, 52, font=13, small=13, bands_inside=True)
WIDE_MIN_PX = 610

# Text width estimate for spacing axis labels: sans-serif glyphs average about 0.55 em
# (DejaVu Sans, the widest common default, about 0.62 em for digits and capitals).
_EM_WIDTH = 0.62
_LABEL_GAP = 8  # user units between two axis labels


def text_width(text: str, size: float) -> float:
    """A generous estimate of a label's drawn width, in user units."""
    return len(text) * size * _EM_WIDTH


def thin_labels(centres: Sequence[float], widths: Sequence[float], gap: float = _LABEL_GAP) -> list[int]:
    """The indices of the axis labels to draw, so that no two overlap: the first and the last
    always, and left to right every label that clears the previous one kept and the last one
    by ``gap``. Deterministic: the same points give the same labels."""
    n = len(centres)
    if n <= 1:
        return list(range(n))

    def clear(a: int, b: int) -> bool:
        return centres[b] - centres[a] >= (widths[a] + widths[b]) / 2 + gap

    kept = [0]
    for i in range(1, n - 1):
        if clear(kept[-1], i) and clear(i, n - 1):
            kept.append(i)
    kept.append(n - 1)
    return kept


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

    wide = _drawing(q, ordered, ident, heading, WIDE)
    compact = _drawing(q, ordered, ident, heading, COMPACT)
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
        f'<figure class="trend-chart" id="{ident}"><div class="trend-wide">{wide}</div>'
        f'<div class="trend-compact" hidden="hidden">{compact}</div>'
        f"<figcaption><strong>{escape(heading)}</strong>. {escape(RECALL_NOTE)}</figcaption>"
        f"<details><summary>{escape(q.name)} answers as a table</summary>{table}</details>"
        "</figure>"
    )


def _drawing(q: Questionnaire, ordered: Sequence[TrendPoint], ident: str, heading: str, lay: _Layout) -> str:
    """One <svg> of the chart at one layout (ordered: at least one point, oldest first)."""
    plot_w = lay.width - lay.left - lay.right
    plot_h = lay.height - lay.top - lay.bottom
    left, top = lay.left, lay.top
    ids = f"{ident}{lay.suffix}"

    def y_of(total: float) -> float:
        return top + plot_h * (1 - total / q.max_total)

    first_day = ordered[0].when
    span = (ordered[-1].when - first_day).days

    def x_of(index: int, when: date) -> float:
        if len(ordered) == 1:
            return left + plot_w / 2
        if span == 0:
            return left + plot_w * index / (len(ordered) - 1)
        return left + plot_w * (when - first_day).days / span

    svg: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {lay.width} {lay.height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{ids}-title {ids}-desc" font-family="sans-serif" font-size="{lay.font}">',
        f'<title id="{ids}-title">{escape(heading)}</title>',
        f'<desc id="{ids}-desc">{escape(describe_trend(q.instrument, ordered))}</desc>',
    ]
    # Bands: shaded from low to high (one unit above the band's top, so bands touch), each
    # named beside the plot, or inside its band at its top left when there is no room beside.
    for n, band in enumerate(q.bands):
        band_top = y_of(min(band.high + 1, q.max_total))
        bottom = y_of(band.low)
        fill = _BAND_FILLS[min(n, len(_BAND_FILLS) - 1)]
        svg.append(
            f'<rect x="{left}" y="{_fmt(band_top)}" width="{plot_w}" '
            f'height="{_fmt(bottom - band_top)}" fill="{fill}"/>'
        )
        name = f"{escape(band.label)} {band.low}\u2013{band.high}"
        if lay.bands_inside:
            svg.append(
                f'<text class="band-label" x="{left + 5}" y="{_fmt(band_top + lay.small + 2)}" '
                f'fill="#333" font-size="{lay.small}">{name}</text>'
            )
        else:
            svg.append(
                f'<text class="band-label" x="{left + plot_w + 6}" '
                f'y="{_fmt((band_top + bottom) / 2 + 4)}" fill="#333" '
                f'font-size="{lay.small}">{name}</text>'
            )
    # Thresholds: the lower edge of every band above the first.
    for band in q.bands[1:]:
        y = _fmt(y_of(band.low))
        svg.append(
            f'<line class="threshold" data-threshold="{band.low}" x1="{left}" y1="{y}" '
            f'x2="{left + plot_w}" y2="{y}" stroke="#8a8a8a" stroke-dasharray="4 3"/>'
        )
    # Axes and y ticks at 0, each threshold and the maximum.
    svg.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}" stroke="#333"/>'
    )
    ticks = [0, *(b.low for b in q.bands[1:]), q.max_total]
    for tick in ticks:
        y = y_of(tick)
        svg.append(
            f'<text class="tick" x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end" '
            f'fill="#333">{tick}</text>'
        )
    svg.append(
        f'<text x="12" y="{_fmt(top + plot_h / 2)}" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 12 {_fmt(top + plot_h / 2)})">Total</text>'
    )
    # Line and points.
    coords = [(x_of(i, p.when), y_of(p.total)) for i, p in enumerate(ordered)]
    if len(coords) > 1:
        path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
        svg.append(
            f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="2.5"/>'
        )
    for p, (x, y) in zip(ordered, coords):
        band = band_for(q.instrument, p.total)
        tip = f"{p.label}, {p.when.isoformat()}: {p.total} ({band.label})"
        svg.append(
            f'<circle class="point" cx="{_fmt(x)}" cy="{_fmt(y)}" r="4.5" fill="#1f4e79" '
            f'data-total="{p.total}"><title>{escape(tip)}</title></circle>'
        )
    # Axis labels (occasion, and its date below): as many as fit without overlapping, each
    # centred under its point but kept inside the drawing. Every point stays in the table.
    dates = [p.when.strftime("%d %b") for p in ordered]
    widths = [max(text_width(p.label, lay.font), text_width(d, lay.small))
              for p, d in zip(ordered, dates)]
    centres = [min(max(x, w / 2 + 2), lay.width - w / 2 - 2) for (x, _), w in zip(coords, widths)]
    label_y = top + plot_h + lay.font + 4
    for i in thin_labels(centres, widths):
        cx = _fmt(centres[i])
        svg.append(
            f'<text class="x-label" x="{cx}" y="{label_y}" text-anchor="middle" fill="#333">'
            f"{escape(ordered[i].label)}</text>"
            f'<text class="x-date" x="{cx}" y="{label_y + lay.small + 4}" text-anchor="middle" '
            f'fill="#555" font-size="{lay.small}">{dates[i]}</text>'
        )
    svg.append("</svg>")
    return "".join(svg)
