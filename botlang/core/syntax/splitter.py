"""Cut calculator source into statements: one a line, or separated by ';'.

Brackets and strings may span lines; ``/* ... */`` comments are blanked out (newlines kept,
so positions stay exact). Unclosed strings, comments and brackets, and brackets nested too
deeply, are reported here with the position of the opening character, before any
recursive pass runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from botlang.core.errors import ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}


@dataclass(slots=True)
class Chunk:
    """One statement's text (comments blanked) and where it starts in the source."""

    text: str
    line: int
    column: int

    def to_source(self, rel_line: int, rel_column: int) -> tuple[int, int]:
        """Map a 1-based position inside the chunk to the position in the source."""
        if rel_line == 1:
            return self.line, self.column + rel_column - 1
        return self.line + rel_line - 1, rel_column


def split_statements(
    source: str, *, limits: Limits = DEFAULT_LIMITS, filename: str = "<script>"
) -> list[Chunk]:
    """The statements of ``source``; raises ParseError on unclosed or too-deep constructs."""
    chunks: list[Chunk] = []
    buf: list[str] = []
    start_line = start_col = 1
    line, col = 1, 1
    brackets: list[tuple[str, int, int]] = []
    i, n = 0, len(source)

    def error(message: str, at_line: int, at_col: int) -> ParseError:
        return ParseError(message, line=at_line, column=at_col, source=source, filename=filename)

    def flush() -> None:
        text = "".join(buf)
        if text.strip():
            chunks.append(Chunk(text, start_line, start_col))
        buf.clear()

    while i < n:
        ch = source[i]
        if ch == "/" and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise error("comment '/*' is never closed with '*/'", line, col)
            for c in source[i : end + 2]:
                if c == "\n":
                    buf.append("\n")
                    line, col = line + 1, 1
                else:
                    buf.append(" ")
                    col += 1
            i = end + 2
            continue
        if ch == '"' or ch == "'":
            j = i + 1
            s_line, s_col = line, col
            buf.append(ch)
            col += 1
            closed = False
            while j < n:
                c = source[j]
                if c == "\\" and j + 1 < n:
                    buf.append(source[j : j + 2])
                    if source[j + 1] == "\n":
                        line, col = line + 1, 1
                    else:
                        col += 2
                    j += 2
                    continue
                buf.append(c)
                if c == "\n":
                    line, col = line + 1, 1
                else:
                    col += 1
                j += 1
                if c == ch:
                    closed = True
                    break
            if not closed:
                raise error(f"text in quotes is never closed (missing {ch})", s_line, s_col)
            i = j
            continue
        if ch in _OPENERS:
            brackets.append((ch, line, col))
            if len(brackets) > limits.max_nesting_depth:
                raise error(
                    f"brackets nested too deeply (more than {limits.max_nesting_depth} "
                    "levels); split the statement",
                    line,
                    col,
                )
        elif ch in _CLOSERS and brackets:
            brackets.pop()
        elif (ch == "\n" or ch == ";") and not brackets:
            flush()
            if ch == "\n":
                line, col = line + 1, 1
            else:
                col += 1
            start_line, start_col = line, col
            i += 1
            continue
        buf.append(ch)
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    if brackets:
        opener, o_line, o_col = brackets[-1]
        raise error(f"'{opener}' is never closed with '{_OPENERS[opener]}'", o_line, o_col)
    flush()
    return chunks
