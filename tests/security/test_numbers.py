"""Numbers: literals and results that would be infinite or not a number are clean errors."""

from __future__ import annotations

import pytest

import botlang
from botlang import ParseError, ScriptError

from .support import located


def test_a_literal_that_overflows_is_a_parse_error() -> None:
    error = located(lambda: botlang.compile("x = 1e999"), ParseError)
    assert "too large" in error.message and error.column == 5


def test_adding_the_largest_floats_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = 1.7e308 + 1.7e308"), ScriptError)


def test_subtracting_to_minus_infinity_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = -1.7e308 - 1.7e308"), ScriptError)


def test_multiplying_past_the_float_range_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = a * a", {"a": 1e200}), ScriptError)


def test_numeric_texts_that_overflow_are_a_clean_error() -> None:
    located(lambda: botlang.run("x = a + a", {"a": "1.7e308"}), ScriptError)


def test_dividing_by_a_tiny_number_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = 1e300 / 1e-300"), ScriptError)


def test_a_builtin_result_that_overflows_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = pow(10.0, 400)"), ScriptError)
    located(lambda: botlang.run("x = sum_array([1.7e308, 1.7e308])"), ScriptError)


def test_infinity_and_nan_in_json_texts_are_not_numbers() -> None:
    assert botlang.evaluate("arr_len(s)", {"s": "[Infinity, NaN]"}) == -1
    with pytest.raises(ScriptError):  # not read as JSON, so not indexable by a key
        botlang.evaluate("s['a']", {"s": '{"a": NaN}'})


def test_no_infinite_number_is_ever_stored() -> None:
    for source in ("x = 1.7e308 * 10", "x = float('1e308') * 10", "x = 2.0 ** 2000"):
        with pytest.raises(ScriptError):
            botlang.run(source)
