"""Property tests: arbitrary input never escapes as a raw Python exception, and arithmetic
agrees with a reference model."""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import botlang
from botlang import BotlangError

_ALPHABET = st.sampled_from(
    [
        *"abxyz019 +-*/%^()[]{}'\",.:;=<>!&|#\n\\_",
        "if(",
        "del ",
        "and",
        "or",
        "not",
        "True",
        "None",
        "len(",
        "client.",
        "/*",
        "*/",
        "**",
    ],
)
source_text = st.lists(_ALPHABET, max_size=60).map("".join)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source_text)
def test_random_source_only_raises_botlang_errors(src: str) -> None:
    with contextlib.suppress(BotlangError):
        botlang.run(src, {"a": 1, "b": "2", "x": [1, 2], "y": {"k": "v"}, "z": None})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_unicode_only_raises_botlang_errors(src: str) -> None:
    for attempt in (src, f"x = {src}", f"#{{{src}}}"):
        with contextlib.suppress(BotlangError):
            botlang.run(attempt)
        with contextlib.suppress(BotlangError):
            botlang.render(attempt)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_expressions_only_raise_botlang_errors(src: str) -> None:
    with contextlib.suppress(BotlangError):
        botlang.evaluate(src, {"a": 3})


# ---------------------------------------------------------------- arithmetic model

integers = st.integers(min_value=-1000, max_value=1000)


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> tuple[str, Fraction | None]:
    """(source text, exact value or None when undefined) of a random integer expression."""
    if depth > 3 or draw(st.booleans()):
        n = draw(integers)
        text = f"({n})" if n < 0 else str(n)
        return text, Fraction(n)
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    left_text, left = draw(arithmetic(depth + 1))
    right_text, right = draw(arithmetic(depth + 1))
    if left is None or right is None:
        return f"({left_text} {op} {right_text})", None
    if op == "+":
        value: Fraction | None = left + right
    elif op == "-":
        value = left - right
    elif op == "*":
        value = left * right
    else:
        value = None if right == 0 else left / right
    return f"({left_text} {op} {right_text})", value


@settings(max_examples=500, deadline=None)
@given(arithmetic())
def test_arithmetic_agrees_with_exact_model(case: tuple[str, Fraction | None]) -> None:
    text, expected = case
    if expected is None:
        try:
            botlang.evaluate(text)
        except botlang.ScriptError as err:
            assert "division by zero" in err.message
        return
    result = botlang.evaluate(text)
    assert isinstance(result, (int, float))
    assert math.isclose(result, float(expected), rel_tol=1e-9, abs_tol=1e-9)
    if expected.denominator == 1 and "/" not in text:
        assert result == int(expected)


@settings(max_examples=200, deadline=None)
@given(integers, integers)
def test_numeric_strings_equal_numbers(a: int, b: int) -> None:
    assert botlang.evaluate("x + y", {"x": str(a), "y": b}) == a + b
    assert botlang.evaluate("x == y", {"x": str(a), "y": a}) is True
    assert botlang.evaluate("x < y", {"x": str(a), "y": str(b)}) is (a < b)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-3000, max_value=3000))
def test_date_arithmetic_roundtrip(days: int) -> None:
    moved = botlang.evaluate("d + n", {"d": "15.06.2024", "n": days})
    assert botlang.evaluate("m - d", {"m": moved, "d": "15.06.2024"}) == days


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), integers, max_size=8))
def test_run_returns_input_plus_assignments(variables: dict[str, int]) -> None:
    assume("result" not in variables)
    out = botlang.run("result = 1", variables)
    assert out == {**variables, "result": 1}


# ---------------------------------------------------------------- inlined fast paths

script_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "5", "5.0", "007", "abc", "10.10.2021", "18:00", " 3", "-2"]),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
)
literals = st.one_of(st.integers(min_value=-1000, max_value=1000), st.sampled_from(["'abc'", "''"]))


@settings(max_examples=500, deadline=None)
@given(script_values, literals, st.sampled_from(["+", "-", "==", "!=", "<", "<=", ">", ">="]))
def test_inlined_fast_paths_agree_with_helpers(value: object, literal: object, op: str) -> None:
    """``x OP 5`` (inlined) and ``(x) OP (5)`` through a variable (helper) agree."""
    from botlang.core.compiler import compile_expression

    lit_text = str(literal)
    inlined = compile_expression(f"x {op} {lit_text}")
    via_helper = compile_expression(f"x {op} y")
    lit_value = botlang.evaluate(lit_text)
    outcomes = []
    for expression, variables in (
        (inlined, {"x": value}),
        (via_helper, {"x": value, "y": lit_value}),
    ):
        try:
            outcomes.append(("ok", expression.evaluate(variables)))
        except BotlangError as err:
            outcomes.append(("error", err.message))
    assert outcomes[0] == outcomes[1]
