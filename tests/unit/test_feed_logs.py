"""MaskSecrets: the secret in a feed URL never reaches a log line."""
from __future__ import annotations

import logging

from server.platform.logconfig import MaskSecrets

TOKEN = "q2Vn8m4yXo3zZ1hO0v8Qj8oQmN3P7x9wFf1kq5Yc0sE"


def masked(record: logging.LogRecord) -> str:
    MaskSecrets().filter(record)
    return record.getMessage()


def test_uvicorn_access_line_is_masked():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/feeds/{TOKEN}.ics", "1.1", 200), None)
    line = masked(record)
    assert TOKEN not in line and '"GET /feeds/***.ics HTTP/1.1" 200' in line


def test_plain_messages_and_dict_args_are_masked():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"fetched https://host/feeds/{TOKEN}.ics?x=1", (), None)
    assert TOKEN not in masked(record)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%(path)s", ({"path": f"/feeds/{TOKEN}.ics"},), None)
    assert masked(record) == "/feeds/***.ics"


def test_other_paths_are_left_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /cohorts/3/calendar.ics", (), None)
    assert masked(record) == "GET /cohorts/3/calendar.ics"
