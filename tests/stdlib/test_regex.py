"""Regex builtins: findall and similar, and the guards against pathological patterns."""

from __future__ import annotations

import time

import pytest
from botlang.stdlib.regex import search, similarity

from botlang import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS

from .support import error_of, ev, run


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (r"findall('\\d+', 'a1b22c333')", ["1", "22", "333"]),
        (r"findall('\\d+', 'a1b22c333', 0)", "1"),
        (r"findall('\\d+', 'a1b22c333', -1)", "333"),
        (r"findall('\\d+', 'a1b22c333', 5)", None),
        (r"findall('\\d+', 'no digits')", []),
        (r"findall('\\d+', 'no digits', 0)", None),
        (r"findall('(\\w)(\\d)', 'a1 b2')", [["a", "1"], ["b", "2"]]),
        (r"findall('(\\w)=(\\d)?', 'a= b=2', 0)", ["a", ""]),
        (r"findall('код: (\\d+)', 'Ваш код: 4521')", ["4521"]),
        (r"findall('(?i)привет', 'ПРИВЕТ и привет')", ["ПРИВЕТ", "привет"]),
        (r"findall('[a-z0-9.]+@[a-z]+\\.[a-z]+', 'mail me: ann@mail.ru!')", ["ann@mail.ru"]),
        (r"findall('\\d', 12345, 2)", "3"),
        ("similar('привет', 'привет!')", True),
        ("similar('Привет', 'привет')", True),
        ("similar('  hello ', 'HELLO')", True),
        ("similar('hello', 'goodbye')", False),
        ("similar('', '')", True),
        ("similar('abc', '')", False),
        ("similar('здравствуйте', 'здраствуйте')", True),
    ],
)
def test_documented_behaviour(expr: str, expected: object) -> None:
    assert ev(expr) == expected


def test_similar_means_less_than_30_percent_different() -> None:
    # 7 of 10 characters in common is exactly 70 % alike: 30 % different is not "similar".
    assert similarity("abcdefghij", "abcdefgxyz") == pytest.approx(0.7)
    assert ev("similar('abcdefghij', 'abcdefgxyz')") is False
    assert ev("similar('abcdefghij', 'abcdefghxy')") is True


def test_a_catastrophic_pattern_stops_quickly() -> None:
    limits = DEFAULT_LIMITS.with_changes(regex_timeout_seconds=0.2)
    started = time.monotonic()
    error = error_of(
        "findall('(x+x+)+y', text)", {"text": "x" * 5000}, limits=limits, kind=LimitExceeded
    )
    assert time.monotonic() - started < 3
    assert error.message.startswith("findall(): the regular expression took longer than 0.2 s")


def test_the_classic_nested_quantifier_does_not_hang_with_default_limits() -> None:
    started = time.monotonic()
    try:
        result = run("y = findall('(a+)+$', text)", {"text": "a" * 5000 + "b"})
    except LimitExceeded as err:
        assert "took longer than" in err.message
    else:
        assert result["y"] == []
    assert time.monotonic() - started < 2 * DEFAULT_LIMITS.regex_timeout_seconds + 1


def test_search_for_conditions_uses_the_same_guards() -> None:
    assert search(r"\d{3}", "ab123")
    assert not search(r"\d{3}", "ab12")
    limits = DEFAULT_LIMITS.with_changes(regex_timeout_seconds=0.1)
    with pytest.raises(LimitExceeded):
        search("(x+x+)+y", "x" * 5000, limits)


@pytest.mark.parametrize(
    ("expr", "fragment", "kind"),
    [
        ("findall('(', 'a')", "findall(): bad regular expression '('", None),
        ("findall('a', 'b', 'x')", "findall(): parameter 'index' must be a whole number", None),
        ("findall('a{1,2', 'b')", None, None),
        (
            "findall('((a{100}){100}){100}', 'a')",
            "findall(): the regular expression repeats too much",
            LimitExceeded,
        ),
        (
            "findall('a{100000}', 'a')",
            "findall(): the regular expression repeats too much",
            LimitExceeded,
        ),
        ("similar(a, 'b')", "similar(): compares texts of up to 1,000 characters", LimitExceeded),
    ],
)
def test_errors_name_the_function(expr: str, fragment: str | None, kind: type | None) -> None:
    if fragment is None:  # 'a{1,2' is a literal in Python's re syntax, not an error
        assert ev(expr) == []
        return
    error = error_of(expr, {"a": "a" * 1001}, **({"kind": kind} if kind else {}))
    assert fragment in error.message


def test_pattern_length_is_bounded() -> None:
    limits = DEFAULT_LIMITS.with_changes(max_regex_pattern_chars=5)
    assert run("y = findall('abcde', 'abcde')", limits=limits)["y"] == ["abcde"]
    error = error_of("findall('abcdef', 'x')", limits=limits, kind=LimitExceeded)
    assert error.message.startswith("findall(): the regular expression is 6 characters long")


def test_the_number_of_matches_is_bounded() -> None:
    limits = DEFAULT_LIMITS.with_changes(max_collection_items=3)
    assert run("y = findall('a', 'aaa')", limits=limits)["y"] == ["a", "a", "a"]
    error = error_of("findall('a', 'aaaa')", limits=limits, kind=LimitExceeded)
    assert error.message.startswith("findall(): 4 matches; the limit is 3")


def test_deeply_nested_groups_are_refused_cleanly() -> None:
    pattern = "(" * 400 + "a" + ")" * 400
    error = error_of(f"findall('{pattern}', 'a')", kind=LimitExceeded)
    assert error.message.startswith("findall(): the regular expression nests groups")
