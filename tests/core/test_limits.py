"""Each limit in botlang.core.limits is enforced at its boundary with a clean error."""

from __future__ import annotations

import pytest

import botlang
from botlang import LimitExceeded, ParseError
from botlang.core.compiler import compile_program
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime.run import Run

L = DEFAULT_LIMITS


def test_source_length() -> None:
    ok = "x = 1\n" + " " * (L.max_source_chars - 7)
    assert len(ok) == L.max_source_chars - 1
    botlang.compile(ok)
    with pytest.raises(ParseError, match="limit"):
        botlang.compile("x = 1\n" + " " * L.max_source_chars)


def test_bracket_nesting_depth_10000_is_a_clean_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply") as info:
        botlang.compile("x = " + "(" * 10_000 + "1" + ")" * 10_000)
    assert info.value.line == 1
    ok = L.max_nesting_depth
    assert botlang.run("x = " + "(" * ok + "1" + ")" * ok) == {"x": 1}
    with pytest.raises(ParseError):
        botlang.compile("x = " + "(" * (ok + 1) + "1" + ")" * (ok + 1))


def test_operator_chain_depth_is_a_clean_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        botlang.compile("x = " + " + ".join(["1"] * 5000))
    with pytest.raises(ParseError, match="nested too deeply"):
        botlang.compile("x = " + "-" * 5000 + "1")
    with pytest.raises(ParseError, match="nested too deeply"):
        botlang.compile("x = " + "not " * 5000 + "1")
    assert botlang.run("x = " + " + ".join(["1"] * 100)) == {"x": 100}


def test_step_budget() -> None:
    limits = L.with_changes(max_steps=5)
    src = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5"
    env = Run(limits=limits)
    compile_program(src, limits=limits).execute(env)
    assert len(env.scopes["deal"]) == 5
    with pytest.raises(LimitExceeded, match="step budget") as info:
        compile_program(src + "\nf = 6", limits=limits).execute(Run(limits=limits))
    assert info.value.line == 6
    tight = L.with_changes(max_steps=3)
    with pytest.raises(LimitExceeded, match="step budget") as info:
        compile_program("a = len('x') + len('y') + len('z')", limits=tight).execute(
            Run(limits=tight)
        )
    assert info.value.column == 27


def test_string_length() -> None:
    n = L.max_string_chars
    assert len(botlang.run(f"s = 'a' * {n}")["s"]) == n
    with pytest.raises(LimitExceeded, match="limit"):
        botlang.run(f"s = 'a' * {n}\nt = s + 'b'")


def test_list_length() -> None:
    n = L.max_collection_items
    with pytest.raises(LimitExceeded):
        botlang.run(f"s = [1] * {n}\nt = s + [2]")


def test_power_operand_size() -> None:
    assert botlang.evaluate(f"1 ** {L.max_power_exponent * 10}") == 1
    assert botlang.evaluate(f"2 ** {L.max_power_exponent}") == 2**L.max_power_exponent
    with pytest.raises(LimitExceeded, match="exponent"):
        botlang.evaluate(f"2 ** {L.max_power_exponent + 1}")
    with pytest.raises(LimitExceeded):
        botlang.evaluate("9 ** 9999")


def test_multiplying_huge_numbers() -> None:
    with pytest.raises(LimitExceeded):
        botlang.run("a = 2 ** 10000\nb = a * a\nc = b * b")


def test_variable_name_length() -> None:
    ok = "v" * L.max_variable_name_chars
    assert ok in botlang.run(f"{ok} = 1")
    with pytest.raises(LimitExceeded, match="name"):
        botlang.run(f"{ok}v = 1")


def test_value_length() -> None:
    n = L.max_value_chars
    assert len(botlang.run("s = x", {"x": "a" * n})["s"]) == n
    with pytest.raises(LimitExceeded, match="value of 's'"):
        botlang.run("s = x", {"x": "a" * (n + 1)})
    with pytest.raises(LimitExceeded):
        botlang.run("s = [x, x]", {"x": "a" * (n // 2)})


def test_variables_per_scope() -> None:
    n = L.max_variables_per_scope
    given = {f"v{i}": i for i in range(n - 1)}
    assert len(botlang.run("last = 1", given)) == n
    with pytest.raises(LimitExceeded, match="too many"):
        botlang.run("last = 1\none_more = 2", given)
    assert len(botlang.run("v0 = 5\nlast = 1", given)) == n


def test_huge_number_literal() -> None:
    with pytest.raises(BaseException) as info:
        botlang.compile("x = " + "9" * 5000)
    assert isinstance(info.value, botlang.BotlangError)
