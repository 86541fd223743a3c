"""The ``.bottest`` format: a bot's conversation written down, read into steps with positions.

A test file sits next to the bot. Lines before the first ``test:`` apply to every test;
each ``test: NAME`` starts a test. Each line is one step (leading spaces do not matter)::

    bot: booking.bot                 the flow under test (default: same name, or the only .bot)
    clock: 2024-01-15 12:00          the time the bot sees (default: this Monday noon)
    client: whatsapp 79004443322     who talks (whatsapp, telegram, telephony; a phone)
    calls: busy                      how every later call ends (an outcome or a Mango code)
    next calls: busy, answered       how the next calls end, one each, in order
    constant NAME = VALUE            a project constant
    set [client.|project.]NAME = VALUE
    > TEXT                           the client says TEXT
    < TEXT                           the bot answers TEXT (one message) ...
    | TEXT                           ... whose next line is TEXT
    <~ REGEX                         an answer in which REGEX is found
    [Да] [Нет]                       the buttons of the answer above, one line per row
    <                                (alone, then [..] lines) an answer of buttons only
    < ...                            further answers of this turn are not checked
    press LABEL [at LAT LON]         press a button the last turn showed
    event TEXT [with NAME = VALUE; ...]   an event, such as a finished call (busy, answered)
    enter BLOCK                      put the client in BLOCK, as an API call would
    call group G line L phone P [-> OUTCOME]    the bot asked for this call
    call employee E phone P [-> OUTCOME]
    expect [client.|deal.|project.]NAME = VALUE  (None: not set)
    expect block BLOCK
    expect error TEXT                a runtime error whose message contains TEXT

``#`` starts a comment line. VALUEs are botlang literals: ``"text"``, ``5``, ``[1, 2]``,
``{"k": 1}``, ``True``, ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.core.errors import BotlangError, ParseError
from botlang.core.syntax import ast
from botlang.core.syntax.splitter import split_statements
from botlang.telephony import codes
from botlang.testing.conversation import parse_client_type, parse_clock

TEST_SUFFIX = ".bottest"

ACTIONS = ("say", "event", "enter", "press")
ANSWERS = ("answer", "answer_regex", "answer_more")

_SETTINGS = ("bot", "clock", "client", "calls", "next calls")
_SCOPES = {
    "deal": "deal",
    "client": "client",
    "клиент": "client",
    "project": "project",
    "проект": "project",
}
_ASSIGN = re.compile(r"(?:([^\W\d]\w*)\s*\.\s*)?([^\W\d]\w*)\s*==?(?!=)\s*")
_CALL_KEYS = {
    "line": "line_number",
    "line_number": "line_number",
    "phone": "phone",
    "extension": "extension",
    "group": "group",
    "text": "text",
    "call_id": "call_id",
}
_CALL_KINDS = ("employee", "group", "hangup", "sms")
_PHONE_KEYS = ("phone", "line_number")
_STEP_WORDS = (
    "test",
    "set",
    "constant",
    "expect",
    "event",
    "enter",
    "press",
    "call",
    *_SETTINGS,
)
_BUTTON_ROW = re.compile(r"\[([^\]]*)\]")


@dataclass
class Step:
    """One line (or, for an answer, a few lines) of a test file."""

    kind: str
    line: int
    column: int
    source: str  # the line as written, without indentation
    text: str = ""
    lines: list[str] = field(default_factory=list)  # an answer's text, line by line
    name: str = ""
    scope: str | None = None
    value: Any = None
    args: dict[str, str] = field(default_factory=dict)
    outcome: int | None = None
    pattern: re.Pattern[str] | None = None
    end_line: int = 0
    rows: list[list[str]] = field(default_factory=list)  # an answer's buttons, row by row

    @property
    def answer_text(self) -> str:
        return "\n".join(self.lines)

    def describe(self) -> str:
        """The step as the test file shows it (an answer with its ``|`` lines)."""
        if self.kind == "answer":
            head, *rest = self.lines
            shown = [f"< {head}".rstrip(), *(f"| {line}" for line in rest)]
            return "\n".join([*shown, *(button_row(row) for row in self.rows)])
        return self.source


@dataclass(eq=False)
class TestCase:
    """One ``test:`` section: its name, where it starts and its steps (setup first)."""

    __test__ = False  # not a pytest test class

    name: str
    line: int
    steps: list[Step]
    file: TestFile = field(repr=False)

    @property
    def nodeid(self) -> str:
        return f"{self.file.path}::{self.name}"


@dataclass(eq=False)
class TestFile:
    """A parsed ``.bottest`` file; ``errors`` lists every mistake in it."""

    __test__ = False

    path: Path
    source: str
    bot: str | None = None
    bot_line: int = 0
    setup: list[Step] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    def bot_path(self) -> Path | None:
        """The flow under test: ``bot:``, else ``NAME.bot`` beside ``NAME.bottest``, else
        the only ``.bot`` file in the directory."""
        folder = self.path.parent
        if self.bot:
            return folder / self.bot
        same = self.path.with_suffix(".bot")
        if same.exists():
            return same
        found = sorted(folder.glob("*.bot"))
        return found[0] if len(found) == 1 else None


def button_row(labels: list[str]) -> str:
    """A row of buttons as a test file writes it: ``[Да] [Нет]``."""
    return " ".join(f"[{label}]" for label in labels)


def literal_value(text: str, line: int, column: int, source: str, filename: str) -> Any:
    """A botlang literal (no variables): ``"text"``, ``5``, ``[1, 2]``, ``True``, ``None``."""
    from botlang.core.compiler import compile_expression
    from botlang.core.syntax.parser import parse_expression

    try:
        node = parse_expression(text, filename, line=line, column=column, full_source=source)
    except ParseError as err:
        if err.source == text:  # found before parsing (an unclosed bracket): place it
            if err.line == 1:
                err.column += column - 1
            err.line += line - 1
            err.source = source
        raise
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            raise ParseError(
                f"'{sub.name}' is not a value: write text in quotes (\"{text}\")",
                line=sub.line,
                column=sub.column,
                source=source,
                filename=filename,
            )
    return compile_expression(text, filename).evaluate()


class _Parser:
    def __init__(self, source: str, path: Path) -> None:
        self.source = source
        self.path = path
        self.filename = str(path)
        self.result = TestFile(path, source)
        self.current: list[Step] = self.result.setup
        self.in_test = False
        self.last_answer: Step | None = None
        self.buttons_of: Step | None = None  # the answer that '[..]' lines belong to
        self.has_action = False

    def error(self, message: str, line: int, column: int) -> None:
        self.result.errors.append(
            ParseError(
                message, line=line, column=column, source=self.source, filename=self.filename
            )
        )

    def parse(self) -> TestFile:
        for number, raw in enumerate(self.source.splitlines(), 1):
            stripped = raw.strip()
            if not stripped:
                self.last_answer = None  # a blank line ends a multi-line answer
                continue
            if stripped.startswith("#"):
                continue
            column = len(raw) - len(raw.lstrip()) + 1
            try:
                self.line(stripped, number, column)
            except BotlangError as err:
                self.error(
                    err.message,
                    err.line if err.source else number,
                    err.column if err.source else column,
                )
        every = [*self.result.setup, *(s for t in self.result.tests for s in t.steps)]
        for step in every:
            if step.kind == "answer" and step.lines == [""] and not step.rows:
                self.error(
                    "'<' needs the answer's text, or '[..]' lines below it for an answer of "
                    "buttons only (a bot message that renders empty is not sent)",
                    step.line,
                    step.column,
                )
        names: dict[str, int] = {}
        for test in self.result.tests:
            if test.name in names:
                self.error(
                    f"a test named '{test.name}' is already on line {names[test.name]}",
                    test.line,
                    1,
                )
            names[test.name] = test.line
        if not self.result.tests and not self.result.errors:
            self.error("no tests: start one with 'test: NAME'", 1, 1)
        return self.result

    def add(self, step: Step) -> Step:
        self.current.append(step)
        return step

    def line(self, text: str, number: int, column: int) -> None:
        if text.startswith("|"):
            if self.last_answer is None:
                self.error(
                    "'|' continues the bot's answer on the line above; start an answer with '<'",
                    number,
                    column,
                )
                return
            self.last_answer.lines.append(_after_marker(text, 1))
            self.last_answer.end_line = number
            return
        self.last_answer = None
        if text.startswith("["):
            self.button_line(text, number, column)
            return
        self.buttons_of = None
        if text.startswith("test:") or text == "test":
            name = text[5:].strip()
            if not name:
                self.error("a test needs a name: 'test: greets the client'", number, column)
                name = f"line {number}"
            case = TestCase(name, number, [], self.result)
            self.result.tests.append(case)
            self.current = case.steps
            self.in_test = True
            self.has_action = any(s.kind in ACTIONS for s in self.result.setup)
            return
        if text.startswith(">"):
            self.has_action = True
            self.add(Step("say", number, column, text, text=_after_marker(text, 1)))
            return
        if text.startswith("<"):
            self.answer(text, number, column)
            return
        word = text.split(None, 1)[0].lower()
        rest = text[len(word) :].strip()
        rest_column = column + len(text) - len(text[len(word) :].lstrip())
        for key in _SETTINGS:
            if text.lower().startswith(key) and text[len(key) :].lstrip().startswith(":"):
                value = text[len(key) :].lstrip()[1:].strip()
                value_column = column + len(text) - len(value) if value else column + len(text)
                self.setting(key, value, number, column, value_column, text)
                return
        if word == "set" or word == "constant":
            self.assignment(word, rest, number, column, rest_column, text)
        elif word == "expect":
            self.expectation(rest, number, column, rest_column, text)
        elif word == "event":
            self.event(rest, number, column, rest_column, text)
        elif word == "enter":
            if not rest:
                self.error("'enter' needs a block id: 'enter menu'", number, column + 5)
                return
            self.has_action = True
            self.add(Step("enter", number, column, text, name=rest))
        elif word == "press":
            self.press(rest, number, column, text)
        elif word == "call":
            self.call(rest, number, column, rest_column, text)
        else:
            import difflib

            close = difflib.get_close_matches(word, _STEP_WORDS, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "a line is '> text', '< text', '| text', '[button]', 'test: NAME', set, "
                "expect, event, enter, press, call, or a setting (bot:, clock:, client:, "
                "calls:, next calls:)"
            )
            self.error(f"unknown step '{word}'; {hint}", number, column)

    def answer(self, text: str, number: int, column: int) -> None:
        if not self.has_action and self.in_test:
            self.error(
                "an answer needs something to answer: put '> text', 'event' or 'enter' before it",
                number,
                column,
            )
        if text.startswith("<~"):
            body = _after_marker(text, 2)
            try:
                pattern = re.compile(body, re.S)
            except re.error as exc:
                self.error(f"not a regular expression: {exc}", number, column + 2)
                return
            step = self.add(Step("answer_regex", number, column, text, text=body, pattern=pattern))
            self.buttons_of = step
            return
        body = _after_marker(text, 1)
        if body.strip() == "...":
            self.add(Step("answer_more", number, column, text))
            return
        if not body.strip():  # buttons only: '[..]' lines must follow
            step = self.add(Step("answer", number, column, text, lines=[""], end_line=number))
            self.buttons_of = step
            return
        step = self.add(Step("answer", number, column, text, lines=[body], end_line=number))
        self.last_answer = step
        self.buttons_of = step

    def button_line(self, text: str, number: int, column: int) -> None:
        """``[Да] [Нет]``: a row of buttons of the answer above."""
        if self.buttons_of is None:
            self.error(
                "'[button]' lines list the buttons of the bot's answer above them; put them "
                "under a '< text' line",
                number,
                column,
            )
            return
        labels: list[str] = []
        at = 0
        for match in _BUTTON_ROW.finditer(text):
            if text[at : match.start()].strip():
                break
            labels.append(" ".join(match.group(1).split()))
            at = match.end()
        if text[at:].strip() or not labels:
            self.error("a row of buttons is written '[label] [label]'", number, column + at)
            return
        self.buttons_of.rows.append(labels)

    def press(self, rest: str, number: int, column: int, text: str) -> None:
        label, at_word, place = rest.rpartition(" at ")
        if not at_word:
            label, place = rest, ""
        label = label.strip().strip("[]").strip()
        if not label:
            self.error("'press' needs a button's label: 'press Да'", number, column + 5)
            return
        step = Step("press", number, column, text, name=label)
        if place:
            numbers = place.replace(",", " ").split()
            try:
                latitude, longitude = (float(n) for n in numbers)
            except ValueError:
                self.error(
                    "a location is written 'press LABEL at LATITUDE LONGITUDE'",
                    number,
                    column + len(text) - len(place),
                )
                return
            step.value = (latitude, longitude)
        self.has_action = True
        self.add(step)

    def setting(
        self, key: str, value: str, number: int, column: int, value_column: int, text: str
    ) -> None:
        if not value:
            self.error(f"'{key}:' needs a value", number, value_column)
            return
        if key == "bot":
            if self.in_test:
                self.error("'bot:' belongs before the first test", number, column)
                return
            if self.result.bot is not None:
                self.error(f"the bot is already given on line {self.result.bot_line}", number, 1)
                return
            self.result.bot, self.result.bot_line = value, number
            return
        step = Step(key.replace(" ", "_"), number, column, text, text=value)
        try:
            if key == "clock":
                step.value = parse_clock(value)
            elif key == "client":
                parts = value.split()
                kind = parse_client_type(parts[0]) if not parts[0][:1].isdigit() else 6
                phone_text = parts[-1] if parts[-1][:1].isdigit() or parts[-1][:1] == "+" else None
                if len(parts) > 2 or (len(parts) == 2 and phone_text is None):
                    raise ValueError(
                        "write 'client: TYPE PHONE', e.g. client: whatsapp 79004443322"
                    )
                step.value = kind
                step.text = normalize_phone(phone_text) if phone_text else ""
            elif key == "calls":
                step.outcome = codes.outcome_code(value)
            else:  # next calls
                step.args = {
                    str(i): str(codes.outcome_code(v.strip()))
                    for i, v in enumerate(value.split(","))
                }
        except (ValueError, InvalidPhone) as exc:
            self.error(str(exc), number, value_column)
            return
        self.add(step)

    def assignment(
        self, word: str, rest: str, number: int, column: int, rest_column: int, text: str
    ) -> None:
        match = _ASSIGN.match(rest)
        if not match or not rest[match.end() :].strip():
            self.error(
                f"write '{word} NAME = VALUE'"
                + (", NAME may start with client. or project." if word == "set" else ""),
                number,
                rest_column,
            )
            return
        prefix, name = match.group(1), match.group(2)
        scope = "deal"
        if prefix is not None:
            if word == "constant" or prefix not in _SCOPES:
                self.error(
                    f"unknown scope '{prefix}'; use client., project. (or deal.)",
                    number,
                    rest_column,
                )
                return
            scope = _SCOPES[prefix]
        value_text = rest[match.end() :]
        value = literal_value(
            value_text, number, rest_column + match.end(), self.source, self.filename
        )
        self.add(Step(word, number, column, text, name=name, scope=scope, value=value))

    def expectation(self, rest: str, number: int, column: int, rest_column: int, text: str) -> None:
        word = rest.split(None, 1)[0] if rest else ""
        after = rest[len(word) :].strip()
        if word == "block" and after and "=" not in after:
            self.add(Step("expect_block", number, column, text, name=after))
            return
        if word == "error" and "=" not in after:
            self.add(Step("expect_error", number, column, text, text=after))
            return
        match = _ASSIGN.match(rest)
        if not match or not rest[match.end() :].strip():
            self.error(
                "write 'expect NAME = VALUE', 'expect block BLOCK' or 'expect error TEXT'",
                number,
                rest_column,
            )
            return
        prefix, name = match.group(1), match.group(2)
        scope = None
        if prefix is not None:
            if prefix not in _SCOPES:
                self.error(
                    f"unknown scope '{prefix}'; use deal., client. or project.",
                    number,
                    rest_column,
                )
                return
            scope = _SCOPES[prefix]
        value = literal_value(
            rest[match.end() :], number, rest_column + match.end(), self.source, self.filename
        )
        self.add(Step("expect", number, column, text, name=name, scope=scope, value=value))

    def event(self, rest: str, number: int, column: int, rest_column: int, text: str) -> None:
        if not rest:
            self.error(
                "'event' needs the event's text, e.g. 'event busy'", number, column + len(text)
            )
            return
        event_text, sep, variables = rest.partition(" with ")
        values: dict[str, Any] = {}
        if sep:
            offset = rest_column + len(event_text) + len(sep)
            chunks = split_statements(variables, filename=self.filename)
            for chunk in chunks:
                chunk_column = offset + chunk.column - 1
                match = _ASSIGN.match(chunk.text.strip())
                lead = len(chunk.text) - len(chunk.text.lstrip())
                if not match or match.group(1):
                    self.error(
                        "event variables are written 'NAME = VALUE; NAME = VALUE'",
                        number,
                        chunk_column + lead,
                    )
                    return
                body = chunk.text.strip()
                values[match.group(2)] = literal_value(
                    body[match.end() :],
                    number,
                    chunk_column + lead + match.end(),
                    self.source,
                    self.filename,
                )
        self.has_action = True
        self.add(Step("event", number, column, text, text=event_text.strip(), value=values))

    def call(self, rest: str, number: int, column: int, rest_column: int, text: str) -> None:
        main, arrow, outcome_text = rest.partition("->")
        words = main.split()
        usage = (
            "write 'call group G line L phone P' or 'call employee E phone P', "
            "optionally followed by '-> OUTCOME'"
        )
        if not words or words[0] not in _CALL_KINDS:
            self.error(usage, number, rest_column)
            return
        kind, args = words[0], words[1:]
        expected: dict[str, str] = {}
        if kind in ("employee", "group") and args and args[0] not in _CALL_KEYS:
            expected["extension" if kind == "employee" else "group"] = args[0]
            args = args[1:]
        if len(args) % 2:
            self.error(usage, number, rest_column)
            return
        for key, value in zip(args[::2], args[1::2], strict=True):
            if key not in _CALL_KEYS:
                self.error(
                    f"unknown call detail '{key}'; use {', '.join(sorted(set(_CALL_KEYS)))}",
                    number,
                    rest_column + main.find(key),
                )
                return
            name = _CALL_KEYS[key]
            if name in _PHONE_KEYS:
                try:
                    value = normalize_phone(value)
                except InvalidPhone as exc:
                    self.error(str(exc), number, rest_column + main.find(value))
                    return
            expected[name] = value
        step = Step("call", number, column, text, text=kind, args=expected)
        if arrow:
            try:
                step.outcome = codes.outcome_code(outcome_text.strip())
            except ValueError as exc:
                self.error(str(exc), number, rest_column + len(main) + 2)
                return
        self.add(step)


def _after_marker(text: str, width: int) -> str:
    """The text after a marker such as '>' or '<~', without the one space that follows it."""
    body = text[width:]
    return body[1:] if body.startswith(" ") else body


def parse_test_source(source: str, path: str | Path = "<test>") -> TestFile:
    """Read the text of a ``.bottest`` file; problems are listed in ``.errors``."""
    parsed = _Parser(source.removeprefix("\ufeff"), Path(path)).parse()
    for test in parsed.tests:
        test.steps[:0] = parsed.setup
    return parsed


def parse_test_file(path: str | Path) -> TestFile:
    """Read and parse a ``.bottest`` file (OSError if it cannot be read)."""
    path = Path(path)
    return parse_test_source(path.read_text(encoding="utf-8"), path)
