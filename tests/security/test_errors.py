"""Every failure is a located BotlangError: no raw Python exception escapes a run."""

from __future__ import annotations

from typing import Any

import pytest

import botlang
from botlang import BotlangError, LimitExceeded, ParseError, ScriptError
from botlang.core.compiler import compile_program
from botlang.tools.checker import check_source

from .support import located


def test_one_hundred_chained_not_compile_and_run() -> None:
    assert botlang.run("x = " + "not " * 100 + "1") == {"x": True}


def test_one_hundred_chained_and_or_plus_one_compile_and_run() -> None:
    source = "x = " + " and ".join(["a + 1"] * 50) + " or b"
    assert botlang.run(source, {"a": 1, "b": 0})["x"] == 2


def test_deep_chains_of_every_operator_compile() -> None:
    for op in ("or", "and", "+", "*", "-", "=="):
        botlang.compile("x = " + "(" * 90 + "1" + f" {op} 1)" * 90)


def test_deep_code_keeps_short_circuits() -> None:
    # the failing call sits deeper than the code nests inline, behind a false condition
    deep = "(" * 95 + "1 / 0" + ")" * 95
    assert botlang.run(f"x = 0 and {deep}") == {"x": 0}
    with pytest.raises(ScriptError, match="division by zero"):
        botlang.run(f"x = 1 and {deep}")


def test_a_deep_error_is_located_at_its_operator() -> None:
    source = "x = " + "(" * 95 + "1 / 0" + ")" * 95
    error = located(lambda: botlang.run(source), ScriptError)
    assert error.column == source.index("/") + 1


def test_too_deep_an_expression_is_a_parse_error_not_a_syntax_error() -> None:
    located(lambda: botlang.compile("x = " + "not " * 400 + "1"), ParseError)


def test_check_and_run_agree_on_deep_chains() -> None:
    source = "x = " + "not " * 100 + "1"
    assert check_source(source) == []
    botlang.run(source)


def test_a_number_just_past_the_digit_limit_in_a_template_is_a_limit() -> None:
    error = located(lambda: botlang.render("#{a * 9 + a}", {"a": 10**4299}), LimitExceeded)
    assert "digits" in error.message


def test_adding_big_numbers_stops_at_the_digit_limit() -> None:
    located(lambda: botlang.run("a = 10 ** 4200\n" + "a = a + a\n" * 400), LimitExceeded)


def test_a_host_number_past_cpythons_limit_is_a_limit_not_a_value_error() -> None:
    number = 10**5000  # a host can pass in any int
    with pytest.raises(LimitExceeded):
        botlang.render("#{n}", {"n": number})
    with pytest.raises(LimitExceeded):
        botlang.run("t = str(n)", {"n": number})


def test_a_900_deep_list_built_by_a_script_stops_where_it_is_built() -> None:
    located(lambda: botlang.run("a = 1\n" + "a = [a]\n" * 900 + "t = str(a)"), LimitExceeded)


def test_a_900_deep_list_from_a_host_is_a_limit_not_a_recursion_error() -> None:
    value: Any = 1
    for _ in range(900):
        value = [value]
    with pytest.raises(LimitExceeded):
        botlang.render("#{v}", {"v": value})
    with pytest.raises(LimitExceeded):
        botlang.run("t = str(v)", {"v": value})


def test_a_nul_in_the_file_name_is_harmless() -> None:
    program = botlang.compile("x = 1 / 0", "bad\0name.calc")
    error = located(lambda: program.run(), ScriptError)
    assert error.filename == "bad\0name.calc"


def test_a_newline_in_the_file_name_is_harmless() -> None:
    assert botlang.compile("x = 1", "two\nlines").run() == {"x": 1}


def test_dividing_huge_numbers_is_a_clean_error() -> None:
    located(lambda: botlang.run("x = 10 ** 4000 / 3"), ScriptError)


@pytest.mark.parametrize(
    "source",
    [
        "x = [1][5]",
        "x = {'a': 1} - 1",
        "x = 'a' * 'b'",
        "x = addDays('x', 1)",
        "x = 1 / 0",
        "x = fac(-1)",
        "x = findall('(', 'a')",
        "x = del([], 0)",
        "x = round('a')",
        "x = sqrt(-1)",
    ],
)
def test_runtime_failures_are_located(source: str) -> None:
    located(lambda: botlang.run(source), BotlangError)


def test_random_host_values_never_escape() -> None:
    for value in (object(), b"bytes", (1, 2), {1, 2}, 3j):
        with pytest.raises(BotlangError):
            compile_program("y = x").run({"x": value})
