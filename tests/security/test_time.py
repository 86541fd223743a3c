"""Time bombs: every run has a wall-clock deadline, and nothing is worse than linear.

No test here measures speed (the machine is shared): a deadline is tested with a limit of
zero, and a fix to a quadratic algorithm with a generous time guard in a child process.
"""

from __future__ import annotations

from typing import Any

import pytest
from botlang.stdlib.regex import timeout_for

import botlang
from botlang import LimitExceeded
from botlang.core.compiler import compile_program, compile_template
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime import values
from botlang.core.runtime.run import Run

from .support import finishes, located

L = DEFAULT_LIMITS
NO_TIME = L.with_changes(max_run_seconds=0.0)


def run(source: str, limits: Any = L, **variables: Any) -> dict[str, Any]:
    return compile_program(source, limits=limits).run(variables)


def test_list_difference_is_linear() -> None:
    out = finishes(
        "import botlang; print(botlang.evaluate('arr_len([1] * 100000 - [2] * 100000)'))"
    )
    assert out == "100000"


def test_list_difference_keeps_python_equality() -> None:
    assert botlang.evaluate("[1, 2.0, '1', [1], {'a': 1}] - [1.0, [1.0], {'a': 1}]") == [2.0, "1"]
    assert botlang.evaluate("[1, 2, 3, 2] - [2]") == [1, 3]


def test_the_deadline_stops_a_run_between_calls() -> None:
    error = located(lambda: run("a = len('x')\nb = len('y')", NO_TIME), LimitExceeded)
    assert "longer than" in error.message and error.line == 1


def test_the_deadline_stops_a_long_chain_of_cheap_calls() -> None:
    limits = L.with_changes(max_run_seconds=0.05)
    source = "\n".join(["v = in_array(a, 'zz')"] * 2000)
    with pytest.raises(LimitExceeded, match="longer than"):
        run(source, limits, a=[f"w{i}" for i in range(20_000)])


def test_the_deadline_is_checked_when_a_program_starts() -> None:
    prog = compile_program("a = 1", limits=NO_TIME)
    run_ = Run(limits=NO_TIME)
    with pytest.raises(LimitExceeded, match="longer than"):
        prog.execute(run_)


def test_the_deadline_is_checked_when_a_message_renders() -> None:
    template = compile_template("Hi #{name}", limits=NO_TIME)
    with pytest.raises(LimitExceeded, match="longer than"):
        template.render_in(Run({"name": "Ann"}, limits=NO_TIME))


def test_the_deadline_reaches_inside_get_values_by_key() -> None:
    data = [{"k": i, "l": [{"k": i}] * 50} for i in range(200)]
    with pytest.raises(LimitExceeded, match="longer than"):
        run("v = get_values_by_key(d, 'k')", NO_TIME, d=data)


def test_a_search_gets_only_the_time_the_run_has_left() -> None:
    limits = L.with_changes(regex_timeout_seconds=30.0, max_run_seconds=0.5)
    assert timeout_for(Run(limits=limits)) <= 0.5


def test_a_search_after_the_deadline_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="longer than"):
        timeout_for(Run(limits=NO_TIME))


def test_slow_searches_share_the_runs_deadline() -> None:
    limits = L.with_changes(max_run_seconds=0.3)
    source = "\n".join(["m = findall('(a|aa)+$', s)"] * 20)
    with pytest.raises(LimitExceeded):
        run(source, limits, s="a" * 40 + "!")


def test_a_json_text_is_parsed_once_for_many_reads() -> None:
    text = "[" + ",".join(str(i) for i in range(5000)) + "]"
    values._parsed.cache_clear()
    run("\n".join(["n = arr_len(s)"] * 500), s=text)
    info = values._parsed.cache_info()
    assert info.misses == 1 and info.hits >= 499


def test_a_json_text_indexed_many_times_is_parsed_once() -> None:
    text = '{"k": {"id": 7}}' + " " * 1000
    values._parsed.cache_clear()
    assert run("\n".join(["n = s['k']['id']"] * 100), s=text)["n"] == 7
    assert values._parsed.cache_info().misses == 1


def test_the_literal_text_rule_is_linear() -> None:
    code = (
        "import botlang\n"
        "try:\n"
        "    botlang.compile('x = a' + ' ' * 199_990 + 'b')\n"
        "except botlang.BotlangError as e:\n"
        "    print(type(e).__name__)\n"
        "else:\n"
        "    print('compiled')\n"
    )
    assert finishes(code) == "compiled"


def test_unclosed_template_openings_are_read_in_bounded_time() -> None:
    code = (
        "import botlang\n"
        "for text in ['#{' + chr(39) * 2 + 'x' * 10] * 1 + [('#{' + chr(39) + 'x') * 20000,\n"
        "             '#{' * 40000, '#{\"' * 30000]:\n"
        "    try:\n"
        "        botlang.render(text)\n"
        "    except botlang.BotlangError:\n"
        "        pass\n"
        "print('done')\n"
    )
    assert finishes(code) == "done"


def test_step_budget_counts_every_call() -> None:
    tight = L.with_changes(max_steps=10)
    with pytest.raises(LimitExceeded, match="step budget"):
        run("x = " + " + ".join(["len('a')"] * 20), tight)


def test_a_flow_turn_out_of_time_records_an_error_and_ends() -> None:
    from botlang.flow import Bot
    from botlang.store import open_store

    source = (
        'bot "loop"\n\nany -> start\n  new_client: yes\n\n'
        'block start "a"\n  calculator:\n    n = len("x")\n  message: a\n'
        "  -> start\n    regex: .\n"
    )
    store = open_store("memory://")
    client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
    turn = Bot.from_source(source, "loop.bot", limits=NO_TIME).handle_message(
        store, client.client_id, "hi"
    )
    assert turn.errors and all(isinstance(e, LimitExceeded) for e in turn.errors)


def test_waiting_on_mango_does_not_count_against_the_deadline() -> None:
    import time

    from botlang.telephony import RecordingTelephony

    class SlowMango(RecordingTelephony):
        def employee_call(self, *args: Any, **kwargs: Any) -> Any:
            time.sleep(0.3)  # a slow answer from Mango, not work of the script
            return super().employee_call(*args, **kwargs)

    limits = L.with_changes(max_run_seconds=0.2)
    program = compile_program(
        "r = mango_employee_call('219', '79004443322')\nn = len('x')", limits=limits
    )
    result = program.run(telephony=SlowMango())
    assert result["r"]["ok"] is True and result["n"] == 1
