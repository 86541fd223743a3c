"""Phone numbers as telephony wants them: digits only, country code first, 11 to 15 digits.

``normalize_phone`` accepts the forms people actually type (``+7 (900) 444-33-22``,
``8 900 444 33 22``, ``7.900.444.33.22``) and turns them into ``79004443322``; anything else
raises :class:`InvalidPhone` with a message saying what is wrong. Pure functions, no I/O.
"""

from __future__ import annotations

MIN_DIGITS = 11  # country code first: 7 + 10 digits for Russia, 375 + 9 for Belarus
MAX_DIGITS = 15  # E.164
MAX_INPUT_CHARS = 64

# Separators people put inside a number; they carry no meaning and are dropped.
_SEPARATORS = frozenset(" \t\u00a0\u2009\u202f-\u2010\u2011\u2012\u2013\u2014.()/")


class InvalidPhone(ValueError):
    """A value that cannot be read as a phone number; the message says why."""


def digits_only(raw: object) -> str:
    """Every decimal digit of ``raw`` in order (``"+7 (900) 444-33-22"`` → ``"79004443322"``).

    Integers (and floats without a fraction, as spreadsheets produce them) are written out
    in full; None gives ``""``.
    """
    if raw is None or isinstance(raw, bool):
        return ""
    if isinstance(raw, int):
        return str(abs(raw))
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")) or not raw.is_integer():
            return ""
        return str(abs(int(raw)))
    return "".join(ch for ch in str(raw) if "0" <= ch <= "9")


def normalize_phone(raw: object) -> str:
    """``raw`` as digits only, country code first (``79004443322``), or raise InvalidPhone.

    Accepted: a leading ``+``, spaces, dashes, dots, slashes and parentheses between digits;
    an 11-digit Russian number written with a leading ``8`` (``8 900 ...`` → ``7900...``);
    int values, and floats with no fractional part. Idempotent: a normalised number
    normalises to itself.
    """
    text = _as_text(raw)
    stripped = text.strip()
    if not stripped:
        raise InvalidPhone("phone number is empty")
    if len(stripped) > MAX_INPUT_CHARS:
        raise InvalidPhone(f"phone number is too long: {len(stripped)} characters")

    plus = stripped.startswith("+")
    body = stripped[1:] if plus else stripped
    digits: list[str] = []
    for ch in body:
        if "0" <= ch <= "9":
            digits.append(ch)
        elif ch in _SEPARATORS:
            continue
        elif ch.isalpha():
            raise InvalidPhone(f"phone number {stripped!r} contains letters")
        elif ch == "+":
            raise InvalidPhone(f"phone number {stripped!r}: '+' is only allowed at the start")
        else:
            raise InvalidPhone(f"phone number {stripped!r} contains an unexpected character {ch!r}")

    number = "".join(digits)
    if not number:
        raise InvalidPhone(f"phone number {stripped!r} contains no digits")
    if len(number) == 11 and number.startswith("8"):
        if plus:
            # Digits-only, 8XXXXXXXXXX means a Russian number, so "+8..." cannot be kept
            # as written without being re-read as +7 the next time it is normalised.
            raise InvalidPhone(
                f"phone number {stripped!r} is ambiguous: 11-digit numbers starting with 8 "
                "are read as Russian (8 → 7); write a Russian number as +7..."
            )
        number = "7" + number[1:]  # Russian trunk prefix: 8 900 ... is +7 900 ...
    if number.startswith("0"):
        raise InvalidPhone(
            f"phone number {stripped!r} must start with a country code (e.g. 7), not 0"
        )
    if len(number) < MIN_DIGITS:
        hint = ""
        if len(number) == 10:
            hint = "; add the country code first, e.g. 7 for Russia: 7" + number
        raise InvalidPhone(
            f"phone number {stripped!r} is too short: {len(number)} digits, "
            f"need at least {MIN_DIGITS} with the country code first{hint}"
        )
    if len(number) > MAX_DIGITS:
        raise InvalidPhone(
            f"phone number {stripped!r} is too long: {len(number)} digits, "
            f"at most {MAX_DIGITS} are possible"
        )
    return number


def is_valid_phone(raw: object) -> bool:
    """Whether ``normalize_phone(raw)`` would succeed."""
    try:
        normalize_phone(raw)
    except InvalidPhone:
        return False
    return True


def _as_text(raw: object) -> str:
    if raw is None:
        raise InvalidPhone("phone number is missing")
    if isinstance(raw, bool):
        raise InvalidPhone("phone number must be a string or a number, not true/false")
    if isinstance(raw, int):
        if raw < 0:
            raise InvalidPhone(f"phone number {raw} is negative")
        return str(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")) or not raw.is_integer():
            raise InvalidPhone(f"phone number {raw!r} is not a whole number")
        if raw < 0:
            raise InvalidPhone(f"phone number {raw!r} is negative")
        return str(int(raw))
    if isinstance(raw, str):
        return raw
    raise InvalidPhone(f"phone number must be a string or a number, not {type(raw).__name__}")
