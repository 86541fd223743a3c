"""A block's message text: ``#{...}`` substitutions and Salebot's random variants.

``{Привет|Здравствуйте}, #{name}!`` sends one of the variants, chosen at random each time
(the run's random generator, so a seeded bot repeats itself). A brace group is a choice only
when it holds a ``|`` outside any ``#{...}``; other braces are plain text. Variants may hold
substitutions and further choices.

Every piece of text is compiled as a template at its own place in the ``.bot`` file, so an
error points at the file's line and column even inside a variant.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from botlang.core.builtins import Registry
from botlang.core.compiler import Template
from botlang.core.errors import BotlangError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.run import Run


def shift_message_error(err: BotlangError, first_line: int, indent: int) -> BotlangError:
    """Put an error from a message's second or later line at its column in the file.

    Message text is compiled without its indentation; on the first line of a piece the
    starting column accounts for it, on later lines the removed indentation is added back.
    """
    if indent and err.line > first_line and not getattr(err, "_flow_shifted", False):
        err.column += indent
        err._flow_shifted = True  # type: ignore[attr-defined]
    return err


@dataclass(frozen=True)
class _Piece:
    """Text compiled as a template, and the file line it starts on."""

    template: Template
    line: int


@dataclass(frozen=True)
class _Choice:
    """``{a|b|c}``: one of the options, each a sequence of parts."""

    options: tuple[tuple[_Piece | _Choice, ...], ...]


def _skip_placeholder(text: str, start: int) -> int | None:
    """The index after the ``#{...}`` that starts at ``start``; None if it never closes."""
    i, depth, n = start + 2, 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("#{", i):
            inner = _skip_placeholder(text, i)
            if inner is None:
                return None
            i = inner
            continue
        if ch in "\"'":
            close = text.find(ch, i + 1)
            if close < 0:
                return None
            i = close + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    return None


def _group(text: str, start: int) -> tuple[list[tuple[int, int]], int] | None:
    """The option spans of the ``{a|b}`` group at ``start`` and the index after it; None
    when the braces are not a choice (unclosed, or no ``|`` at their level)."""
    i, n = start + 1, len(text)
    bars = [start]
    while i < n:
        if text.startswith("#{", i):
            end = _skip_placeholder(text, i)
            if end is None:
                return None
            i = end
            continue
        ch = text[i]
        if ch == "{":
            inner = _group(text, i)
            if inner is not None:
                i = inner[1]
                continue
            close = text.find("}", i + 1)
            if close < 0:
                return None
            i = close + 1
            continue
        if ch == "|":
            bars.append(i)
        elif ch == "}":
            if len(bars) == 1:
                return None
            bars.append(i)
            return [(a + 1, b) for a, b in itertools.pairwise(bars)], i + 1
        i += 1
    return None


def has_variants(text: str) -> bool:
    """Whether the text holds a ``{a|b}`` choice."""
    return bool(_spans(text, 0, len(text))[1])


def _spans(text: str, start: int, end: int) -> tuple[list[object], bool]:
    """Split ``text[start:end]`` into ``(start, end)`` text spans and option-span groups."""
    parts: list[object] = []
    plain = start
    i = start
    found = False
    while i < end:
        if text.startswith("#{", i):
            close = _skip_placeholder(text, i)
            i = close if close is not None and close <= end else i + 2
            continue
        if text[i] == "{":
            group = _group(text, i)
            if group is not None and group[1] <= end:
                options, after = group
                if i > plain:
                    parts.append((plain, i))
                parts.append([_spans(text, a, b)[0] for a, b in options])
                found = True
                i = plain = after
                continue
        i += 1
    if end > plain:
        parts.append((plain, end))
    return parts, found


class MessageText:
    """A block's message: compiled once, rendered for each client."""

    def __init__(
        self,
        text: str,
        filename: str,
        *,
        registry: Registry,
        limits: Limits = DEFAULT_LIMITS,
        line: int = 1,
        column: int = 1,
        indent: int = 0,
        source: str | None = None,
    ) -> None:
        self.text = text
        self.filename = filename
        self.line = line
        self.column = column
        self.indent = indent
        self._registry = registry
        self._limits = limits
        self._source = source if source is not None else text
        spans, self.has_variants = _spans(text, 0, len(text))
        self.parts: tuple[_Piece | _Choice, ...] = self._build(spans)

    def _position(self, index: int) -> tuple[int, int]:
        before = self.text[:index]
        newlines = before.count("\n")
        if newlines == 0:
            return self.line, self.column + index
        return self.line + newlines, index - before.rfind("\n") + self.indent

    def _build(self, spans: list[object]) -> tuple[_Piece | _Choice, ...]:
        parts: list[_Piece | _Choice] = []
        for span in spans:
            if isinstance(span, tuple):
                start, end = span
                line, column = self._position(start)
                try:
                    template = Template(
                        self.text[start:end],
                        self.filename,
                        registry=self._registry,
                        limits=self._limits,
                        line=line,
                        column=column,
                        source=self._source,
                    )
                except BotlangError as err:
                    raise shift_message_error(err, line, self.indent) from None
                parts.append(_Piece(template, line))
            else:
                assert isinstance(span, list)
                parts.append(_Choice(tuple(self._build(option) for option in span)))
        return tuple(parts)

    def render_in(self, run: Run) -> str:
        """The text for this run: variants chosen, substitutions made. Errors are located
        in the file."""
        out: list[str] = []
        stack: list[_Piece | _Choice] = list(reversed(self.parts))
        while stack:
            part = stack.pop()
            if isinstance(part, _Choice):
                option = part.options[run.rng.randrange(len(part.options))]
                stack.extend(reversed(option))
                continue
            try:
                out.append(part.template.render_in(run))
            except BotlangError as err:
                raise shift_message_error(err, part.line, self.indent) from None
        return "".join(out)

    def pattern(self) -> str:
        """A regular expression that each text this message can render to matches in
        full: every variant an alternative, every substitution any text. Written on one
        line (a newline as ``\\n``), for a ``<~`` line of a bot test."""
        return r"\A" + _pattern(self.parts) + r"\Z"

    def __repr__(self) -> str:
        return f"<MessageText {self.text[:30]!r}>"


def _escape(text: str) -> str:
    return re.escape(text).replace("\\\n", "\\n").replace("\\\r", "\\r").replace("\\\t", "\\t")


def _pattern(parts: tuple[_Piece | _Choice, ...]) -> str:
    out = []
    for part in parts:
        if isinstance(part, _Choice):
            out.append("(?:" + "|".join(_pattern(option) for option in part.options) + ")")
            continue
        for piece in part.template.parts:
            if piece.text is not None:  # plain text; anything else is a substitution
                out.append(_escape(piece.text))
            elif not out or out[-1] != ".*?":
                out.append(".*?")
    return "".join(out)
