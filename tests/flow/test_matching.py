"""Text conditions: exact, contains, regex and fuzzy, with ';'-separated alternatives."""

from __future__ import annotations

import pytest

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS
from botlang.flow import MatchMode, TextCondition, condition_matches, parse_flow


def condition(mode: str, *alternatives: str) -> TextCondition:
    columns = tuple(range(1, len(alternatives) + 1))
    return TextCondition(MatchMode(mode), alternatives, 7, 5, columns)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("да", True),
        ("Да", True),
        ("  ДА  ", True),
        ("ok  google", True),
        ("да конечно", False),
        ("ага", False),
    ],
)
def test_exact_ignores_case_and_extra_spaces(text: str, expected: bool) -> None:
    assert condition_matches(condition("exact", "да", "OK Google"), text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Перезвоните мне, пожалуйста", True),
        ("ПОЗВОНИТЕ", True),
        ("нужен звонок", False),
        ("", False),
    ],
)
def test_contains_finds_keywords(text: str, expected: bool) -> None:
    assert condition_matches(condition("contains", "перезвон", "позвон"), text) is expected


def test_regex_searches_ignoring_case() -> None:
    assert condition_matches(condition("regex", r"^hello\b"), "HELLO there")
    assert not condition_matches(condition("regex", r"^hello\b"), "say hello")
    assert not condition_matches(condition("regex", r"(?-i:^hello$)"), "HELLO")
    assert condition_matches(condition("regex", r"^\d{3}$", r"^no$"), "No")


def test_escaped_semicolon_is_part_of_an_alternative() -> None:
    flow = parse_flow("block a\n  -> a\n    regex: ^a\\;b$; ^c$\n  -> a\n    exact: x\\;y\n")
    regex, exact = (a.condition for a in flow.blocks["a"].arrows)
    assert regex is not None and exact is not None
    assert regex.alternatives == ("^a\\;b$", "^c$")
    assert condition_matches(regex, "a;b") and condition_matches(regex, "C")
    assert exact.alternatives == ("x;y",) and condition_matches(exact, "X;Y")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("здраствуйте", True),  # a typo
        ("Здравствуйте!", True),
        ("abcdefghyz", True),  # 80 % alike
        ("abcdefgxyz", False),  # exactly 70 %: not more than 70 %
        ("привет", False),
        ("здравствуйте " * 200, False),  # far longer: not similar, and no error
    ],
)
def test_fuzzy_means_more_than_70_percent_similar(text: str, expected: bool) -> None:
    assert condition_matches(condition("fuzzy", "здравствуйте", "abcdefghij"), text) is expected


def test_pathological_regex_stops_with_a_located_error() -> None:
    limits = DEFAULT_LIMITS.with_changes(regex_timeout_seconds=0.05)
    slow = condition("regex", "fine", "(a|aa)+$")
    with pytest.raises(LimitExceeded, match="took longer") as info:
        condition_matches(slow, "a" * 40 + "!", limits)
    assert (info.value.line, info.value.column) == (7, 2)
