"""Message templates: text with ``#{expression}`` substitutions, which may nest (``#{q#{i}}``).

An unclosed ``#{`` is kept as plain text, as Salebot shows it.
"""

from __future__ import annotations

import bisect
import re

from botlang.core.errors import ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.syntax import ast
from botlang.core.syntax.parser import KEYWORDS, parse_expression

_NAME = re.compile(r"\s*([^\W\d]\w*)\s*\Z")
_SPECIAL = re.compile(r"#\{|[\"'{}]")


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
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.reached = 0  # where the last placeholder found never to be closed stopped

    def where(self, index: int) -> tuple[int, int]:
        """The source line and column of ``text[index]``."""
        before = bisect.bisect_left(self.newlines, index)
        if before == 0:
            return self.line, self.column + index
        return self.line + before, index - self.newlines[before - 1]

    def parts(self) -> list[ast.TemplatePart]:
        parts: list[ast.TemplatePart] = []
        text, n = self.text, len(self.text)
        i = plain_start = 0
        rescanned = 0
        while True:
            i = text.find("#{", i)
            if i < 0:
                break
            found = self.placeholder(i, depth=1)
            if found is None:
                # an unclosed '#{' stays text; bound the text read again after such tries
                rescanned += self.reached - i
                if rescanned > 8 * n + 4096:
                    line, col = self.where(i)
                    raise ParseError(
                        "too many '#{' that are never closed; close them with '}'",
                        line=line,
                        column=col,
                        source=self.source,
                        filename=self.filename,
                    )
                i += 2
                continue
            part, end = found
            if i > plain_start:
                parts.append(ast.TemplateText(text[plain_start:i]))
            parts.append(part)
            i = plain_start = end
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
        while True:
            special = _SPECIAL.search(text, i)
            if special is None:
                self.reached = n
                return None
            i = special.start()
            token = special.group()
            if token == "#{":
                inner = self.placeholder(i, depth + 1)
                if inner is None:
                    return None
                if i > segment_start:
                    pieces.append(ast.TemplateText(text[segment_start:i]))
                pieces.append(inner[0])
                nested = True
                i = segment_start = inner[1]
                continue
            if token == '"' or token == "'":
                close = text.find(token, i + 1)
                if close < 0:
                    self.reached = n
                    return None
                i = close + 1
                continue
            if token == "{":
                braces += 1
            elif braces == 0:
                break
            else:
                braces -= 1
            i += 1
        end = i + 1
        line, col = self.where(start)
        if nested:
            if i > segment_start:
                pieces.append(ast.TemplateText(text[segment_start:i]))
            return ast.TemplateNested(pieces, line, col), end
        expr_source = text[start + 2 : i]
        e_line, e_col = self.where(start + 2)
        name = _NAME.match(expr_source)
        if name and name.group(1) not in KEYWORDS:
            # the commonest placeholder, #{name}, needs no parser
            n_line, n_col = self.where(start + 2 + name.start(1))
            return ast.TemplateExpr(
                ast.Name(n_line, n_col, name.group(1)), expr_source, line, col
            ), end
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
