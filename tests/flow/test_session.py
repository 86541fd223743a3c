"""The runtime session: arrow selection, blocks, messages, errors, system variables,
telephony, events and transactions — against the memory store and a SQLite file.

Flows here greet a new client with a start condition (``any -> BLOCK`` and
``new_client: yes``): in Salebot a conversation starts only at a start condition."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from botlang.clients.matching import ClientCannotReceiveMessages
from botlang.core.errors import LimitExceeded, ScriptError
from botlang.flow import FROM_API, FROM_TELEPHONY, Bot
from botlang.store import Store, UnknownClient, open_store
from botlang.telephony import CallResult, RecordingTelephony

from .conftest import Clock, new_client

MakeBot = Callable[..., Bot]

SELECTION = """
block start
  message: start
  -> low
    contains: go
    priority: 5
  -> high
    contains: go now
    priority: 30
  -> first_of_equal
    contains: tie
  -> second_of_equal
    contains: tie
  -> guarded
    exact: check
    if: allowed == True
  -> fallback
    exact: check
    priority: 1
  -> start
    on: message
    priority: 0

block low
  message: low
block high
  message: high
block first_of_equal
  message: first
block second_of_equal
  message: second
block guarded
  message: guarded
block fallback
  message: fallback
block help
  message: help
block beats_block
  message: a start condition comes first

any -> help
  exact: /help
  priority: 10
any -> beats_block
  exact: go now
  priority: 1
any -> start
  new_client: yes
"""


def greet(source: str) -> str:
    """The flow with a start condition that takes a new client into its first block."""
    first = re.search(r"^(?:block|nostate|close_deal) (\S+)", source, re.M)
    assert first is not None
    return f"{source.rstrip()}\nany -> {first.group(1)}\n  new_client: yes\n"


@pytest.fixture
def talk(make_bot: MakeBot) -> MakeBot:
    """Like make_bot, for a flow that a new client enters at its first block."""
    return lambda source, **options: make_bot(greet(source), **options)


def say(bot: Bot, store: Store, client: str, text: str) -> list[str]:
    return bot.handle_message(store, client, text).texts


def test_new_client_starts_at_a_start_condition_for_new_clients(
    make_bot: MakeBot, store: Store
) -> None:
    bot = make_bot(SELECTION)
    client = new_client(store)
    turn = bot.handle_message(store, client, "anything")
    assert turn.texts == ["start"]
    assert turn.block_before is None and turn.block == "start"
    assert [a.describe() for a in turn.arrows] == ["any -> start (new client)"]
    assert bot.current_block(store, client) == "start"


def test_a_new_client_whom_no_start_condition_takes_gets_nothing(
    make_bot: MakeBot, store: Store
) -> None:
    # Salebot: the conversation starts only at a start condition; nothing else happens.
    bot = make_bot("block a\n  message: a\nblock b\n  message: b\nany -> b\n  exact: go\n")
    client = new_client(store)
    turn = bot.handle_message(store, client, "hello")
    assert turn.texts == [] and not turn.matched and turn.block is None
    assert say(bot, store, client, "go") == ["b"]


def test_new_client_takes_a_matching_starting_arrow(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(SELECTION)
    client = new_client(store)
    assert say(bot, store, client, "/HELP") == ["help"]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("let us go", ["low"]),
        ("tie", ["first"]),  # equal priority: file order
        ("check", ["fallback"]),  # the guarded arrow's comparison does not hold
        ("/help", ["help"]),  # a starting arrow from any block
        ("go now", ["a start condition comes first"]),  # whatever the priorities
        ("something else", ["start"]),  # the any-message arrow, lowest priority
    ],
)
def test_arrow_selection(make_bot: MakeBot, store: Store, text: str, answer: list[str]) -> None:
    bot = make_bot(SELECTION)
    client = new_client(store)
    say(bot, store, client, "hello")
    assert say(bot, store, client, text) == answer


def test_comparison_expression_sees_variables(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(SELECTION)
    client = new_client(store)
    say(bot, store, client, "hello")
    store.set_client_var(client, "allowed", True)
    turn = bot.handle_message(store, client, "check")
    assert turn.texts == ["guarded"]
    assert turn.arrows[0].describe() == "start -> guarded (exact: check, if allowed == True)"


def test_a_start_condition_beats_a_blocks_own_arrow_of_higher_priority(
    make_bot: MakeBot, store: Store
) -> None:
    # Salebot's order: start conditions, then the block's arrows, whatever the priority.
    bot = make_bot(
        "block a\n  -> b\n    exact: x\n    priority: 99\nblock b\n  message: from the block\n"
        "block c\n  message: from anywhere\nany -> c\n  exact: x\n  priority: 1\n"
    )
    client = new_client(store)
    bot.enter(store, client, "a")
    assert say(bot, store, client, "x") == ["from anywhere"]


def test_an_arrow_with_a_condition_beats_a_catch_all_written_first(
    make_bot: MakeBot, store: Store
) -> None:
    # Salebot: arrows without a condition come after those with one, whatever the order.
    bot = make_bot(
        "block a\n  -> again\n    priority: 50\n  -> yes\n    exact: да\n"
        "block again\n  message: again\nblock yes\n  message: yes\n"
    )
    client = new_client(store)
    bot.enter(store, client, "a")
    assert say(bot, store, client, "да") == ["yes"]
    bot.enter(store, client, "a")
    assert say(bot, store, client, "нет") == ["again"]


def test_start_conditions_without_a_condition_come_after_those_with_one(
    make_bot: MakeBot, store: Store
) -> None:
    bot = make_bot(
        "block a\n  message: a\nblock b\n  message: b\n"
        "any -> a\n  priority: 90\n  new_client: yes\nany -> b\n  exact: go\n"
    )
    assert say(bot, store, new_client(store), "go") == ["b"]


def test_no_matching_arrow_leaves_the_client_where_it_is(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(
        "block a\n  message: a\n  -> b\n    exact: yes\nblock b\n  message: b\n"
        "any -> a\n  new_client: yes\n"
    )
    client = new_client(store)
    say(bot, store, client, "hi")
    turn = bot.handle_message(store, client, "no")
    assert turn.texts == [] and not turn.matched and turn.block == "a"
    assert say(bot, store, client, "yes") == ["b"]


IMMEDIATE = """
block start
  calculator:
    client.n = n + 1
  message: n=#{n}
  -> big
    if: n >= 3
    delay: 0
  -> small
    delay: 0

block small
  message: small
  -> start
    exact: again

block big
  message: big

any -> start
  new_client: yes
"""


def test_arrows_with_delay_0_are_taken_at_once_in_a_chain(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(IMMEDIATE)
    client = new_client(store)
    assert say(bot, store, client, "hi") == ["n=1", "small"]
    assert say(bot, store, client, "again") == ["n=2", "small"]
    turn = bot.handle_message(store, client, "again")
    assert turn.texts == ["n=3", "big"]
    assert turn.blocks == ["start", "big"] and turn.block == "big"


def test_an_immediate_loop_stops_at_the_limit(make_bot: MakeBot, memory_store: Store) -> None:
    limits = Bot.from_source("block a\n").limits.with_changes(max_blocks_per_turn=7)
    bot = make_bot(
        "block a\n  calculator: client.n = n + 1\n  -> b\n    delay: 0\n"
        "block b\n  -> a\n    delay: 0\n",
        limits=limits,
    )
    client = new_client(memory_store)
    turn = bot.enter(memory_store, client, "a")
    assert len(turn.blocks) == 7
    (error,) = turn.errors
    assert isinstance(error, LimitExceeded) and "more than 7 blocks" in error.message
    assert memory_store.read_variables(client)["client"]["n"] == 4


CALLBACKS = """
block wait
  message: waiting
  -> answered
    on: callback
    exact: answered
  -> missed
    on: callback
    exact: busy; no_answer
  -> chat
    exact: answered

block answered
  message: talked for #{call_seconds} s, via #{message_from_outside}
block missed
  message: missed
block chat
  message: a message, not a callback
any -> wait
  new_client: yes

quick anywhere
  on: callback
  message: any callback from anywhere
"""


def test_callback_arrows_react_to_events_only(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(CALLBACKS)
    client = new_client(store)
    assert say(bot, store, client, "hi") == ["waiting"]
    assert say(bot, store, client, "answered") == ["a message, not a callback"]
    bot.enter(store, client, "wait")
    turn = bot.handle_event(store, client, "answered", variables={"call_seconds": 42})
    assert turn.kind == "event"
    assert turn.texts == [f"talked for 42 s, via {FROM_TELEPHONY}"]
    assert turn.changes == {"client": {"call_seconds": 42}}
    assert store.read_variables(client)["client"]["call_seconds"] == 42


def test_a_quick_answer_takes_a_callback_no_arrow_took(make_bot: MakeBot, store: Store) -> None:
    bot = make_bot(CALLBACKS)
    client = new_client(store)
    bot.enter(store, client, "wait")
    assert say_event(bot, store, client, "No_Answer") == ["missed"]
    turn = bot.handle_event(store, client, "whatever")
    assert turn.texts == ["any callback from anywhere"]
    assert turn.block == "missed"  # a quick answer does not move the client
    only_messages = make_bot("block a\n  message: a\n  -> a\n    on: message\n")
    other = new_client(store, phone="79005556677")
    turn = only_messages.handle_event(store, other, "answered", variables={"x": 1})
    assert not turn.matched and turn.block is None
    assert store.read_variables(other)["client"] == {"x": 1}


def say_event(bot: Bot, store: Store, client: str, text: str) -> list[str]:
    return bot.handle_event(store, client, text).texts


def test_event_variables_that_cannot_be_set_are_errors_not_crashes(
    make_bot: MakeBot, store: Store
) -> None:
    bot = make_bot(CALLBACKS)
    client = new_client(store)
    turn = bot.handle_event(store, client, "answered", variables={"question": "1", "ok": 2})
    (error,) = turn.errors
    assert "system variable" in error.message and error.filename == "<event>"
    assert store.read_variables(client)["client"] == {"ok": 2}


# -- messages -------------------------------------------------------------------------------


def test_empty_and_none_messages_are_not_sent(talk: MakeBot, store: Store) -> None:
    bot = talk(
        """
block a
  message: #{none}
  -> b
    delay: 0
block b
  message: #{empty}
  -> c
    delay: 0
block c
  calculator: text = "#{none}"
  message: #{text}
  -> d
    delay: 0
block d
  message:
    line one

    line three
"""
    )
    client = new_client(store)
    turn = bot.handle_message(store, client, "hi")
    assert turn.blocks == ["a", "b", "c", "d"]
    assert turn.texts == ["line one\n\nline three"]


def test_system_variables(talk: MakeBot, store: Store, clock: Clock) -> None:
    bot = talk(
        """
block a
  message:
    #{question}|#{message_id}|#{message_from_outside}|#{current_date}|#{current_time}
    #{next_day}|#{weekday}|#{timestamp}|#{client_id}|#{client_type}|#{platform_id}
    #{name}|#{phone}
"""
    )
    client = new_client(store)
    turn = bot.handle_message(store, client, "Привет", name="Анна")
    line1, line2, line3 = turn.texts[0].splitlines()
    assert line1 == "Привет|a|0|06.05.2024|10:30"
    stamp = int(clock.now.timestamp())
    assert line2 == f"07.05.2024|1|{stamp}|{client}|6|79004443322"
    assert line3 == "Анна|79004443322"


def test_system_variables_are_read_only(talk: MakeBot, store: Store) -> None:
    # The loader refuses a direct assignment; one through a function fails at run time.
    bot = talk(
        "block a\n  calculator:\n    x = 1\n    set_client_var(client_id, 'question', 2)\n"
        "    y = 2\n  message: x=#{x} y=#{y} q=#{question}\n"
    )
    client = new_client(store)
    turn = bot.handle_message(store, client, "hi")
    assert turn.texts == ["x=1 y= q=hi"]
    (error,) = turn.errors
    assert "'question' is a system variable" in error.message
    assert (error.filename, error.line, error.column) == ("test.bot", 4, 5)


def test_clock_is_injectable(talk: MakeBot, store: Store, clock: Clock) -> None:
    bot = talk(
        "block a\n  message: #{current_date} #{current_time} #{weekday}\n  -> a\n    on: message\n"
    )
    client = new_client(store)
    assert say(bot, store, client, "hi") == ["06.05.2024 10:30 1"]
    clock.now += timedelta(days=6, hours=8, minutes=5)
    assert say(bot, store, client, "hi") == ["12.05.2024 18:35 7"]


def test_aware_clock_is_shown_in_the_bots_timezone(talk: MakeBot, store: Store) -> None:
    moscow = timezone(timedelta(hours=3))
    utc_noon = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    bot = talk("block a\n  message: #{current_time}\n", clock=lambda: utc_noon, timezone=moscow)
    assert say(bot, store, new_client(store), "hi") == ["15:00"]


def test_time_builtins_use_the_turns_clock(talk: MakeBot, store: Store) -> None:
    bot = talk("block a\n  message: #{time_interval('10:00', '11:00')}\n  -> a\n    on: message\n")
    client = new_client(store)
    assert say(bot, store, client, "hi") == ["True"]


def test_constants_from_the_flow_and_from_the_host(talk: MakeBot, store: Store) -> None:
    source = "constants:\n  a = 1\n  b = a + 1\nblock x\n  message: #{a} #{b} #{c}\n"
    bot = talk(source, constants={"b": 20, "c": 30})
    assert say(bot, store, new_client(store), "hi") == ["1 20 30"]


# -- runtime errors -------------------------------------------------------------------------

FAILING = """
block a
  calculator:
    client.before = 1
    x = 10 / zero
    client.after = 1
  message: before=#{before} after=#{after}
  -> b
    delay: 0
block b
  message: b #{1 / zero}
  -> c
    delay: 0
block c
  message: c
"""


def test_runtime_error_stops_the_calculator_but_not_the_block(talk: MakeBot, store: Store) -> None:
    bot = talk(FAILING)
    client = new_client(store)
    turn = bot.handle_message(store, client, "hi")
    assert turn.texts == ["before=1 after=", "c"]  # b's message failed to render
    assert turn.blocks == ["a", "b", "c"]
    first, second = turn.errors
    assert isinstance(first, ScriptError)
    assert (first.filename, first.line, first.column) == ("test.bot", 5, 12)
    assert str(first).splitlines()[1:] == ["        x = 10 / zero", "               ^"]
    assert (second.line, second.column) == (11, 18)
    assert not turn.ok
    saved = store.read_variables(client)
    assert saved["client"] == {"before": 1}
    assert [e["line"] for e in saved["session"]["errors"]] == [5, 11]
    assert saved["session"]["block"] == "c"


def test_session_keeps_only_the_latest_errors(talk: MakeBot, memory_store: Store) -> None:
    limits = Bot.from_source("block a\n").limits.with_changes(max_session_errors=3)
    bot = talk("block a\n  calculator: x = 1 / 0\n  -> a\n    on: message\n", limits=limits)
    client = new_client(memory_store)
    for _ in range(5):
        bot.handle_message(memory_store, client, "hi")
    assert len(memory_store.read_variables(client)["session"]["errors"]) == 3


def test_error_in_a_message_line_below_the_first_is_located(talk: MakeBot, store: Store) -> None:
    bot = talk("block a\n  message:\n      one\n    two #{1 / 0}\n")
    (error,) = bot.handle_message(store, new_client(store), "hi").errors
    assert (error.line, error.column) == (4, 13)
    assert str(error).splitlines()[1:] == ["        two #{1 / 0}", "                ^"]


def test_error_in_a_comparison_skips_that_arrow(talk: MakeBot, store: Store) -> None:
    bot = talk(
        "block a\n  -> b\n    if: 1 / 0\n    delay: 0\n  -> c\n    delay: 0\n"
        "block b\n  message: b\nblock c\n  message: c\n"
    )
    turn = bot.handle_message(store, new_client(store), "hi")
    assert turn.texts == ["c"]
    assert [(e.line, e.column) for e in turn.errors] == [(3, 11)]


def test_step_budget_ends_the_turn(talk: MakeBot, memory_store: Store) -> None:
    limits = Bot.from_source("block a\n").limits.with_changes(
        max_steps=50, max_blocks_per_turn=1000
    )
    bot = talk("block a\n  calculator: x = len('abc')\n  -> a\n    delay: 0\n", limits=limits)
    turn = bot.handle_message(memory_store, new_client(memory_store), "hi")
    (error,) = turn.errors
    assert isinstance(error, LimitExceeded) and "step budget of 50" in error.message
    assert (error.line, error.column) == (3, 3)
    assert len(turn.blocks) == 25  # two steps each: the statement and the call


# -- telephony ------------------------------------------------------------------------------

CALLS = """
block a
  calculator:
    e = mango_employee_call("219", phone)
    g = mango_group_call(12345, "74992262961", "+7 (900) 444-33-22")
    bad = mango_employee_call("219", "12")
  message: #{e["ok"]} #{g["result"]} #{bad["result"]}
"""


def test_calls_are_placed_through_the_adapter_and_reported(
    talk: MakeBot, store: Store, telephony: RecordingTelephony
) -> None:
    bot = talk(CALLS)
    turn = bot.handle_message(store, new_client(store), "hi")
    assert turn.texts == ["True 1000 3200"]
    assert [(c.kind, c.result.result) for c in turn.calls] == [
        ("employee", 1000),
        ("group", 1000),
        ("employee", 3200),
    ]
    assert turn.calls[1].args == {
        "group": "12345",
        "line_number": "74992262961",
        "phone": "+7 (900) 444-33-22",
    }
    assert turn.calls[0].block == "a"
    # the invalid number never reached the adapter
    assert [(c.kind, c.phone) for c in telephony.calls] == [
        ("employee", "79004443322"),
        ("group", "79004443322"),
    ]
    assert turn.to_dict()["calls"][0]["result"] == 1000


def test_spam_guard_holds_across_turns(talk: MakeBot, memory_store: Store) -> None:
    bot = talk(
        "block a\n  calculator: r = mango_group_call(1, 74992262961, phone)\n"
        "  message: #{r['result']}\n  -> a\n    on: message\n"
    )
    client = new_client(memory_store)
    assert say(bot, memory_store, client, "1") == ["1000"]
    assert say(bot, memory_store, client, "2") == ["4501"]


def test_calls_without_telephony_are_a_clear_error(talk: MakeBot, store: Store) -> None:
    bot = talk(CALLS, telephony=None)
    error = bot.handle_message(store, new_client(store), "hi").errors[0]
    assert "telephony is not configured" in error.message and error.line == 4


def test_telephony_only_client_gets_no_messages(
    talk: MakeBot, store: Store, telephony: RecordingTelephony
) -> None:
    bot = talk(
        "block a\n  calculator: r = mango_employee_call(219, phone)\n"
        "  message: We are calling you\n"
    )
    client = new_client(store, client_type=13)
    turn = bot.handle_message(store, client, "hi")
    assert turn.messages == []
    assert [m.text for m in turn.undelivered] == ["We are calling you"]
    (error,) = turn.errors
    assert isinstance(error, ClientCannotReceiveMessages)
    assert "telephony-only client" in error.message
    assert (error.line, error.column) == (3, 12)
    assert len(telephony.calls) == 1  # the call itself is made


# -- transactions ---------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for the process dying in the middle of a block."""


class CrashingTelephony(RecordingTelephony):
    def employee_call(self, extension: str, phone: str) -> CallResult:
        raise Crash


def test_a_crash_leaves_nothing_of_the_turn(talk: MakeBot, store: Store) -> None:
    bot = talk(
        "block a\n  message: a\n  -> b\n    on: message\nblock b\n  calculator:\n"
        "    client.x = 1\n    project.y = 1\n    r = mango_employee_call(219, phone)\n"
        "  message: b\n",
    )
    client = new_client(store)
    bot.handle_message(store, client, "hi")
    crashing = talk(bot.flow.source, telephony=CrashingTelephony())
    with pytest.raises(Crash):
        crashing.handle_message(store, client, "go")
    saved = store.read_variables(client)
    assert saved["client"] == {} and saved["project"] == {}
    assert saved["session"]["block"] == "a"


def test_changes_and_removals_are_reported(talk: MakeBot, store: Store) -> None:
    bot = talk(
        "block a\n  calculator:\n    client.keep = 1\n    client.gone = 1\n    d = 'deal'\n"
        "  -> b\n    on: message\nblock b\n  calculator:\n    del client.gone\n"
        "    project.total = total + 1\n    client.keep = 1\n"
    )
    client = new_client(store)
    first = bot.handle_message(store, client, "hi")
    assert first.changes == {"client": {"keep": 1, "gone": 1}, "deal": {"d": "deal"}}
    second = bot.handle_message(store, client, "again")
    assert second.changes == {"project": {"total": 1}}
    assert second.removed == {"client": ["gone"]}


def test_get_and_set_client_var_on_own_and_other_clients(talk: MakeBot, store: Store) -> None:
    other = new_client(store, phone="79005556677")
    store.set_client_var(other, "score", 5)
    bot = talk(
        "block a\n  calculator:\n"
        f"    set_client_var({other}, 'score', get_client_var({other}, 'score') + 1)\n"
        "    set_client_var(client_id, 'mine', 1)\n    seen = get_client_var(client_id, 'mine')\n"
        "  message: #{mine} #{seen}\n"
    )
    client = new_client(store)
    turn = bot.handle_message(store, client, "hi")
    assert turn.texts == ["1 1"], turn.errors
    assert store.get_client_var(other, "score") == 6
    assert turn.changes["client"] == {"mine": 1}


def test_unknown_client_and_oversized_text_raise(talk: MakeBot, store: Store) -> None:
    bot = talk("block a\n")
    with pytest.raises(UnknownClient):
        bot.handle_message(store, "999", "hi")
    client = new_client(store)
    with pytest.raises(LimitExceeded, match="limit"):
        bot.handle_message(store, client, "x" * (bot.limits.max_message_chars + 1))


def test_enter_and_reset(talk: MakeBot, store: Store) -> None:
    bot = talk("block a\n  message: a\nblock b\n  message: b via #{message_from_outside}\n")
    client = new_client(store)
    assert bot.enter(store, client, "b").texts == [f"b via {FROM_API}"]
    assert bot.current_block(store, client) == "b"
    bot.reset(store, client)
    assert bot.current_block(store, client) is None
    assert say(bot, store, client, "hi") == ["a"]
    with pytest.raises(KeyError):
        bot.enter(store, client, "nope")


def test_a_removed_block_in_the_session_starts_over(talk: MakeBot, store: Store) -> None:
    client = new_client(store)
    talk("block old\n  message: old\n").handle_message(store, client, "hi")
    bot = talk("block new\n  message: new\n")
    assert bot.current_block(store, client) is None
    assert say(bot, store, client, "hi") == ["new"]


def test_conversation_survives_reopening_a_sqlite_store(talk: MakeBot, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = talk(IMMEDIATE)
    with open_store(url) as first:
        client = new_client(first)
        assert say(bot, first, client, "hi") == ["n=1", "small"]
    with open_store(url) as second:
        assert say(bot, second, client, "again") == ["n=2", "small"]
        assert second.read_variables(client)["client"]["n"] == 2


def test_turn_to_dict_is_json_ready(talk: MakeBot, store: Store) -> None:
    import json

    bot = talk(FAILING)
    data: dict[str, Any] = bot.handle_message(store, new_client(store), "hi").to_dict()
    json.dumps(data)
    assert data["blocks"] == ["a", "b", "c"]
    assert data["errors"][0]["line"] == 5
    assert data["arrows"] == ["any -> a (new client)", "a -> b (at once)", "b -> c (at once)"]
