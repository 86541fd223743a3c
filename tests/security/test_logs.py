"""Logs: client text cannot forge a record or drive a terminal; secrets never show."""

from __future__ import annotations

import pytest

from botlang.server.logs import format_fields, redact_path, register_secret


def field(value: str) -> str:
    return format_fields("message.received", {"text": value}).split("text=", 1)[1]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\rb", "\\r"),
        ("a\nevent=forged", "\\n"),
        ("\x1b[2J", "\\x1b"),
        ("a\u2028b", "\\u2028"),
        ("a\u2029b", "\\u2029"),
        ("a\x85b", "\\x85"),
        ("a\x00b", "\\x00"),
        ("\u202eevil", "\\u202e"),
        ("tab\there", "\\t"),
    ],
)
def test_control_and_separator_characters_are_escaped(raw: str, escaped: str) -> None:
    shown = field(raw)
    assert escaped in shown
    assert shown.isprintable()
    assert len(format_fields("x", {"t": raw}).splitlines()) == 1


def test_quotes_and_backslashes_stay_unambiguous() -> None:
    assert field('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'


def test_plain_text_with_spaces_is_quoted_unchanged() -> None:
    assert field("Здравствуйте, мир") == '"Здравствуйте, мир"'


def test_the_key_in_a_webhook_path_is_redacted() -> None:
    assert redact_path("/mango_webhook/k3y/events/call") == "/mango_webhook/***/events/call"


def test_a_key_in_a_later_path_segment_is_redacted() -> None:
    assert redact_path("/mango_webhook/x/r3alkey/events/summary") == (
        "/mango_webhook/***/events/summary"
    )
    assert redact_path("/mango_webhook//r3alkey/events/call") == "/mango_webhook/***/events/call"


def test_a_key_after_the_event_part_is_redacted() -> None:
    assert "s3cret9" not in redact_path("/mango_webhook/k/events/call/s3cret9")


def test_a_registered_secret_is_redacted_anywhere_in_a_value() -> None:
    register_secret("vpbx-key-123456")
    line = format_fields("x", {"path": "/a/vpbx-key-123456/b", "reason": "bad vpbx-key-123456"})
    assert "vpbx-key-123456" not in line and line.count("***") == 2


def test_short_texts_are_not_taken_for_secrets() -> None:
    register_secret("ab")
    assert format_fields("x", {"t": "abc"}) == "event=x t=abc"
