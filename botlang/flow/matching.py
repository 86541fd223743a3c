"""Matching a client's message (or a callback's text) against an arrow's text condition.

- ``exact``: the whole text equals an alternative, ignoring case and extra spaces;
- ``contains``: the text contains an alternative (a keyword or phrase), ignoring case;
- ``regex``: a regular expression found anywhere in the text, ignoring case (``(?-i)`` to
  opt out); bounded in size and time like ``findall()``;
- ``fuzzy``: the text is more than 70 % similar to an alternative, as ``similar()`` says.
"""

from __future__ import annotations

from typing import Any

from botlang.core.errors import BotlangError, LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.flow.model import MatchMode, TextCondition

FUZZY_THRESHOLD = 0.7


def normalize(text: str) -> str:
    """Case-folded, with runs of whitespace made one space and the ends trimmed."""
    return " ".join(text.split()).casefold()


def compile_regex(pattern: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A compiled, case-insensitive pattern; ScriptError/LimitExceeded if it is refused."""
    from botlang.stdlib import regex as regex_lib

    return regex_lib.compile_pattern(f"(?i){pattern}", limits)


def _similar(a: str, b: str, limits: Limits) -> bool:
    longest, shortest = max(len(a), len(b)), min(len(a), len(b))
    if longest == 0:
        return True
    # No two texts whose lengths differ this much can be similar enough; this also keeps
    # the quadratic comparison away from long messages.
    if 2 * shortest / (len(a) + len(b)) <= FUZZY_THRESHOLD:
        return False
    if longest > limits.max_similar_chars:
        return False
    from botlang.stdlib import regex as regex_lib

    return bool(regex_lib.similarity(a, b, limits) > FUZZY_THRESHOLD)


def condition_matches(
    condition: TextCondition,
    text: str,
    limits: Limits = DEFAULT_LIMITS,
) -> bool:
    """Whether any alternative of ``condition`` matches ``text``.

    A regex that runs past the time limit raises LimitExceeded located at its alternative.
    """
    mode = condition.mode
    if mode is MatchMode.REGEX:
        for index, alternative in enumerate(condition.alternatives):
            patterns = condition.patterns
            compiled = patterns[index] if index < len(patterns) else None
            try:
                if compiled is None:
                    compiled = compile_regex(alternative, limits)
                if compiled.search(text, timeout=limits.regex_timeout_seconds) is not None:
                    return True
            except TimeoutError:
                raise _located(
                    LimitExceeded(
                        f"the regular expression took longer than "
                        f"{limits.regex_timeout_seconds:g} s on this message; simplify it"
                    ),
                    condition,
                    index,
                ) from None
            except BotlangError as err:
                raise _located(err, condition, index) from None
        return False
    message = normalize(text)
    if mode is MatchMode.EXACT:
        return any(message == normalize(a) for a in condition.alternatives)
    if mode is MatchMode.CONTAINS:
        return any(normalize(a) in message for a in condition.alternatives)
    return any(_similar(message, normalize(a), limits) for a in condition.alternatives)


def _located(err: BotlangError, condition: TextCondition, index: int) -> BotlangError:
    column = condition.columns[index] if index < len(condition.columns) else condition.column
    err.line, err.column = condition.line, column
    err.source = None  # the session fills in the flow's source and file name
    return err
