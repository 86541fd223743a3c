"""Reading a ``.bot`` file into its parts, line by line, keeping exact positions.

The format is indentation-based (see docs/flows.md). This module only finds the structure
— blocks of each kind, their fields, settings, buttons and arrows, start conditions,
constants — and reports every mistake in it with its line and column; compiling
calculators, messages, buttons and conditions is the loader's work
(:mod:`botlang.flow.loader`).

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

BLOCK_WORDS = ("block", "nostate", "quick", "close_deal")
FIELDS = ("calculator", "message", "buttons", "hint")
BLOCK_SETTINGS = ("keyboard", "arrow_buttons")
TEXT_MODES = ("exact", "contains", "regex", "fuzzy")
# What a condition of its own takes: a start condition's (``any ->``) or a quick answer's.
CONDITION_SETTINGS = (*TEXT_MODES, "if", "unless", "priority", "on", "once", "save")
# What a start condition takes.
START_SETTINGS = (*CONDITION_SETTINGS, "new_client")
# What an arrow of a block takes.
SETTINGS = (*CONDITION_SETTINGS, "delay", "button", "line", "position")
EVERY_SETTING = (*SETTINGS, "new_client")
BUTTON_SETTINGS = ("type", "url", "callback", "line", "position", "color")
TRIGGERS = ("message", "callback")
KEYBOARDS = ("auto", "reply", "inline")
TOP_LEVEL = (*BLOCK_WORDS, "any", "constants", "bot")
DEFAULT_PRIORITY = 10
TRUE_WORDS = ("yes", "true", "on", "да", "1")
FALSE_WORDS = ("no", "false", "off", "нет", "0")

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
    "minus": "unless",
    "except": "unless",
    "timer": "delay",
    "after": "delay",
    "wait": "delay",
    "store": "save",
    "input": "save",
    "variable": "save",
    "row": "line",
    "index_in_line": "position",
    "index": "position",
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
    """An arrow (``-> TARGET``), a start condition (``any -> TARGET``) or a quick answer's
    own condition (``tier`` "quick", ``target`` its block), with the settings given."""

    source: str | None
    target: str
    line: int
    column: int  # of '->' (or of 'any', or of the quick block's id)
    target_column: int
    tier: str = "block"  # "block" | "start" | "quick"
    trigger: str | None = None
    condition: RawCondition | None = None
    comparison: RawSetting | None = None
    minus: RawCondition | None = None
    priority: int = DEFAULT_PRIORITY
    once: bool = False
    button: bool = False
    new_client: bool = False
    settings: dict[str, RawSetting] = field(default_factory=dict)  # every setting, by key

    def setting(self, key: str) -> RawSetting | None:
        return self.settings.get(key)


@dataclass
class RawButton:
    """``- LABEL`` under ``buttons:``, with its settings."""

    label: str
    line: int
    column: int  # of the label
    settings: dict[str, RawSetting] = field(default_factory=dict)


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
    kind: str = "block"  # one of BLOCK_WORDS
    fields: dict[str, RawField] = field(default_factory=dict)
    settings: dict[str, RawSetting] = field(default_factory=dict)  # keyboard, arrow_buttons
    buttons: list[RawButton] = field(default_factory=list)
    arrows: list[RawArrow] = field(default_factory=list)
    condition: RawArrow | None = None  # a quick answer's own condition


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


_BLOCK_HINTS = {
    "блок": "block",
    "state": "block",
    "not_state": "nostate",
    "notstate": "nostate",
    "no_state": "nostate",
    "fallback": "quick",
    "faq": "quick",
    "deal": "close_deal",
    "close": "close_deal",
    "order": "close_deal",
}
_BUTTON_HINTS = {
    "link": "url",
    "href": "url",
    "row": "line",
    "index_in_line": "position",
    "kind": "type",
    "data": "callback",
    "colour": "color",
}
_DELAY_UNITS = {
    "": "seconds",
    "s": "seconds",
    "sec": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "с": "seconds",
    "сек": "seconds",
    "секунд": "seconds",
    "секунды": "seconds",
    "секунда": "seconds",
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "мин": "minutes",
    "минут": "minutes",
    "минуты": "minutes",
    "минута": "minutes",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "ч": "hours",
    "час": "hours",
    "часа": "hours",
    "часов": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "д": "days",
    "день": "days",
    "дня": "days",
    "дней": "days",
    "month": "months",
    "months": "months",
    "мес": "months",
    "месяц": "months",
    "месяца": "months",
    "месяцев": "months",
}


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def parse_flag(value: str) -> bool | None:
    """``yes``/``no`` (also true/false, on/off, да/нет, 1/0); None for anything else."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _flag_problem(key: str, value: str) -> str:
    shown = f"'{value}'" if value else "nothing"
    return f"'{key}:' is yes or no, found {shown}"


def parse_delay(value: str) -> tuple[int, str] | str:
    """``0``, ``30 s``, ``5 min``, ``2 hours``, ``3 дня``, ``1 month`` → (amount, unit);
    the reason as text when it is not a delay."""
    match = re.fullmatch(r"(\d{1,6})\s*([^\W\d_]*)\.?", value.strip())
    unit = _DELAY_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        shown = f"'{value}'" if value else "nothing"
        return (
            "'delay:' is a whole number and a unit: 0 (at once), 30 s, 5 min, 2 hours, "
            f"3 days, 1 month, found {shown}"
        )
    return int(match.group(1)), unit


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
                    "unexpected indentation: only 'block', 'nostate', 'quick', 'close_deal', "
                    "'any ->', 'constants:' and 'bot' lines start a section, at column 1",
                    line.number,
                    line.indent + 1,
                )
                i = section_end
                continue
            word = re.match(r"[^\s:\-]*", line.text).group(0)  # type: ignore[union-attr]
            body = lines[i + 1 : section_end]
            if word in BLOCK_WORDS:
                self.block(line, body, word)
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
                    "a start condition that fires from any block",
                    line.number,
                    1,
                )
            else:
                shown = word or line.text.strip()[:20]
                self.problem(
                    f"expected 'block', 'nostate', 'quick', 'close_deal', 'any ->', "
                    f"'constants:' or 'bot', found '{shown}'"
                    + _suggest(word, TOP_LEVEL, _BLOCK_HINTS),
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
                "unexpected indentation: only the text of a 'message:' or 'calculator:', "
                "buttons and the settings of an arrow go deeper",
                line.number,
                line.indent + 1,
            )

    # -- blocks ----------------------------------------------------------------------------

    def block(self, header: Line, body: list[Line], word: str) -> None:
        text = header.text
        rest = text[len(word) :]
        if rest and not rest[0].isspace():
            self.problem(
                f"expected a space and the block's id after '{word}'",
                header.number,
                len(word) + 1,
            )
            return
        stripped = rest.lstrip(" \t")
        column = len(text) - len(stripped) + 1
        match = ID_PATTERN.match(stripped)
        if not match:
            shown = f"found '{stripped[:1]}'" if stripped else "found the end of the line"
            self.problem(
                f"expected the block's id after '{word}' (letters, digits, '_' or '-'), {shown}",
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
        block = RawBlock(block_id, _unquote(title), header.number, column, kind=word)
        if word == "quick":
            block.condition = RawArrow(
                source=None,
                target=block_id,
                line=header.number,
                column=column,
                target_column=column,
                tier="quick",
            )
        self.flow.blocks.append(block)
        self.block_items(block, body)

    def block_items(self, block: RawBlock, body: list[Line]) -> None:
        indent = self.items(body)
        if indent is None:
            return
        first = next(ln.number for ln in body if not ln.blank and not ln.comment)
        condition_seen: dict[str, int] = {}
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
                    "expected 'calculator:', 'message:', 'buttons:' or an arrow '-> BLOCK'",
                    line.number,
                    indent + 1,
                )
                k += 1
                continue
            name = match.group(1)
            if name in FIELDS:
                k = self.field(block, line, indent, match.end(), name, body, k + 1)
                continue
            if name in BLOCK_SETTINGS:
                self.block_setting(block, line, indent, match)
                k = self.no_deeper(body, k + 1, indent, f"'{name}:'")
                continue
            if block.condition is not None and name in CONDITION_SETTINGS:
                self.setting(block.condition, line, condition_seen, CONDITION_SETTINGS)
                k = self.no_deeper(body, k + 1, indent, f"'{name}:'")
                continue
            if name in SETTINGS:
                if block.kind == "quick":
                    hint = f"; a quick answer's condition takes {_listed(CONDITION_SETTINGS)}"
                else:
                    hint = (
                        f"; '{name}:' is an arrow setting: put it on a line indented under "
                        "its arrow '-> BLOCK'"
                    )
                    if name in CONDITION_SETTINGS:
                        hint += " (or make the block a 'quick' answer with its own condition)"
            else:
                hint = _suggest(name, (*FIELDS, *BLOCK_SETTINGS), _FIELD_HINTS)
            self.problem(
                f"unknown block field '{name}'; a block has 'calculator:', 'message:', "
                f"'buttons:', 'hint:', 'keyboard:', 'arrow_buttons:' and arrows{hint}",
                line.number,
                indent + 1,
            )
            k = self.skip_deeper(body, k + 1, indent)

    def skip_deeper(self, body: list[Line], k: int, indent: int) -> int:
        while k < len(body) and (body[k].blank or body[k].indent > indent):
            k += 1
        return k

    def no_deeper(self, body: list[Line], k: int, indent: int, what: str) -> int:
        """Report lines indented under a one-line setting; returns the index after them."""
        end = self.skip_deeper(body, k, indent)
        for line in body[k:end]:
            if not line.blank and not line.comment:
                self.problem(
                    f"unexpected indented line: {what} takes its value on its own line",
                    line.number,
                    line.indent + 1,
                )
                break
        return end

    def block_setting(
        self,
        block: RawBlock,
        line: Line,
        indent: int,
        match: re.Match[str],
    ) -> None:
        key = match.group(1)
        raw = line.text[indent + match.end() :]
        value = raw.strip()
        value_column = indent + match.end() + (len(raw) - len(raw.lstrip(" \t"))) + 1
        if key in block.settings:
            self.problem(
                f"block '{block.id}' already has a '{key}:' (line {block.settings[key].line})",
                line.number,
                indent + 1,
            )
            return
        setting = RawSetting(key, value, line.number, indent + 1, value_column)
        at = value_column if value else len(line.text) + 1
        if key == "keyboard":
            if value not in KEYBOARDS:
                shown = f"'{value}'" if value else "nothing"
                self.problem(
                    f"'keyboard:' is reply (a keyboard under the input), inline (buttons in "
                    f"the text) or auto (whatever the messenger has), found {shown}"
                    + _suggest(value, KEYBOARDS, {"text": "inline", "keys": "reply"}),
                    line.number,
                    at,
                )
                return
        elif parse_flag(value) is None:
            self.problem(_flag_problem(key, value), line.number, at)
            return
        block.settings[key] = setting

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
        if name in block.fields or (name == "buttons" and block.buttons):
            earlier = block.fields[name].line if name in block.fields else block.buttons[0].line
            self.problem(
                f"block '{block.id}' already has a '{name}:' (line {earlier})",
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
            if name == "buttons" and not stripped.startswith("["):
                self.problem(
                    "write each button on its own line under 'buttons:', as '- LABEL' (or "
                    "give Salebot's button code, a JSON list '[...]')",
                    line.number,
                    inline_col,
                )
                return end
            block.fields[name] = RawField(name, line.number, indent + 1, [piece], True)
            return end
        if name == "buttons":
            first = next((ln for ln in lines if not ln.blank and not ln.comment), None)
            if first is not None and not first.text.lstrip().startswith("["):
                self.button_items(block, [ln for ln in lines if not ln.comment])
                return end
        block.fields[name] = RawField(name, line.number, indent + 1, lines, False)
        return end

    def button_items(self, block: RawBlock, lines: list[Line]) -> None:
        """``- LABEL`` lines, each with its settings indented below it."""
        indent = self.items(lines)
        assert indent is not None
        first = next(ln.number for ln in lines if not ln.blank)
        current: RawButton | None = None
        seen: dict[str, int] = {}
        setting_indent: int | None = None
        for line in lines:
            if line.blank:
                continue
            content = line.text[line.indent :]
            if line.indent == indent:
                if not content.startswith("-") or content.startswith("->"):
                    self.problem(
                        "a button is written '- LABEL' (its settings, such as 'url:', on the "
                        "lines below it, indented)",
                        line.number,
                        indent + 1,
                    )
                    current = None
                    continue
                label = content[1:].strip()
                label_column = len(line.text) - len(content[1:].lstrip(" \t")) + 1
                if not label:
                    self.problem(
                        "'-' needs the button's label", line.number, len(line.text.rstrip()) + 1
                    )
                    current = None
                    continue
                current = RawButton(_unquote(label), line.number, label_column)
                block.buttons.append(current)
                seen, setting_indent = {}, None
                continue
            if line.indent < indent:
                self.misindented(line, indent, first)
                continue
            if current is None:
                continue
            if setting_indent is None:
                setting_indent = line.indent
            elif line.indent != setting_indent:
                self.problem(
                    "a button's settings are indented alike; this one is not",
                    line.number,
                    line.indent + 1,
                )
                continue
            self.button_setting(current, line, seen)

    def button_setting(self, button: RawButton, line: Line, seen: dict[str, int]) -> None:
        indent = line.indent
        content = line.text[indent:]
        match = _KEY.match(content)
        if not match or match.group(1) not in BUTTON_SETTINGS:
            key = match.group(1) if match else ""
            hint = _suggest(key, BUTTON_SETTINGS, _BUTTON_HINTS) if key else ""
            what = f"unknown button setting '{key}'" if key else "expected a button setting"
            self.problem(
                f"{what}; a button takes {_listed(BUTTON_SETTINGS)}{hint}",
                line.number,
                indent + 1,
            )
            return
        key = match.group(1)
        raw = content[match.end() :]
        value = raw.strip()
        value_column = indent + match.end() + (len(raw) - len(raw.lstrip(" \t"))) + 1
        if key in seen:
            self.problem(
                f"this button already has a '{key}:' (line {seen[key]})", line.number, indent + 1
            )
            return
        seen[key] = line.number
        if not value:
            self.problem(f"'{key}:' needs a value", line.number, len(line.text) + 1)
            return
        button.settings[key] = RawSetting(key, value, line.number, indent + 1, value_column)

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
            tier="block" if source is not None else "start",
        )

    def arrow_settings(self, arrow: RawArrow | None, body: list[Line], k: int, indent: int) -> int:
        """Read the settings indented under an arrow; returns the index after them."""
        seen: dict[str, int] = {}
        setting_indent: int | None = None
        allowed = {"block": SETTINGS, "start": START_SETTINGS}.get(
            arrow.tier if arrow is not None else "block", CONDITION_SETTINGS
        )
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
                self.setting(arrow, line, seen, allowed)
        return k

    def setting(
        self,
        arrow: RawArrow,
        line: Line,
        seen: dict[str, int],
        allowed: tuple[str, ...] = SETTINGS,
    ) -> None:
        indent = line.indent
        content = line.text[indent:]
        match = _KEY.match(content)
        if not match:
            self.problem(
                f"expected an arrow setting 'NAME: value' ({_listed(allowed)})",
                line.number,
                indent + 1,
            )
            return
        key = match.group(1)
        raw = content[match.end() :]
        value = raw.strip()
        value_column = indent + match.end() + (len(raw) - len(raw.lstrip(" \t"))) + 1
        at = value_column if value else len(line.text) + 1
        if key not in allowed:
            if key in EVERY_SETTING:
                place = {
                    "start": "a start condition",
                    "quick": "a quick answer",
                    "block": "a block's arrow (only a start condition takes it)",
                }[arrow.tier]
                self.problem(
                    f"'{key}:' is not a setting of {place}; it takes {_listed(allowed)}",
                    line.number,
                    indent + 1,
                )
            else:
                self.problem(
                    f"unknown arrow setting '{key}'; use {_listed(allowed)}"
                    + _suggest(key, allowed, _SETTING_HINTS),
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
        setting = RawSetting(key, value, line.number, indent + 1, value_column)
        if key in TEXT_MODES or key == "unless":
            alternatives = split_alternatives(value, value_column, keep_escapes=key == "regex")
            if not alternatives:
                self.problem(
                    f"'{key}:' needs the text to match (alternatives separated by ';')",
                    line.number,
                    at,
                )
                return
            condition = RawCondition(key, alternatives, line.number, indent + 1)
            if key == "unless":
                arrow.minus = condition
            else:
                arrow.condition = condition
        elif key == "if":
            if not value:
                self.problem(
                    "'if:' needs a condition, e.g. if: current_time >= '9:00'",
                    line.number,
                    at,
                )
                return
            arrow.comparison = setting
        elif key == "priority":
            if not re.fullmatch(r"[+-]?\d{1,9}", value):
                shown = f"'{value}'" if value else "nothing"
                self.problem(
                    f"priority is a whole number (default {DEFAULT_PRIORITY}; higher is "
                    f"checked first), found {shown}",
                    line.number,
                    at,
                )
                return
            arrow.priority = int(value)
        elif key == "on":
            if value == "now":
                self.problem(
                    "'on: now' is gone: an arrow taken at once is written 'delay: 0' (Salebot's "
                    "0-second timer); without a delay an arrow waits for the client's message",
                    line.number,
                    value_column,
                )
                return
            if value not in TRIGGERS:
                shown = f"'{value}'" if value else "nothing"
                self.problem(
                    f"'on:' is message or callback, found {shown}"
                    + _suggest(value, TRIGGERS, {"event": "callback", "events": "callback"}),
                    line.number,
                    at,
                )
                return
            arrow.trigger = value
        elif key in ("once", "button", "new_client"):
            flag = parse_flag(value)
            if flag is None:
                self.problem(_flag_problem(key, value), line.number, at)
                return
            setattr(arrow, key, flag)
        elif key in ("line", "position"):
            if not re.fullmatch(r"\d{1,3}", value):
                shown = f"'{value}'" if value else "nothing"
                self.problem(f"'{key}:' is a whole number from 0, found {shown}", line.number, at)
                return
        elif key == "delay":
            if isinstance(parse_delay(value), str):
                self.problem(str(parse_delay(value)), line.number, at)
                return
        elif not value:  # save
            self.problem(
                "'save:' needs the variable that gets the client's answer, e.g. save: name",
                line.number,
                at,
            )
            return
        arrow.settings[key] = setting

    def starting_arrow(self, header: Line, body: list[Line]) -> None:
        text = header.text
        arrow_at = len(text) - len(text[3:].lstrip(" \t"))
        if not text[arrow_at:].startswith("->"):
            self.problem("a start condition is written 'any -> BLOCK'", header.number, arrow_at + 1)
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
