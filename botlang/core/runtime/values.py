"""Script values and their Salebot semantics: conversion, truthiness, text, dates.

Script values are only ever None, bool, int, float, str, list and dict. Strings that look
like numbers act as numbers; "dd.mm.yyyy" strings act as dates and "HH:MM" strings as
times in arithmetic and comparison.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime.sizes import TooDeep, size_of

if TYPE_CHECKING:
    from botlang.core.limits import Limits

_NUMBER_RE = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*\Z")
_INT_RE = re.compile(r"\s*[+-]?\d+\s*\Z")
_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\Z")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})\Z")

FALSY_STRINGS = frozenset({"", "0", "0.0", "false", "False", "FALSE", "None", "none", "null"})

SCRIPT_TYPES = (type(None), bool, int, float, str, list, dict)


def int_too_large(number: int, limits: Limits) -> bool:
    """Whether a whole number is over the ``max_int_digits`` limit."""
    return number.bit_length() > limits.max_int_bits


def number_from_text(text: str) -> int | float | None:
    """The number a numeric string stands for, or None when it is not numeric."""
    if len(text) > 400 or not _NUMBER_RE.match(text):
        return None
    if _INT_RE.match(text):
        return int(text)
    value = float(text)
    if math.isinf(value) or math.isnan(value):
        return None
    return value


def as_number(value: Any) -> int | float | None:
    """The numeric reading of ``value`` (numbers, bools, numeric strings), else None."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        return number_from_text(value)
    if kind is bool:
        return int(value)
    return None


def to_number(value: Any) -> int | float:
    """Convert to a number or raise ValueError (builtin argument conversion)."""
    if value is None:
        return 0
    number = as_number(value)
    if number is None:
        raise ValueError(f"not a number: {describe_value(value)}")
    return number


def to_int(value: Any) -> int:
    """Convert to a whole number (numeric strings and whole floats accepted)."""
    number = to_number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError("not a whole number")
        return int(number)
    return number


def truthy(value: Any) -> bool:
    """Salebot truthiness: None, False, 0, empty, and "0"/"false"/"None" strings are false."""
    if value is None or value is False:
        return False
    kind = type(value)
    if kind is str:
        return value not in FALSY_STRINGS
    if kind is int or kind is float:
        return value != 0
    return bool(value)


def format_number(value: int | float) -> str:
    """Numbers as bot authors expect them: whole floats without ".0"."""
    if type(value) is float:
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return repr(value)
    try:
        return str(value)
    except ValueError:  # past CPython's digit limit: only a host can pass such a number in
        raise LimitExceeded("the number has too many digits to be shown as text") from None


def to_text(value: Any, *, repr_strings: bool = False) -> str:
    """The text of a value as shown in messages and produced by concatenation.

    None is the empty text; lists and dicts are JSON; True/False are "True"/"False".
    """
    kind = type(value)
    if kind is str:
        return json.dumps(value, ensure_ascii=False) if repr_strings else value
    if value is None:
        return "None" if repr_strings else ""
    if kind is bool:
        return "True" if value else "False"
    if kind is int or kind is float:
        return format_number(value)
    if kind is list or kind is dict:
        try:
            return json.dumps(to_json_ready(value), ensure_ascii=False)
        except ValueError:  # a number past CPython's digit limit
            raise LimitExceeded("the value holds a number with too many digits") from None
        except RecursionError:  # only a host can pass in a value nested this deep
            raise LimitExceeded("the value is nested too deeply to be shown as text") from None
    return str(value)


def display(value: Any) -> str:
    """A value as the REPL and ``botlang eval`` show it (strings unquoted, None as None)."""
    if value is None:
        return "None"
    return to_text(value)


def to_json_ready(value: Any) -> Any:
    """A copy with whole floats as ints, safe for json.dumps."""
    kind = type(value)
    if kind is float and value.is_integer() and abs(value) < 1e16:
        return int(value)
    if kind is list:
        return [to_json_ready(v) for v in value]
    if kind is dict:
        return {k: to_json_ready(v) for k, v in value.items()}
    return value


def to_list(value: Any) -> list[Any]:
    """A list argument; a JSON text of a list is accepted too."""
    if type(value) is list:
        return value
    if type(value) is str:
        parsed = _json_container(value)
        if type(parsed) is list:
            return parsed
    raise ValueError("not a list")


def to_dict(value: Any) -> dict[str, Any]:
    """A dict argument; a JSON text of an object is accepted too."""
    if type(value) is dict:
        return value
    if type(value) is str:
        parsed = _json_container(value)
        if type(parsed) is dict:
            return parsed
    raise ValueError("not a dict")


_JSON_DEPTH = DEFAULT_LIMITS.max_value_depth


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a script number")


def _json_container(text: str, max_depth: int = _JSON_DEPTH) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    return _parsed(stripped, max_depth)


@lru_cache(maxsize=16)
def _parsed(text: str, max_depth: int) -> Any:
    """A JSON text's list or dict, parsed once: scripts read the same API answer many times.

    The result is shared by every reader, like every script value it is never changed in
    place (operations build new values).
    """
    try:
        parsed = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if type(parsed) is not list and type(parsed) is not dict:
        return None
    try:
        size_of(parsed, len(text) * 8 + 16, max_depth)
    except TooDeep:
        raise LimitExceeded(
            f"the JSON text nests lists and dicts more than {max_depth} levels deep"
        ) from None
    return parsed


def json_container(text: str, max_depth: int = _JSON_DEPTH) -> Any:
    """The list or dict a JSON text holds, or None."""
    return _json_container(text, max_depth)


def describe_value(value: Any) -> str:
    """A short description for error messages: the type and a clipped text."""
    kinds = {
        type(None): "None",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "the text",
        list: "a list",
        dict: "a dict",
    }
    kind = kinds.get(type(value), type(value).__name__)
    if value is None:
        return "None"
    if type(value) in (list, dict):
        return f"{kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = to_text(value, repr_strings=True)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


def type_name(value: Any) -> str:
    """The botlang name of a value's type."""
    return {
        type(None): "none",
        bool: "bool",
        int: "number",
        float: "number",
        str: "string",
        list: "list",
        dict: "dict",
    }.get(type(value), "unknown")


# ---------------------------------------------------------------- dates and times


def parse_date(text: str) -> date | None:
    """A "dd.mm.yyyy" text as a date, or None."""
    match = _DATE_RE.match(text.strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def parse_time(text: str) -> int | None:
    """A "HH:MM" text as minutes since midnight, or None."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def add_days(value: date, days: int | float) -> date:
    return value + timedelta(days=int(days))


def date_or_time(value: Any) -> tuple[str, Any] | None:
    """("date", date) or ("time", minutes) for a date/time string; else None."""
    if type(value) is not str or len(value) > 12:
        return None
    parsed_date = parse_date(value)
    if parsed_date is not None:
        return "date", parsed_date
    parsed_time = parse_time(value)
    if parsed_time is not None:
        return "time", parsed_time
    return None
