"""Every construct of the calculator language parses and means what the reference says."""

from __future__ import annotations

import pytest

import botlang
from botlang import ParseError


def run(src: str, **variables: object) -> dict:
    return botlang.run(src, variables)


def test_one_statement_a_line_and_semicolons() -> None:
    assert run("a = 1\nb = 2; c = 3") == {"a": 1, "b": 2, "c": 3}


def test_spaces_around_equals_do_not_matter() -> None:
    assert run("a=5\nb   =   6") == {"a": 5, "b": 6}


def test_blank_lines_and_comments() -> None:
    src = "/* one line */\n\na = 1 /* trailing */\n/* multi\n   line */\nb = a + 1\n"
    assert run(src) == {"a": 1, "b": 2}


def test_comment_inside_expression() -> None:
    assert run("a = 1 + /* two */ 2") == {"a": 3}


def test_cyrillic_identifiers() -> None:
    assert run("Сумма_Заказа = 100\nскидка = Сумма_Заказа * 0.1") == {
        "Сумма_Заказа": 100,
        "скидка": 10.0,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("1e3", 1000.0),
        ("'single'", "single"),
        ('"double"', "double"),
        ('"a\\nb"', "a\nb"),
        ("'it\\'s'", "it's"),
        ('"tab\\tx"', "tab\tx"),
        ('"\\u0416"', "Ж"),
        ('"\\d+"', "\\d+"),
        ("True", True),
        ("true", True),
        ("False", False),
        ("false", False),
        ("None", None),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[]", []),
        ('{"k": 1, "m": [2]}', {"k": 1, "m": [2]}),
        ("{}", {}),
        ("[1, 2,]", [1, 2]),
    ],
)
def test_literals(text: str, value: object) -> None:
    assert botlang.evaluate(text) == value


def test_multiline_list_and_dict() -> None:
    src = 'd = {\n  "a": [1,\n        2],\n  "b": 3\n}\nx = d["a"][1]'
    assert run(src)["x"] == 2


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 - 2 - 1", 4),
        ("2 ** 3 ** 2", 512),
        ("2 ^ 3", 8),
        ("-2 ** 2", -4),
        ("-(3)", -3),
        ("+'4'", 4),
        ("7 % 3", 1),
        ("7 / 2", 3.5),
        ("6 / 2", 3),
        ("not True", False),
        ("! 0", True),
        ("NOT ''", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("1 == 1 and 2 == 2", True),
        ("1 == 1 AND 2 == 3", False),
        ("1 == 1 && 2 == 2", True),
        ("0 or 5", 5),
        ("0 OR 0", 0),
        ("'' || 'x'", "x"),
        ("not 1 == 2", True),
        ("1 + 1 == 2", True),
    ],
)
def test_operators_and_precedence(expr: str, value: object) -> None:
    assert botlang.evaluate(expr) == value


def test_indexing_chains_and_negative() -> None:
    v = {"a": [[1, 2], [3, 4]], "d": {"k": ["x", "y"]}, "s": "hello"}
    assert botlang.evaluate("a[0][1]", v) == 2
    assert botlang.evaluate("a[-1][-2]", v) == 3
    assert botlang.evaluate('d["k"][0]', v) == "x"
    assert botlang.evaluate("s[1]", v) == "e"
    assert botlang.evaluate("a['1'][0]", v) == 3


def test_index_json_text() -> None:
    assert botlang.evaluate('r["name"]', {"r": '{"name": "Ann"}'}) == "Ann"


def test_if_is_lazy() -> None:
    # the unchosen branch would divide by zero
    assert botlang.evaluate("if(1 > 0, 'yes', 1 / 0)") == "yes"
    assert botlang.evaluate("if(0, 1 / 0, 'no')") == "no"
    assert botlang.evaluate("if(a == None, 'unset', 'set')") == "unset"
    assert botlang.evaluate("if(1, if(0, 'a', 'b'), 'c')") == "b"
    assert botlang.evaluate("if(0, 'x')") is None


def test_and_or_short_circuit() -> None:
    assert botlang.evaluate("0 and 1 / 0") == 0
    assert botlang.evaluate("1 or 1 / 0") == 1


def test_subscript_assignment() -> None:
    out = run("arr = [1, 2, 3]\narr[2] = 888\nd = {'m': 'old'}\nd['m'] = 'new'\nd['n'] = 1")
    assert out["arr"] == [1, 2, 888]
    assert out["d"] == {"m": "new", "n": 1}


def test_nested_subscript_assignment_creates_dicts() -> None:
    out = run("d = {}\nd['a']['b'] = 1\ne['x'] = 2")
    assert out["d"] == {"a": {"b": 1}}
    assert out["e"] == {"x": 2}


def test_subscript_assignment_copies_values() -> None:
    out = run("a = [1, 2]\nb = a\na[0] = 9")
    assert out == {"a": [9, 2], "b": [1, 2]}


def test_input_mapping_is_not_mutated() -> None:
    given = {"arr": [1, 2], "x": 1}
    out = botlang.run("arr[0] = 5\nx = 2\ny = 3", given)
    assert given == {"arr": [1, 2], "x": 1}
    assert out == {"arr": [5, 2], "x": 2, "y": 3}


def test_del_statement_and_function() -> None:
    out = run("arr = [1, 2, 3]\ndel arr[0]\nd = {'a': 1, 'b': 2}\ndel d['a']\nx = 1\ndel x")
    assert out == {"arr": [2, 3], "d": {"b": 2}}


def test_empty_right_hand_side_clears() -> None:
    assert run("city = 'Omsk'\ncity = ")["city"] == ""
    assert run('city = ""')["city"] == ""


def test_literal_text_fallback() -> None:
    out = run("interest = Первичное жилье\ndate_D = 10.10.2021\nt = 18:00")
    assert out == {"interest": "Первичное жилье", "date_D": "10.10.2021", "t": "18:00"}
    program = botlang.compile("interest = Первичное жилье")
    assert program.warnings and program.warnings[0].code == "literal-text"


def test_literal_text_fallback_refuses_broken_expressions() -> None:
    for src in ["x = 1 +", "x = (1", "x = 1 +* 2", "x = f(", "x = 'a' 'b' +"]:
        with pytest.raises(ParseError):
            botlang.compile(src)


def test_scope_prefixes() -> None:
    program = botlang.compile(
        "client.a = 1\nклиент.b = 2\nproject.c = 3\nпроект.d = 4\ne = a + b + c + d"
    )
    from botlang.core.runtime.run import Run

    env = Run()
    program.execute(env)
    assert env.scopes["client"] == {"a": 1, "b": 2}
    assert env.scopes["project"] == {"c": 3, "d": 4}
    assert env.scopes["deal"] == {"e": 10}


def test_reads_never_use_prefix() -> None:
    with pytest.raises(ParseError, match="reads never use a scope prefix"):
        botlang.compile("x = client.a")


def test_keywords_are_not_names_but_prefixes_of_names_are() -> None:
    assert run("delta = 1\nandroid = 2\norder = 3\nnotes = 4\ntrue_love = 5") == {
        "delta": 1,
        "android": 2,
        "order": 3,
        "notes": 4,
        "true_love": 5,
    }


def test_calls_as_statements() -> None:
    assert run("print('hi')") == {}


def test_multiline_string() -> None:
    assert run("s = 'a\nb'")["s"] == "a\nb"


def test_compile_is_cached_and_reusable() -> None:
    first = botlang.compile("x = x + 1")
    assert botlang.compile("x = x + 1") is first
    assert first.run({"x": 1}) == {"x": 2}
    assert first.run({"x": 10}) == {"x": 11}
