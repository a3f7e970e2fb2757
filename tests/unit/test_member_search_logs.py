"""What a coordinator typed to find a member never reaches the access log (issue 15)."""
from __future__ import annotations

import logging

from server.platform.logconfig import MaskSecrets


def test_member_searches_are_masked_in_access_lines():
    for path in ("/cohorts/3/enrollment?member_q=Ana%20Smith", "/cohorts/3/enrollment/member-suggestions?q=ana@example.org&x=1"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", path, "1.1", 200), None)
        MaskSecrets().filter(record)
        line = record.getMessage()
        assert "Ana" not in line and "ana@" not in line and "q=***" in line, line
    assert "&x=1" in line
