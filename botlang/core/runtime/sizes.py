"""How big a value is, measured on its structure, never by serialising it first.

A value's *size* is a lower bound of the length of its JSON text (compact, as stored): a
text counts its characters and quotes, a whole number its digits, other scalars one
character, and a list or dict its brackets, separators, keys and items. A list or dict that
appears several times inside a value counts every time it appears (``[row] * 1000`` is a
thousand rows), yet is walked only once, so measuring is linear in the number of distinct
containers and stops as soon as the size passes the cap. Every value a script builds is
measured against ``Limits.max_value_size`` and ``max_value_depth``, so any later walk over a
value (JSON text, comparison, a builtin's loop) is bounded too.
"""

from __future__ import annotations

from typing import Any

_CONTAINERS = frozenset({list, dict})
_TEXT = {str}
_INT = {int}
_TEXT_OR_INT = frozenset({str, int})


class TooDeep(Exception):
    """Lists and dicts nested deeper than the depth allowed."""


def size_of(value: Any, cap: int, depth: int) -> int:
    """The size of ``value``; a number over ``cap`` as soon as it is known to exceed it.

    Raises :class:`TooDeep` when containers nest more than ``depth`` levels.
    """
    kind = type(value)
    if kind is str:
        return len(value) + 2
    if kind is list or kind is dict:
        return _container(value, cap, depth, {})
    if kind is int:
        return _digits(value)
    return 1


def _digits(number: int) -> int:
    # n has b bits: n >= 2**(b-1), so it has at least (b-1)·log10(2) + 1 digits; 77/256 < log10(2)
    return (max(number.bit_length() - 1, 0) * 77 >> 8) + 1


def within(value: Any, cap: int, depth: int) -> bool:
    """Whether ``value``'s size is at most ``cap`` and it nests at most ``depth`` levels
    (the test before turning a list or dict into text)."""
    try:
        return size_of(value, cap, depth) <= cap
    except TooDeep:
        return False


def _flat(value: list[Any], kinds: set[type], total: int) -> int | None:
    count = len(value)
    if kinds == _TEXT:
        return total + 3 * count + sum(map(len, value))
    if kinds == _INT:
        bits = sum(map(int.bit_length, value)) - count
        return total + count + max(count, bits * 77 >> 8)
    if kinds.isdisjoint(_TEXT_OR_INT):
        return total + 2 * count
    return None


def _container(value: Any, cap: int, depth: int, seen: dict[int, int]) -> int:
    if depth <= 0:
        raise TooDeep
    key = id(value)
    known = seen.get(key)
    if known is not None:
        return known
    total = 1 if value else 2  # brackets, less the separator the last item does not have
    if type(value) is list:
        kinds = set(map(type, value))
        if kinds.isdisjoint(_CONTAINERS):
            # flat lists, the common big case, are measured at C speed
            flat = _flat(value, kinds, total)
            if flat is not None:
                seen[key] = flat
                return flat
        for item in value:
            kind = type(item)
            if kind is str:
                total += len(item) + 3
            elif kind is list or kind is dict:
                known = seen.get(id(item))
                total += 1 + (
                    known if known is not None else _container(item, cap - total, depth - 1, seen)
                )
                if total > cap:
                    return total
            elif kind is int:
                total += _digits(item) + 1
            else:
                total += 2
    else:
        for name, item in value.items():
            kind = type(item)
            total += len(name) + 4
            if kind is str:
                total += len(item) + 2
            elif kind is list or kind is dict:
                known = seen.get(id(item))
                total += (
                    known if known is not None else _container(item, cap - total, depth - 1, seen)
                )
                if total > cap:
                    return total
            elif kind is int:
                total += _digits(item)
            else:
                total += 1
    seen[key] = total
    return total
