"""The errors a script can cause. Every one carries a 1-based line and column."""

from __future__ import annotations

_EXCERPT_WIDTH = 100


class BotlangError(Exception):
    """Base of every error a botlang script can cause.

    ``str(err)`` shows ``FILE:LINE:COL: message`` followed by the source line and a caret.
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        line: int = 1,
        column: int = 1,
        source: str | None = None,
        filename: str = "<script>",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        self.filename = filename

    def with_location(
        self, line: int, column: int, source: str | None, filename: str
    ) -> BotlangError:
        """Fill in where the error happened, if it is not known yet; returns self."""
        if self.source is None:
            self.line, self.column = line, column
            self.source, self.filename = source, filename
        return self

    @property
    def source_line(self) -> str:
        if not self.source:
            return ""
        lines = self.source.splitlines()
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1]
        return ""

    def excerpt(self) -> str:
        """The offending source line with a caret under the column."""
        text = self.source_line
        if not text.strip():
            return ""
        column = max(1, min(self.column, len(text) + 1))
        start = 0
        if len(text) > _EXCERPT_WIDTH:
            start = max(0, min(column - 1 - _EXCERPT_WIDTH // 2, len(text) - _EXCERPT_WIDTH))
            text = text[start : start + _EXCERPT_WIDTH]
            if start > 0:
                text = "..." + text[3:]
            if start + _EXCERPT_WIDTH < len(self.source_line):
                text = text[:-3] + "..."
        prefix = "".join("\t" if ch == "\t" else " " for ch in text[: column - 1 - start])
        return f"    {text}\n    {prefix}^"

    def location(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"

    def __str__(self) -> str:
        head = f"{self.location()}: {self.message}"
        excerpt = self.excerpt()
        return f"{head}\n{excerpt}" if excerpt else head

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.filename,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
        }


class ParseError(BotlangError):
    """The source text is not valid botlang."""

    kind = "parse error"


class ScriptError(BotlangError):
    """A statement failed at run time (bad argument, division by zero, ...)."""

    kind = "runtime error"


class ArgumentError(ParseError, ScriptError):
    """A call with the wrong number of arguments, found when the script is compiled.

    It is a ParseError (nothing ran) and a ScriptError (the same family as a bad argument
    value found at run time), so code catching either sees it.
    """

    kind = "argument error"


class LimitExceeded(ScriptError):
    """A script went past one of the limits in ``botlang.core.limits``."""

    kind = "limit exceeded"
