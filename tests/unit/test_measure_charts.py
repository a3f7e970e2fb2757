from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from server.measures.charts import (
    COMPACT, RECALL_NOTE, WIDE, TrendPoint, describe_trend, text_width, thin_labels, trend_chart,
)
from server.measures.instruments import InvalidAnswers

SVG = "{http://www.w3.org/2000/svg}"


def weekly(totals, start=date(2026, 3, 2)):
    labels = ["Baseline"] + [f"Session {n}" for n in range(1, len(totals))]
    windows = ["baseline"] + [f"session-{n}" for n in range(1, len(totals))]
    return [TrendPoint(start + timedelta(weeks=i), t, labels[i], windows[i]) for i, t in enumerate(totals)]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup).replace("&nbsp;", " "))


def drawings(fig: ET.Element) -> list[ET.Element]:
    """The chart's two <svg>: the wide one, then the compact one (in its hidden wrapper)."""
    wide, compact = fig.find("div[@class='trend-wide']"), fig.find("div[@class='trend-compact']")
    assert wide.get("hidden") is None and compact.get("hidden") == "hidden"
    return [wide.find(f"{SVG}svg"), compact.find(f"{SVG}svg")]


def test_chart_is_a_figure_with_an_accessible_svg():
    fig = parse(trend_chart("phq9", weekly([18, 15, 12, 8]), chart_id="m1-phq9"))
    assert fig.tag == "figure"
    wide, compact = drawings(fig)
    assert wide.get("aria-labelledby") == "m1-phq9-title m1-phq9-desc"
    assert compact.get("aria-labelledby") == "m1-phq9-compact-title m1-phq9-compact-desc"
    for svg in (wide, compact):
        assert svg.get("role") == "img"
        ids = svg.get("aria-labelledby").split()
        assert [svg.find(f"{SVG}title").get("id"), svg.find(f"{SVG}desc").get("id")] == ids
        assert svg.find(f"{SVG}title").text == "PHQ-9 over time"
        desc = svg.find(f"{SVG}desc").text
        assert "Baseline 18 (Moderately severe)" in desc
        assert "Latest 8 (Mild)" in desc
        assert "change -10" in desc
        assert "Response (a drop of at least 50%): yes" in desc
        assert "Remission (below 5): no" in desc


def test_thresholds_are_marked_for_each_instrument():
    for phq in drawings(parse(trend_chart("phq9", weekly([12])))):
        lines = phq.findall(f".//{SVG}line[@class='threshold']")
        assert [int(x.get("data-threshold")) for x in lines] == [5, 10, 15, 20]
        texts = [t.text for t in phq.iter(f"{SVG}text") if t.get("class") == "band-label"]
        assert texts == ["Minimal 0\u20134", "Mild 5\u20139", "Moderate 10\u201314",
                         "Moderately severe 15\u201319", "Severe 20\u201327"]
    for gad in drawings(parse(trend_chart("gad7", weekly([12])))):
        lines = gad.findall(f".//{SVG}line[@class='threshold']")
        assert [int(x.get("data-threshold")) for x in lines] == [5, 10, 15]


def test_points_are_plotted_in_time_order_with_higher_scores_higher_up():
    points = weekly([20, 10, 4])
    for svg in drawings(parse(trend_chart("phq9", list(reversed(points))))):
        circles = svg.findall(f".//{SVG}circle")
        assert [int(c.get("data-total")) for c in circles] == [20, 10, 4]
        ys = [float(c.get("cy")) for c in circles]
        assert ys[0] < ys[1] < ys[2]
        xs = [float(c.get("cx")) for c in circles]
        assert xs[0] < xs[1] < xs[2]
        assert svg.find(f".//{SVG}polyline") is not None
        tips = [c.find(f"{SVG}title").text for c in circles]
        assert tips[0] == "Baseline, 2026-03-02: 20 (Severe)"


def test_x_positions_follow_dates():
    pts = [
        TrendPoint(date(2026, 1, 1), 10, "Baseline"),
        TrendPoint(date(2026, 1, 2), 9, "Session 1"),
        TrendPoint(date(2026, 1, 11), 8, "Session 2"),
    ]
    for svg in drawings(parse(trend_chart("phq9", pts))):
        xs = [float(c.get("cx")) for c in svg.iter(f"{SVG}circle")]
        assert (xs[1] - xs[0]) * 5 < xs[2] - xs[1]


def test_recall_overlap_note_is_in_the_caption():
    fig = parse(trend_chart("phq9", weekly([9, 8])))
    caption = "".join(fig.find("figcaption").itertext())
    assert RECALL_NOTE in caption
    assert "2 weeks" in caption and "overlapping" in caption


def test_table_fallback_lists_every_point():
    fig = parse(trend_chart("gad7", weekly([16, 12, 7])))
    table = fig.find(".//table")
    headers = [th.text for th in table.iter("th")]
    assert headers == ["Date", "Occasion", "Total", "Severity band", "Change from baseline"]
    rows = [[td.text for td in tr.findall("td")] for tr in table.find("tbody")]
    assert rows == [
        ["2026-03-02", "Baseline", "16", "Severe", "baseline"],
        ["2026-03-09", "Session 1", "12", "Moderate", "-4"],
        ["2026-03-16", "Session 2", "7", "Mild", "-9"],
    ]


def test_labels_are_escaped():
    pts = [TrendPoint(date(2026, 1, 1), 3, "<script>x</script>")]
    html = str(trend_chart("phq9", pts, chart_id='a"b'))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'id="a&#34;b"' in html


def test_single_point_and_empty_series():
    for one in drawings(parse(trend_chart("phq9", weekly([3])))):
        assert len(one.findall(f".//{SVG}circle")) == 1
        assert one.find(f".//{SVG}polyline") is None
        assert [t.text for t in one.iter(f"{SVG}text") if t.get("class") == "x-label"] == ["Baseline"]
    empty = str(trend_chart("phq9", []))
    assert "No PHQ-9 answers yet." in empty
    assert "<svg" not in empty


def test_a_baseline_below_10_is_said_in_words_and_not_counted():
    # Was "not applicable, baseline was 0": the rule now covers every baseline below 10.
    for totals in ([0, 2], [9, 2]):
        text = describe_trend("phq9", weekly(totals))
        assert "not counted: below the clinical threshold at baseline" in text
        assert "Remission" not in text and "Response (" not in text


def test_a_missed_baseline_is_named_a_late_baseline():
    points = [TrendPoint(date(2026, 3, 9), 14, "Session 1", "session-1"),
              TrendPoint(date(2026, 3, 16), 6, "Session 2", "session-2")]
    text = describe_trend("phq9", points)
    assert "The baseline questionnaire was missed; late baseline 14 (Moderate)" in text
    assert "Response (a drop of at least 50%): yes" in text
    table = str(trend_chart("phq9", points))
    assert "<td>late baseline</td>" in table


def test_gad7_description_has_no_remission_claim():
    assert "Remission" not in describe_trend("gad7", weekly([12, 3]))


def test_impossible_totals_are_refused():
    with pytest.raises(InvalidAnswers):
        trend_chart("gad7", weekly([22]))


def _axis_labels(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [t for t in svg.iter(f"{SVG}text") if t.get("class") == cls]


def test_many_points_thin_the_axis_labels():
    fig = parse(trend_chart("phq9", weekly([10] * 24)))
    for svg in drawings(fig):
        labels = [t.text for t in _axis_labels(svg, "x-label")]
        assert 2 <= len(labels) <= 8
        assert labels[0] == "Baseline" and labels[-1] == "Session 23"
    # Every point is still plotted, and in the table.
    assert all(len(svg.findall(f".//{SVG}circle")) == 24 for svg in drawings(fig))
    assert len(fig.findall(".//table/tbody/tr")) == 24


@pytest.mark.parametrize("n", [2, 5, 9, 14, 30])
def test_axis_labels_never_overlap_and_keep_the_first_and_last(n):
    """Fourteen weekly answers (a 12-session group with baseline and closure) and more: the
    estimated boxes of the drawn labels do not touch, in either drawing, and the first and
    last occasion are always labelled."""
    points = [TrendPoint(date(2026, 3, 2) + timedelta(weeks=i), 12, "Baseline" if i == 0 else f"S{i}")
              for i in range(n)]
    fig = parse(trend_chart("phq9", points))
    for svg, lay in zip(drawings(fig), (WIDE, COMPACT)):
        occasions, dates = _axis_labels(svg, "x-label"), _axis_labels(svg, "x-date")
        assert [t.text for t in occasions][0] == "Baseline"
        assert [t.text for t in occasions][-1] == f"S{n - 1}"
        assert [t.text for t in dates][0] == "02 Mar"
        assert [t.text for t in dates][-1] == points[-1].when.strftime("%d %b")
        assert [t.get("x") for t in occasions] == [t.get("x") for t in dates]
        for row, size in ((occasions, lay.font), (dates, lay.small)):
            boxes = sorted((float(t.get("x")) - text_width(t.text, size) / 2,
                            float(t.get("x")) + text_width(t.text, size) / 2) for t in row)
            assert boxes[0][0] >= 0 and boxes[-1][1] <= lay.width, boxes
            assert all(a[1] < b[0] for a, b in zip(boxes, boxes[1:])), boxes
    # Thinning is deterministic: the same points give the same markup.
    assert str(trend_chart("phq9", points)) == str(trend_chart("phq9", points))


def test_thin_labels_keeps_first_and_last_and_skips_what_would_touch():
    assert thin_labels([], []) == []
    assert thin_labels([10], [50]) == [0]
    assert thin_labels([0, 100], [300, 300]) == [0, 1]  # first and last, whatever their size
    # Labels 40 wide every 30 units with a gap of 8: every other label fits (60 >= 48).
    centres = [30.0 * i for i in range(9)]
    assert thin_labels(centres, [40] * 9) == [0, 2, 4, 6, 8]
    # The one just before the last is dropped when it would touch the last.
    assert thin_labels([0, 50, 100, 120], [40] * 4) == [0, 1, 3]
    # Uneven spacing (answers by date): a close cluster keeps its first label only.
    assert thin_labels([0, 5, 10, 15, 100, 200], [20] * 6) == [0, 4, 5]


def test_the_two_drawings_have_unique_ids_and_one_table():
    html = str(trend_chart("phq9", weekly([18, 15, 12]), chart_id="m7-phq9")) + str(
        trend_chart("gad7", weekly([12, 9, 4]), chart_id="m7-gad7"))
    root = ET.fromstring(f"<div>{html}</div>")
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), ids
    assert len(root.findall(".//table")) == 2
    # Every aria-labelledby id points at an element of the page.
    for svg in root.iter(f"{SVG}svg"):
        assert all(ref in ids for ref in svg.get("aria-labelledby").split())


def test_text_is_never_under_12_px_where_each_drawing_is_shown():
    """The stylesheet shows the wide drawing from WIDE_MIN_PX wide, the compact one below:
    the smallest text of each, at the narrowest width it is shown at (the compact one on a
    360 px phone, ~318 px of figure), is 12 px or more."""
    from server.measures.charts import WIDE_MIN_PX
    for svg, lay, narrowest in zip(drawings(parse(trend_chart("phq9", weekly([18, 12, 6])))),
                                   (WIDE, COMPACT), (WIDE_MIN_PX, 318)):
        assert svg.get("viewBox") == f"0 0 {lay.width} {lay.height}"
        sizes = [float(t.get("font-size") or svg.get("font-size")) for t in svg.iter(f"{SVG}text")]
        assert min(sizes) * narrowest / lay.width >= 12, (lay, min(sizes))
