"""Server-rendered SVG bar charts of the programme's figures, one bar per group.

As server/measures/charts.py does for a member's trend: a ``<figure>`` with an
``<svg role="img">`` whose ``<title>`` and ``<desc>`` say in words what the bars show, every
bar labelled with its value in text (colour is never the only cue), and the same figures as
a plain ``<table>`` for screen readers and anyone who prefers numbers. No JavaScript, no
stylesheet. Suppressed groups keep their line, labelled, with no bar.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

MAX_BARS = 40  # beyond this a chart is a wall; the table on the page lists every group

_WIDTH = 640
_LABEL_W = 230
_VALUE_W = 140
_BAR_H = 18
_GAP = 8
_TOP = 28
_BOTTOM = 24
# Text in user units: the page keeps a chart at least 616 px wide (site.css, .chart-wrap svg)
# and scrolls it sideways on a phone, so 13 units render at 13 × 616 / 640 ≈ 12.5 px or more
# (issue 20, item 8: ticks of 11 units read at 6 px when a 390 px phone shrank the chart).
_TEXT = 13
_LABEL_CHARS = 28  # about 7 units a character at 13: a label fits in _LABEL_W
_VALUE_CHARS = 18
_FILL = "#1f4e79"
_FILL_NEGATIVE = "#2e7d32"  # a drop in symptom scores is improvement


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to show (suppressed, or nothing to count)
    text: str  # what the value means, written out: "9 of 20 (45%)", "suppressed (fewer than 5 people)"
    short: str = ""  # beside the bar, if `text` is too long there


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def describe(title: str, bars: Sequence[Bar]) -> str:
    if not bars:
        return f"{title}: no groups to show."
    return f"{title}, {len(bars)} {'group' if len(bars) == 1 else 'groups'}: " + "; ".join(
        f"{b.label}: {b.text}" for b in bars) + "."


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], *, low: float = 0, high: float = 100,
              unit: str = "%", caption: str = "") -> Markup:
    """Horizontal bars on a scale from `low` to `high` (a negative `low` draws bars left of zero)."""
    ident = escape(chart_id)
    if not bars:
        return Markup(f'<figure class="programme-chart" id="{ident}"><figcaption><strong>{escape(title)}</strong>: '
                      "no groups to show.</figcaption></figure>")
    if len(bars) > MAX_BARS:
        return Markup(f'<figure class="programme-chart" id="{ident}"><figcaption><strong>{escape(title)}</strong>: '
                      f"{len(bars)} groups are too many to chart; the table lists them all. Group by template or "
                      "facilitator, or narrow the period, to see a chart.</figcaption></figure>")
    plot_w = _WIDTH - _LABEL_W - _VALUE_W
    height = _TOP + len(bars) * (_BAR_H + _GAP) + _BOTTOM

    def x_of(value: float) -> float:
        clamped = min(max(value, low), high)
        return _LABEL_W + plot_w * (clamped - low) / (high - low)

    zero = x_of(0 if low <= 0 <= high else low)
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="sans-serif" font-size="{_TEXT}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(describe(title, bars))}</desc>',
    ]
    axis_y = _TOP + len(bars) * (_BAR_H + _GAP)
    for tick in (low, (low + high) / 2, high) if low < 0 else (low, low + (high - low) / 2, high):
        x = _fmt(x_of(tick))
        svg.append(f'<line x1="{x}" y1="{_TOP - 6}" x2="{x}" y2="{axis_y}" stroke="#ccc"/>'
                   f'<text class="tick" x="{x}" y="{axis_y + 17}" text-anchor="middle" fill="#333" font-size="{_TEXT}">'
                   f"{_fmt(tick)}{escape(unit)}</text>")
    svg.append(f'<line x1="{_fmt(zero)}" y1="{_TOP - 6}" x2="{_fmt(zero)}" y2="{axis_y}" stroke="#333"/>')
    for n, bar in enumerate(bars):
        y = _TOP + n * (_BAR_H + _GAP)
        middle = _fmt(y + _BAR_H / 2 + 4)
        svg.append(f'<text x="{_LABEL_W - 8}" y="{middle}" text-anchor="end" fill="#333" font-size="{_TEXT}">'
                   f"{escape(_short(bar.label, _LABEL_CHARS))}<title>{escape(bar.label)}</title></text>")
        if bar.value is not None:
            end = x_of(bar.value)
            left, width = min(zero, end), abs(end - zero)
            fill = _FILL_NEGATIVE if bar.value < 0 else _FILL
            svg.append(f'<rect class="bar" x="{_fmt(left)}" y="{y}" width="{_fmt(max(width, 1))}" height="{_BAR_H}" '
                       f'fill="{fill}" data-value="{_fmt(bar.value)}"><title>{escape(bar.label)}: '
                       f"{escape(bar.text)}</title></rect>")
        svg.append(f'<text x="{_LABEL_W + plot_w + 8}" y="{middle}" fill="#333" font-size="{_TEXT}">'
                   f"{escape(_short(bar.short or bar.text, _VALUE_CHARS))}</text>")
    svg.append("</svg>")
    rows = "".join(f'<tr><th scope="row">{escape(b.label)}</th><td>{escape(b.text)}</td></tr>' for b in bars)
    table = (f'<table class="programme-chart-table" id="{ident}-table"><caption>{escape(title)}</caption>'
             f'<thead><tr><th scope="col">Group</th><th scope="col">Value</th></tr></thead><tbody>{rows}</tbody></table>')
    note = f" {escape(caption)}" if caption else ""
    return Markup(f'<figure class="programme-chart" id="{ident}">{"".join(svg)}'
                  f"<figcaption><strong>{escape(title)}</strong>.{note}</figcaption>"
                  f"<details><summary>{escape(title)} as a table</summary>{table}</details></figure>")


# --- the dashboard's charts ---------------------------------------------------------------

SUPPRESSED = "suppressed (fewer than 5 people)"


def _share_bar(name: str, group, pick) -> Bar:
    if group.figures is None:
        return Bar(name, None, SUPPRESSED, "suppressed")
    share = pick(group.figures)
    if share is None or not share.of:
        return Bar(name, None, "none to count")
    return Bar(name, 100 * share.count / share.of, str(share))


def _change_bar(name: str, group, pick) -> Bar:
    if group.figures is None:
        return Bar(name, None, SUPPRESSED, "suppressed")
    figures = pick(group.figures)
    if figures.mean_change is None:
        return Bar(name, None, "none to count")
    return Bar(name, figures.mean_change, f"{figures.mean_change:+.1f} over {figures.counted}")


def dashboard_charts(named_groups: Sequence[tuple[str, object]]) -> list[Markup]:
    """The page's charts from (name, figures.Group) pairs, in the table's order."""
    shares = [
        ("chart-completion", "Completed, of members who started", lambda f: f.completion, ""),
        ("chart-attendance", "Attendance, of group sessions marked", lambda f: f.attendance, ""),
        ("chart-phq9-response", "PHQ-9 response (a drop of 50% or more)", lambda f: f.phq9.response,
         "Of members with a baseline PHQ-9 of 10 or more and a later score."),
        ("chart-phq9-remission", "PHQ-9 remission (a last score below 5)", lambda f: f.phq9.remission,
         "Of members with a baseline PHQ-9 of 10 or more and a later score."),
        ("chart-gad7-response", "GAD-7 response (a drop of 50% or more)", lambda f: f.gad7.response,
         "Of members with a baseline GAD-7 of 10 or more and a later score."),
    ]
    out = [bar_chart(ident, title, [_share_bar(n, g, pick) for n, g in named_groups], caption=caption)
           for ident, title, pick, caption in shares]
    for ident, title, pick in (("chart-phq9-change", "Mean change in PHQ-9, baseline to last", lambda f: f.phq9),
                               ("chart-gad7-change", "Mean change in GAD-7, baseline to last", lambda f: f.gad7)):
        bars = [_change_bar(n, g, pick) for n, g in named_groups]
        reach = float(math.ceil(max([10.0, *(abs(b.value) for b in bars if b.value is not None)])))
        out.append(bar_chart(ident, title, bars, low=-reach, high=reach, unit="",
                             caption="Points on the scale; below zero is improvement. Members with a baseline "
                                     "of 10 or more and a later score only."))
    return out
