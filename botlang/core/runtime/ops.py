"""Operators with Salebot semantics. Compiled scripts call these directly.

Each operator takes the operands and ``p``, the index of the source position of the
operator, so that an error can point at it. Fast paths for int/float come first: they are
the common case in bot scripts.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime import values
from botlang.core.runtime.values import as_number, date_or_time, to_text

_LIMITS = DEFAULT_LIMITS
# First characters a numeric, date or time text can start with.
NUMBER_START = frozenset("0123456789+-. \t")


def fail(message: str, p: int, *, limit: bool = False) -> NoReturn:
    """Raise a located ScriptError (or LimitExceeded) for the node at position index ``p``."""
    error = (LimitExceeded if limit else ScriptError)(message)
    error.node_index = p  # type: ignore[attr-defined]
    raise error


def _num(value: Any) -> Any:
    """The numeric reading of an operand for arithmetic (None counts as 0)."""
    if value is None:
        return 0
    return as_number(value)


def _check_int(result: Any, p: int) -> Any:
    if type(result) is int and result.bit_length() > _LIMITS.max_int_digits * 3.33:
        fail(f"number too large (over {_LIMITS.max_int_digits} digits)", p, limit=True)
    return result


def _check_text(result: str, p: int) -> str:
    if len(result) > _LIMITS.max_string_chars:
        fail(
            f"text too long ({len(result):,} characters; the limit is "
            f"{_LIMITS.max_string_chars:,})",
            p,
            limit=True,
        )
    return result


def _check_list(result: list[Any], p: int) -> list[Any]:
    if len(result) > _LIMITS.max_collection_items:
        fail(
            f"list too long ({len(result):,} items; the limit is {_LIMITS.max_collection_items:,})",
            p,
            limit=True,
        )
    return result


def _bad_operands(op: str, a: Any, b: Any, p: int) -> NoReturn:
    fail(
        f"cannot apply '{op}' to {values.describe_value(a)} and {values.describe_value(b)}",
        p,
    )


def add(a: Any, b: Any, p: int) -> Any:
    """``a + b``: numbers add, dates/times shift, texts concatenate, lists join."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a + b
    if ta is str and tb is str and (a[:1] not in NUMBER_START or b[:1] not in NUMBER_START):
        # one side cannot be a number, date or time: this is plain concatenation
        return _check_text(a + b, p) if len(a) + len(b) > 4096 else a + b
    if ta is list and tb is list:
        return _check_list(a + b, p)
    if ta is dict and tb is dict:
        return {**a, **b}
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _finite(na + nb, p)
    if nb is not None:
        shifted = _shift_date_time(a, nb, p)
        if shifted is not None:
            return shifted
    if ta is list:
        return _check_list([*a, b], p)
    if ta is str or tb is str or a is None or b is None:
        return _check_text(to_text(a) + to_text(b), p)
    _bad_operands("+", a, b, p)


def sub(a: Any, b: Any, p: int) -> Any:
    """``a - b``: numbers subtract; date - date gives days, time - time minutes."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a - b
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _finite(na - nb, p)
    left = date_or_time(a)
    if left is not None:
        right = date_or_time(b)
        if right is not None and right[0] == left[0]:
            if left[0] == "date":
                return (left[1] - right[1]).days
            return left[1] - right[1]
        if nb is not None:
            shifted = _shift_date_time(a, -nb, p)
            if shifted is not None:
                return shifted
    if ta is list and tb is list:
        return [item for item in a if item not in b]
    _bad_operands("-", a, b, p)


def _shift_date_time(a: Any, amount: Any, p: int) -> str | None:
    parsed = date_or_time(a)
    if parsed is None:
        return None
    kind, value = parsed
    try:
        if kind == "date":
            return values.format_date(values.add_days(value, amount))
        return values.format_time(value + int(amount))
    except (OverflowError, ValueError):
        fail("date out of range", p)


def mul(a: Any, b: Any, p: int) -> Any:
    """``a * b``: numbers multiply; text or list times a whole number repeats."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if a.bit_length() + b.bit_length() > 14_000:
            return _check_int(a * b, p)
        return a * b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _finite(a * b, p)
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _finite(_check_int(na * nb, p), p)
    if (ta is str or ta is list) and nb is not None and tb is not str:
        return _repeat(a, nb, p)
    if (tb is str or tb is list) and na is not None and ta is not str:
        return _repeat(b, na, p)
    _bad_operands("*", a, b, p)


def _repeat(seq: Any, times: Any, p: int) -> Any:
    if type(times) is float and not times.is_integer():
        fail("can only repeat a text or list a whole number of times", p)
    count = max(int(times), 0)
    if count and len(seq) * count > _LIMITS.max_repeat_chars:
        fail(
            f"repeating that would make {len(seq) * count:,} items; the limit is "
            f"{_LIMITS.max_repeat_chars:,}",
            p,
            limit=True,
        )
    return seq * count


def div(a: Any, b: Any, p: int) -> Any:
    """``a / b``: exact division gives a whole number, otherwise a float."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int and b:
        return a // b if a % b == 0 else a / b
    if (ta is int or ta is float) and tb is float and b:
        return _finite(a / b, p)
    na, nb = _num(a), _num(b)
    if na is None or nb is None:
        _bad_operands("/", a, b, p)
    if nb == 0:
        fail("division by zero", p)
    if type(na) is int and type(nb) is int and na % nb == 0:
        return na // nb
    try:
        return _finite(na / nb, p)
    except OverflowError:
        fail("number too large", p)


def mod(a: Any, b: Any, p: int) -> Any:
    """``a % b``: remainder (sign of the divisor, as in Python)."""
    if type(a) is int and type(b) is int and b:
        return a % b
    na, nb = _num(a), _num(b)
    if na is None or nb is None:
        _bad_operands("%", a, b, p)
    if nb == 0:
        fail("division by zero (in %)", p)
    return na % nb


def power(a: Any, b: Any, p: int) -> Any:
    """``a ** b`` and ``a ^ b``."""
    na, nb = _num(a), _num(b)
    if na is None or nb is None:
        _bad_operands("**", a, b, p)
    if type(nb) is int and type(na) is int:
        if abs(nb) > _LIMITS.max_power_exponent and abs(na) > 1:
            fail(
                f"exponent {nb} is too large (the limit is {_LIMITS.max_power_exponent})",
                p,
                limit=True,
            )
        if nb < 0:
            if na == 0:
                fail("zero cannot be raised to a negative power", p)
            return _finite(float(na) ** nb, p)
        if na not in (0, 1, -1) and nb * math.log2(abs(na)) > _LIMITS.max_int_digits * 3.32:
            fail(f"number too large (over {_LIMITS.max_int_digits} digits)", p, limit=True)
        return na**nb
    if na == 0 and nb < 0:
        fail("zero cannot be raised to a negative power", p)
    try:
        result = na**nb
    except OverflowError:
        fail("number too large", p)
    if type(result) is complex:
        fail("a negative number cannot be raised to a fractional power", p)
    return _finite(result, p)


def _finite(result: Any, p: int) -> Any:
    if type(result) is float and (math.isinf(result) or math.isnan(result)):
        fail("number too large", p)
    return result


def neg(a: Any, p: int) -> Any:
    """Unary minus."""
    ta = type(a)
    if ta is int or ta is float:
        return -a
    n = _num(a)
    if n is None:
        fail(f"cannot negate {values.describe_value(a)}", p)
    return -n


def pos(a: Any, p: int) -> Any:
    """Unary plus: the numeric reading."""
    n = _num(a)
    if n is None:
        fail(f"cannot use unary '+' on {values.describe_value(a)}", p)
    return n


# ---------------------------------------------------------------- comparison


def eq(a: Any, b: Any) -> bool:
    """``==``: numbers and numeric texts compare by value; other kinds never fail."""
    ta, tb = type(a), type(b)
    if ta is tb and ta is not float:
        if ta is str and a != b and a[:1] in NUMBER_START and b[:1] in NUMBER_START:
            na, nb = as_number(a), as_number(b)
            return na is not None and nb is not None and na == nb
        return a == b
    if a is None or b is None:
        return False
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb
    if ta is str and tb is str:
        return a == b
    return False


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def _ordered(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Both operands in one comparable domain, or None when they cannot be ordered."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a, b
    if a is None or b is None:
        return None
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na, nb
    left, right = date_or_time(a), date_or_time(b)
    if left is not None and right is not None and left[0] == right[0]:
        return left[1], right[1]
    if ta is str and tb is str:
        return a, b
    return None


def lt(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a < b
    pair = _ordered(a, b)
    return pair is not None and pair[0] < pair[1]


def le(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a <= b
    pair = _ordered(a, b)
    return pair is not None and pair[0] <= pair[1]


def gt(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a > b
    pair = _ordered(a, b)
    return pair is not None and pair[0] > pair[1]


def ge(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a >= b
    pair = _ordered(a, b)
    return pair is not None and pair[0] >= pair[1]


# ---------------------------------------------------------------- indexing


def index(target: Any, key: Any, p: int) -> Any:
    """``target[key]``: lists and texts by position (negative from the end), dicts by key."""
    kind = type(target)
    if kind is list or kind is str:
        position = _position(target, key, p)
        return target[position]
    if kind is dict:
        return target.get(_dict_key(key), None)
    if target is None:
        fail(f"cannot index None with {values.describe_value(key)} (the value is not set)", p)
    fail(f"cannot index {values.describe_value(target)}", p)


def index_value(target: Any, key: Any, p: int) -> Any:
    """Indexing that also reads JSON texts as lists/dicts (API answers are often text)."""
    kind = type(target)
    if kind is dict and type(key) is str:
        return target.get(key)
    if kind is list and type(key) is int and -len(target) <= key < len(target):
        return target[key]
    if kind is str and type(key) is str and values.as_number(key) is None:
        parsed = values.json_container(target)
        if parsed is not None:
            return index(parsed, key, p)
    return index(target, key, p)


def _position(seq: Any, key: Any, p: int) -> int:
    number = as_number(key) if type(key) is not bool else None
    if number is None or (type(number) is float and not number.is_integer()):
        if type(seq) is str:
            parsed = values.json_container(seq)
            if parsed is not None:
                fail("a text holding JSON must be indexed by a key or a whole number", p)
        fail(f"index must be a whole number, got {values.describe_value(key)}", p)
    position = int(number)
    size = len(seq)
    if position >= size or position < -size:
        what = "list" if type(seq) is list else "text"
        fail(
            f"index {position} is out of range for a {what} of {size} "
            f"item{'s' if size != 1 else ''}",
            p,
        )
    return position


def _dict_key(key: Any) -> Any:
    if type(key) is str:
        return key
    return to_text(key)


def with_item(target: Any, key: Any, value: Any, p: int) -> Any:
    """A copy of ``target`` with ``target[key] = value`` (a missing dict key is added)."""
    if target is None:
        target = {}
    kind = type(target)
    if kind is dict:
        if len(target) >= _LIMITS.max_collection_items and _dict_key(key) not in target:
            fail("dict has too many keys", p, limit=True)
        copy = dict(target)
        copy[_dict_key(key)] = value
        return copy
    if kind is list:
        copy = list(target)
        copy[_position(target, key, p)] = value
        return copy
    if kind is str:
        parsed = values.json_container(target)
        if parsed is not None:
            return with_item(parsed, key, value, p)
    fail(f"cannot assign an item of {values.describe_value(target)}", p)


def without_item(target: Any, key: Any, p: int) -> Any:
    """A copy of ``target`` without ``target[key]``."""
    kind = type(target)
    if kind is dict:
        name = _dict_key(key)
        if name not in target:
            fail(f"key {to_text(name, repr_strings=True)} is not in the dict", p)
        return {k: v for k, v in target.items() if k != name}
    if kind is list:
        copy = list(target)
        del copy[_position(target, key, p)]
        return copy
    if kind is str:
        parsed = values.json_container(target)
        if parsed is not None:
            return without_item(parsed, key, p)
    fail(f"cannot delete an item of {values.describe_value(target)}", p)


def contains(container: Any, item: Any) -> bool:
    """Membership used by ``in_array`` and friends: numeric texts match numbers."""
    if type(container) is dict:
        return _dict_key(item) in container
    if type(container) is str:
        return to_text(item) in container
    if type(container) is list:
        return any(eq(element, item) for element in container)
    return False


def make_list(items: list[Any], p: int) -> list[Any]:
    return _check_list(items, p)


def make_dict(pairs: list[tuple[Any, Any]], p: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        result[_dict_key(key)] = value
    if len(result) > _LIMITS.max_collection_items:
        fail("dict has too many keys", p, limit=True)
    return result
