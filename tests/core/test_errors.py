"""Every failure a script can cause is a located BotlangError, never a raw Python exception."""

from __future__ import annotations

import pytest

import botlang
from botlang import BotlangError, LimitExceeded, ParseError, ScriptError


def error_of(src: str, variables: dict | None = None) -> BotlangError:
    with pytest.raises(BotlangError) as info:
        botlang.run(src, variables)
    return info.value


@pytest.mark.parametrize(
    ("src", "kind", "line", "column", "words"),
    [
        ("x = 1 +", ParseError, 1, 8, "ends too early"),
        ("x = (1 + 2", ParseError, 1, 5, "'(' is never closed"),
        ("a = 1\nx = [1, 2", ParseError, 2, 5, "'[' is never closed"),
        ('x = "abc', ParseError, 1, 5, "never closed"),
        ("x = 1\n/* open", ParseError, 2, 1, "comment"),
        ("if(a = 1, 2, 3)", ParseError, 1, 6, "to compare, write '=='"),
        ("x = 1 +* 2", ParseError, 1, 8, "unexpected '*'"),
        ("x == 1 ? 2 : 3", ParseError, 1, 8, "unexpected character '?'"),
        ("x = foo(1)", ParseError, 1, 5, "unknown function 'foo'"),
        ("x = lne(1)", ParseError, 1, 5, "did you mean len()"),
        ("x = len(1, 2)", ParseError, 1, 5, "takes 1 argument, got 2"),
        ("x = if(1)", ParseError, 1, 5, "if() takes 2 or 3"),
        ("a + 1 = 2", ParseError, 1, 1, "cannot assign"),
        ("True = 1", ParseError, 1, 1, "reserved"),
        ("x.y = 1", ParseError, 1, 1, "unknown scope"),
        ("x = 1 / 0", ScriptError, 1, 7, "division by zero"),
        ("x = 5 % 0", ScriptError, 1, 7, "division by zero"),
        ("a = [1]\nb = a[5]", ScriptError, 2, 7, "out of range"),
        ("b = a['k']", ScriptError, 1, 7, "not set"),
        ("x = [1] - 'a'", ScriptError, 1, 9, "cannot apply '-'"),
        ("x = -[1]", ScriptError, 1, 5, "cannot negate"),
        ("x = {} * 2", ScriptError, 1, 8, "cannot apply '*'"),
        ("x = 0 ** -1", ScriptError, 1, 7, "negative power"),
        ("x = (-8) ** 0.5", ScriptError, 1, 10, "fractional power"),
        ("x = 10.0 ** 400", ScriptError, 1, 10, "too large"),
        ("x = int('abc')", ScriptError, 1, 5, "int()"),
        ("d = {}\ndel d['zz']", ScriptError, 2, 7, "not in the dict"),
        ("del nothing", ScriptError, 1, 1, "not set"),
    ],
)
def test_errors_are_located(src: str, kind: type, line: int, column: int, words: str) -> None:
    err = error_of(src)
    assert isinstance(err, kind), err
    assert (err.line, err.column) == (line, column), str(err)
    assert words in err.message


def test_str_shows_location_line_and_caret() -> None:
    err = error_of("a = 1\nb = a / 0\n")
    text = str(err)
    assert text.splitlines() == [
        "<script>:2:7: division by zero",
        "    b = a / 0",
        "          ^",
    ]


def test_filename_in_error() -> None:
    with pytest.raises(ParseError) as info:
        botlang.compile("x = (", "bot.calc")
    assert str(info.value).startswith("bot.calc:1:5:")


def test_assignments_before_an_error_stand() -> None:
    from botlang.core.runtime.run import Run

    env = Run()
    with pytest.raises(ScriptError):
        botlang.compile("a = 1\nb = 1 / 0\nc = 3").execute(env)
    assert env.scopes["deal"] == {"a": 1}


def test_error_classes() -> None:
    assert issubclass(ParseError, BotlangError)
    assert issubclass(ScriptError, BotlangError)
    assert issubclass(LimitExceeded, ScriptError)
    err = error_of("x = 1 / 0")
    assert err.to_dict() == {
        "file": "<script>",
        "line": 1,
        "column": 7,
        "kind": "runtime error",
        "message": "division by zero",
    }


def test_builtin_argument_errors_name_function_and_parameter() -> None:
    err = error_of("x = 1\ny = float([1])")
    assert isinstance(err, ScriptError)
    assert (err.line, err.column) == (2, 5)
    assert "float()" in err.message and "'value'" in err.message


def test_several_statements_on_a_line_locate_correctly() -> None:
    err = error_of("a = 1; b = 2; c = a / 0")
    assert (err.line, err.column) == (1, 21)


def test_parse_errors_position_inside_multiline_statement() -> None:
    with pytest.raises(ParseError) as info:
        botlang.compile("d = {\n  'a': 1,\n  'b' 2\n}")
    assert info.value.line == 3


def test_argument_count_errors_are_found_at_compile_time_and_name_the_parameters() -> None:
    from botlang import ArgumentError

    with pytest.raises(ArgumentError) as info:
        botlang.compile("a = 1\nx = len(a, 2)")
    err = info.value
    assert isinstance(err, ParseError) and isinstance(err, ScriptError)
    assert (err.line, err.column) == (2, 5)
    assert err.message == "len() takes 1 argument, got 2 (1 too many)"
    with pytest.raises(ScriptError, match=r"float\(\) takes 1 argument, got 0 \(missing 'value'\)"):
        botlang.run("x = float()")
