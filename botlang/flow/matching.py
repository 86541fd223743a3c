"""Matching a client's message (or a callback's text) against an arrow's text condition.

- ``exact``: the whole text equals an alternative, ignoring case and extra spaces;
- ``contains``: Salebot's keywords, ignoring case. Each keyword is a substring ("привет"
  matches "поприветствовать"); words separated by spaces must all be present, in any order;
  ``(a|b c)`` is a group: one of its options must be present, an option being words that
  must all be present (``(тар план|тариф) (перейт|подключ)`` matches "Как сменить тарифный
  план");
- ``regex``: a regular expression found anywhere in the text, ignoring case (``(?-i)`` to
  opt out); bounded in size and time like ``findall()``;
- ``fuzzy``: the text is more than 70 % similar to an alternative, as ``similar()`` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botlang.core.errors import BotlangError, LimitExceeded, ParseError
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


@dataclass(frozen=True)
class Keywords:
    """Every term must be present; a term is a keyword (a substring) or a group."""

    terms: tuple[str | KeywordGroup, ...]

    def found_in(self, message: str) -> bool:
        return all(
            term in message if isinstance(term, str) else term.found_in(message)
            for term in self.terms
        )


@dataclass(frozen=True)
class KeywordGroup:
    """``(a|b c)``: one of the options is present."""

    options: tuple[Keywords, ...]

    def found_in(self, message: str) -> bool:
        return any(option.found_in(message) for option in self.options)


class _KeywordParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, message: str, index: int) -> ParseError:
        return ParseError(message, line=1, column=index + 1)

    def words(self, inside: bool) -> Keywords:
        terms: list[str | KeywordGroup] = []
        text = self.text
        while self.i < len(text):
            ch = text[self.i]
            if ch.isspace():
                self.i += 1
            elif ch == "(":
                terms.append(self.group())
            elif ch in ")|":
                if not inside:
                    what = (
                        "')' closes no '('"
                        if ch == ")"
                        else "'|' separates the options of a '(...)' group; put ';' between "
                        "alternatives"
                    )
                    raise self.fail(what, self.i)
                break
            else:
                start = self.i
                while (
                    self.i < len(text) and text[self.i] not in "()|" and not text[self.i].isspace()
                ):
                    self.i += 1
                terms.append(normalize(text[start : self.i]))
        return Keywords(tuple(terms))

    def group(self) -> KeywordGroup:
        opened = self.i
        self.i += 1
        options = [self.words(inside=True)]
        while self.i < len(self.text) and self.text[self.i] == "|":
            self.i += 1
            options.append(self.words(inside=True))
        if self.i >= len(self.text):
            raise self.fail("this '(' is never closed", opened)
        self.i += 1  # ')'
        if any(not option.terms for option in options):
            raise self.fail("a keyword group has an empty option", opened)
        return KeywordGroup(tuple(options))


def compile_keywords(text: str) -> Keywords:
    """A ``contains:`` alternative as keywords and groups. ParseError (column within the
    alternative) when its parentheses do not pair up."""
    parsed = _KeywordParser(text).words(inside=False)
    if not parsed.terms:
        raise ParseError("a keyword alternative needs a word", line=1, column=1)
    return parsed


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
    patterns = condition.patterns
    if mode is MatchMode.REGEX:
        for index, alternative in enumerate(condition.alternatives):
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
        for index, alternative in enumerate(condition.alternatives):
            keywords = patterns[index] if index < len(patterns) else None
            if keywords is None:
                try:
                    keywords = compile_keywords(alternative)
                except BotlangError as err:
                    raise _located(err, condition, index) from None
            if keywords.found_in(message):
                return True
        return False
    return any(_similar(message, normalize(a), limits) for a in condition.alternatives)


def _located(err: BotlangError, condition: TextCondition, index: int) -> BotlangError:
    column = condition.columns[index] if index < len(condition.columns) else condition.column
    err.line, err.column = condition.line, column
    err.source = None  # the session fills in the flow's source and file name
    return err
