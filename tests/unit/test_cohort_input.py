"""parse_cohort_input (server/schedule/cohort_input.py): form or JSON fields to a CohortInput,
with every bad field named at once, and nothing from the database."""
from __future__ import annotations

from datetime import date, time

import pytest

from server.errors import BadRequest
from server.schedule.cohort_input import parse_cohort_input

GOOD = {
    "name": "Tuesday evening group", "template": "1", "time_zone": "Europe/London",
    "start_date": "2027-01-05", "start_time": "18:00", "capacity": "8",
}


def refused(data: dict, **kwargs) -> dict[str, str]:
    with pytest.raises(BadRequest) as caught:
        parse_cohort_input(data, **kwargs)
    return caught.value.fields


def test_a_complete_form_becomes_typed_values():
    values = parse_cohort_input({**GOOD, "skip_dates": "2027-02-16, 2027-02-23", "n_group_sessions": "12"},
                                facilitator_ids=["3", "3", "4"])
    assert values.start_date == date(2027, 1, 5) and values.start_time == time(18, 0)
    assert values.weekday == 1  # taken from the start date when the form gives none
    assert values.skip_dates == {date(2027, 2, 16), date(2027, 2, 23)}
    assert values.group_sessions == 12 and values.capacity == 8
    assert values.facilitator_ids == (3, 4)  # repeated ticks count once, in order
    assert values.public_title == "Group session"  # the neutral default calendars show


def test_every_missing_field_is_named_at_once():
    fields = refused({})
    assert {"name", "template", "time_zone", "start_date", "start_time", "capacity"} <= fields.keys()


@pytest.mark.parametrize(("field", "raw", "message"), [
    ("start_date", "05/01/2027", "is not a date"),
    ("start_time", "6pm", "is not a time"),
    ("capacity", "eight", "is not a whole number"),
    ("weekday", "7", "from 0 to 6"),
    ("template", "0", "from 1 to"),
    ("video_link", "meet.example.org/abc", "https://"),
])
def test_a_malformed_value_is_refused_with_its_field(field, raw, message):
    assert message in refused({**GOOD, field: raw})[field]


def test_a_skip_list_is_bounded_and_each_date_checked():
    many = " ".join(date.fromordinal(date(2027, 1, 1).toordinal() + i).isoformat() for i in range(53))
    assert "At most 52" in refused({**GOOD, "skip_dates": many})["skip_dates"]
    assert "is not a date" in refused({**GOOD, "skip_dates": ["2027-02-30"]})["skip_dates"]


def test_a_json_true_or_a_ticked_box_confirms_clinical_words():
    assert parse_cohort_input({**GOOD, "confirm_public_words": True}).confirm_public_words
    assert parse_cohort_input({**GOOD, "confirm_public_words": "on"}).confirm_public_words
    assert not parse_cohort_input(GOOD).confirm_public_words


def test_a_facilitator_that_is_not_an_id_is_refused():
    assert "is not a facilitator" in refused(GOOD, facilitator_ids=["x"])["facilitators"]
