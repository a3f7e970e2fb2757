"""The CSV row checks of server/enrollment/csv_import.py that need no database: decoding,
the header, each row's cells and status, and the bounds."""
from __future__ import annotations

import pytest

from models.cohorts import EnrollmentStatus
from server.enrollment.csv_import import MAX_ROWS, decode, parse_rows
from server.errors import BadRequest


def refused(text: str) -> str:
    with pytest.raises(BadRequest) as caught:
        parse_rows(text)
    return caught.value.message


def test_rows_keep_their_file_line_numbers_and_cells():
    rows = parse_rows("Name,E-mail,Status,consent_at\nAda Lovelace , ada@example.org,screening,2026-11-20\n\n"
                      "Bob,bob@example.org,,\n")
    assert [(r.line, r.name, r.email, r.status) for r in rows] == [
        (2, "Ada Lovelace", "ada@example.org", EnrollmentStatus.SCREENING),
        (4, "Bob", "bob@example.org", EnrollmentStatus.ENROLLED),  # blank lines skipped, an empty status enrolls
    ]
    assert rows[0].consent_cells == {"consent_at": "2026-11-20"}


def test_a_semicolon_file_from_a_spreadsheet_is_read():
    rows = parse_rows("name;email\nAda;ada@example.org\n")
    assert rows[0].email == "ada@example.org"


def test_an_unknown_status_is_an_error_on_its_row_only():
    rows = parse_rows("name,email,status\nAda,ada@example.org,waitlisted\nBob,bob@example.org,invited\n")
    assert rows[0].errors and "waitlisted" in rows[0].errors[0] and not rows[0].ok
    assert rows[1].ok and rows[1].status == EnrollmentStatus.INVITED


@pytest.mark.parametrize(("text", "message"), [
    ("  \n", "empty"),
    ("name,phone\nAda,123\n", "at least 'name' and 'email'"),
    ("name,email\n", "no rows"),
])
def test_a_file_without_usable_rows_is_refused(text, message):
    assert message in refused(text)


def test_the_row_count_is_bounded():
    text = "name,email\n" + "".join(f"P{i},p{i}@example.org\n" for i in range(MAX_ROWS + 1))
    assert f"more than {MAX_ROWS} rows" in refused(text)


def test_utf8_with_a_byte_order_mark_is_read_and_other_encodings_refused():
    assert decode("\ufeffname,email\n".encode()) == "name,email\n"
    with pytest.raises(BadRequest, match="not UTF-8"):
        decode("Zoë".encode("latin-1"))
