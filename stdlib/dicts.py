"""Dicts: keys and values as lists, key checks and positions, values by key, sorting, text.

A dict argument may also be the JSON text of an object (as API answers often are). Keys
are texts: a number given as a key is looked up as its text (1 → "1").
"""

from __future__ import annotations

from typing import Any

from botlang.stdlib.lists import sort_key, text_of

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.runtime import values


def _key(key: Any) -> str:
    return key if type(key) is str else values.to_text(key)


def _container(name: str, data: Any) -> Any:
    """A dict, a list or None; the JSON text of a dict or list is read as one."""
    if type(data) is str:
        parsed = values.json_container(data)
        if parsed is not None:
            return parsed
    if data is None or type(data) in (dict, list):
        return data
    raise ScriptError(
        f"{name}(): parameter 'data' must be a dict or a list, got {values.describe_value(data)}"
    )


@builtin("dict_keys_to_array")
def dict_keys_to_array(data: dict) -> list[str]:
    """The dict's keys as a list, in order."""
    return list(data)


@builtin("dict_values_to_array")
def dict_values_to_array(data: dict) -> list[Any]:
    """The dict's values as a list, in order."""
    return list(data.values())


@builtin("exist_key")
def exist_key(data: Any, key: Any) -> bool:
    """Whether the dict has the key (for a list: whether the position exists); None → False."""
    data = _container("exist_key", data)
    if type(data) is dict:
        return _key(key) in data
    if type(data) is list:
        number = values.as_number(key) if type(key) is not bool else None
        if number is None or (type(number) is float and not number.is_integer()):
            return False
        return -len(data) <= int(number) < len(data)
    return False


@builtin("get_values_by_key")
def get_values_by_key(data: Any, key: Any) -> list[Any]:
    """Every value stored under the key anywhere inside nested dicts and lists, in order."""
    data = _container("get_values_by_key", data)
    name = _key(key)
    found: list[Any] = []
    # Depth-first with an explicit stack: API answers can be nested deeper than recursion allows.
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            if name in node:
                found.append(node[name])
            stack.extend(reversed(list(node.values())))
        elif type(node) is list:
            stack.extend(reversed(node))
    return found


@builtin("sort_by_value")
def sort_by_value(data: dict, desc: bool = False) -> dict[str, Any]:
    """A new dict with the items ordered by value, as sort() orders; desc=True reverses."""
    return dict(sorted(data.items(), key=lambda item: sort_key(item[1]), reverse=desc))


@builtin("key_index")
def key_index(data: dict | None, key: Any) -> int:
    """The position of the key in the dict, counted from 0; -1 when the dict has no such key."""
    name = _key(key)
    for position, existing in enumerate(data or {}):
        if existing == name:
            return position
    return -1


@builtin("humanize")
def humanize(
    ctx: CallContext,
    data: dict,
    delimiter: str = ": ",
    from_i: int = 0,
    to_i: int | None = None,
) -> str:
    """The dict as text, one "key<delimiter>value" line per item, items from_i up to (not) to_i."""
    limit = ctx.limits.max_string_chars
    lines: list[str] = []
    size = 0
    for name, value in list(data.items())[from_i:to_i]:
        line = f"{name}{delimiter}{text_of(ctx, 'humanize', value)}"
        size += len(line) + (1 if lines else 0)
        if size > limit:
            raise LimitExceeded(
                f"humanize(): the text would be longer than {limit:,} characters, the limit"
            )
        lines.append(line)
    return "\n".join(lines)
