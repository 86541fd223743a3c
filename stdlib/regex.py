"""Regex: finding text by regular expression, and fuzzy comparison of texts.

Patterns use Python ``re`` syntax. A pattern may be at most ``max_regex_pattern_chars``
long, its counted repeats written out at most ``max_regex_expanded_size`` long, and one
search stops after ``regex_timeout_seconds`` or at the run's deadline, whichever comes
first (so a run's searches together take no longer than the run may): a pathological
pattern such as ``(a+)+$`` ends with an error instead of hanging the bot. Matching runs on
the ``regex`` engine because, unlike ``re``, it can abandon a search after a timeout.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex as regex_engine

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits

# re's own parser reads a pattern exactly as Python's re syntax defines it; the checks
# here walk its parse tree before the pattern reaches the matching engine.
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


class _TooDeep(Exception):
    pass


def _expanded_size(pattern: Any, cap: int, depth: int) -> int:
    """The pattern's size with counted repeats written out (``(ab){3}`` → 6), up to ``cap``.

    The regex engine unrolls counted repeats when it compiles a pattern, so a short pattern
    like ``((a{1000}){1000}){1000}`` would take gigabytes before any timeout applies.
    Raises _TooDeep when groups nest more than ``depth`` levels.
    """
    if depth < 0:
        raise _TooDeep
    total = 0
    for op, av in pattern:
        if op in _REPEATS:
            low, high, item = av
            count = low if high == sre.MAXREPEAT else high
            total += _expanded_size(item, cap, depth - 1) * max(count, 1)
        elif op is sre.SUBPATTERN:
            total += _expanded_size(av[3], cap, depth - 1)
        elif op is sre.ATOMIC_GROUP:
            total += _expanded_size(av, cap, depth - 1)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            total += _expanded_size(av[1], cap, depth - 1)
        elif op is sre.BRANCH:
            total += sum(_expanded_size(branch, cap, depth - 1) for branch in av[1])
        elif op is sre.GROUPREF_EXISTS:
            total += _expanded_size(av[1], cap, depth - 1)
            if av[2] is not None:
                total += _expanded_size(av[2], cap, depth - 1)
        else:
            total += 1
        if total > cap:
            return total
    return total


@lru_cache(maxsize=512)
def _compile(pattern: str, max_chars: int, max_expanded: int, max_depth: int) -> Any:
    if len(pattern) > max_chars:
        raise LimitExceeded(
            f"the regular expression is {len(pattern):,} characters long; the limit is "
            f"{max_chars:,}"
        )
    try:
        parsed = sre_parse.parse(pattern, 0)
        size = _expanded_size(parsed, max_expanded, max_depth)
    except re.error as exc:
        raise ScriptError(f"bad regular expression {pattern!r}: {exc}") from None
    except (RecursionError, _TooDeep):
        raise LimitExceeded(
            f"the regular expression nests groups and repeats more than {max_depth} deep"
        ) from None
    if size > max_expanded:
        raise LimitExceeded(
            f"the regular expression repeats too much (over {max_expanded:,} characters when "
            "its counted repeats are written out)"
        )
    try:
        return regex_engine.compile(pattern, regex_engine.VERSION0)
    except regex_engine.error as exc:
        raise ScriptError(f"bad regular expression {pattern!r}: {exc}") from None


def compile_pattern(pattern: str, limits: Limits = DEFAULT_LIMITS, *, name: str = "") -> Any:
    """A compiled pattern, or a ScriptError/LimitExceeded saying why it is refused.

    ``name`` is the function to name in the error message, if any.
    """
    try:
        return _compile(
            pattern,
            limits.max_regex_pattern_chars,
            limits.max_regex_expanded_size,
            limits.max_nesting_depth,
        )
    except ScriptError as err:
        if not name:
            raise
        raise type(err)(f"{name}(): {err.message}") from None


def _timed_out(limits: Limits, name: str = "") -> LimitExceeded:
    prefix = f"{name}(): " if name else ""
    return LimitExceeded(
        f"{prefix}the regular expression took longer than {limits.regex_timeout_seconds:g} s "
        "on this text, or than the run had left; simplify the pattern"
    )


def timeout_for(ctx: CallContext) -> float:
    """How long one search of this run may take: the regex timeout, cut at the deadline."""
    left = ctx.seconds_left()
    if left <= 0:
        ctx.check_deadline()
    return min(ctx.limits.regex_timeout_seconds, left)


def search(
    pattern: str, text: str, limits: Limits = DEFAULT_LIMITS, *, timeout: float | None = None
) -> bool:
    """Whether ``pattern`` matches anywhere in ``text``, within the regex limits (and within
    ``timeout`` seconds, when it is shorter)."""
    compiled = compile_pattern(pattern, limits)
    seconds = limits.regex_timeout_seconds if timeout is None else timeout
    try:
        return compiled.search(text, timeout=seconds) is not None
    except TimeoutError:
        raise _timed_out(limits) from None


@builtin("findall")
def findall(ctx: CallContext, pattern: str, text: str, index: int | None = None) -> Any:
    """Every match of ``pattern`` in the text as a list, or only match ``index`` (None if none)."""
    limits = ctx.limits
    compiled = compile_pattern(pattern, limits, name="findall")
    try:
        # One findall call: the timeout covers the whole scan, not each match.
        matches = compiled.findall(text, timeout=timeout_for(ctx))
    except TimeoutError:
        raise _timed_out(limits, "findall") from None
    if len(matches) > limits.max_collection_items:
        raise LimitExceeded(
            f"findall(): {len(matches):,} matches; the limit is {limits.max_collection_items:,}"
        )
    found = [list(m) if type(m) is tuple else m for m in matches]
    if index is None:
        return found
    if -len(found) <= index < len(found):
        return found[index]
    return None


# ------------------------------------------------------------------ fuzzy comparison

SIMILAR_THRESHOLD = 0.7  # "similar" means less than 30 % different


def similarity(a: str, b: str, limits: Limits = DEFAULT_LIMITS) -> float:
    """How alike two texts are, from 0 to 1, ignoring case and surrounding spaces."""
    left, right = a.strip().casefold(), b.strip().casefold()
    longest = max(len(left), len(right))
    if longest > limits.max_similar_chars:
        raise LimitExceeded(
            f"similar(): compares texts of up to {limits.max_similar_chars:,} characters; "
            f"got {longest:,}"
        )
    if left == right:
        return 1.0
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


@builtin("similar")
def similar(ctx: CallContext, a: str, b: str) -> bool:
    """Whether two texts are less than 30 % different, ignoring case and surrounding spaces."""
    return similarity(a, b, ctx.limits) > SIMILAR_THRESHOLD
