"""Math builtins: documented examples, edge cases and error cases."""

from __future__ import annotations

import hashlib
import math

import pytest

import botlang
from botlang import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS

from .support import error_of, ev, run


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("abs(-5)", 5),
        ("abs('-2.5')", 2.5),
        ("abs(3)", 3),
        ("ceil(4.1)", 5),
        ("ceil(-4.1)", -4),
        ("ceil('7')", 7),
        ("floor(4.9)", 4),
        ("floor(-4.1)", -5),
        ("floor('4.9')", 4),
        ("round(2.5)", 3),
        ("round(3.5)", 4),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("round(3.14159, 2)", 3.14),
        ("round('2.675', 2)", 2.68),
        ("round(1.005, 2)", 1.01),
        ("round(1250, -2)", 1300),
        ("round(7, 2)", 7),
        ("round(2.5, 0)", 3),
        ("sqrt(16)", 4),
        ("sqrt('2.25')", 1.5),
        ("exp(0)", 1),
        ("log(1)", 0),
        ("log(100, 10)", 2),
        ("log(8, 2)", 3),
        ("log(27, 3)", pytest.approx(3)),
        ("pow(2, 10)", 1024),
        ("pow('2', '3')", 8),
        ("pow(4, 0.5)", 2),
        ("pow(2, -1)", 0.5),
        ("min(3, '1', 2)", 1),
        ("max(3, '10', 2)", 10),
        ("max([3, 7, 5])", 7),
        ("min('[3, 7, 5]')", 3),
        ("max(2.5)", 2.5),
        ("min('b', 'a', 'c')", "a"),
        ("max('01.02.2020', '31.01.2020')", "01.02.2020"),
        ("min('09:30', '18:00', '10:15')", "09:30"),
        ("sin(0)", 0),
        ("cos(0)", 1),
        ("tan(0)", 0),
        ("is_int(42)", True),
        ("is_int('42')", True),
        ("is_int(' -7 ')", True),
        ("is_int('4.2')", False),
        ("is_int(4.0)", True),
        ("is_int(4.5)", False),
        ("is_int('abc')", False),
        ("is_int(None)", False),
        ("is_int(True)", False),
        ("is_float('4.2')", True),
        ("is_float('4')", True),
        ("is_float(3)", True),
        ("is_float('1e3')", True),
        ("is_float('abc')", False),
        ("is_float('')", False),
        ("is_float(None)", False),
        ("is_float([1])", False),
        ("md5('hello')", "5d41402abc4b2a76b9719d911017c592"),
        ("sha1('')", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("md5(5)", hashlib.md5(b"5").hexdigest()),
        ("sha256('привет')", hashlib.sha256("привет".encode()).hexdigest()),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_results_have_the_expected_number_types() -> None:
    assert type(ev("ceil(4.1)")) is int
    assert type(ev("floor(4.9)")) is int
    assert type(ev("round(2.5)")) is int
    assert type(ev("round(2.567, 1)")) is float
    assert type(ev("abs(-3)")) is int


def test_trigonometry_works_in_radians() -> None:
    assert ev("sin(x)", {"x": math.pi / 2}) == pytest.approx(1)
    assert ev("cos(x)", {"x": math.pi}) == pytest.approx(-1)
    assert ev("tan(x)", {"x": math.pi / 4}) == pytest.approx(1)


def test_numeric_variables_from_messages_work() -> None:
    assert run("total = round(price * 1.2, 2)", {"price": "99.99"})["total"] == 119.99


def test_random_stays_in_range_and_is_seedable() -> None:
    import random

    draws = [ev("random(-10, 10)", rng=random.Random(seed)) for seed in range(200)]
    assert all(-10 <= d <= 10 and type(d) is int for d in draws)
    assert len(set(draws)) > 5
    assert ev("random(1, 100)", rng=random.Random(3)) == ev("random(1, 100)", rng=random.Random(3))


def test_random_with_fractions_and_reversed_bounds() -> None:
    value = ev("random(0.5, 1.5)")
    assert 0.5 <= value <= 1.5
    assert 1 <= ev("random(6, 1)") <= 6
    assert type(ev("random(1, 6.0)")) is int
    assert type(ev("random('1', '6')")) is int


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("abs('five')", "abs(): parameter 'x' must be a number"),
        ("ceil([1])", "ceil(): parameter 'x' must be a number"),
        ("floor({})", "floor(): parameter 'x' must be a number"),
        ("round('x')", "round(): parameter 'x' must be a number"),
        ("round(1.5, 'a')", "round(): parameter 'digits' must be a whole number"),
        ("round(1.5, 1.5)", "round(): parameter 'digits' must be a whole number"),
        ("sqrt('abc')", "sqrt(): parameter 'x' must be a number"),
        ("sqrt(-1)", "sqrt(): cannot take the square root of a negative number"),
        ("exp('e')", "exp(): parameter 'x' must be a number"),
        ("exp(1000)", "exp(): exp(1000) is too large"),
        ("log(0)", "log(): the logarithm is defined for positive numbers only"),
        ("log(8, 1)", "log(): the base of a logarithm must be positive and not 1"),
        ("log('x')", "log(): parameter 'x' must be a number"),
        ("log(8, 'two')", "log(): parameter 'base' must be a number"),
        ("pow('a', 2)", "pow(): parameter 'x' must be a number"),
        ("pow(2, 'b')", "pow(): parameter 'y' must be a number"),
        ("pow(0, -1)", "pow(): zero cannot be raised to a negative power"),
        ("pow(-8, 0.5)", "pow(): a negative number cannot be raised"),
        ("min()", "min(): needs at least one value"),
        ("max([])", "max(): needs at least one value"),
        (
            "min('a', 1)",
            "min(): values must be all numbers, all dates, all times or all texts; got the text",
        ),
        (
            "max([1], [2])",
            "max(): values must be all numbers, all dates, all times or all texts; got a list",
        ),
        ("random('a', 1)", "random(): parameter 'a' must be a number"),
        ("random(1, [2])", "random(): parameter 'b' must be a number"),
        ("sin('x')", "sin(): parameter 'x' must be a number"),
        ("cos(None)", None),
        ("tan('x')", "tan(): parameter 'x' must be a number"),
    ],
)
def test_errors_name_the_function_and_parameter(expr: str, fragment: str | None) -> None:
    if fragment is None:  # None reads as 0 for numbers, as in arithmetic
        assert ev(expr) == 1
        return
    error = error_of(expr)
    assert fragment in error.message


def test_pow_respects_the_exponent_limit() -> None:
    error = error_of("pow(10, 100000)", kind=LimitExceeded)
    assert error.message.startswith("pow(): exponent 100000 is too large")


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256"])
def test_hash_input_is_bounded(name: str) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_hash_input_chars=10)
    assert len(run(f"y = {name}('0123456789')", limits=limits)["y"]) > 0
    error = error_of(f"{name}('01234567890')", limits=limits, kind=LimitExceeded)
    assert error.message.startswith(f"{name}(): the text is 11 characters long")


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("fac(0)", 1),
        ("fac(5)", 120),
        ("fac('6')", 720),
        ("atan(0)", 0.0),
        ("asin(1) * 2", math.pi),
        ("acos(1)", 0.0),
    ],
)
def test_factorial_and_inverse_trigonometry(expr: str, value: float) -> None:
    assert botlang.evaluate(expr) == pytest.approx(value)


@pytest.mark.parametrize(
    ("expr", "words", "kind"),
    [
        ("fac(-1)", "must not be negative", ScriptError),
        ("fac(1001)", "limit is 1000", LimitExceeded),
        ("fac(2.5)", "whole number", ScriptError),
        ("asin(2)", "from -1 to 1", ScriptError),
        ("acos(-1.5)", "from -1 to 1", ScriptError),
    ],
)
def test_factorial_and_inverse_trigonometry_errors(expr: str, words: str, kind: type) -> None:
    with pytest.raises(kind, match=words) as info:
        botlang.evaluate(expr)
    assert info.value.column == 1
