"""Strings: slicing, searching, case, replacing, splitting, phone numbers, encodings, HMAC.

Also the two functions Salebot's strings page documents: ``tg_escape`` (Telegram markup) and
``select_random_from_list``.

Every argument is read as text the way a message shows it (5 → "5", None → ""), so
numbers and texts mix freely. No function makes a text longer than the string limit.
"""

from __future__ import annotations

import base64 as b64
import binascii
import hashlib
import hmac
import urllib.parse
from typing import Any

from botlang.stdlib.math import hash_input

from botlang.clients.phones import digits_only
from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.runtime import values
from botlang.core.runtime.ops import eq

# ------------------------------------------------------------------ limits


def check_text(ctx: CallContext, name: str, size: int) -> None:
    """Refuse to build a text of ``size`` characters when that is over the string limit."""
    limit = ctx.limits.max_string_chars
    if size > limit:
        raise LimitExceeded(
            f"{name}(): the result would be {size:,} characters long; the limit is {limit:,}"
        )


def checked(ctx: CallContext, name: str, text: str) -> str:
    check_text(ctx, name, len(text))
    return text


# ------------------------------------------------------------------ slicing and searching


@builtin("substring")
def substring(text: str, start: int, end: int | None = None) -> str:
    """Characters from ``start`` up to (not including) ``end``; negative counts from the end."""
    return text[start:end]


@builtin("startswith")
def startswith(text: str, prefix: str) -> bool:
    """Whether the text begins with ``prefix`` (case matters)."""
    return text.startswith(prefix)


@builtin("endswith")
def endswith(text: str, suffix: str) -> bool:
    """Whether the text ends with ``suffix`` (case matters)."""
    return text.endswith(suffix)


@builtin("contains")
def contains(text: Any, part: Any, case_sensitive: bool = True) -> bool:
    """Whether ``part`` is in the text (or is a list's item); case_sensitive=False ignores case."""
    if type(text) is list:
        if case_sensitive:
            return any(eq(item, part) for item in text)
        folded = values.to_text(part).casefold()
        return any(eq(item, part) or _fold(item) == folded for item in text)
    haystack, needle = values.to_text(text), values.to_text(part)
    if case_sensitive:
        return needle in haystack
    return needle.casefold() in haystack.casefold()


def _fold(value: Any) -> str | None:
    return value.casefold() if type(value) is str else None


@builtin("concat")
def concat(ctx: CallContext, *parts: Any) -> str:
    """All the values joined as one text (concat("a", 1, "b") → "a1b")."""
    texts = [values.to_text(p) for p in parts]
    check_text(ctx, "concat", sum(len(t) for t in texts))
    return "".join(texts)


# ------------------------------------------------------------------ case and spaces


@builtin("lower")
def lower(text: str) -> str:
    """The text in lower case."""
    return text.lower()


@builtin("upper")
def upper(text: str) -> str:
    """The text in upper case."""
    return text.upper()


@builtin("strip")
def strip(text: str, chars: str | None = None) -> str:
    """The text without spaces (or the given ``chars``) at both ends."""
    return text.strip(chars)


@builtin("capitalize")
def capitalize(text: str) -> str:
    """The text with its first letter upper case and the rest lower case."""
    return text.capitalize()


@builtin("title")
def title(text: str) -> str:
    """The text with every word capitalised ("иван петров" → "Иван Петров")."""
    return text.title()


# ------------------------------------------------------------------ replacing and splitting


@builtin("replace")
def replace(ctx: CallContext, text: str, old: str, new: str, count: int = -1) -> str:
    """The text with ``old`` replaced by ``new``: every occurrence, or the first ``count``."""
    found = text.count(old) if old else len(text) + 1
    if count >= 0:
        found = min(found, count)
    check_text(ctx, "replace", len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, count)


@builtin("splitter")
def splitter(ctx: CallContext, text: str, sep: str | None = None, n: int = 0) -> list[str]:
    """The text cut at each ``sep`` into a list of at most ``n`` items (0: all); no sep: spaces."""
    parts = text.split(sep or None, n - 1 if n > 0 else -1)
    limit = ctx.limits.max_collection_items
    if len(parts) > limit:
        raise LimitExceeded(
            f"splitter(): the result would have {len(parts):,} items; the limit is {limit:,}"
        )
    return parts


# ------------------------------------------------------------------ phone numbers


@builtin("normalizePhone")
def normalize_phone(phone: str) -> str:
    """Only the digits, a leading 8 of 11 digits made 7 ("8 (900) 444-33-22" → "79004443322")."""
    raw = phone.strip()
    digits = digits_only(raw)
    if len(digits) == 11 and digits.startswith("8") and not raw.startswith("+"):
        digits = "7" + digits[1:]
    return digits


# ------------------------------------------------------------------ encodings


@builtin("base64")
def base64_encode(ctx: CallContext, text: str) -> str:
    """The text's UTF-8 bytes in Base64 (base64("hi") → "aGk=")."""
    data = hash_input(ctx, "base64", text)
    check_text(ctx, "base64", (len(data) + 2) // 3 * 4)
    return b64.b64encode(data).decode("ascii")


@builtin("base64decode")
def base64_decode(ctx: CallContext, text: str) -> str:
    """The text Base64 (standard or URL-safe, padding optional) stands for, read as UTF-8."""
    data = hash_input(ctx, "base64decode", text.strip())
    data += b"=" * (-len(data) % 4)
    try:
        if b"-" in data or b"_" in data:
            raw = b64.urlsafe_b64decode(data)
        else:
            raw = b64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ScriptError(f"base64decode(): {values.describe_value(text)} is not Base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptError("base64decode(): the decoded bytes are not UTF-8 text") from None


@builtin("urlencode")
def urlencode(ctx: CallContext, value: Any) -> str:
    """A text %-encoded for a URL (spaces as %20); a dict becomes a query string a=1&b=2."""
    if type(value) is dict:
        pairs = [(str(k), values.to_text(v)) for k, v in value.items()]
        return checked(
            ctx, "urlencode", urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        )
    text = values.to_text(value)
    hash_input(ctx, "urlencode", text)
    return checked(ctx, "urlencode", urllib.parse.quote(text, safe=""))


@builtin("urldecode")
def urldecode(ctx: CallContext, text: str) -> str:
    """A %-encoded URL text decoded back (both %20 and + become a space)."""
    hash_input(ctx, "urldecode", text)
    return urllib.parse.unquote_plus(text)


_HMAC_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


@builtin("hmac_hexdigest")
def hmac_hexdigest(ctx: CallContext, key: str, message: str, algorithm: str = "sha256") -> str:
    """The HMAC of ``message`` with ``key`` as hex digits; algorithm md5, sha1, sha256 or sha512."""
    name = algorithm.strip().lower().replace("-", "")
    if name not in _HMAC_ALGORITHMS:
        raise ScriptError(
            f"hmac_hexdigest(): unknown algorithm {values.to_text(algorithm, repr_strings=True)}; "
            f"use one of {', '.join(_HMAC_ALGORITHMS)}"
        )
    key_bytes = hash_input(ctx, "hmac_hexdigest", key)
    data = hash_input(ctx, "hmac_hexdigest", message)
    return hmac.new(key_bytes, data, getattr(hashlib, name)).hexdigest()


# ------------------------------------------------------------------ Telegram markup

# The characters Telegram's MarkdownV2 reserves, in the order Salebot's documentation lists them.
TG_RESERVED = "_*[]()~`>#+-=|{}.!"
_TG_ESCAPES = str.maketrans({c: "\\" + c for c in TG_RESERVED})


@builtin("tg_escape")
def tg_escape(ctx: CallContext, text: str) -> str:
    """The text with a backslash before each of _ * [ ] ( ) ~ ` > # + - = | { } . ! (Telegram)."""
    check_text(ctx, "tg_escape", len(text) + sum(text.count(c) for c in TG_RESERVED))
    return text.translate(_TG_ESCAPES)


# ------------------------------------------------------------------ random choice


@builtin("select_random_from_list")
def select_random_from_list(ctx: CallContext, array: list) -> Any:
    """One item of the list picked at random (select_random_from_list(["a", "b"]) → "a" or "b")."""
    if not array:
        raise ScriptError("select_random_from_list(): the list is empty")
    return ctx.rng.choice(array)
