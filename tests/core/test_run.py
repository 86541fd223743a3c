"""The run object: one per run, used by every entry point, and the limits it carries.

A program compiled with its own ``Limits`` is held to them, not to the defaults: one
regression test per limit the run applies, each through the entry points it concerns.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

import botlang
from botlang import CallContext, LimitExceeded, ParseError
from botlang.core.compiler import compile_expression, compile_program, compile_template
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.run import Run

L = DEFAULT_LIMITS


def program(source: str, limits: Limits, **variables: Any) -> dict[str, Any]:
    return compile_program(source, limits=limits).run(variables)


def expression(source: str, limits: Limits, **variables: Any) -> Any:
    return compile_expression(source, limits=limits).evaluate(variables)


def template(source: str, limits: Limits, **variables: Any) -> str:
    return compile_template(source, limits=limits).render(variables)


ENTRY_POINTS: dict[str, Callable[..., Any]] = {
    "program": lambda text, limits, **v: program(f"x = {text}", limits, **v),
    "expression": expression,
    "template": lambda text, limits, **v: template("#{" + text + "}", limits, **v),
}


def held(text: str, changes: dict[str, Any], **variables: Any) -> None:
    """``text`` runs under the default limits and is refused under ``changes``, everywhere."""
    tight = L.with_changes(**changes)
    for name, entry in ENTRY_POINTS.items():
        entry(text, L, **variables)
        with pytest.raises(LimitExceeded):
            entry(text, tight, **variables)
            pytest.fail(f"{name}: {text} was not held to {changes}")


# -- the run object ---------------------------------------------------------------------------


def test_call_context_is_the_run() -> None:
    assert CallContext is Run


def test_a_run_is_its_own_environment() -> None:
    run = Run({"a": 1}, client={"b": 2}, limits=L)
    assert run.env is run
    assert run.lookup("a") == 1 and run.lookup("b") == 2
    compile_program("c = a + b").execute(run)
    assert run.scopes["deal"]["c"] == 3


def test_limits_are_given_once() -> None:
    run = Run(limits=L.with_changes(max_steps=3))
    assert run.limits.max_steps == 3


def test_program_run_copies_the_variables_once_and_leaves_the_input_alone() -> None:
    variables = {"a": 1, "items": [1, 2]}
    result = botlang.run("a = a + 1\nb = 2", variables)
    assert variables == {"a": 1, "items": [1, 2]}
    assert result == {"a": 2, "items": [1, 2], "b": 2}


def test_each_run_has_its_own_budget() -> None:
    prog = compile_program("a = len('x')", limits=L.with_changes(max_steps=2))
    for _ in range(5):  # the budget is not shared between runs
        assert prog.run() == {"a": 1}


def test_a_context_carries_clock_and_random_generator() -> None:
    moment = datetime(2024, 1, 2, 3, 4)
    context = Run(clock=lambda: moment, rng=random.Random(1))
    result = compile_program("t = time_interval('03:00', '04:00')\nr = random(1, 6)").run(
        context=context
    )
    assert result["t"] is True and 1 <= result["r"] <= 6


def test_print_output_is_kept_on_the_run() -> None:
    run = Run()
    compile_program("print('a', 1)\nprint('b')").execute(run)
    assert run.output == ["a 1", "b"]


def test_an_expression_alone_makes_no_run_until_it_needs_one() -> None:
    assert botlang.evaluate("a + 1", {"a": 1}) == 2
    assert botlang.evaluate("len(s) + a", {"a": 1, "s": "abc"}) == 4


def test_a_flow_turn_is_held_to_the_bots_limits() -> None:
    from botlang.flow import Bot
    from botlang.store import open_store

    source = (
        'bot "b"\n\nany -> start\n  new_client: yes\n\n'
        'block start "s"\n  calculator:\n    x = len(question)\n  message: #{x}\n'
    )
    store = open_store("memory://")

    def turn(limits: Limits) -> Any:
        client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
        bot = Bot.from_source(source, "t.bot", limits=limits)
        return bot.handle_message(store, client.client_id, "hey")

    assert turn(L).texts == ["3"]
    assert any("step budget" in e.message for e in turn(L.with_changes(max_steps=1)).errors)


# -- one regression test per limit --------------------------------------------------------------


def test_max_repeat_chars_is_the_programs_own() -> None:
    held("'ab' * 50", {"max_repeat_chars": 10})
    assert program("x = 'ab' * 5", L.with_changes(max_repeat_chars=10)) == {"x": "ab" * 5}


def test_max_string_chars_is_the_programs_own() -> None:
    held("s + s", {"max_string_chars": 500}, s="x" * 300)


def test_max_collection_items_is_the_programs_own() -> None:
    held("a + a", {"max_collection_items": 10}, a=[1] * 8)


def test_max_value_size_is_the_programs_own() -> None:
    held("[s, s, s]", {"max_value_size": 1000}, s="x" * 400)


def test_max_value_depth_is_the_programs_own() -> None:
    held("[[[[a]]]]", {"max_value_depth": 3}, a=[1])


def test_max_int_digits_is_the_programs_own() -> None:
    held("10 ** 50", {"max_int_digits": 20})
    held("a * a", {"max_int_digits": 20}, a=10**15)


def test_max_power_exponent_is_the_programs_own() -> None:
    held("2 ** 100", {"max_power_exponent": 50})


def test_max_steps_is_the_programs_own() -> None:
    held("len('a') + len('b') + len('c')", {"max_steps": 2})


def test_max_run_allocation_is_the_programs_own() -> None:
    held("s + '1' + s", {"max_run_allocation": 1000}, s="x" * 600)


def test_max_run_seconds_is_the_programs_own() -> None:
    tight = L.with_changes(max_run_seconds=0.0)
    with pytest.raises(LimitExceeded, match="longer than"):
        program("x = len('a')", tight)
    with pytest.raises(LimitExceeded, match="longer than"):
        expression("len('a')", tight)
    with pytest.raises(LimitExceeded, match="longer than"):
        template("#{len('a')}", tight)


def test_max_output_chars_is_the_programs_own() -> None:
    held("print(s)", {"max_output_chars": 10}, s="x" * 20)


def test_max_value_chars_is_the_programs_own() -> None:
    program("x = s", L, s="x" * 200)
    with pytest.raises(LimitExceeded):
        program("x = s + 'y'", L.with_changes(max_value_chars=100), s="x" * 200)
    with pytest.raises(LimitExceeded):
        program("x = [s]", L.with_changes(max_value_chars=100), s="x" * 200)


def test_max_variable_name_chars_is_the_programs_own() -> None:
    program("abcdefghij = 1", L)
    with pytest.raises(LimitExceeded):
        program("abcdefghij = 1", L.with_changes(max_variable_name_chars=5))


def test_max_variables_per_scope_is_the_programs_own() -> None:
    program("a = 1\nb = 2\nc = 3", L)
    with pytest.raises(LimitExceeded):
        program("a = 1\nb = 2\nc = 3", L.with_changes(max_variables_per_scope=2))


def test_max_factorial_is_the_programs_own() -> None:
    held("fac(10)", {"max_factorial": 5})


def test_max_hash_input_chars_is_the_programs_own() -> None:
    held("md5(s)", {"max_hash_input_chars": 10}, s="x" * 20)


def test_regex_limits_are_the_programs_own() -> None:
    held("findall('a{5}', s)", {"max_regex_expanded_size": 3}, s="aaaaa")
    held("findall('aaaa', s)", {"max_regex_pattern_chars": 3}, s="aaaaa")


def test_max_similar_chars_is_the_programs_own() -> None:
    held("similar(s, s)", {"max_similar_chars": 5}, s="x" * 20)


def test_max_template_chars_is_the_templates_own() -> None:
    template("#{a}" * 10, L, a=1)
    with pytest.raises(ParseError):
        template("#{a}" * 10, L.with_changes(max_template_chars=20), a=1)


def test_a_rendered_message_is_bounded_by_the_templates_limits() -> None:
    template("#{s}#{s}", L, s="x" * 300)
    with pytest.raises(LimitExceeded, match="message"):
        template("#{s}#{s}", L.with_changes(max_string_chars=500), s="x" * 300)
