"""The adherence rule and its chart (server/fidelity/adherence.py, charts.py): done counts,
partly is counted apart, not applicable is left out; the chart says it in words too."""
from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

from server.fidelity.adherence import Tally, WeekAdherence
from server.fidelity.charts import adherence_chart, percent


def tally(*answers: str) -> Tally:
    t = Tally()
    for answer in answers:
        t.add(answer)
    return t


def test_done_over_what_applied_with_partly_apart_and_not_applicable_left_out():
    t = tally("done", "done", "partly", "not_done", "not_applicable", "not_applicable")
    assert (t.done, t.partly, t.not_done, t.not_applicable, t.applicable) == (2, 1, 1, 2, 4)
    assert t.share_done == 0.5 and t.share_partly == 0.25
    assert tally("not_applicable").share_done is None, "nothing applied: no share, not 0%"
    assert tally("something else").applicable == 0


def test_percent_reads_a_missing_share_as_a_dash():
    assert percent(None) == "\u2013" and percent(0.5) == "50%" and percent(2 / 3) == "67%"


def test_the_chart_is_an_accessible_svg_with_a_table_of_the_same_weeks():
    weeks = [WeekAdherence(week=date(2027, 1, 4), meetings=1, tally=tally("done", "not_done")),
             WeekAdherence(week=date(2027, 1, 11), meetings=1, tally=tally("not_applicable")),
             WeekAdherence(week=date(2027, 1, 18), meetings=2, tally=tally("done", "done", "done", "partly"))]
    markup = str(adherence_chart("Faye <F>", weeks, chart_id="adh-1"))
    root = ElementTree.fromstring(markup.replace("&nbsp;", " "))
    svg = root.find("{http://www.w3.org/2000/svg}svg")
    assert svg is not None and svg.get("role") == "img" and svg.get("aria-labelledby") == "adh-1-title adh-1-desc"
    desc = svg.find("{http://www.w3.org/2000/svg}desc").text
    assert "Faye <F>" in desc and "50% done" in desc and "75% done" in desc
    points = svg.findall("{http://www.w3.org/2000/svg}circle")
    assert [p.get("data-share") for p in points] == ["0.5000", "0.7500"], "a week where nothing applied is not a point"
    rows = root.findall(".//table/tbody/tr")
    assert len(rows) == 3 and rows[1].findall("td")[-1].text == "\u2013"


def test_no_answers_yet_says_so_instead_of_drawing():
    markup = str(adherence_chart("Faye", [], chart_id="adh-2"))
    assert "<svg" not in markup and "No checklist answers" in markup
