"""Lists: membership, length, adding and removing items, sorting, slicing, set operations.

Lists are values: every function returns a new list and never changes its argument, so
write ``arr = append(arr, 5)``. A list argument may also be the JSON text of a list (as API
answers often are), and a variable that is not set counts as an empty list. Items compare
by value: numeric texts equal numbers ("5" and 5 are the same item).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.runtime import values
from botlang.core.runtime.ops import eq

# ------------------------------------------------------------------ shared with dicts


def check_items(ctx: CallContext, name: str, size: int) -> None:
    """Refuse to build a list of ``size`` items when that is over the collection limit."""
    limit = ctx.limits.max_collection_items
    if size > limit:
        raise LimitExceeded(
            f"{name}(): the result would have {size:,} items; the limit is {limit:,}"
        )


def identity(value: Any) -> Any:
    """A hashable stand-in for a value, equal for values that compare equal."""
    if value is None:
        return ("none",)
    number = values.as_number(value)
    if number is not None:
        return ("number", number)
    if type(value) is str:
        return ("text", value)
    return ("json", json.dumps(values.to_json_ready(value), sort_keys=True, ensure_ascii=False))


def sort_key(value: Any) -> tuple[Any, ...]:
    """One order for every value: numbers, dates, times, then the rest as text, A→Z any case."""
    number = values.as_number(value) if type(value) is not bool else None
    if number is not None:
        return (0, number, "", "")
    parsed = values.date_or_time(value)
    if parsed is not None:
        kind, point = parsed
        return (1, point.toordinal(), "", "") if kind == "date" else (2, point, "", "")
    text = values.to_text(value)
    return (3, 0, text.casefold(), text)


def unique(items: Iterable[Any]) -> list[Any]:
    """The items without repeats, first occurrences kept in order."""
    seen: set[Any] = set()
    result = []
    for item in items:
        key = identity(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _items(arr: list[Any] | None) -> list[Any]:
    return [] if arr is None else arr


def _position(name: str, size: int, index: int) -> int:
    if not -size <= index < size:
        raise ScriptError(
            f"{name}(): index {index} is out of range for a list of {size} "
            f"item{'s' if size != 1 else ''}"
        )
    return index % size


# ------------------------------------------------------------------ membership and size


@builtin("in_array")
def in_array(arr: list | None, value: Any) -> bool:
    """Whether the value is an item of the list (in_array([1, 2], "2") → True)."""
    return any(eq(item, value) for item in _items(arr))


@builtin("arr_len")
def arr_len(value: Any) -> int:
    """The number of items of a list or dict; -1 for anything else (a text, a number, None)."""
    if type(value) is str:
        value = values.json_container(value)
    if type(value) in (list, dict):
        return len(value)
    return -1


@builtin("index")
def index(arr: list | None, value: Any) -> int:
    """The position of the value's first occurrence in the list, or -1 if it is not there."""
    for position, item in enumerate(_items(arr)):
        if eq(item, value):
            return position
    return -1


@builtin("count_occurrences")
def count_occurrences(arr: list | None, value: Any) -> int:
    """How many items of the list equal the value."""
    return sum(1 for item in _items(arr) if eq(item, value))


# ------------------------------------------------------------------ adding and removing


@builtin("append")
def append(ctx: CallContext, arr: list | None, value: Any) -> list[Any]:
    """A new list: the list with the value added at the end (arr = append(arr, 5))."""
    items = _items(arr)
    check_items(ctx, "append", len(items) + 1)
    return [*items, value]


@builtin("insert")
def insert(ctx: CallContext, arr: list | None, index: int, value: Any) -> list[Any]:
    """A new list with the value inserted before position ``index`` (past the end: appended)."""
    items = list(_items(arr))
    check_items(ctx, "insert", len(items) + 1)
    items.insert(index, value)
    return items


@builtin("del")
def delete(container: Any, key: Any) -> Any:
    """A new list without the item at position ``key`` (a dict: without the key): del(arr, 0)."""
    if type(container) is str:
        parsed = values.json_container(container)
        container = container if parsed is None else parsed
    if type(container) is dict:
        name = key if type(key) is str else values.to_text(key)
        if name not in container:
            raise ScriptError(
                f"del(): key {values.to_text(name, repr_strings=True)} is not in the dict"
            )
        return {k: v for k, v in container.items() if k != name}
    if type(container) is list:
        number = values.as_number(key) if type(key) is not bool else None
        if number is None or (type(number) is float and not number.is_integer()):
            raise ScriptError(
                f"del(): parameter 'key' must be a whole number for a list, got "
                f"{values.describe_value(key)}"
            )
        position = _position("del", len(container), int(number))
        return container[:position] + container[position + 1 :]
    raise ScriptError(
        f"del(): parameter 'container' must be a list or a dict, got "
        f"{values.describe_value(container)}"
    )


@builtin("remove")
def remove(arr: list | None, value: Any) -> list[Any]:
    """A new list without the value's first occurrence (unchanged if it is not there)."""
    items = _items(arr)
    for position, item in enumerate(items):
        if eq(item, value):
            return items[:position] + items[position + 1 :]
    return list(items)


@builtin("remove_duplicates")
def remove_duplicates(arr: list | None) -> list[Any]:
    """A new list with each value once, in the order of first occurrence."""
    return unique(_items(arr))


# ------------------------------------------------------------------ order and slices


@builtin("sort")
def sort(arr: list | None, desc: bool = False) -> list[Any]:
    """A new sorted list: numbers, dates, times, then texts A→Z in any case; desc=True reverses."""
    return sorted(_items(arr), key=sort_key, reverse=desc)


@builtin("array_slice")
def array_slice(arr: list | None, start: int, end: int | None = None) -> list[Any]:
    """Items from ``start`` up to (not including) ``end``; negative positions count from the end."""
    return _items(arr)[start:end]


@builtin("sum_array")
def sum_array(arr: list | None) -> int | float:
    """The sum of the list's numbers (numeric texts count; None items count as 0)."""
    total: int | float = 0
    for position, item in enumerate(_items(arr)):
        if item is None:
            continue
        number = values.as_number(item)
        if number is None:
            raise ScriptError(
                f"sum_array(): item {position} is {values.describe_value(item)}, not a number"
            )
        total += number
    if type(total) is float and (total != total or total in (float("inf"), float("-inf"))):
        raise ScriptError("sum_array(): the sum is too large")
    return total


# ------------------------------------------------------------------ set operations


@builtin("except_arr")
def except_arr(arr: list | None, other: list | None) -> list[Any]:
    """The items of the first list that are not in the second, each once, in order."""
    excluded = {identity(item) for item in _items(other)}
    return [item for item in unique(_items(arr)) if identity(item) not in excluded]


@builtin("cross_arr")
def cross_arr(arr: list | None, other: list | None) -> list[Any]:
    """The items the two lists have in common, each once, in the first list's order."""
    included = {identity(item) for item in _items(other)}
    return [item for item in unique(_items(arr)) if identity(item) in included]
