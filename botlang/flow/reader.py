"""Reading a ``.bot`` file into its parts, line by line, keeping exact positions.

The format is indentation-based (see docs/flows.md). This module only finds the structure
— blocks, their fields and arrows, starting arrows, constants — and reports every mistake
in it with its line and column; compiling calculators, messages and conditions is the
loader's work (:mod:`botlang.flow.loader`).

Top-level lines start at column 1; everything inside a section is indented. Message and
calculator bodies are the lines indented deeper than their ``message:``/``calculator:``
line; blank lines inside a body belong to it. ``//`` starts a comment line anywhere except
inside a body, where it is text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from botlang.core.errors import ParseError

ID_PATTERN = re.compile(r"\w[\w\-]*")
_KEY = re.compile(r"([^\W\d][\w\-]*)[ \t]*:")  # a field or setting name and its colon

FIELDS = ("calculator", "message")
TEXT_MODES = ("exact", "contains", "regex", "fuzzy")
SETTINGS = (*TEXT_MODES, "if", "priority", "on")
TRIGGERS = ("message", "callback", "now")
TOP_LEVEL = ("block", "any", "constants", "bot")
DEFAULT_PRIORITY = 10

_FIELD_HINTS = {
    "calc": "calculator",
    "calculate": "calculator",
    "калькулятор": "calculator",
    "code": "calculator",
    "script": "calculator",
    "text": "message",
    "msg": "message",
    "сообщение": "message",
    "answer": "message",
}
_SETTING_HINTS = {
    "keywords": "contains",
    "keyword": "contains",
    "similar": "fuzzy",
    "regexp": "regex",
    "re": "regex",
    "equals": "exact",
    "compare": "if",
    "comparison": "if",
    "when": "if",
    "condition": "exact, contains, regex or fuzzy",
    "trigger": "on",
}


@dataclass
class Line:
    """One line of the file (without its line break) and its indentation."""

    number: int
    text: str

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" \t"))

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def comment(self) -> bool:
        return self.text.lstrip(" \t").startswith("//")


@dataclass
class RawSetting:
    """``key: value`` under an arrow."""

    key: str
    value: str
    line: int
    column: int  # of the key
    value_column: int  # of the value's first character


@dataclass
class RawCondition:
    """A text condition split into its ``;``-separated alternatives, each with its column."""

    mode: str
    alternatives: list[tuple[str, int]]
    line: int
    column: int


@dataclass
class RawArrow:
    source: str | None
    target: str
    line: int
    column: int  # of '->' (or of 'any')
    target_column: int
    trigger: str | None = None
    condition: RawCondition | None = None
    comparison: RawSetting | None = None
    priority: int = DEFAULT_PRIORITY


@dataclass
class RawField:
    """A block's ``calculator:`` or ``message:`` with its text and where the text starts."""

    name: str
    line: int  # of the field's own line
    column: int
    body: list[Line]  # the text's lines as they are in the file (one line when inline)
    inline: bool


@dataclass
class RawBlock:
    id: str
    title: str
    line: int
    column: int  # of the id
    fields: dict[str, RawField] = field(default_factory=dict)
    arrows: list[RawArrow] = field(default_factory=list)


@dataclass
class RawConstant:
    name: str
    expression: str
    line: int
    column: int
    expression_column: int


@dataclass
class RawFlow:
    """The structure of a ``.bot`` file, and every structural mistake found in it."""

    source: str
    filename: str
    title: str = ""
    blocks: list[RawBlock] = field(default_factory=list)
    starting_arrows: list[RawArrow] = field(default_factory=list)
    constants: list[RawConstant] = field(default_factory=list)
    problems: list[ParseError] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def split_lines(source: str) -> list[Line]:
    """The file's lines, numbered from 1 (a trailing '\\r' is dropped from each)."""
    return [Line(n, text.removesuffix("\r")) for n, text in enumerate(source.split("\n"), 1)]


def _suggest(word: str, known: tuple[str, ...], hints: dict[str, str]) -> str:
    lowered = word.lower()
    if lowered in hints:
        return f"; did you mean '{hints[lowered]}'?"
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


class _Reader:
    def __init__(self, source: str, filename: str) -> None:
        self.source = source
        self.filename = filename
        self.lines = split_lines(source)
        self.flow = RawFlow(source, filename, lines=self.lines)

    def problem(self, message: str, line: int, column: int) -> None:
        self.flow.problems.append(
            ParseError(
                message, line=line, column=column, source=self.source, filename=self.filename
            )
        )

    # -- top level -------------------------------------------------------------------------

    def read(self) -> RawFlow:
        lines, i = self.lines, 0
        seen_title: int | None = None
        while i < len(lines):
            line = lines[i]
            if line.blank or line.comment:
                i += 1
                continue
            section_end = self.section_end(i + 1)
            if line.indent > 0:
                self.problem(
                    "unexpected indentation: only 'block', 'any ->', 'constants:' and 'bot' "
                    "lines start a section, at column 1",
                    line.number,
                    line.indent + 1,
                )
                i = section_end
                continue
            word = re.match(r"[^\s:\-]*", line.text).group(0)  # type: ignore[union-attr]
            body = lines[i + 1 : section_end]
            if word == "block":
                self.block(line, body)
            elif word == "any":
                self.starting_arrow(line, body)
            elif word == "constants":
                self.constants(line, body)
            elif word == "bot":
                if seen_title is not None:
                    self.problem(
                        f"the bot's title is already given on line {seen_title}", line.number, 1
                    )
                seen_title = line.number
                self.flow.title = _unquote(line.text[3:])
                self.no_body(line, body, "the 'bot' line")
            elif line.text.startswith("->"):
                self.problem(
                    "an arrow belongs under its block (indented), or write 'any -> BLOCK' for "
                    "a starting arrow that fires from any block",
                    line.number,
                    1,
                )
            else:
                shown = word or line.text.strip()[:20]
                self.problem(
                    f"expected 'block', 'any ->', 'constants:' or 'bot', found '{shown}'"
                    + _suggest(word, TOP_LEVEL, {"блок": "block"}),
                    line.number,
                    1,
                )
            i = section_end
        return self.flow

    def section_end(self, start: int) -> int:
        """The index of the next line that starts a new top-level section."""
        j = start
        while j < len(self.lines):
            line = self.lines[j]
            if not line.blank and line.indent == 0 and not line.comment:
                break
            j += 1
        return j

    def no_body(self, header: Line, body: list[Line], what: str) -> None:
        for line in body:
            if not line.blank and not line.comment:
                self.problem(
                    f"unexpected indented line: {what} has nothing under it",
                    line.number,
                    line.indent + 1,
                )
                return

    @staticmethod
    def items(body: list[Line]) -> int | None:
        """The indentation of a section's items: that of its first indented line."""
        for line in body:
            if not line.blank and not line.comment:
                return line.indent
        return None

    def misindented(self, line: Line, indent: int, first: int) -> None:
        if line.indent < indent:
            self.problem(
                f"this line is indented less than the line {first} above it "
                f"({indent} columns); indent the lines of a section alike",
                line.number,
                line.indent + 1,
            )
        else:
            self.problem(
                "unexpected indentation: only the text of a 'message:' or 'calculator:' and "
                "the settings of an arrow go deeper",
                line.number,
                line.indent + 1,
            )

    # -- blocks ----------------------------------------------------------------------------

    def block(self, header: Line, body: list[Line]) -> None:
        text = header.text
        rest = text[len("block") :]
        if rest and not rest[0].isspace():
            self.problem("expected a space and the block's id after 'block'", header.number, 6)
            return
        stripped = rest.lstrip(" \t")
        column = len(text) - len(stripped) + 1
        match = ID_PATTERN.match(stripped)
        if not match:
            shown = f"found '{stripped[:1]}'" if stripped else "found the end of the line"
            self.problem(
                f"expected the block's id after 'block' (letters, digits, '_' or '-'), {shown}",
                header.number,
                column if stripped else len(text) + 1,
            )
            return
        block_id = match.group(0)
        after = stripped[match.end() :]
        title = after.strip()
        if title.startswith(":"):
            title = title[1:].strip()
        if after and not after[0].isspace() and not after.startswith(":"):
            self.problem(
                f"a block id is letters, digits, '_' or '-'; '{after[0]}' cannot be part of "
                f"it (put the title after a space, in quotes)",
                header.number,
                column + match.end(),
            )
            return
        block = RawBlock(block_id, _unquote(title), header.number, column)
        self.flow.blocks.append(block)
        self.block_items(block, body)

    def block_items(self, block: RawBlock, body: list[Line]) -> None:
        indent = self.items(body)
        if indent is None:
            return
        first = next(ln.number for ln in body if not ln.blank and not ln.comment)
        k = 0
        while k < len(body):
            line = body[k]
            if line.blank or line.comment:
                k += 1
                continue
            if line.indent != indent:
                self.misindented(line, indent, first)
                k += 1
                continue
            content = line.text[indent:]
            if content.startswith("->"):
                arrow = self.arrow_header(line, indent, block.id)
                k = self.arrow_settings(arrow, body, k + 1, indent)
                if arrow is not None:
                    block.arrows.append(arrow)
                continue
            match = _KEY.match(content)
            if not match:
                self.problem(
                    "expected 'calculator:', 'message:' or an arrow '-> BLOCK'",
                    line.number,
                    indent + 1,
                )
                k += 1
                continue
            name = match.group(1)
            if name not in FIELDS:
                if name in SETTINGS:
                    hint = (
                        f"; '{name}:' is an arrow setting: put it on a line indented under "
                        "its arrow '-> BLOCK'"
                    )
                else:
                    hint = _suggest(name, FIELDS, _FIELD_HINTS)
                self.problem(
                    f"unknown block field '{name}'; a block has 'calculator:', 'message:' and "
                    f"arrows{hint}",
                    line.number,
                    indent + 1,
                )
                k = self.skip_deeper(body, k + 1, indent)
                continue
            k = self.field(block, line, indent, match.end(), name, body, k + 1)

    def skip_deeper(self, body: list[Line], k: int, indent: int) -> int:
        while k < len(body) and (body[k].blank or body[k].indent > indent):
            k += 1
        return k

    def field(
        self,
        block: RawBlock,
        line: Line,
        indent: int,
        colon_end: int,
        name: str,
        body: list[Line],
        k: int,
    ) -> int:
        inline_text = line.text[indent + colon_end :]
        stripped = inline_text.lstrip(" \t")
        inline_col = len(line.text) - len(stripped) + 1
        end = self.skip_deeper(body, k, indent)
        lines = body[k:end]
        while lines and lines[-1].blank:
            lines.pop()
        while lines and lines[0].blank:
            lines.pop(0)
        if name in block.fields:
            self.problem(
                f"block '{block.id}' already has a '{name}:' (line {block.fields[name].line})",
                line.number,
                indent + 1,
            )
            return end
        if stripped.strip() and lines:
            self.problem(
                f"'{name}:' has text on its own line and on the lines below; put all of it "
                "on the lines below",
                lines[0].number,
                lines[0].indent + 1,
            )
            return end
        if stripped.strip():
            piece = Line(line.number, " " * (inline_col - 1) + stripped.rstrip())
            block.fields[name] = RawField(name, line.number, indent + 1, [piece], True)
        else:
            block.fields[name] = RawField(name, line.number, indent + 1, lines, False)
        return end

    # -- arrows ----------------------------------------------------------------------------

    def arrow_header(self, line: Line, indent: int, source: str | None) -> RawArrow | None:
        text = line.text
        start = indent + 2  # after '->'
        rest = text[start:]
        stripped = rest.lstrip(" \t")
        column = len(text) - len(stripped) + 1
        match = ID_PATTERN.match(stripped)
        if not match:
            self.problem(
                "expected the target block's id after '->'",
                line.number,
                column if stripped else len(text) + 1,
            )
            return None
        trailing = stripped[match.end() :]
        if trailing.strip():
            at = column + match.end() + (len(trailing) - len(trailing.lstrip(" \t")))
            self.problem(
                "unexpected text after the target block; put the arrow's conditions on the "
                "lines below, indented (e.g. 'contains: да; ок')",
                line.number,
                at,
            )
        return RawArrow(
            source=source,
            target=match.group(0),
            line=line.number,
            column=indent + 1,
            target_column=column,
        )

    def arrow_settings(self, arrow: RawArrow | None, body: list[Line], k: int, indent: int) -> int:
        """Read the settings indented under an arrow; returns the index after them."""
        seen: dict[str, int] = {}
        setting_indent: int | None = None
        while k < len(body):
            line = body[k]
            if line.blank or line.comment:
                k += 1
                continue
            if line.indent <= indent:
                break
            k += 1
            if setting_indent is None:
                setting_indent = line.indent
            elif line.indent != setting_indent:
                self.problem(
                    "an arrow's settings are indented alike; this one is not",
                    line.number,
                    line.indent + 1,
                )
                continue
            if arrow is not None:
                self.setting(arrow, line, seen)
        return k

    def setting(self, arrow: RawArrow, line: Line, seen: dict[str, int]) -> None:
        indent = line.indent
        content = line.text[indent:]
        match = _KEY.match(content)
        if not match:
            self.problem(
                "expected an arrow setting 'NAME: value' (exact, contains, regex, fuzzy, if, "
                "priority or on)",
                line.number,
                indent + 1,
            )
            return
        key = match.group(1)
        raw = content[match.end() :]
        value = raw.strip()
        value_column = indent + match.end() + (len(raw) - len(raw.lstrip(" \t"))) + 1
        if key not in SETTINGS:
            self.problem(
                f"unknown arrow setting '{key}'; use exact, contains, regex, fuzzy, if, "
                f"priority or on" + _suggest(key, SETTINGS, _SETTING_HINTS),
                line.number,
                indent + 1,
            )
            return
        group = "text" if key in TEXT_MODES else key
        if group in seen:
            what = "text condition" if group == "text" else f"'{key}:'"
            extra = (
                "; one arrow matches one way: add another arrow for another match mode"
                if group == "text"
                else ""
            )
            self.problem(
                f"this arrow already has a {what} (line {seen[group]}){extra}",
                line.number,
                indent + 1,
            )
            return
        seen[group] = line.number
        if key in TEXT_MODES:
            alternatives = split_alternatives(value, value_column, keep_escapes=key == "regex")
            if not alternatives:
                self.problem(
                    f"'{key}:' needs the text to match (alternatives separated by ';')",
                    line.number,
                    value_column if value else len(line.text) + 1,
                )
                return
            arrow.condition = RawCondition(key, alternatives, line.number, indent + 1)
        elif key == "if":
            if not value:
                self.problem(
                    "'if:' needs a condition, e.g. if: current_time >= '9:00'",
                    line.number,
                    len(line.text) + 1,
                )
                return
            arrow.comparison = RawSetting(key, value, line.number, indent + 1, value_column)
        elif key == "priority":
            if not re.fullmatch(r"[+-]?\d{1,9}", value):
                shown = f"'{value}'" if value else "nothing"
                self.problem(
                    f"priority is a whole number (default {DEFAULT_PRIORITY}; higher is "
                    f"checked first), found {shown}",
                    line.number,
                    value_column if value else len(line.text) + 1,
                )
                return
            arrow.priority = int(value)
        else:  # on
            if value not in TRIGGERS:
                shown = f"'{value}'" if value else "nothing"
                self.problem(
                    f"'on:' is message, callback or now, found {shown}"
                    + _suggest(value, TRIGGERS, {"event": "callback", "events": "callback"}),
                    line.number,
                    value_column if value else len(line.text) + 1,
                )
                return
            arrow.trigger = value

    def starting_arrow(self, header: Line, body: list[Line]) -> None:
        text = header.text
        arrow_at = len(text) - len(text[3:].lstrip(" \t"))
        if not text[arrow_at:].startswith("->"):
            self.problem("a starting arrow is written 'any -> BLOCK'", header.number, arrow_at + 1)
            return
        arrow = self.arrow_header(header, arrow_at, None)
        if arrow is not None:
            arrow.column = 1
        self.arrow_settings(arrow, body, 0, 0)
        if arrow is not None:
            self.flow.starting_arrows.append(arrow)

    # -- constants -------------------------------------------------------------------------

    def constants(self, header: Line, body: list[Line]) -> None:
        if header.text.rstrip() not in ("constants:", "constants :"):
            self.problem(
                "write 'constants:' alone on its line, with one 'name = value' per line below",
                header.number,
                1,
            )
            return
        indent = self.items(body)
        if indent is None:
            return
        first = next(ln.number for ln in body if not ln.blank and not ln.comment)
        for line in body:
            if line.blank or line.comment:
                continue
            if line.indent != indent:
                self.misindented(line, indent, first)
                continue
            content = line.text[indent:]
            match = re.match(r"([^\W\d]\w*)[ \t]*=(?!=)", content)
            if not match:
                self.problem("expected a constant 'name = value'", line.number, indent + 1)
                continue
            raw = content[match.end() :]
            expression = raw.strip()
            expr_col = indent + match.end() + (len(raw) - len(raw.lstrip(" \t"))) + 1
            if not expression:
                self.problem(
                    f"constant '{match.group(1)}' needs a value",
                    line.number,
                    len(line.text) + 1,
                )
                continue
            self.flow.constants.append(
                RawConstant(match.group(1), expression, line.number, indent + 1, expr_col)
            )


def split_alternatives(
    text: str, column: int, *, keep_escapes: bool = False
) -> list[tuple[str, int]]:
    """``a; b; c`` → ``[(a, col), (b, col), (c, col)]``; ``\\;`` is a literal ';'.

    With ``keep_escapes`` (regular expressions) the backslash stays, since ``\\;`` means ';'
    to the regex engine as well.
    """
    found: list[tuple[str, int]] = []
    current: list[str] = []
    start = 0
    i = 0
    while i <= len(text):
        ch = text[i] if i < len(text) else ";"
        if ch == "\\" and text[i + 1 : i + 2] == ";":
            current.append("\\;" if keep_escapes else ";")
            i += 2
            continue
        if ch == ";":
            piece = "".join(current)
            lead = len(piece) - len(piece.lstrip())
            if piece.strip():
                found.append((piece.strip(), column + start + lead))
            current = []
            start = i + 1
        else:
            current.append(ch)
        i += 1
    return found


def read_flow(source: str, filename: str = "<flow>") -> RawFlow:
    """The structure of a ``.bot`` file with every structural problem found."""
    return _Reader(source.removeprefix("\ufeff"), filename).read()
