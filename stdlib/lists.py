"""Lists: membership, length, adding and removing items, sorting, slicing, set operations.

Lists are values: every function returns a new list and never changes its argument, so
write ``arr = append(arr, 5)``. A list argument may also be the JSON text of a list (as API
answers often are), and a variable that is not set counts as an empty list. Items compare
by value: numeric texts equal numbers ("5" and 5 are the same item).
"""

from __future__ import annotations

import json
import re
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


def text_of(ctx: CallContext, name: str, value: Any) -> str:
    """``value`` as text (lists and dicts as JSON), refusing one over the string limit.

    The size is measured on the structure first, so a huge list is never serialised only to
    be refused.
    """
    limit = ctx.limits.max_string_chars
    size = 0
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is str:
            size += len(node)
        elif kind is list:
            size += 2 * len(node) + 2  # brackets, ", " between items
            stack.extend(node)
        elif kind is dict:
            size += 4 * len(node) + 2  # braces, ": " and ", "
            for key, item in node.items():
                size += len(key)
                stack.append(item)
        else:
            size += 4  # None, True, a number: a few characters at least
        if size > limit:
            break
    text = values.to_text(value) if size <= limit else None
    if text is None or len(text) > limit:
        raise LimitExceeded(
            f"{name}(): the text of the value would be longer than {limit:,} characters, the limit"
        )
    return text


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


NO_ITEMS: list[Any] = []  # arr_len() without an argument counts nothing (never changed)


@builtin("arr_len")
def arr_len(value: Any = NO_ITEMS) -> int:
    """The number of items of a list or dict; -1 for anything else (text, None); arr_len() → 0."""
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


def _element(ctx: CallContext, name: str, value: Any, as_json: bool) -> Any:
    """What append/insert add: a list or dict as its JSON text unless ``as_json``, when a
    JSON text is read as the value it holds (Salebot's "insert as JSON" flag)."""
    kind = type(value)
    if not as_json:
        return text_of(ctx, name, value) if kind is list or kind is dict else value
    if kind is not str:
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise ScriptError(
            f"{name}(): the value is {values.describe_value(value)}, not JSON; "
            "without the last argument True it is added as text"
        ) from None


@builtin("append")
def append(ctx: CallContext, arr: list | None, value: Any, as_json: bool = False) -> list[Any]:
    """A new list with the value at the end; as_json=True adds a list or dict (or JSON) as one."""
    items = _items(arr)
    check_items(ctx, "append", len(items) + 1)
    return [*items, _element(ctx, "append", value, as_json)]


@builtin("insert")
def insert(
    ctx: CallContext, arr: list | None, index: int, value: Any, as_json: bool = False
) -> list[Any]:
    """A new list with the value before position ``index`` (or last); as_json as in append."""
    items = list(_items(arr))
    check_items(ctx, "insert", len(items) + 1)
    items.insert(index, _element(ctx, "insert", value, as_json))
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
def sort(arr: Any, desc: bool = False) -> list[Any] | dict[str, Any]:
    """A sorted list (numbers, dates, times, texts A→Z) or a dict by key; desc=True reverses."""
    if type(arr) is str:
        parsed = values.json_container(arr)
        arr = arr if parsed is None else parsed
    if type(arr) is dict:
        return dict(sorted(arr.items(), key=lambda item: sort_key(item[0]), reverse=desc))
    if arr is not None and type(arr) is not list:
        raise ScriptError(
            f"sort(): parameter 'arr' must be a list or a dict, got {values.describe_value(arr)}"
        )
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
                f"sum_array(): array has unsupported elements: item {position} is "
                f"{values.describe_value(item)}, not a number"
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


# ------------------------------------------------------------------ text and order


def _is_given(value: Any) -> bool:
    """Salebot's "pass any value" switches: off for nothing, an empty text, False or 0."""
    return not (value is None or value == "" or value is False or value == 0)


@builtin("massive_to_text")
def massive_to_text(
    ctx: CallContext,
    massive: list | None,
    header: str = "",
    numbered: Any = None,
    delimiter1: str = ";",
    delimiter2: str = ")",
) -> str:
    """The list as text: the header, then one item a line ending in delimiter1 ("1) a;")."""
    lines = [header] if header else []
    number = _is_given(numbered)
    limit = ctx.limits.max_string_chars
    size = len(header)
    for position, item in enumerate(_items(massive), 1):
        text = text_of(ctx, "massive_to_text", item)
        line = f"{position}{delimiter2} {text}{delimiter1}" if number else f"{text}{delimiter1}"
        size += len(line) + (1 if lines else 0)  # the line and the newline before it
        if size > limit:  # checked as it grows: a long list never builds a huge text
            raise LimitExceeded(
                f"massive_to_text(): the text would be longer than {limit:,} characters, the limit"
            )
        lines.append(line)
    return "\n".join(lines)


@builtin("shuffle_massive")
def shuffle_massive(ctx: CallContext, massive: list | None) -> list[Any]:
    """A new list with the same items in a random order."""
    items = list(_items(massive))
    ctx.rng.shuffle(items)
    return items


_VARIABLE_NAME = re.compile(r"[^\W\d]\w*\Z")


@builtin("unpack_list")
def unpack_list(ctx: CallContext, array: list | None, var_name: str = "var") -> None:
    """Set deal variables var1, var2, … (or var_name1, …) to the list's items; returns None."""
    if not _VARIABLE_NAME.match(var_name):
        raise ScriptError(
            f"unpack_list(): parameter 'var_name' must be a variable name (letters, digits "
            f"and _, not starting with a digit), got {values.describe_value(var_name)}"
        )
    env = ctx.env
    if env is None:
        raise ScriptError("unpack_list(): sets variables, so it runs only inside a script")
    for position, item in enumerate(_items(array), 1):
        env.assign_deal(f"{var_name}{position}", item)
    return None
