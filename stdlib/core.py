"""Core conversions every script needs: len, int, float, str, bool, type, print."""

from __future__ import annotations

from typing import Any

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import LimitExceeded
from botlang.core.runtime import values


@builtin("len")
def length(value: Any) -> int:
    """Number of characters of a text, or items of a list or dict (None → 0)."""
    if value is None:
        return 0
    if type(value) in (str, list, dict):
        return len(value)
    return len(values.to_text(value))


@builtin("int")
def to_int(value: float) -> int:
    """The whole-number part of a number or numeric text (int("7.9") → 7)."""
    return int(value)


@builtin("float")
def to_float(value: float) -> float:
    """A number or numeric text as a floating-point number."""
    return float(value)


@builtin("str")
def to_str(value: Any) -> str:
    """The text of any value, as a message would show it."""
    return values.to_text(value)


@builtin("bool")
def to_bool(value: Any) -> bool:
    """Truthiness as conditions see it ("0", "", "false", None, 0, [] are false)."""
    return values.truthy(value)


@builtin("type")
def type_of(value: Any) -> str:
    """The type of a value: none, bool, number, string, list or dict."""
    return values.type_name(value)


@builtin("print")
def print_(ctx: CallContext, *parts: str) -> str:
    """Show values in the REPL or the test report; returns the printed text."""
    size = sum(map(len, parts)) + len(parts)
    if size > ctx.limits.max_string_chars:
        raise LimitExceeded(
            f"print(): the text would be {size:,} characters long; the limit is "
            f"{ctx.limits.max_string_chars:,}"
        )
    text = " ".join(parts)
    ctx.show(text)
    return text
