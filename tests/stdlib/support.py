"""Support for the standard library tests: run real botlang source and inspect errors."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from botlang import BotlangError, ScriptError
from botlang.core.builtins import CallContext
from botlang.core.compiler import compile_expression, compile_program
from botlang.core.limits import DEFAULT_LIMITS, Limits

# A Wednesday, mid-day: the clock tests run against.
NOW = datetime(2021, 10, 6, 12, 30)


def context(**changes: Any) -> CallContext:
    """A run context with a fixed clock and a seeded random generator."""
    options: dict[str, Any] = {"clock": lambda: NOW, "rng": random.Random(7)}
    options.update(changes)
    return CallContext(**options)


def ev(expr: str, variables: Mapping[str, Any] | None = None, **ctx: Any) -> Any:
    """The value of one expression, evaluated as a script would."""
    return compile_expression(expr).evaluate(variables, context=context(**ctx))


def run(
    source: str,
    variables: Mapping[str, Any] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    **ctx: Any,
) -> dict[str, Any]:
    """The variables after running a script."""
    program = compile_program(source, limits=limits)
    return program.run(variables, context=context(limits=limits, **ctx))


def error_of(
    expr: str,
    variables: Mapping[str, Any] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    kind: type[BotlangError] = ScriptError,
    **ctx: Any,
) -> BotlangError:
    """The error raised by ``expr`` placed on the second line of a script, after an indent.

    The call therefore starts at line 2, column 7; callers assert the location.
    """
    source = f"before = 1\n  y = {expr}\nafter = 2"
    with pytest.raises(kind) as caught:
        run(source, variables, limits=limits, **ctx)
    error = caught.value
    assert (error.line, error.column) == (2, 7), str(error)
    return error
