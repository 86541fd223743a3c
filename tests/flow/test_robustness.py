"""Arbitrary flow and bot-test text never escapes as a raw Python exception."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botlang.core.errors import BotlangError
from botlang.flow import Bot, parse_flow
from botlang.store import open_store

_PIECES = st.sampled_from(
    [
        "block start",
        'block b "B"',
        "block start\n",
        "\n",
        "  ",
        "    ",
        "  calculator:",
        "  message:",
        "  message: #{x}",
        "  -> b",
        "  -> start",
        "    exact: да",
        "    contains: a; b",
        "    regex: (a+)+$",
        "    fuzzy: привет",
        "    if: x > 1",
        "    priority: 5",
        "    on: callback",
        "any -> b",
        "constants:",
        "  k = 1",
        'bot "t"',
        "x = x + 1",
        "#{",
        "}",
        "(",
        "'",
        "//",
        ":",
        "->",
    ]
)
flow_text = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=25).map(" ".join)
flow_lines = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=25).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(flow_text, flow_lines))
def test_random_flow_text_only_raises_botlang_errors(text: str) -> None:
    with contextlib.suppress(BotlangError):
        parse_flow(text, "<random>")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_lines, st.lists(st.text(max_size=20), max_size=4))
def test_flows_that_load_handle_any_message(text: str, messages: list[str]) -> None:
    try:
        flow = parse_flow(text, "<random>")
    except BotlangError:
        return
    bot = Bot(flow)
    with open_store("memory://") as store:
        client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
        for message in messages:
            turn = bot.handle_message(store, client.client_id, message)
            assert all(isinstance(e, BotlangError) for e in turn.errors)


_TEST_PIECES = st.sampled_from(
    [
        "test: t",
        "> hi",
        "< hello",
        "| more",
        "<~ h.*",
        "< ...",
        "event busy",
        "expect x = 1",
        "expect block b",
        "set client.a = 1",
        "call group 1 line 2 phone 3",
        "clock: 2024-01-15",
        "client: whatsapp 79004443322",
        "calls: busy",
        "next calls: busy, answered",
        "\n",
        "  ",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_TEST_PIECES, st.text(max_size=10)), max_size=20).map("\n".join))
def test_random_bot_test_text_is_read_without_crashing(text: str) -> None:
    from botlang.testing.format import parse_test_source

    parsed = parse_test_source(text, "<random>.bottest")
    assert isinstance(parsed.errors, list)
