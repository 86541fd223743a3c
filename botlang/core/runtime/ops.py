"""Operators with Salebot semantics. Compiled scripts call these directly.

Each operator takes the operands, ``p`` (the index of the operator's source position, so
an error can point at it) and the :class:`~botlang.core.runtime.run.Run` it runs in, whose
limits it applies and whose budget pays for what it builds. Fast paths for int/float come
first: they are the common case in bot scripts. Nothing here builds a value before knowing
it is within the limits, and nothing takes longer than linear time in its operands' sizes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn

from botlang.core.errors import LimitExceeded
from botlang.core.runtime import values
from botlang.core.runtime.run import fail
from botlang.core.runtime.values import as_number, date_or_time, to_text

if TYPE_CHECKING:
    from botlang.core.runtime.run import Run

__all__ = ["fail"]

# First characters a numeric, date or time text can start with.
NUMBER_START = frozenset("0123456789+-. \t")
# Results within ±2**62 need no digit check; texts up to this long are not charged.
_SMALL_INT = 1 << 62
_SMALL_TEXT = 256


def _num(value: Any) -> Any:
    """The numeric reading of an operand for arithmetic (None counts as 0)."""
    if value is None:
        return 0
    return as_number(value)


def _check_int(result: Any, p: int, run: Run) -> Any:
    if type(result) is int and not -_SMALL_INT < result < _SMALL_INT:
        limits = run.limits
        if result.bit_length() > limits.max_int_bits:
            fail(f"number too large (over {limits.max_int_digits} digits)", p, limit=True)
    return result


def _finite(result: Any, p: int) -> Any:
    if type(result) is float and result - result != 0:  # inf or nan
        fail("number too large", p)
    return result


def _text_size(size: int, p: int, run: Run) -> None:
    """Refuse a text of ``size`` characters over the limit, before it is built; charge it."""
    limit = run.limits.max_string_chars
    if size > limit:
        fail(f"text too long ({size:,} characters; the limit is {limit:,})", p, limit=True)
    if size > _SMALL_TEXT:
        run.charge(size, p)


def text_of(value: Any, p: int, run: Run) -> str:
    """The text of a value (as a message shows it), refused before it is built when a list
    or dict would make a text over the limit."""
    kind = type(value)
    if kind is str:
        return value
    if kind is list or kind is dict:
        limit = run.limits.max_string_chars
        if run.measure(value, p) > limit:
            fail(f"text too long (the list or dict is over {limit:,} characters)", p, limit=True)
        text = to_text(value)
        _text_size(len(text), p, run)
        return text
    return to_text(value)


def _check_list(result: list[Any], p: int, run: Run) -> list[Any]:
    limit = run.limits.max_collection_items
    if len(result) > limit:
        fail(f"list too long ({len(result):,} items; the limit is {limit:,})", p, limit=True)
    return result


def _bad_operands(op: str, a: Any, b: Any, p: int) -> NoReturn:
    fail(
        f"cannot apply '{op}' to {values.describe_value(a)} and {values.describe_value(b)}",
        p,
    )


def add(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a + b``: numbers add, dates/times shift, texts concatenate, lists join."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        result = a + b
        return result if -_SMALL_INT < result < _SMALL_INT else _check_int(result, p, run)
    if (ta is int or ta is float) and (tb is int or tb is float):
        result = a + b
        return result if result - result == 0 else _finite(result, p)
    if ta is str and tb is str and (a[:1] not in NUMBER_START or b[:1] not in NUMBER_START):
        # one side cannot be a number, date or time: this is plain concatenation
        size = len(a) + len(b)
        if size > _SMALL_TEXT:
            _text_size(size, p, run)
        return a + b
    if ta is list and tb is list:
        _check_list_size(len(a) + len(b), p, run)
        return run.built(a + b, p)
    if ta is dict and tb is dict:
        return run.built({**a, **b}, p)
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _check_int(_finite(na + nb, p), p, run)
    if nb is not None:
        shifted = _shift_date_time(a, nb, p)
        if shifted is not None:
            return shifted
    if ta is list:
        _check_list_size(len(a) + 1, p, run)
        return run.built([*a, b], p)
    if ta is str or tb is str or a is None or b is None:
        left, right = text_of(a, p, run), text_of(b, p, run)
        _text_size(len(left) + len(right), p, run)
        return left + right
    _bad_operands("+", a, b, p)


def _check_list_size(size: int, p: int, run: Run) -> None:
    limit = run.limits.max_collection_items
    if size > limit:
        fail(f"list too long ({size:,} items; the limit is {limit:,})", p, limit=True)


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal (by Python equality) exactly when the values are equal."""
    kind = type(value)
    if kind is list:
        return tuple(map(_frozen, value))
    if kind is dict:
        return frozenset((key, _frozen(item)) for key, item in value.items())
    return value


def sub(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a - b``: numbers subtract; date - date gives days, time - time minutes; list - list
    keeps the items of the first that are not in the second (linear time)."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        result = a - b
        return result if -_SMALL_INT < result < _SMALL_INT else _check_int(result, p, run)
    if (ta is int or ta is float) and (tb is int or tb is float):
        result = a - b
        return result if result - result == 0 else _finite(result, p)
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return _check_int(_finite(na - nb, p), p, run)
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
        run.charge(len(a) + len(b), p)
        excluded = set(map(_frozen, b))
        return [item for item in a if _frozen(item) not in excluded]
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


def mul(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a * b``: numbers multiply; text or list times a whole number repeats."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if a.bit_length() + b.bit_length() > 62:
            return _check_int(a * b, p, run) if _int_fits(a, b, run) else _int_over(p, run)
        return a * b
    if (ta is int or ta is float) and (tb is int or tb is float):
        result = a * b
        return result if result - result == 0 else _finite(result, p)
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        if type(na) is int and type(nb) is int and not _int_fits(na, nb, run):
            _int_over(p, run)
        return _finite(_check_int(na * nb, p, run), p)
    if (ta is str or ta is list) and nb is not None and tb is not str:
        return _repeat(a, nb, p, run)
    if (tb is str or tb is list) and na is not None and ta is not str:
        return _repeat(b, na, p, run)
    _bad_operands("*", a, b, p)


def _int_fits(a: int, b: int, run: Run) -> bool:
    """Whether ``a * b`` can be within the digit limit (checked before multiplying)."""
    return a.bit_length() + b.bit_length() <= run.limits.max_int_bits + 1


def _int_over(p: int, run: Run) -> NoReturn:
    fail(f"number too large (over {run.limits.max_int_digits} digits)", p, limit=True)


def _repeat(seq: Any, times: Any, p: int, run: Run) -> Any:
    if type(times) is float and not times.is_integer():
        fail("can only repeat a text or list a whole number of times", p)
    count = max(int(times), 0)
    if not count or not seq:
        return seq[:0]
    limits = run.limits
    if len(seq) * count > limits.max_repeat_chars:
        fail(
            f"repeating that would make {len(seq) * count:,} items; the limit is "
            f"{limits.max_repeat_chars:,}",
            p,
            limit=True,
        )
    if type(seq) is str:
        _text_size(len(seq) * count, p, run)
        return seq * count
    # every copy of the list's items counts: [[0] * 1000] * 1000 is a million numbers
    size = (run.measure(seq, p) - 1) * count + 1
    if size > limits.max_value_size:
        fail(
            f"repeating that would make a list of over {limits.max_value_size:,} characters "
            "as JSON (each repeated row counts)",
            p,
            limit=True,
        )
    run.charge(size, p)
    return seq * count


def div(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a / b``: exact division gives a whole number, otherwise a float."""
    ta, tb = type(a), type(b)
    try:
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
        return _finite(na / nb, p)
    except OverflowError:
        fail("number too large", p)


def mod(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a % b``: remainder (sign of the divisor, as in Python)."""
    if type(a) is int and type(b) is int and b:
        return a % b
    na, nb = _num(a), _num(b)
    if na is None or nb is None:
        _bad_operands("%", a, b, p)
    if nb == 0:
        fail("division by zero (in %)", p)
    try:
        return _finite(na % nb, p)
    except OverflowError:
        fail("number too large", p)


def power(a: Any, b: Any, p: int, run: Run) -> Any:
    """``a ** b`` and ``a ^ b``."""
    na, nb = _num(a), _num(b)
    if na is None or nb is None:
        _bad_operands("**", a, b, p)
    limits = run.limits
    if type(nb) is int and type(na) is int:
        if abs(nb) > limits.max_power_exponent and abs(na) > 1:
            fail(
                f"exponent {nb} is too large (the limit is {limits.max_power_exponent})",
                p,
                limit=True,
            )
        if nb < 0:
            if na == 0:
                fail("zero cannot be raised to a negative power", p)
            try:
                return _finite(float(na) ** nb, p)
            except OverflowError:
                fail("number too large", p)
        if na not in (0, 1, -1) and nb * math.log2(abs(na)) > limits.max_int_bits:
            _int_over(p, run)
        return _check_int(na**nb, p, run)
    if na == 0 and nb < 0:
        fail("zero cannot be raised to a negative power", p)
    try:
        result = na**nb
    except OverflowError:
        fail("number too large", p)
    if type(result) is complex:
        fail("a negative number cannot be raised to a fractional power", p)
    return _finite(result, p)


def neg(a: Any, p: int, run: Run) -> Any:
    """Unary minus."""
    ta = type(a)
    if ta is int or ta is float:
        return -a
    n = _num(a)
    if n is None:
        fail(f"cannot negate {values.describe_value(a)}", p)
    return -n


def pos(a: Any, p: int, run: Run) -> Any:
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


def index(target: Any, key: Any, p: int, run: Run) -> Any:
    """``target[key]``: lists and texts by position (negative from the end), dicts by key."""
    kind = type(target)
    if kind is list or kind is str:
        position = _position(target, key, p, run)
        return target[position]
    if kind is dict:
        return target.get(_dict_key(key), None)
    if target is None:
        fail(f"cannot index None with {values.describe_value(key)} (the value is not set)", p)
    fail(f"cannot index {values.describe_value(target)}", p)


def index_value(target: Any, key: Any, p: int, run: Run) -> Any:
    """Indexing that also reads JSON texts as lists/dicts (API answers are often text)."""
    kind = type(target)
    if kind is dict and type(key) is str:
        return target.get(key)
    if kind is list and type(key) is int and -len(target) <= key < len(target):
        return target[key]
    if kind is str and type(key) is str and values.as_number(key) is None:
        parsed = _json(target, p, run)
        if parsed is not None:
            return index(parsed, key, p, run)
    return index(target, key, p, run)


def _json(text: str, p: int, run: Run) -> Any:
    try:
        return values.json_container(text, run.limits.max_value_depth)
    except LimitExceeded as err:
        fail(err.message, p, limit=True)


def _position(seq: Any, key: Any, p: int, run: Run) -> int:
    number = as_number(key) if type(key) is not bool else None
    if number is None or (type(number) is float and not number.is_integer()):
        if type(seq) is str:
            parsed = _json(seq, p, run)
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


def with_item(target: Any, key: Any, value: Any, p: int, run: Run) -> Any:
    """A copy of ``target`` with ``target[key] = value`` (a missing dict key is added)."""
    if target is None:
        target = {}
    kind = type(target)
    if kind is dict:
        name = _dict_key(key)
        if len(target) >= run.limits.max_collection_items and name not in target:
            fail("dict has too many keys", p, limit=True)
        copy = dict(target)
        copy[name] = value
        return run.built(copy, p)
    if kind is list:
        copy = list(target)
        copy[_position(target, key, p, run)] = value
        return run.built(copy, p)
    if kind is str:
        parsed = _json(target, p, run)
        if parsed is not None:
            return with_item(parsed, key, value, p, run)
    fail(f"cannot assign an item of {values.describe_value(target)}", p)


def without_item(target: Any, key: Any, p: int, run: Run) -> Any:
    """A copy of ``target`` without ``target[key]``."""
    kind = type(target)
    if kind is dict:
        name = _dict_key(key)
        if name not in target:
            fail(f"key {to_text(name, repr_strings=True)} is not in the dict", p)
        run.charge(len(target), p)
        return {k: v for k, v in target.items() if k != name}
    if kind is list:
        copy = list(target)
        del copy[_position(target, key, p, run)]
        run.charge(len(copy), p)
        return copy
    if kind is str:
        parsed = _json(target, p, run)
        if parsed is not None:
            return without_item(parsed, key, p, run)
    fail(f"cannot delete an item of {values.describe_value(target)}", p)


def make_list(items: list[Any], p: int, run: Run) -> list[Any]:
    """A list display ``[a, b, ...]``."""
    _check_list(items, p, run)
    return run.built(items, p)


def make_dict(pairs: list[tuple[Any, Any]], p: int, run: Run) -> dict[str, Any]:
    """A dict display ``{k: v, ...}``."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        result[_dict_key(key)] = value
    if len(result) > run.limits.max_collection_items:
        fail("dict has too many keys", p, limit=True)
    return run.built(result, p)
