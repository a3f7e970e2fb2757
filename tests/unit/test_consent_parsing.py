"""Consent as a form, a JSON body or a CSV row states it (server.enrollment.consent.parse_consent)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from models.cohorts import ConsentMethod
from server.enrollment import ConsentGiven, consent_refusal, parse_consent
from server.errors import BadRequest

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KAMPALA = ZoneInfo("Africa/Kampala")


def test_a_date_alone_is_midnight_in_the_cohorts_zone():
    consent = parse_consent({"consent_at": "2026-11-20", "consent_method": "phone"}, KAMPALA, now=NOW)
    assert consent.at == datetime(2026, 11, 20, tzinfo=KAMPALA)
    assert consent.method is ConsentMethod.PHONE and consent.version == ""


def test_a_wall_time_is_read_in_the_cohorts_zone_and_an_offset_is_kept():
    local = parse_consent({"consent_at": "2026-11-20T18:30"}, KAMPALA, now=NOW)
    assert local.at.utcoffset().total_seconds() == 3 * 3600
    aware = parse_consent({"consent_at": "2026-11-20T18:30:00+00:00"}, KAMPALA, now=NOW)
    assert aware.at == datetime(2026, 11, 20, 18, 30, tzinfo=UTC)


def test_nothing_given_is_falsy_and_version_has_an_alias():
    assert not parse_consent({}, KAMPALA, now=NOW)
    assert parse_consent({"version": "2026-10"}, KAMPALA, now=NOW) == ConsentGiven(version="2026-10")
    assert parse_consent({"consent_method": " Signed_Form "}, KAMPALA, now=NOW).method is ConsentMethod.SIGNED_FORM


@pytest.mark.parametrize("data,field", [
    ({"consent_at": "yesterday"}, "consent_at"),
    ({"consent_at": "2026-12-09T10:00"}, "consent_at"),  # a week ahead
    ({"consent_method": "nod"}, "consent_method"),
    ({"consent_version": "v" * 33}, "consent_version"),
])
def test_bad_parts_are_refused_by_field(data, field):
    with pytest.raises(BadRequest) as refused:
        parse_consent(data, KAMPALA, now=NOW)
    assert set(refused.value.fields) == {field}


def test_the_refusal_names_what_is_missing_in_words():
    refusal = consent_refusal("Ada", ["consent_at", "consent_method"])
    assert refusal.status_code == 400 and refusal.code == "consent_missing"
    assert "Ada cannot be enrolled before their consent is recorded: say when it was given and how it was given." in refusal.message
    assert set(refusal.fields) == {"consent_at", "consent_method"}
