"""Server-rendered SVG of one facilitator's adherence per week, as the measure trends are
drawn (server/measures/charts.py): no JavaScript, colours as attributes, an ``<svg
role="img">`` with a title and a description in words, and the same numbers as a table."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from server.fidelity.adherence import WeekAdherence

_WIDTH, _HEIGHT = 560, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 40, 16, 48  # room for the last week's label
_MAX_X_LABELS = 10


def percent(share: float | None) -> str:
    return "\u2013" if share is None else f"{round(share * 100)}%"


def describe(name: str, weeks: Sequence[WeekAdherence]) -> str:
    counted = [w for w in weeks if w.tally.share_done is not None]
    if not counted:
        return f"No checklist answers that applied for {name} yet."
    first, last = counted[0], counted[-1]
    words = [f"Share of applicable checklist items done by {name}, per week, over {len(counted)} "
             f"{'week' if len(counted) == 1 else 'weeks'}.",
             f"Week of {first.week.isoformat()}: {percent(first.tally.share_done)} done."]
    if len(counted) > 1:
        words.append(f"Week of {last.week.isoformat()}: {percent(last.tally.share_done)} done.")
    return " ".join(words)


def adherence_chart(name: str, weeks: Sequence[WeekAdherence], *, chart_id: str) -> Markup:
    ident = escape(chart_id)
    heading = f"{name}: share done per week"
    counted = [w for w in weeks if w.tally.share_done is not None]
    if not counted:
        return Markup(f'<figure class="trend-chart" id="{ident}"><figcaption><strong>{escape(heading)}</strong>: '
                      f"{escape(describe(name, weeks))}</figcaption></figure>")
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def y_of(share: float) -> float:
        return _TOP + plot_h * (1 - share)

    first = counted[0].week
    span = (counted[-1].week - first).days

    def x_of(index: int, week) -> float:
        if len(counted) == 1:
            return _LEFT + plot_w / 2
        return _LEFT + plot_w * ((week - first).days / span if span else index / (len(counted) - 1))

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-title {ident}-desc" '
        'font-family="sans-serif" font-size="13">',
        f'<title id="{ident}-title">{escape(heading)}</title>',
        f'<desc id="{ident}-desc">{escape(describe(name, weeks))}</desc>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}" stroke="#333"/>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = y_of(tick)
        svg.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{round(tick * 100)}%</text>')
        if 0 < tick:
            svg.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + plot_w}" y2="{y:.1f}" stroke="#ccc" '
                       'stroke-dasharray="4 3"/>')
    coords = [(x_of(i, w.week), y_of(w.tally.share_done)) for i, w in enumerate(counted)]
    if len(coords) > 1:
        svg.append('<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
                   + '" fill="none" stroke="#1f4e79" stroke-width="2.5"/>')
    step = max(1, -(-len(counted) // _MAX_X_LABELS))
    for i, (w, (x, y)) in enumerate(zip(counted, coords)):
        tip = (f"Week of {w.week.isoformat()}: {percent(w.tally.share_done)} done, {percent(w.tally.share_partly)} "
               f"partly, {w.meetings} {'checklist' if w.meetings == 1 else 'checklists'}")
        svg.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="#1f4e79" '
                   f'data-share="{w.tally.share_done:.4f}"><title>{escape(tip)}</title></circle>')
        if i % step == 0 or i == len(counted) - 1:
            svg.append(f'<text x="{x:.1f}" y="{_TOP + plot_h + 18}" text-anchor="middle" fill="#333">'
                       f'{w.week.strftime("%d %b")}</text>')
    svg.append("</svg>")
    rows = "".join(
        f"<tr><td>{w.week.isoformat()}</td><td>{w.meetings}</td><td>{w.tally.done}</td><td>{w.tally.partly}</td>"
        f"<td>{w.tally.not_done}</td><td>{w.tally.not_applicable}</td><td>{percent(w.tally.share_done)}</td></tr>"
        for w in weeks
    )
    table = (f'<table class="trend-table" id="{ident}-table"><caption>{escape(name)}: answers per week</caption>'
             '<thead><tr><th scope="col">Week of</th><th scope="col">Checklists</th><th scope="col">Done</th>'
             '<th scope="col">Partly</th><th scope="col">Not done</th><th scope="col">Not applicable</th>'
             f'<th scope="col">Share done</th></tr></thead><tbody>{rows}</tbody></table>')
    return Markup(f'<figure class="trend-chart" id="{ident}">{"".join(svg)}'
                  f"<figcaption><strong>{escape(heading)}</strong>.</figcaption>"
                  f"<details><summary>The weeks as a table</summary>{table}</details></figure>")
