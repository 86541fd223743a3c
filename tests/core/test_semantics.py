"""Salebot value semantics: numeric strings, mixed comparisons, dates, times, rendering."""

from __future__ import annotations

import pytest

import botlang
from botlang.core.runtime.values import to_text


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("'5' + 3", 8),
        ("'5' + '3'", 8),
        ("'2.5' * 2", 5.0),
        ("'10' / '4'", 2.5),
        ("'10' > 9", True),
        ("'10' > '9'", True),
        ("'5' == 5", True),
        ("'5.0' == 5", True),
        ("'abc' + 1", "abc1"),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        ("'ab' * 3", "ababab"),
        ("3 * 'ab'", "ababab"),
        ("None + 1", 1),
        ("'x' + None", "x"),
        ("-'3'", -3),
    ],
)
def test_numeric_strings_act_as_numbers(expr: str, value: object) -> None:
    assert botlang.evaluate(expr) == value


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("[1] == 1", False),
        ("[1] != 1", True),
        ("[1] < 1", False),
        ("[1] > 1", False),
        ("[1] <= 1", False),
        ("[1] >= 1", False),
        ("{} == []", False),
        ("'abc' < 5", False),
        ("'abc' > 5", False),
        ("None == 0", False),
        ("None == None", True),
        ("x == None", True),
        ("None < 1", False),
        ("'b' > 'a'", True),
        ("True == 1", True),
    ],
)
def test_mixed_comparisons_never_fail(expr: str, value: object) -> None:
    assert botlang.evaluate(expr) == value


def test_undefined_variables_read_as_none() -> None:
    assert botlang.evaluate("missing") is None
    assert botlang.run("visits = visits + 1") == {"visits": 1}


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("'10.10.2021' + 5", "15.10.2021"),
        ("'28.02.2024' + 1", "29.02.2024"),
        ("'01.01.2022' - 1", "31.12.2021"),
        ("'15.10.2021' - '10.10.2021'", 5),
        ("'10:30' + 45", "11:15"),
        ("'23:30' + 60", "00:30"),
        ("'18:00' - '09:30'", 510),
        ("'10:00' - 30", "09:30"),
        ("'01.02.2022' > '31.01.2022'", True),
        ("'9:00' < '18:00'", True),
        ("'18:30' >= '18:00'", True),
        ("'09:00' == '9:00'", False),
    ],
)
def test_dates_and_times(expr: str, value: object) -> None:
    assert botlang.evaluate(expr) == value


def test_current_time_condition() -> None:
    cond = "current_time >= '9:00' AND current_time <= '18:00' AND weekday != 6"
    assert botlang.evaluate(cond, {"current_time": "10:15", "weekday": 2}) is True
    assert botlang.evaluate(cond, {"current_time": "19:00", "weekday": 2}) is False
    assert botlang.evaluate(cond, {"current_time": "10:15", "weekday": 6}) is False


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (2.5, "2.5"),
        (10, "10"),
        (None, ""),
        (True, "True"),
        ([1, "a"], '[1, "a"]'),
        ({"k": "ж"}, '{"k": "ж"}'),
        (1e20, "1e+20"),
    ],
)
def test_whole_floats_render_without_point(value: object, text: str) -> None:
    assert to_text(value) == text


@pytest.mark.parametrize(
    ("value", "truth"),
    [("0", False), ("", False), ("false", False), ("None", False), ("no", True), ([], False)],
)
def test_truthiness(value: object, truth: bool) -> None:
    assert botlang.evaluate("if(v, 1, 0)", {"v": value}) == (1 if truth else 0)


def test_render_substitutes_and_nests() -> None:
    v = {"name": "Ann", "res": ["a", "b"], "i": 2, "q2": "second", "price": 3.0}
    assert botlang.render("Hi #{name}!", v) == "Hi Ann!"
    assert botlang.render("#{2+2}", v) == "4"
    assert botlang.render("#{res[1]}", v) == "b"
    assert botlang.render("Q: #{q#{i}}", v) == "Q: second"
    assert botlang.render("Total #{price} rub", v) == "Total 3 rub"
    assert botlang.render("#{missing}", v) == ""
    assert botlang.render("no subst {here} #", v) == "no subst {here} #"
    assert botlang.render("unclosed #{name", v) == "unclosed #{name"
    assert botlang.render('#{ {"a": 1}["a"] }', v) == "1"
    assert botlang.render("#{if(i > 1, '}', '{')}", v) == "}"


def test_render_errors_point_into_message() -> None:
    with pytest.raises(botlang.ScriptError) as info:
        botlang.render("line one\nvalue: #{1 / 0}")
    assert (info.value.line, info.value.column) == (2, 12)
    with pytest.raises(botlang.ParseError) as info2:
        botlang.render("text #{1 +}")
    assert info2.value.line == 1


def test_constants_and_lookup_order() -> None:
    from botlang.core.runtime.run import Run

    env = Run(
        {"x": "deal"},
        client={"x": "client", "y": "client"},
        project={"y": "project", "z": "project"},
        constants={"z": "const", "k": "const"},
    )
    prog = botlang.compile("a = x\nb = y\nc = z\nd = k\nk = 'mine'\ne = k")
    prog.execute(env)
    assert env.scopes["deal"]["a"] == "deal"
    assert env.scopes["deal"]["b"] == "client"
    assert env.scopes["deal"]["c"] == "project"
    assert env.scopes["deal"]["d"] == "const"
    assert env.scopes["deal"]["e"] == "mine"
    assert env.constants["k"] == "const"


def test_system_variables_are_read_only() -> None:
    from botlang.core.runtime.run import Run

    env = Run(system={"client_id": "42"})
    with pytest.raises(botlang.ScriptError, match="system variable"):
        botlang.compile("a = client_id\nclient_id = 5").execute(env)
    assert env.scopes["deal"] == {"a": "42"}


def test_client_scope_shadowing_on_delete() -> None:
    from botlang.core.runtime.run import Run

    env = Run({"x": 1}, client={"x": 2})
    botlang.compile("del x\ny = x").execute(env)
    assert env.scopes["deal"] == {"y": 2}


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [("10", "10.0", True), ("007", "7", True), ("abc", "abc", True), ("abc", "ABC", False)],
)
def test_numeric_texts_compare_as_numbers(a: str, b: str, equal: bool) -> None:
    assert botlang.evaluate("a == b", {"a": a, "b": b}) is equal
    assert botlang.evaluate("a != b", {"a": a, "b": b}) is not equal
