from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from server.measures.charts import RECALL_NOTE, TrendPoint, describe_trend, trend_chart
from server.measures.instruments import InvalidAnswers

SVG = "{http://www.w3.org/2000/svg}"


def weekly(totals, start=date(2026, 3, 2)):
    labels = ["Baseline"] + [f"Session {n}" for n in range(1, len(totals))]
    windows = ["baseline"] + [f"session-{n}" for n in range(1, len(totals))]
    return [TrendPoint(start + timedelta(weeks=i), t, labels[i], windows[i]) for i, t in enumerate(totals)]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup).replace("&nbsp;", " "))


def test_chart_is_a_figure_with_an_accessible_svg():
    fig = parse(trend_chart("phq9", weekly([18, 15, 12, 8]), chart_id="m1-phq9"))
    assert fig.tag == "figure"
    svg = fig.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "m1-phq9-title m1-phq9-desc"
    assert svg.find(f"{SVG}title").text == "PHQ-9 over time"
    desc = svg.find(f"{SVG}desc").text
    assert "Baseline 18 (Moderately severe)" in desc
    assert "Latest 8 (Mild)" in desc
    assert "change -10" in desc
    assert "Response (a drop of at least 50%): yes" in desc
    assert "Remission (below 5): no" in desc


def test_thresholds_are_marked_for_each_instrument():
    phq = parse(trend_chart("phq9", weekly([12])))
    lines = phq.findall(f".//{SVG}line[@class='threshold']")
    assert [int(x.get("data-threshold")) for x in lines] == [5, 10, 15, 20]
    texts = "".join(t.text or "" for t in phq.iter(f"{SVG}text"))
    for band in ("Minimal 0\u20134", "Mild 5\u20139", "Moderate 10\u201314",
                 "Moderately severe 15\u201319", "Severe 20\u201327"):
        assert band in texts
    gad = parse(trend_chart("gad7", weekly([12])))
    lines = gad.findall(f".//{SVG}line[@class='threshold']")
    assert [int(x.get("data-threshold")) for x in lines] == [5, 10, 15]


def test_points_are_plotted_in_time_order_with_higher_scores_higher_up():
    points = weekly([20, 10, 4])
    fig = parse(trend_chart("phq9", list(reversed(points))))
    circles = fig.findall(f".//{SVG}circle")
    assert [int(c.get("data-total")) for c in circles] == [20, 10, 4]
    ys = [float(c.get("cy")) for c in circles]
    assert ys[0] < ys[1] < ys[2]
    xs = [float(c.get("cx")) for c in circles]
    assert xs[0] < xs[1] < xs[2]
    assert fig.find(f".//{SVG}polyline") is not None
    tips = [c.find(f"{SVG}title").text for c in circles]
    assert tips[0] == "Baseline, 2026-03-02: 20 (Severe)"


def test_x_positions_follow_dates():
    pts = [
        TrendPoint(date(2026, 1, 1), 10, "Baseline"),
        TrendPoint(date(2026, 1, 2), 9, "Session 1"),
        TrendPoint(date(2026, 1, 11), 8, "Session 2"),
    ]
    xs = [float(c.get("cx")) for c in parse(trend_chart("phq9", pts)).iter(f"{SVG}circle")]
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
    one = parse(trend_chart("phq9", weekly([3])))
    assert len(one.findall(f".//{SVG}circle")) == 1
    assert one.find(f".//{SVG}polyline") is None
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


def test_many_points_thin_the_axis_labels():
    fig = parse(trend_chart("phq9", weekly([10] * 24)))
    labels = [t.text for t in fig.iter(f"{SVG}text") if (t.text or "").startswith(("Base", "Sess"))]
    assert 2 <= len(labels) <= 13
    assert labels[0] == "Baseline" and labels[-1] == "Session 23"
