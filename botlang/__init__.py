"""botlang: the Salebot calculator language and runtime, with Mango Office telephony.

>>> import botlang
>>> botlang.evaluate("a + 1", {"a": "41"})
42
>>> botlang.run("visits = visits + 1", {"visits": 2})
{'visits': 3}
>>> botlang.render("Hello, #{name}!", {"name": "Ann"})
'Hello, Ann!'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botlang.core.builtins import CallContext
from botlang.core.compiler import (
    Expression,
    Program,
    Template,
    compile_expression,
    compile_program,
    compile_template,
)
from botlang.core.errors import ArgumentError, BotlangError, LimitExceeded, ParseError, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits

__version__ = "0.1.0"


def compile(source: str, filename: str = "<script>") -> Program:
    """Parse and compile a calculator script once; run it many times with ``.run``."""
    return compile_program(source, filename)


def evaluate(expr: str, variables: Mapping[str, Any] | None = None) -> Any:
    """The value of one expression."""
    return compile_expression(expr).evaluate(variables)


def run(
    source: str,
    variables: Mapping[str, Any] | None = None,
    *,
    telephony: Any = None,
) -> dict[str, Any]:
    """Run a calculator script; return the variables visible after it (input not mutated)."""
    return compile_program(source).run(variables, telephony=telephony)


def render(template: str, variables: Mapping[str, Any] | None = None) -> str:
    """Render ``#{...}`` substitutions in message text."""
    return compile_template(template).render(variables)


__all__ = [
    "DEFAULT_LIMITS",
    "ArgumentError",
    "BotlangError",
    "CallContext",
    "Expression",
    "LimitExceeded",
    "Limits",
    "ParseError",
    "Program",
    "ScriptError",
    "Template",
    "compile",
    "evaluate",
    "render",
    "run",
]
