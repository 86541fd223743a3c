"""Running ``.bottest`` files: each test in a fresh conversation, failures as readable diffs.

After each action (``>``, ``event``, ``enter``) the messages, calls and runtime errors it
produced must all be accounted for by the lines that follow it (``<``, ``call``,
``expect error``) before the next action or the end of the test; ``< ...`` lets further
messages pass unchecked. The first failure ends a test.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botlang.core.errors import BotlangError
from botlang.flow import Bot, FlowError, TelephonyCall, Turn
from botlang.telephony import codes
from botlang.testing.conversation import DEFAULT_PHONE, DEFAULT_TEST_CLOCK, Conversation
from botlang.testing.format import (
    ANSWERS,
    TEST_SUFFIX,
    Step,
    TestCase,
    TestFile,
    button_row,
    parse_test_file,
)

_OUTCOME_NAMES = {code: name for name, code in reversed(codes.OUTCOMES.items())}


class BotTestFailure(AssertionError):
    """A bot test did not go as written; ``str()`` explains with a diff."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class TestResult:
    """The outcome of one test (or of a file that could not be run)."""

    __test__ = False

    path: Path
    name: str
    line: int
    passed: bool
    failure: str = ""
    seconds: float = 0.0

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def same_value(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and "1" from 1, with 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def show_value(value: Any) -> str:
    """A value as a test file writes it."""
    import json

    if value is None:
        return "None"
    if value is True or value is False:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def normalize_text(text: str) -> str:
    """Message text as compared: trailing spaces and surrounding blank lines do not count."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def answer_lines(text: str) -> list[str]:
    """A bot message in test-file form: ``< first line`` then ``| next line`` ..."""
    head, *rest = normalize_text(text).split("\n")
    return [f"< {head}".rstrip(), *(f"| {line}".rstrip() for line in rest)]


def describe_call(kind: str, args: dict[str, str], result: int | None) -> str:
    """A call in test-file form: ``call group 12345 line 7499... phone 7900... -> busy``."""
    parts = ["call", kind]
    rest = dict(args)
    if kind == "employee" and "extension" in rest:
        parts.append(rest.pop("extension"))
    if kind == "group" and "group" in rest:
        parts.append(rest.pop("group"))
    names = {"line_number": "line"}
    for key in ("line_number", "phone", "extension", "group", "call_id", "text"):
        if key in rest:
            value = rest.pop(key)
            parts.extend([names.get(key, key), value if " " not in value else repr(value)])
    text = " ".join(parts)
    if result is not None:
        text += f" -> {_OUTCOME_NAMES.get(result, str(result))}"
    return text


@dataclass
class _Pending:
    """An action's turn and what the test has said about it so far."""

    action: Step
    turn: Turn
    expected: list[Step] = field(default_factory=list)
    compared: bool = False
    calls: list[TelephonyCall] = field(default_factory=list)
    errors: list[BotlangError] = field(default_factory=list)


class _CaseRun:
    def __init__(self, case: TestCase, bot: Bot) -> None:
        self.case = case
        self.conversation = Conversation(bot, now=DEFAULT_TEST_CLOCK)
        self.pending: _Pending | None = None

    def fail(self, line: int, headline: str, details: Iterable[str] = ()) -> BotTestFailure:
        where = f"{display_path(self.case.file.path)}:{line}"
        text = "\n".join([f"{where}: in test '{self.case.name}': {headline}", *details])
        return BotTestFailure(text, line)

    def run(self) -> None:
        for step in self.case.steps:
            if self.pending is not None and not self.pending.compared and step.kind not in ANSWERS:
                self.compare_answers()
            getattr(self, f"do_{step.kind}")(step)
        if self.pending is not None:
            if not self.pending.compared:
                self.compare_answers()
            self.settle()

    # -- actions ---------------------------------------------------------------------------

    def act(self, step: Step) -> None:
        if self.pending is not None:
            self.settle()
        conversation = self.conversation
        try:
            if step.kind == "say":
                turn = conversation.say(step.text)
            elif step.kind == "event":
                turn = conversation.event(step.text, step.value or None)
            elif step.kind == "press":
                latitude, longitude = step.value or (None, None)
                try:
                    turn = conversation.press(step.name, latitude=latitude, longitude=longitude)
                except (LookupError, ValueError) as exc:
                    message = exc.args[0] if exc.args else str(exc)
                    raise self.fail(step.line, f"cannot press '{step.name}': {message}") from None
            else:
                turn = conversation.enter(step.name)
        except KeyError:
            blocks = list(conversation.bot.flow.blocks) if conversation.bot else []
            close = difflib.get_close_matches(step.name, blocks, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.fail(step.line, f"the bot has no block '{step.name}'{hint}") from None
        except BotlangError as err:
            raise self.fail(step.line, err.message) from None
        self.pending = _Pending(step, turn, calls=list(turn.calls), errors=list(turn.errors))

    do_say = do_event = do_enter = do_press = act

    def after(self) -> str:
        assert self.pending is not None
        action = self.pending.action
        return f"after '{action.source}' (line {action.line})"

    def settle(self) -> None:
        """Fail on calls and runtime errors of the last turn that the test did not expect."""
        pending = self.pending
        assert pending is not None
        self.pending = None
        if pending.errors:
            err = pending.errors[0]
            raise self.fail(
                pending.action.line,
                f"the bot had a runtime error {self.after_of(pending)}",
                [*_indent(str(err)), "  (write 'expect error TEXT' if the test expects it)"],
            )
        if pending.calls:
            call = pending.calls[0]
            line = describe_call(call.kind, call.args, call.result.result)
            raise self.fail(
                pending.action.line,
                f"the bot asked for a call the test does not expect {self.after_of(pending)}",
                [f"    {line}", "  (add the call line to the test if it is intended)"],
            )

    @staticmethod
    def after_of(pending: _Pending) -> str:
        return f"after '{pending.action.source}' (line {pending.action.line})"

    # -- answers ---------------------------------------------------------------------------

    def do_answer(self, step: Step) -> None:
        if self.pending is None:
            raise self.fail(step.line, "an answer line comes before any '>', event or enter")
        self.pending.expected.append(step)

    do_answer_regex = do_answer_more = do_answer

    def compare_answers(self) -> None:
        pending = self.pending
        assert pending is not None
        pending.compared = True
        actual = pending.turn.texts
        more = any(s.kind == "answer_more" for s in pending.expected)
        expected = [s for s in pending.expected if s.kind != "answer_more"]
        ok = len(actual) >= len(expected) if more else len(actual) == len(expected)
        ok = ok and all(_answer_matches(s, a) for s, a in zip(expected, actual, strict=False))
        if ok:
            self.compare_buttons(expected, pending)
            return
        line = expected[0].line if expected else pending.action.line
        details = [
            f"  {pending.action.describe()}  (line {pending.action.line})",
            *_answers_diff(expected, actual, more),
            "  (- as the test expects, + as the bot answered)",
        ]
        for err in pending.turn.errors:
            details.append("  the turn also had a runtime error:")
            details.extend(_indent(str(err)))
        headline = (
            "the bot said nothing" if not actual else "the bot's answers differ from the test"
        )
        raise self.fail(line, headline, details)

    def compare_buttons(self, expected: list[Step], pending: _Pending) -> None:
        """The buttons of each answer that lists them (``[..]`` lines) are those shown."""
        for step, message in zip(expected, pending.turn.messages, strict=False):
            if not step.rows:
                continue
            shown = [[b.text for b in row] for row in message.buttons]
            if shown == step.rows:
                continue
            got = [f"  + {button_row(row)}" for row in shown] or ["  + (no buttons)"]
            raise self.fail(
                step.line,
                "the buttons of this answer differ from the test",
                [
                    f"  {pending.action.describe()}  (line {pending.action.line})",
                    *(f"  - {button_row(row)}" for row in step.rows),
                    *got,
                    "  (- as the test expects, + as the bot showed)",
                ],
            )

    # -- expectations ----------------------------------------------------------------------

    def do_call(self, step: Step) -> None:
        pending = self.pending
        expected = describe_call(step.text, step.args, step.outcome)
        if pending is None or not pending.calls:
            where = f" {self.after()}" if pending is not None else ""
            raise self.fail(
                step.line,
                f"the bot asked for no (further) call{where}",
                [f"  expected (line {step.line}): {expected}"],
            )
        call = pending.calls.pop(0)
        mismatch = call.kind != step.text or any(
            call.args.get(key) != value for key, value in step.args.items()
        )
        if step.outcome is not None and call.result.result != step.outcome:
            mismatch = True
        if mismatch:
            actual = describe_call(call.kind, call.args, call.result.result)
            raise self.fail(
                step.line,
                "the call differs from the test",
                [f"  - {expected}  (line {step.line})", f"  + {actual}"],
            )

    def do_expect_error(self, step: Step) -> None:
        pending = self.pending
        errors = pending.errors if pending is not None else []
        needle = step.text.casefold()
        for index, err in enumerate(errors):
            if needle in err.message.casefold():
                del errors[index]
                return
        got = [f"    {e.message}" for e in errors] or ["    (no runtime error)"]
        raise self.fail(
            step.line,
            f"expected a runtime error containing '{step.text}'",
            ["  the errors were:", *got],
        )

    def do_expect(self, step: Step) -> None:
        actual = self.conversation.get(step.name, step.scope)
        if same_value(actual, step.value):
            return
        scope = f"{step.scope}." if step.scope else ""
        shown = show_value(actual) + ("  (not set)" if actual is None else "")
        raise self.fail(
            step.line,
            f"{scope}{step.name} is not as expected",
            [
                f"  - {scope}{step.name} = {show_value(step.value)}",
                f"  + {scope}{step.name} = {shown}",
            ],
        )

    def do_expect_block(self, step: Step) -> None:
        actual = self.conversation.block
        if actual == step.name:
            return
        raise self.fail(
            step.line,
            "the client is not in the expected block",
            [f"  - expect block {step.name}", f"  + expect block {actual}"],
        )

    # -- set-up ----------------------------------------------------------------------------

    def do_set(self, step: Step) -> None:
        try:
            self.conversation.set(step.name, step.value, step.scope or "deal")
        except (ValueError, BotlangError) as exc:
            raise self.fail(step.line, str(exc)) from None

    def do_constant(self, step: Step) -> None:
        self.conversation.set_constant(step.name, step.value)

    def do_clock(self, step: Step) -> None:
        self.conversation.now = step.value

    def do_client(self, step: Step) -> None:
        self.conversation.switch_client(step.text or DEFAULT_PHONE, step.value)

    def do_calls(self, step: Step) -> None:
        assert step.outcome is not None
        self.conversation.calls_answer(step.outcome)

    def do_next_calls(self, step: Step) -> None:
        self.conversation.next_calls(*(int(code) for code in step.args.values()))


def _answer_matches(step: Step, text: str) -> bool:
    if step.kind == "answer_regex":
        assert step.pattern is not None
        return step.pattern.search(text) is not None
    return normalize_text(step.answer_text) == normalize_text(text)


def _answers_diff(expected: list[Step], actual: list[str], more: bool) -> list[str]:
    """A line diff of the turn's answers, test-file lines numbered in the gutter."""
    shown_actual = actual[: len(expected)] if more else actual
    keys_expected = []
    for index, step in enumerate(expected):
        if (
            step.kind == "answer_regex"
            and index < len(shown_actual)
            and _answer_matches(step, shown_actual[index])
        ):
            keys_expected.append(normalize_text(shown_actual[index]))
        elif step.kind == "answer_regex":
            keys_expected.append(f"\0regex {step.text}")
        else:
            keys_expected.append(normalize_text(step.answer_text))
    keys_actual = [normalize_text(t) for t in shown_actual]
    out: list[str] = []

    def gutter(number: int | None) -> str:
        return f"line {number}" if number else ""

    def emit_expected(step: Step, sign: str) -> None:
        lines = [step.source] if step.kind == "answer_regex" else step.describe().split("\n")
        for offset, text in enumerate(lines):
            out.append(f"  {gutter(step.line + offset):>9} {sign} {text}")

    matcher = difflib.SequenceMatcher(a=keys_expected, b=keys_actual, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for step in expected[i1:i2]:
                emit_expected(step, " ")
            continue
        # Within changed messages, compare line by line so one changed line stands out.
        old: list[tuple[int | None, str]] = []
        for step in expected[i1:i2]:
            lines = [step.source] if step.kind == "answer_regex" else step.describe().split("\n")
            old.extend((step.line + offset, text) for offset, text in enumerate(lines))
        new = [line for text in shown_actual[j1:j2] for line in answer_lines(text)]
        lines_matcher = difflib.SequenceMatcher(a=[text for _, text in old], b=new, autojunk=False)
        for op2, a1, a2, b1, b2 in lines_matcher.get_opcodes():
            for number, text in old[a1:a2]:
                out.append(f"  {gutter(number):>9} {' ' if op2 == 'equal' else '-'} {text}")
            if op2 != "equal":
                for text in new[b1:b2]:
                    out.append(f"  {'':>9} + {text}")
    if more:
        out.append(f"  {'':>9}   < ...")
    return out


def _indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in text.splitlines()]


# -- files and paths -------------------------------------------------------------------------


def load_bot_for(parsed: TestFile) -> Bot | str:
    """The bot a test file tests, or the reason it cannot be loaded."""
    path = parsed.bot_path()
    if path is None:
        return (
            f"{display_path(parsed.path)}:1: no bot to test: add 'bot: FILE.bot', or keep "
            f"'{parsed.path.with_suffix('.bot').name}' beside the test"
        )
    if not path.exists():
        line = parsed.bot_line or 1
        return (
            f"{display_path(parsed.path)}:{line}: the bot file {display_path(path)} does not exist"
        )
    try:
        return Bot.load(path)
    except FlowError as err:
        return f"the bot {display_path(path)} does not load:\n{err}"


def run_case(case: TestCase, bot: Bot) -> None:
    """Run one test; raises :class:`BotTestFailure` explaining the first difference."""
    _CaseRun(case, bot).run()


def file_problems(parsed: TestFile) -> str:
    """The format errors of a test file, each with its line and caret."""
    return "\n".join(str(err) for err in parsed.errors)


def run_file(path: str | Path, *, keyword: str | None = None) -> list[TestResult]:
    """Run every test of a ``.bottest`` file (``keyword``: only tests whose name has it)."""
    path = Path(path)
    try:
        parsed = parse_test_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [TestResult(path, "(file)", 1, False, f"{display_path(path)}: cannot read: {exc}")]
    if parsed.errors:
        first = parsed.errors[0].line
        return [TestResult(path, "(file)", first, False, file_problems(parsed))]
    cases = [c for c in parsed.tests if keyword is None or keyword.lower() in c.name.lower()]
    if not cases:
        return []
    bot = load_bot_for(parsed)
    results = []
    for case in cases:
        if isinstance(bot, str):
            results.append(TestResult(path, case.name, case.line, False, bot))
            continue
        started = time.perf_counter()
        try:
            run_case(case, bot)
        except BotTestFailure as failure:
            results.append(
                TestResult(
                    path,
                    case.name,
                    failure.line,
                    False,
                    failure.message,
                    time.perf_counter() - started,
                )
            )
            continue
        results.append(
            TestResult(path, case.name, case.line, True, "", time.perf_counter() - started)
        )
    return results


def collect_paths(paths: Sequence[str | Path]) -> list[Path]:
    """The ``.bottest`` files named, and those under the directories named, sorted."""
    found: list[Path] = []
    for raw in paths or ["."]:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob(f"*{TEST_SUFFIX}"))
                if not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(path)
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def run_paths(paths: Sequence[str | Path], *, keyword: str | None = None) -> list[TestResult]:
    """Run every test under ``paths`` (files or directories; default: the working one)."""
    results: list[TestResult] = []
    for path in collect_paths(paths):
        results.extend(run_file(path, keyword=keyword))
    return results
