"""Message templates: text with ``#{expression}`` substitutions, which may nest (``#{q#{i}}``).

An unclosed ``#{`` is kept as plain text, as Salebot shows it.
"""

from __future__ import annotations

from botlang.core.errors import ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.syntax import ast
from botlang.core.syntax.parser import parse_expression


def _position(text: str, index: int, line: int, column: int) -> tuple[int, int]:
    before = text[:index]
    newlines = before.count("\n")
    if newlines == 0:
        return line, column + index
    return line + newlines, index - before.rfind("\n")


class _TemplateParser:
    def __init__(
        self, text: str, filename: str, line: int, column: int, source: str, limits: Limits
    ) -> None:
        self.text = text
        self.filename = filename
        self.line = line
        self.column = column
        self.source = source
        self.limits = limits

    def where(self, index: int) -> tuple[int, int]:
        return _position(self.text, index, self.line, self.column)

    def parts(self) -> list[ast.TemplatePart]:
        parts: list[ast.TemplatePart] = []
        text, i, n = self.text, 0, len(self.text)
        plain_start = 0
        while i < n:
            if text.startswith("#{", i):
                found = self.placeholder(i, depth=1)
                if found is None:
                    i += 2
                    continue
                part, end = found
                if i > plain_start:
                    parts.append(ast.TemplateText(text[plain_start:i]))
                parts.append(part)
                i = plain_start = end
                continue
            i += 1
        if plain_start < n:
            parts.append(ast.TemplateText(text[plain_start:]))
        return parts

    def placeholder(self, start: int, depth: int) -> tuple[ast.TemplatePart, int] | None:
        """Parse ``#{...}`` starting at ``start``; None when it is never closed."""
        if depth > self.limits.max_nesting_depth:
            line, col = self.where(start)
            raise ParseError(
                f"'#{{' nested too deeply (more than {self.limits.max_nesting_depth} levels)",
                line=line,
                column=col,
                source=self.source,
                filename=self.filename,
            )
        text, n = self.text, len(self.text)
        i = start + 2
        braces = 0
        pieces: list[ast.TemplatePart] = []
        segment_start = i
        nested = False
        while i < n:
            ch = text[i]
            if text.startswith("#{", i):
                inner = self.placeholder(i, depth + 1)
                if inner is None:
                    return None
                if i > segment_start:
                    pieces.append(ast.TemplateText(text[segment_start:i]))
                pieces.append(inner[0])
                nested = True
                i = segment_start = inner[1]
                continue
            if ch in "\"'":
                close = text.find(ch, i + 1)
                if close < 0:
                    return None
                i = close + 1
                continue
            if ch == "{":
                braces += 1
            elif ch == "}":
                if braces == 0:
                    break
                braces -= 1
            i += 1
        else:
            return None
        end = i + 1
        line, col = self.where(start)
        if nested:
            if i > segment_start:
                pieces.append(ast.TemplateText(text[segment_start:i]))
            return ast.TemplateNested(pieces, line, col), end
        expr_source = text[start + 2 : i]
        e_line, e_col = self.where(start + 2)
        node = parse_expression(
            expr_source,
            self.filename,
            limits=self.limits,
            line=e_line,
            column=e_col,
            full_source=self.source,
        )
        return ast.TemplateExpr(node, expr_source, line, col), end


def parse_template(
    text: str,
    filename: str = "<message>",
    *,
    line: int = 1,
    column: int = 1,
    source: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[ast.TemplatePart]:
    """Split message text into plain text and ``#{...}`` parts (expressions parsed)."""
    if len(text) > limits.max_template_chars:
        raise ParseError(
            f"message text is {len(text):,} characters long; the limit is "
            f"{limits.max_template_chars:,}",
            line=line,
            column=column,
            source=source if source is not None else text,
            filename=filename,
        )
    parser = _TemplateParser(
        text, filename, line, column, source if source is not None else text, limits
    )
    return parser.parts()
