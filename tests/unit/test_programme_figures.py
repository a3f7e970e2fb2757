"""Programme figures as specified (server/programme/figures.py): what an episode counts as,
the sums over a group, suppression of small cohorts, the no-names export and the charts."""
from __future__ import annotations

import csv
import io
from datetime import date

from server.measures.outcomes import episode_outcome
from server.programme.charts import Bar, bar_chart, dashboard_charts
from server.programme.export import COLUMNS, as_csv, as_json, label
from server.programme.figures import CohortMembers, MemberFacts, figures_of, group_figures
from server.programme.loading import CohortRow
from server.programme.report import Filters, Grouping, Report, Row, quarter_of

KEY = b"unit-test-key"


def member(cohort_id=1, *, attended=0, missed=0, withdrawn=False, finished=True, phq9=None, gad7=None) -> MemberFacts:
    return MemberFacts(cohort_id=cohort_id, withdrawn=withdrawn, cohort_finished=finished,
                       sessions_attended=attended, sessions_missed=missed,
                       phq9=episode_outcome("phq9", phq9) if phq9 else None,
                       gad7=episode_outcome("gad7", gad7) if gad7 else None)


def test_an_episode_counts_as_started_completed_dropped_or_not_started():
    assert member(attended=8).completed
    assert member(attended=3, finished=False).still_attending
    assert member(attended=2, withdrawn=True).dropped_out
    assert member(withdrawn=True).left_before_starting and not member(withdrawn=True).dropped_out
    assert not member(finished=True).completed  # never attended: not started, not completed


def test_figures_of_a_small_world_by_hand():
    members = [
        member(attended=7, missed=1, phq9=[("baseline", 20), ("closure", 4)], gad7=[("baseline", 12), ("closure", 5)]),
        member(attended=6, missed=2, phq9=[("baseline", 14), ("closure", 10)]),  # -4: no response
        member(attended=2, missed=1, withdrawn=True, phq9=[("baseline", 8), ("session-2", 7)]),  # below 10
        member(withdrawn=True),  # left before starting
        member(phq9=[("baseline", 16)]),  # not started, baseline only
    ]
    f = figures_of(members)
    assert (f.enrolled, f.started, f.completed, f.dropped_out, f.not_started, f.left_before_starting) == (5, 3, 2, 1, 1, 1)
    assert (f.sessions_attended, f.sessions_marked) == (15, 19)
    assert (f.phq9.counted, f.phq9.responders, f.phq9.remitters, f.phq9.below_threshold, f.phq9.no_later_score) == (2, 1, 1, 1, 1)
    assert f.phq9.mean_change == -10.0  # (-16 + -4) / 2; the member below 10 is not in it
    assert (f.gad7.counted, f.gad7.responders, f.gad7.remitters, f.gad7.mean_change) == (1, 1, None, -7.0)
    assert str(f.completion) == "2 of 3 (67%)" and f.dropout.rate == 0.333


def test_a_cohort_under_five_is_left_out_of_every_group_and_a_group_under_five_shows_nothing():
    big = CohortMembers(1, tuple(member(1, attended=4) for _ in range(6)))
    small = CohortMembers(2, tuple(member(2, attended=4) for _ in range(4)))
    template = group_figures("template:1", [big, small])
    assert template.figures.enrolled == 6 and template.shown_cohort_ids == (1,)
    assert group_figures("cohort:2", [small]).suppressed
    # Two small cohorts of 4 make 8 people, but still no figure: their sum minus either would show the other.
    assert group_figures("template:2", [small, CohortMembers(3, small.members)]).suppressed


def _report(grouping=Grouping.COHORT) -> Report:
    big = CohortMembers(1, tuple(member(1, attended=4, phq9=[("baseline", 12), ("closure", 3)]) for _ in range(5)))
    small = CohortMembers(2, tuple(member(2, attended=4) for _ in range(2)))
    rows = [Row(group=group_figures("cohort:1", [big]), subject_id=1, name="Tuesday group of Ana Lopez"),
            Row(group=group_figures("cohort:2", [small]), subject_id=2, name="Small group")]
    cohorts = [CohortRow(id=i, name=n, template_id=1, start_date=date(2027, 1, 5), status="active", facilitator_ids=(9,))
               for i, n in ((1, "Tuesday group of Ana Lopez"), (2, "Small group"))]
    return Report(filters=Filters(group_by=grouping), rows=rows, total=group_figures("total", [big, small]), cohorts=cohorts)


def test_the_csv_names_no_cohort_and_suppresses_every_cell_of_a_small_group():
    text = as_csv(_report(), KEY)
    assert "Ana" not in text and "Tuesday" not in text and "Small group" not in text
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == list(COLUMNS)
    shown, suppressed, total = table
    assert shown["group"] == label("cohort", 1, KEY) and shown["enrolled"] == "5" and shown["phq9_remission_rate"] == "1.0"
    assert suppressed["suppressed"] == "yes"
    assert all(suppressed[c] == "" for c in COLUMNS[3:]), suppressed
    # The total is over the shown cohorts only: total minus shown gives nothing about the small one.
    assert total["group"] == "Total" and total["enrolled"] == shown["enrolled"]


def test_labels_are_stable_and_keyed():
    assert label("facilitator", 7, KEY) == label("facilitator", 7, KEY)
    assert label("facilitator", 7, KEY) != label("facilitator", 8, KEY) != label("facilitator", 7, b"other")
    assert label("facilitator", 7, KEY).startswith("Facilitator F-")


def test_the_json_says_the_rule_and_nulls_a_suppressed_group():
    body = as_json(_report(), KEY)
    assert body["suppression"]["minimum_people"] == 5 and body["suppression"]["cohorts_left_out"] == 1
    small = body["groups"][1]
    assert small["suppressed"] is True and small["enrolled"] is None and small["phq9_response_rate"] is None


def test_a_formula_like_label_is_defused_in_the_csv():
    report = _report(Grouping.TEMPLATE)
    report.rows[0] = Row(group=report.rows[0].group, subject_id=1, name="=HYPERLINK(1)")
    assert "'=HYPERLINK(1)" in as_csv(report, KEY)


def test_charts_have_title_desc_and_a_table_and_mark_suppressed_groups():
    report = _report()
    charts = dashboard_charts([(r.name, r.group) for r in report.rows])
    response = next(c for c in charts if 'id="chart-phq9-response"' in c)
    assert "<title id=\"chart-phq9-response-title\">" in response and "<desc" in response and "<table" in response
    assert "Small group: suppressed (fewer than 5 people)" in response
    assert response.count('class="bar"') == 1
    change = next(c for c in charts if 'id="chart-phq9-change"' in c)
    assert 'data-value="-9"' in change


def test_a_chart_of_too_many_groups_says_so_instead():
    bars = [Bar(f"g{n}", 50, "50%") for n in range(41)]
    assert "too many to chart" in bar_chart("c", "T", bars)


def test_quarters():
    assert quarter_of(date(2027, 1, 1)) == "2027-Q1" and quarter_of(date(2027, 12, 31)) == "2027-Q4"
