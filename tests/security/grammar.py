"""Hypothesis strategies that write valid botlang: expressions, statements, whole scripts and
message templates, built from the grammar's constructs and the registry's functions (with the
right number of arguments), so the fuzzer reaches the runtime instead of the parser."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from botlang.core.compiler import default_registry

NAMES = ["a", "b", "x", "d", "s", "n", "f", "j", "items", "big", "date", "t", "цена", "new"]
SYSTEM = ["client_id", "question", "phone", "current_date", "name"]

# The variables every generated script runs against: one of every kind of value.
VARIABLES: dict[str, Any] = {
    "a": 1,
    "b": "2",
    "x": [1, 2, "3"],
    "d": {"k": "v", "n": [1, {"k": 2}]},
    "s": "text",
    "n": None,
    "f": 1.5,
    "j": '{"k": [1, 2], "m": {"k": "x"}}',
    "items": ["tea", "coffee", "tea"],
    "big": "x" * 2000,
    "date": "31.01.2024",
    "t": "10:30",
    "цена": 100,
    "client_id": "7",
    "question": "hello",
}

_TEXT_ALPHABET = st.sampled_from([*"abc xyz019.,:-_/'\"\\{}[]#", "\\n", "ё", "ﬃ", "#{"])


def _quoted(text: str) -> str:
    body = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{body}'"


texts = st.lists(_TEXT_ALPHABET, max_size=12).map("".join)
string_literals = st.one_of(
    texts.map(_quoted),
    st.sampled_from(["'5'", "'2.5'", "'01.02.2024'", "'18:00'", "'[1, 2]'", "'{\"k\": 1}'", "''"]),
)
number_literals = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["0", "1", "2", "10", "4300", "10000", "99999999999999999999", "1e308"]),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr),
)
atoms = st.one_of(
    number_literals,
    string_literals,
    st.sampled_from(["True", "False", "None", "true", "false"]),
    st.sampled_from(NAMES + SYSTEM),
)

_BINARY = ["+", "-", "*", "/", "%", "**", "^"]
_COMPARE = ["==", "!=", "<", "<=", ">", ">="]
_LOGICAL = ["and", "or", "&&", "||", "AND", "OR"]


def _calls(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    functions = [f for f in default_registry().functions() if f.module != "telephony"]

    @st.composite
    def call(draw: st.DrawFn) -> str:
        fn = draw(st.sampled_from(functions))
        high = fn.max_args if fn.max_args is not None else fn.min_args + 3
        count = draw(st.integers(min_value=fn.min_args, max_value=min(high, fn.min_args + 3)))
        name = draw(st.sampled_from(fn.names))
        args = [draw(children) for _ in range(count)]
        return f"{name}({', '.join(args)})"

    return call()


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from(_BINARY), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, st.sampled_from(_COMPARE), children).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        st.tuples(children, st.sampled_from(_LOGICAL), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["not ", "NOT ", "!"]), children).map(
            lambda t: f"({t[0]}{t[1]})"
        ),
        children.map(lambda c: f"(-{c})"),
        st.tuples(children, children, children).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        pair.map(lambda t: f"{t[0]}[{t[1]}]"),
        st.lists(children, max_size=4).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(pair, max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
        st.tuples(children, st.integers(min_value=0, max_value=1000)).map(
            lambda t: f"({t[0]} * {t[1]})"
        ),
        _calls(children),
    )


expressions = st.recursive(atoms, _extend, max_leaves=10)

_TARGETS = st.one_of(
    st.sampled_from(NAMES + SYSTEM),
    st.sampled_from(NAMES + SYSTEM).map(lambda n: f"client.{n}"),
    st.sampled_from(NAMES).map(lambda n: f"project.{n}"),
    st.tuples(st.sampled_from(NAMES), expressions).map(lambda t: f"{t[0]}[{t[1]}]"),
)

_ASSIGN = st.tuples(_TARGETS, expressions).map(lambda t: f"{t[0]} = {t[1]}")
statements = st.one_of(  # weighted towards assignments, so that most scripts run on
    _ASSIGN,
    _ASSIGN,
    _ASSIGN,
    _ASSIGN,
    expressions,
    st.sampled_from(NAMES + SYSTEM).map(lambda n: f"del {n}"),
    st.tuples(st.sampled_from(NAMES), expressions).map(lambda t: f"del {t[0]}[{t[1]}]"),
    st.sampled_from(["x = Первичное жилье", "y = 10.10.2021", "z = "]),
)

programs = st.lists(statements, min_size=1, max_size=8).flatmap(
    lambda lines: st.sampled_from(["\n", "; "]).map(lambda sep: sep.join(lines))
)


@st.composite
def _nested(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "price_", "q", "цена"]))
    return "#{" + prefix + "#{" + draw(st.sampled_from(NAMES + SYSTEM)) + "}}"


templates = st.lists(
    st.one_of(texts, expressions.map(lambda e: "#{" + e + "}"), _nested()), max_size=6
).map("".join)
