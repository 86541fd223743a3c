"""Math: rounding, powers and roots, trigonometry, distances, number checks, hashes.

Arguments that are numbers accept numeric texts too ("5" acts as 5). ``int`` lives with the
core conversions. The constants ``E`` and ``PI`` can be read by every script (a variable of
the same name wins over them).
"""

from __future__ import annotations

import hashlib
import math
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from botlang.core.builtins import CallContext, Number, builtin, constant
from botlang.core.errors import BotlangError, LimitExceeded, ScriptError
from botlang.core.runtime import ops, values

constant("E", math.e, "Euler's number e, 2.718281828459045 (log(E) → 1).", module=__name__)
constant("PI", math.pi, "The number π, 3.141592653589793.", module=__name__)

# ------------------------------------------------------------------ rounding


@builtin("abs")
def absolute(x: Number) -> int | float:
    """The absolute value of a number (abs(-5) → 5)."""
    return abs(x)


@builtin("ceil")
def ceil(x: Number) -> int:
    """The smallest whole number not below x (ceil(4.1) → 5)."""
    return math.ceil(x)


@builtin("floor")
def floor(x: Number) -> int:
    """The largest whole number not above x (floor(4.9) → 4)."""
    return math.floor(x)


_DECIMAL = Context(prec=5000)


@builtin("round")
def round_(x: Number, digits: int = 0) -> int | float:
    """x rounded to ``digits`` places, halves away from zero as at school (round(2.5) → 3)."""
    if type(x) is int and digits >= 0:
        return x
    if digits > 340:  # beyond any float's precision: nothing to round
        return x
    if digits < -5000:  # beyond any script number's size: everything rounds to 0
        return 0
    exponent = Decimal(1).scaleb(-digits)
    rounded = Decimal(repr(x)).quantize(exponent, rounding=ROUND_HALF_UP, context=_DECIMAL)
    if digits <= 0:
        return int(rounded)
    return float(rounded)


def _finite(name: str, value: float) -> float:
    if math.isinf(value) or math.isnan(value):
        raise ScriptError(f"{name}(): the result is too large")
    return value


@builtin("customizable_round_multiply")
def customizable_round_multiply(a: Number, b: Number, count: int) -> int | float:
    """a × b rounded to ``count`` places (customizable_round_multiply(1.275, 5.822, 2) → 7.42)."""
    try:
        product = a * b
    except OverflowError:
        raise ScriptError("customizable_round_multiply(): the result is too large") from None
    if type(product) is float:
        _finite("customizable_round_multiply", product)
    return round_(product, count)


@builtin("customizable_round_division")
def customizable_round_division(a: Number, b: Number, count: int) -> int | float:
    """a ÷ b rounded to ``count`` places (customizable_round_division(1.275, 5.822, 3) → 0.219)."""
    if b == 0:
        raise ScriptError("customizable_round_division(): division by zero")
    try:
        quotient = a / b
    except OverflowError:
        raise ScriptError("customizable_round_division(): the result is too large") from None
    if type(a) is int and type(b) is int and a % b == 0:
        return round_(a // b, count)
    return round_(quotient, count)


@builtin("int_to_string")
def int_to_string(ctx: CallContext, number: Number, delimiter: str = " ") -> str:
    """The number as text with its thousands set apart by ``delimiter`` (1234567 → "1 234 567")."""
    text = values.format_number(number)
    if not text[-1:].isdigit() or "e" in text:  # inf, nan, 1e+20: nothing to group
        return text
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("-").partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    size = len(text) + (len(groups) - 1) * len(delimiter)
    limit = ctx.limits.max_string_chars
    if size > limit:
        raise LimitExceeded(
            f"int_to_string(): the result would be {size:,} characters long; the limit is {limit:,}"
        )
    return sign + delimiter.join(groups) + dot + fraction


# ------------------------------------------------------------------ powers and roots


@builtin("sqrt")
def sqrt(x: Number) -> float:
    """The square root of x (sqrt(16) → 4); x must not be negative."""
    if x < 0:
        raise ScriptError(f"sqrt(): cannot take the square root of a negative number ({x})")
    return math.sqrt(x)


@builtin("exp")
def exp(x: Number) -> float:
    """e raised to the power x (exp(1) → 2.718281828459045)."""
    try:
        return math.exp(x)
    except OverflowError:
        raise ScriptError(f"exp(): exp({values.format_number(x)}) is too large") from None


@builtin("log")
def log(x: Number, base: Number | None = None) -> float:
    """The logarithm of x: natural by default, or to ``base`` (log(100, 10) → 2)."""
    if x <= 0:
        raise ScriptError(f"log(): the logarithm is defined for positive numbers only, got {x}")
    if base is None:
        return math.log(x)
    if base <= 0 or base == 1:
        raise ScriptError(f"log(): the base of a logarithm must be positive and not 1, got {base}")
    if base == 10:
        return math.log10(x)
    if base == 2:
        return math.log2(x)
    return math.log(x, base)


@builtin("pow")
def power(x: Number, y: Number) -> int | float:
    """x raised to the power y, the same as x ** y (pow(2, 10) → 1024)."""
    try:
        return ops.power(x, y, -1)
    except BotlangError as err:
        # Re-raise without the operator's position so the error points at this call.
        raise type(err)(f"pow(): {err.message}") from None


# ------------------------------------------------------------------ min, max, random


def _order_key(values_: list[Any], name: str) -> Any:
    """How min/max compare: numbers by value, otherwise dates or times chronologically."""
    if all(values.as_number(v) is not None and type(v) is not bool for v in values_):
        return values.as_number
    kinds = [values.date_or_time(v) for v in values_]
    if all(k is not None for k in kinds) and len({k[0] for k in kinds if k}) == 1:
        return lambda v: values.date_or_time(v)[1]  # type: ignore[index]
    if all(type(v) is str for v in values_):
        return None
    raise ScriptError(
        f"{name}(): values must be all numbers, all dates, all times or all texts; got "
        + ", ".join(values.describe_value(v) for v in values_[:3])
    )


def _extreme(name: str, items: tuple[Any, ...], pick: Any) -> Any:
    candidates = list(items)
    if len(candidates) == 1:
        only = candidates[0]
        if type(only) is str:
            parsed = values.json_container(only)
            only = parsed if type(parsed) is list else only
        if type(only) is list:
            candidates = only
    if not candidates:
        raise ScriptError(f"{name}(): needs at least one value")
    key = _order_key(candidates, name)
    best = pick(candidates, key=key) if key is not None else pick(candidates)
    number = values.as_number(best) if key is values.as_number else None
    return best if number is None else number


@builtin("min")
def minimum(*items: Any) -> Any:
    """The smallest of the values, or of one list (min(3, "1", 2) → 1); dates compare too."""
    return _extreme("min", items, min)


@builtin("max")
def maximum(*items: Any) -> Any:
    """The largest of the values, or of one list (max([3, 7, 5]) → 7); dates compare too."""
    return _extreme("max", items, max)


@builtin("random")
def random_(ctx: CallContext, a: Number, b: Number) -> int | float:
    """A random number from a to b inclusive: whole if both are whole (random(1, 6))."""
    low, high = (a, b) if a <= b else (b, a)
    if float(low).is_integer() and float(high).is_integer():
        return ctx.rng.randint(int(low), int(high))
    return ctx.rng.uniform(low, high)


# ------------------------------------------------------------------ trigonometry


@builtin("sin")
def sin(x: Number) -> float:
    """The sine of x radians."""
    return math.sin(x)


@builtin("cos")
def cos(x: Number) -> float:
    """The cosine of x radians."""
    return math.cos(x)


@builtin("tan")
def tan(x: Number) -> float:
    """The tangent of x radians."""
    return math.tan(x)


@builtin("asin")
def asin(x: Number) -> float:
    """The arc sine of x (from -1 to 1), in radians."""
    if not -1 <= x <= 1:
        raise ScriptError(f"asin(): x must be from -1 to 1, got {x}")
    return math.asin(x)


@builtin("acos")
def acos(x: Number) -> float:
    """The arc cosine of x (from -1 to 1), in radians."""
    if not -1 <= x <= 1:
        raise ScriptError(f"acos(): x must be from -1 to 1, got {x}")
    return math.acos(x)


@builtin("atan")
def atan(x: Number) -> float:
    """The arc tangent of x, in radians."""
    return math.atan(x)


@builtin("atan2")
def atan2(y: Number, x: Number) -> float:
    """The angle of the point (x, y) from the x axis, in radians (atan2(1, 1) → 0.785398…)."""
    return math.atan2(y, x)


@builtin("pyt")
def pyt(a: Number, b: Number) -> float:
    """√(a² + b²), the hypotenuse of a right triangle (pyt(5, 2) → 5.385164807134504)."""
    return _finite("pyt", math.hypot(a, b))


# The Earth's radius Salebot's distance() uses: it reproduces the documented example exactly.
EARTH_RADIUS_KM = 6373.0088


@builtin("distance")
def distance(lat1: Number, lon1: Number, lat2: Number, lon2: Number) -> float:
    """Kilometres between two points given by latitude and longitude in degrees (great circle)."""
    for name, value, bound in (
        ("lat1", lat1, 90),
        ("lon1", lon1, 180),
        ("lat2", lat2, 90),
        ("lon2", lon2, 180),
    ):
        if not -bound <= value <= bound:
            raise ScriptError(f"distance(): {name} must be from -{bound} to {bound}, got {value}")
    phi1, lam1, phi2, lam2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin((lam2 - lam1) / 2) ** 2
    )
    return EARTH_RADIUS_KM * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


@builtin("fac")
def fac(ctx: CallContext, n: int) -> int:
    """n! — the factorial of a whole number n from 0 to 1000 (fac(5) → 120)."""
    if n < 0:
        raise ScriptError(f"fac(): n must not be negative, got {n}")
    if n > ctx.limits.max_factorial:
        raise LimitExceeded(f"fac(): n is {n}; the limit is {ctx.limits.max_factorial}")
    return math.factorial(n)


# ------------------------------------------------------------------ number checks


@builtin("is_int")
def is_int(value: Any) -> bool:
    """Whether the value is a whole number or a text of one (is_int("42") → True, "4.2" → False)."""
    kind = type(value)
    if kind is int:
        return True
    if kind is float:
        return value.is_integer()
    if kind is str:
        number = values.number_from_text(value)
        return type(number) is int
    return False


@builtin("is_float")
def is_float(value: Any) -> bool:
    """Whether the value reads as a number, whole or not (is_float("4.2") → True, "4" → True)."""
    if type(value) is bool:
        return False
    return values.as_number(value) is not None


# ------------------------------------------------------------------ hashes


def hash_input(ctx: CallContext, name: str, text: str) -> bytes:
    """``text`` as UTF-8 bytes, refusing texts over the hashing limit."""
    limit = ctx.limits.max_hash_input_chars
    if len(text) > limit:
        raise LimitExceeded(
            f"{name}(): the text is {len(text):,} characters long; the limit is {limit:,}"
        )
    return text.encode("utf-8", "surrogatepass")


@builtin("md5")
def md5(ctx: CallContext, text: str) -> str:
    """The MD5 digest of a text (its UTF-8 bytes) as 32 hex digits."""
    return hashlib.md5(hash_input(ctx, "md5", text), usedforsecurity=False).hexdigest()


@builtin("sha1")
def sha1(ctx: CallContext, text: str) -> str:
    """The SHA-1 digest of a text (its UTF-8 bytes) as 40 hex digits."""
    return hashlib.sha1(hash_input(ctx, "sha1", text), usedforsecurity=False).hexdigest()


@builtin("sha256")
def sha256(ctx: CallContext, text: str) -> str:
    """The SHA-256 digest of a text (its UTF-8 bytes) as 64 hex digits."""
    return hashlib.sha256(hash_input(ctx, "sha256", text)).hexdigest()
