"""Structured log lines, and what they never contain."""

from __future__ import annotations

import logging
import sys

from botlang.server.logs import KeyValueFormatter, format_fields, redact_path
from botlang.server.ratelimit import RateLimiter, retry_after


def test_fields_are_key_value_with_quoting() -> None:
    line = format_fields(
        "webhook.rejected", {"status": 403, "reason": 'bad "sign"', "ok": False, "ms": 1.25}
    )
    assert line == 'event=webhook.rejected status=403 reason="bad \\"sign\\"" ok=false ms=1.25'
    assert format_fields("x", {"none": None, "path": "/a/b"}) == "event=x none=- path=/a/b"


def test_webhook_paths_lose_their_key() -> None:
    assert redact_path("/mango_webhook/2jhj35hjkb/events/call") == "/mango_webhook/***/events/call"
    assert redact_path("/mango_webhook/2jhj35hjkb") == "/mango_webhook/***"
    assert redact_path("/message") == "/message"


def test_exceptions_are_logged_by_type_and_place_only() -> None:
    record = logging.LogRecord("botlang.server", logging.ERROR, __file__, 1, "failed", (), None)
    try:
        raise ValueError("salt=hunter2")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = KeyValueFormatter().format(record)
    assert "level=error logger=botlang.server msg=failed exception=ValueError" in line
    assert "test_server_logs.py:" in line
    assert "hunter2" not in line


def test_the_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, clock=lambda: now[0])
    assert [limiter.acquire("k") for _ in range(2)] == [0.0, 0.0]
    wait = limiter.acquire("k")
    assert 0 < wait <= 0.5 and retry_after(wait) == "1"
    assert limiter.acquire("other") == 0.0  # per key
    now[0] += 0.5
    assert limiter.acquire("k") == 0.0
