"""``botlang repl [FILE]``: try calculator statements and talk to a bot, one client at a time.

Plain lines are calculator statements (``calc`` mode) or, once a ``.bot`` flow is loaded,
messages to the bot (``chat`` mode). Lines starting with ``:`` are commands (``:help``).
Statements continue on the next line while a bracket, quote or comment is open. Every
client has its own variables (``:client PHONE`` switches), telephony calls are recorded,
never placed, and an error shows where it happened and leaves the session as it was.

On a terminal the prompt has history (kept across runs), completion and highlighting.
When standard input is not a terminal, lines are read and run without prompts, and the
exit status is 1 if any line failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botlang.core.errors import BotlangError, ParseError
from botlang.core.runtime.values import display
from botlang.telephony import RecordingTelephony
from botlang.testing.conversation import (
    CLIENT_TYPES,
    Conversation,
    parse_client_type,
    parse_clock,
)
from botlang.testing.transcript import Transcript, clock_text

HISTORY_ENV = "BOTLANG_HISTORY"
KEYWORDS = ("True", "False", "None", "true", "false", "and", "or", "not", "if", "del", "print")
SCOPE_PREFIXES = ("client", "project", "клиент", "проект")


@dataclass(frozen=True)
class Command:
    """A ``:command``: its name, argument hint and one-line help."""

    name: str
    args: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("help", "", "show this help"),
    Command("load", "FILE", "load a .bot flow (chat mode) or run a calculator script"),
    Command("reload", "", "load the last loaded file again"),
    Command("mode", "calc|chat", "what plain lines are: statements or messages to the bot"),
    Command("calc", "STATEMENTS", "run calculator statements (in any mode)"),
    Command("msg", "TEXT", "send TEXT to the bot as the client (in any mode)"),
    Command("say", "TEXT", "render message text with #{...} as the current client"),
    Command("event", "TEXT [with NAME = VALUE; ...]", "an event, e.g. :event busy"),
    Command("enter", "BLOCK", "put the client in BLOCK, as an API call would"),
    Command("press", "LABEL [at LAT LON]", "press a button the bot just showed"),
    Command("blocks", "", "list the flow's blocks (the client's is marked *)"),
    Command("vars", "[NAME]", "show the client's variables (deal, client, project, constants)"),
    Command(
        "client",
        "[PHONE [TYPE]]",
        "switch to the client with this phone (TYPE: " + "/".join(CLIENT_TYPES) + ")",
    ),
    Command("clients", "", "list the clients of this session"),
    Command("reset", "", "forget the client's variables and its place in the flow"),
    Command("calls", "", "telephony calls asked for (recorded; placed only with --place-calls)"),
    Command("outcome", "OUTCOME [next]", "how later calls end: busy, no-answer, 1121, ..."),
    Command("clock", "[TIME|now]", "fix the time the bot sees, e.g. :clock 2024-01-15 18:30"),
    Command("doc", "FUNCTION", "a builtin function's signature and description"),
    Command("check", "", "lint the loaded file"),
    Command("save", "FILE", "write this conversation as a bot test (.bottest)"),
    Command("quit", "", "leave (also :exit, Ctrl-D)"),
)
_COMMAND_NAMES = {c.name for c in COMMANDS} | {"exit", "q"}


def history_path() -> Path:
    """Where the prompt history is kept: $BOTLANG_HISTORY, else the XDG state directory."""
    explicit = os.environ.get(HISTORY_ENV)
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(state) / "botlang" / "history"


def needs_more(text: str) -> bool:
    """Whether a statement is unfinished: a bracket, quote or comment is still open."""
    from botlang.core.syntax.splitter import split_statements

    try:
        split_statements(text)
    except ParseError as err:
        return "never closed" in err.message
    return False


def show_value(value: Any) -> str:
    """A value as the REPL prints it: text in quotes, so "5" and 5 look different."""
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return display(value)


class Repl:
    """The session behind the prompt: reads one input at a time with :meth:`handle`."""

    def __init__(
        self,
        conversation: Conversation | None = None,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.conversation = conversation or Conversation()
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.mode = "calc"
        self.loaded: Path | None = None
        self.failures = 0
        self.transcript = Transcript(started=self.conversation.now)

    # -- output ----------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def fail(self, text: str) -> None:
        self.failures += 1
        self.warn(text)

    @property
    def prompt(self) -> str:
        if self.mode == "chat":
            return f"chat:{self.conversation.block or '-'}> "
        return "calc> "

    # -- input -----------------------------------------------------------------------------

    def needs_more(self, text: str) -> bool:
        """Whether ``text`` should continue on another line before it is run."""
        stripped = text.lstrip()
        if stripped.startswith(":"):
            name = stripped[1:].split(None, 1)[0] if stripped[1:].strip() else ""
            return name == "calc" and needs_more(stripped[1 + len(name) :])
        if self.mode == "chat":
            return False
        return needs_more(text)

    def handle(self, text: str) -> bool:
        """Run one input (a statement, a message or a command); False means quit."""
        if not text.strip():
            return True
        stripped = text.strip()
        if stripped.startswith(":"):
            return self.command(stripped[1:])
        if self.mode == "chat":
            self.message(text.strip())
        else:
            self.calc(text)
        return True

    # -- calculator ------------------------------------------------------------------------

    def calc(self, source: str) -> None:
        try:
            outcome = self.conversation.run(source, "<repl>")
        except ParseError as error:
            self.fail(str(error))
            return
        for warning in outcome.warnings:
            self.warn(f"warning: {warning}")
        for line in outcome.output:
            self.say(line)
        for call in outcome.calls:
            self.note_call(call.kind, call.args, call.result.result)
        if outcome.error is not None:
            self.fail(str(outcome.error))
        elif outcome.has_value:
            self.say(show_value(outcome.value))

    def note_call(self, kind: str, args: dict[str, str], result: int) -> None:
        line = self.transcript.call(kind, args, result)
        placed = self.conversation.telephony.forward is not None
        self.say(f"{line}  ({'placed through Mango Office' if placed else 'recorded, not placed'})")

    # -- talking to the bot ----------------------------------------------------------------

    def turn(self, action: Callable[[], Any], line: str) -> None:
        from botlang.testing.format import button_row
        from botlang.testing.runner import answer_lines

        if self.conversation.bot is None:
            self.fail("no bot is loaded: :load FILE.bot first")
            return
        try:
            turn = action()
        except (KeyError, LookupError, ValueError) as exc:
            self.fail(str(exc.args[0]) if exc.args else "unknown block")
            return
        except BotlangError as error:
            self.fail(str(error))
            return
        flow = self.conversation.bot.flow
        self.transcript.action(line)
        for message in turn.messages:
            self.transcript.message(message, flow)
            lines = answer_lines(message.text) if message.text else ["<"]
            lines.extend(button_row([b.text for b in row]) for row in message.buttons)
            for shown in lines:
                self.say(shown)
            for row in message.buttons:
                actions = [b.describe() for b in row if b.describe() != f"[{b.text}]"]
                if actions:
                    self.say(f"  ({' '.join(actions)})")
            if message.hint:
                self.say(f"  (without buttons: {message.hint})")
        for message in turn.undelivered:
            self.say(f"(not delivered to a telephony-only client) {message.text}")
        for call in turn.calls:
            self.note_call(call.kind, call.args, call.result.result)
        for problem in turn.errors:
            self.transcript.error(problem)
            self.fail(str(problem))
        if not turn.messages and not turn.calls and not turn.errors:
            self.say("(no answer)")

    def message(self, text: str) -> None:
        self.turn(lambda: self.conversation.say(text), f"> {text}")

    # -- commands --------------------------------------------------------------------------

    def command(self, text: str) -> bool:
        name, _, rest = text.partition(" ")
        name, rest = name.strip().lower(), rest.strip()
        if name in ("quit", "exit", "q"):
            return False
        handler = getattr(self, f"cmd_{name}", None)
        if name not in _COMMAND_NAMES or handler is None:
            import difflib

            close = difflib.get_close_matches(name, sorted(_COMMAND_NAMES), n=1)
            hint = f"; did you mean :{close[0]}?" if close else ""
            self.fail(f"unknown command ':{name}'{hint} (:help lists them)")
            return True
        handler(rest)
        return True

    def cmd_help(self, rest: str) -> None:
        self.say("Plain lines are calculator statements (calc mode) or, with a flow loaded,")
        self.say("messages to the bot (chat mode). Commands:")
        width = max(len(f":{c.name} {c.args}") for c in COMMANDS)
        for c in COMMANDS:
            self.say(f"  {f':{c.name} {c.args}'.ljust(width)}  {c.help}")

    def cmd_load(self, rest: str) -> None:
        if not rest:
            self.fail(":load needs a file: :load booking.bot")
            return
        self.load(Path(os.path.expanduser(rest)))

    def cmd_reload(self, rest: str) -> None:
        if self.loaded is None:
            self.fail("nothing is loaded yet")
            return
        self.load(self.loaded)

    def load(self, path: Path) -> None:
        """Load a flow (``.bot``) or run a calculator script as the current client."""
        from botlang.flow import FLOW_SUFFIX, FlowError

        if path.suffix == FLOW_SUFFIX:
            try:
                bot = self.conversation.load_flow(path)
            except FlowError as error:
                self.fail(str(error))
                return
            except OSError as exc:
                self.fail(f"cannot read {path}: {exc.strerror}")
                return
            self.loaded = path
            self.mode = "chat"
            flow = bot.flow
            for warning in flow.warnings:
                self.warn(warning.format())
            self.say(
                f"loaded {path} ({len(flow.blocks)} blocks); plain lines are now messages "
                "to the bot (:mode calc for statements)"
            )
            return
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            self.fail(f"cannot read {path}: {exc.strerror}")
            return
        self.loaded = path
        try:
            outcome = self.conversation.run(source, str(path))
        except ParseError as error:
            self.fail(str(error))
            return
        for line in outcome.output:
            self.say(line)
        for call in outcome.calls:
            self.note_call(call.kind, call.args, call.result.result)
        if outcome.error is not None:
            self.fail(str(outcome.error))
        else:
            self.say(f"ran {path}")

    def cmd_mode(self, rest: str) -> None:
        if rest not in ("calc", "chat"):
            self.fail(f"mode is 'calc' or 'chat' (now: {self.mode})")
            return
        if rest == "chat" and self.conversation.bot is None:
            self.fail("chat mode needs a bot: :load FILE.bot first")
            return
        self.mode = rest

    def cmd_calc(self, rest: str) -> None:
        self.calc(rest)

    def cmd_msg(self, rest: str) -> None:
        self.message(rest)

    def cmd_say(self, rest: str) -> None:
        try:
            self.say(self.conversation.render(rest))
        except BotlangError as error:
            self.fail(str(error))

    def cmd_event(self, rest: str) -> None:
        from botlang.testing.format import parse_test_source

        if not rest:
            self.fail(":event needs the event's text, e.g. :event busy")
            return
        parsed = parse_test_source(f"test: repl\n  event {rest}\n", "<event>")
        if parsed.errors:
            self.fail(parsed.errors[0].message)
            return
        step = parsed.tests[0].steps[0]
        self.turn(lambda: self.conversation.event(step.text, step.value or None), f"event {rest}")

    def cmd_enter(self, rest: str) -> None:
        if not rest:
            self.fail(":enter needs a block id")
            return
        self.turn(lambda: self.conversation.enter(rest), f"enter {rest}")

    def cmd_press(self, rest: str) -> None:
        from botlang.testing.format import parse_test_source

        if not rest:
            shown = " ".join(b.describe() for b in self.conversation.offered) or "none"
            self.fail(f":press needs a button's label; on offer: {shown}")
            return
        parsed = parse_test_source(f"test: repl\n  press {rest}\n", "<press>")
        if parsed.errors:
            self.fail(parsed.errors[0].message)
            return
        step = parsed.tests[0].steps[0]
        latitude, longitude = step.value or (None, None)
        self.turn(
            lambda: self.conversation.press(step.name, latitude=latitude, longitude=longitude),
            f"press {rest}",
        )

    def cmd_blocks(self, rest: str) -> None:
        bot = self.conversation.bot
        if bot is None:
            self.fail("no bot is loaded")
            return
        current = self.conversation.block
        for block_id, block in bot.flow.blocks.items():
            mark = "*" if block_id == current else " "
            title = f"  {block.title}" if block.title else ""
            self.say(f"{mark} {block_id}{title}")

    def cmd_vars(self, rest: str) -> None:
        conversation = self.conversation
        if rest:
            self.say(f"{rest} = {show_value(conversation.get(rest))}")
            return
        scopes = conversation.scopes()
        sections = [
            ("deal", scopes["deal"]),
            ("client", scopes["client"]),
            ("project", scopes["project"]),
            ("constants", conversation.constants),
        ]
        shown = False
        for title, values in sections:
            if not values:
                continue
            shown = True
            self.say(f"{title}:")
            for name in sorted(values):
                self.say(f"  {name} = {show_value(values[name])}")
        if not shown:
            self.say("(no variables)")
        client = conversation.client
        self.say(
            f"client {client.client_id}, phone {client.phone}, client_type {client.client_type}"
            + (f", block {conversation.block}" if conversation.bot is not None else "")
        )

    def cmd_client(self, rest: str) -> None:
        conversation = self.conversation
        if rest:
            parts = rest.split()
            try:
                kind = parse_client_type(parts[1]) if len(parts) > 1 else 6
                before = conversation.client_id
                conversation.switch_client(parts[0], kind)
                if conversation.client_id != before:
                    self.transcript.restart(conversation.now)  # a test speaks for one client
            except ValueError as exc:
                self.fail(str(exc))
                return
        client = conversation.client
        self.say(
            f"client {client.client_id}: phone {client.phone}, client_type {client.client_type}"
        )

    def cmd_clients(self, rest: str) -> None:
        for client in self.conversation.clients():
            mark = "*" if client.client_id == self.conversation.client_id else " "
            self.say(f"{mark} {client.client_id}  {client.phone}  client_type {client.client_type}")

    def cmd_reset(self, rest: str) -> None:
        self.conversation.reset()
        self.transcript.restart(self.conversation.now)
        self.say("the client's variables and place in the flow are forgotten")

    def cmd_calls(self, rest: str) -> None:
        from botlang.testing.runner import describe_call

        calls = self.conversation.calls
        if not calls:
            self.say("(no calls)")
        for call in calls:
            self.say(describe_call(call.kind, call.args, call.result.result))

    def cmd_outcome(self, rest: str) -> None:
        words = rest.split()
        try:
            if len(words) == 2 and words[1] == "next":
                self.conversation.next_calls(words[0])
                self.transcript.setting(f"next calls: {words[0]}")
                self.say(f"the next call ends: {words[0]}")
            elif len(words) == 1:
                self.conversation.calls_answer(words[0])
                self.transcript.setting(f"calls: {words[0]}")
                self.say(f"calls end: {words[0]}")
            else:
                self.fail(":outcome OUTCOME [next], e.g. :outcome busy")
        except ValueError as exc:
            self.fail(str(exc))

    def cmd_clock(self, rest: str) -> None:
        if rest:
            try:
                self.conversation.now = parse_clock(rest)
            except ValueError as exc:
                self.fail(str(exc))
                return
            if self.transcript.lines:
                moment = self.conversation.now
                self.transcript.setting(f"clock: {clock_text(moment) if moment else 'now'}")
            else:
                self.transcript.restart(self.conversation.now)
        now = self.conversation.current_time().strftime("%Y-%m-%d %H:%M")
        fixed = "fixed" if self.conversation.now is not None else "real time"
        self.say(f"{now} ({fixed})")

    def cmd_doc(self, rest: str) -> None:
        from botlang.core.compiler import default_registry

        registry = default_registry()
        fn = registry.get(rest)
        if fn is None:
            self.fail(registry.call_problem(rest, 0) or f"unknown function '{rest}'")
            return
        aliases = f"  (also {', '.join(fn.aliases)})" if fn.aliases else ""
        self.say(f"{fn.signature()}{aliases}")
        if fn.doc:
            self.say(f"  {fn.doc}")

    def cmd_check(self, rest: str) -> None:
        from botlang.tools.checker import check_path

        if self.loaded is None:
            self.fail("nothing is loaded to check")
            return
        found = check_path(str(self.loaded))
        for diagnostic in found:
            self.warn(diagnostic.format())
        self.say(
            f"{sum(d.severity == 'error' for d in found)} error(s), "
            f"{sum(d.severity != 'error' for d in found)} warning(s)"
        )

    def cmd_save(self, rest: str) -> None:
        if not rest:
            self.fail(":save needs a file name, e.g. :save greeting.bottest")
            return
        target = Path(os.path.expanduser(rest))
        loaded = self.loaded
        flow_path = loaded if loaded is not None and loaded.suffix == ".bot" else None
        client = self.conversation.client
        text = self.transcript.to_bottest(
            target.stem,
            target=target,
            flow_path=flow_path,
            client_type=client.client_type,
            phone=client.phone,
        )
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.fail(f"cannot write {target}: {exc.strerror}")
            return
        self.say(f"saved {len(self.transcript)} lines to {target}")


# -- the terminal front end ------------------------------------------------------------------


_TOKEN = re.compile(
    r"""(?P<comment>/\*.*?(?:\*/|\Z))
      | (?P<string>"(?:[^"\\]|\\.)*(?:"|\Z)|'(?:[^'\\]|\\.)*(?:'|\Z))
      | (?P<template>\#\{|\})
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<name>[^\W\d]\w*)
      | (?P<operator>==|!=|<=|>=|&&|\|\||\*\*|[-+*/%^<>=!])
      | (?P<other>.)""",
    re.S | re.X,
)


def highlight(text: str, functions: frozenset[str]) -> Iterator[tuple[str, str]]:
    """``(style, text)`` pieces of calculator source, for the prompt's lexer."""
    from botlang.core.runtime.scopes import SYSTEM_VARIABLES

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group()
        if kind == "name":
            after = text[match.end() : match.end() + 1]
            if value in KEYWORDS:
                kind = "keyword"
            elif value in SCOPE_PREFIXES and after == ".":
                kind = "scope"
            elif value in functions and text[match.end() :].lstrip().startswith("("):
                kind = "function"
            elif value in SYSTEM_VARIABLES:
                kind = "system"
        yield (f"class:{kind}" if kind not in ("other", "name") else "", value)


def _lexer(repl: Repl) -> Any:
    from prompt_toolkit.lexers import Lexer

    from botlang.core.compiler import default_registry

    functions = frozenset(default_registry().names())

    class BotlangLexer(Lexer):
        """Highlights statements and :commands; chat messages stay plain."""

        def lex_document(self, document: Any) -> Callable[[int], list[tuple[str, str]]]:
            text = document.text
            stripped = text.lstrip()
            pieces: list[tuple[str, str]] = []
            if stripped.startswith(":"):
                lead = text[: len(text) - len(stripped)]
                word = re.match(r":\S*", stripped).group()  # type: ignore[union-attr]
                pieces = [("", lead), ("class:command", word)]
                rest = stripped[len(word) :]
                if word == ":calc":
                    pieces.extend(highlight(rest, functions))
                else:
                    pieces.append(("", rest))
            elif repl.mode == "chat":
                pieces = [("", text)]
            else:
                pieces = list(highlight(text, functions))
            lines: list[list[tuple[str, str]]] = [[]]
            for style, piece in pieces:
                parts = piece.split("\n")
                for index, part in enumerate(parts):
                    if index:
                        lines.append([])
                    if part:
                        lines[-1].append((style, part))
            return lambda number: lines[number] if number < len(lines) else []

    return BotlangLexer()


def _completer(repl: Repl) -> Any:
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    from botlang.core.compiler import default_registry
    from botlang.core.runtime.scopes import SYSTEM_VARIABLES
    from botlang.flow import Trigger

    registry = default_registry()
    paths = PathCompleter(expanduser=True)

    class BotlangCompleter(Completer):
        """Commands, builtins, variables, block ids, and what the bot understands now."""

        def get_completions(self, document: Any, complete_event: Any) -> Iterable[Any]:
            text = document.text_before_cursor
            stripped = text.lstrip()
            conversation = repl.conversation
            blocks = list(conversation.bot.flow.blocks) if conversation.bot else []
            if stripped.startswith(":"):
                name, space, rest = stripped[1:].partition(" ")
                if not space:
                    for command in COMMANDS:
                        if command.name.startswith(name):
                            yield Completion(
                                command.name,
                                -len(name),
                                display_meta=command.help,
                            )
                    return
                if name in ("load", "save"):
                    yield from paths.get_completions(Document(rest, len(rest)), complete_event)
                    return
                if name == "enter":
                    yield from _words(rest, blocks, "block")
                    return
                if name == "press":
                    labels = [b.text for b in conversation.offered]
                    yield from _words(rest, labels, "button")
                    return
                if name == "doc":
                    yield from _words(rest, registry.names(), "function")
                    return
                if name not in ("calc", "say"):
                    return
                text = rest
            elif repl.mode == "chat":
                bot = conversation.bot
                if bot is None:
                    return
                seen: list[str] = [b.text for b in conversation.offered]
                for arrow in bot.flow.candidates(conversation.block, Trigger.MESSAGE):
                    condition = arrow.condition
                    if condition is None or condition.mode.value == "regex":
                        continue
                    seen.extend(a for a in condition.alternatives if a not in seen)
                for alternative in seen:
                    if alternative.lower().startswith(stripped.lower()):
                        yield Completion(alternative, -len(stripped), display_meta="the bot knows")
                return
            match = re.search(r"[^\W\d]\w*\Z", text)
            word = match.group() if match else ""
            if not word:
                return
            for name in registry.names():
                if name.startswith(word):
                    fn = registry.get(name)
                    meta = fn.signature() if fn is not None else ""
                    yield Completion(name, -len(word), display_meta=meta)
            names = set(conversation.variables()) | set(SYSTEM_VARIABLES)
            for name in sorted(names):
                if name.startswith(word):
                    yield Completion(name, -len(word), display_meta="variable")
            yield from _words(word, blocks, "block")
            yield from _words(word, KEYWORDS, "")

    return BotlangCompleter()


def _words(prefix: str, words: Iterable[str], meta: str) -> Iterator[Any]:
    from prompt_toolkit.completion import Completion

    for word in words:
        if word.startswith(prefix):
            yield Completion(word, -len(prefix), display_meta=meta)


STYLE = {
    "keyword": "ansimagenta bold",
    "function": "ansicyan",
    "string": "ansigreen",
    "number": "ansiyellow",
    "comment": "ansibrightblack italic",
    "operator": "ansibrightblack",
    "scope": "ansiblue",
    "system": "ansiblue italic",
    "template": "ansired",
    "command": "ansiblue bold",
}


def interactive(repl: Repl) -> int:
    """The prompt_toolkit loop: history, completion, highlighting, multi-line input."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.styles import Style

    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        history: Any = FileHistory(str(path))
    except OSError:
        from prompt_toolkit.history import InMemoryHistory

        history = InMemoryHistory()
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if repl.needs_more(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    session: Any = PromptSession(
        history=history,
        lexer=_lexer(repl),
        completer=_completer(repl),
        complete_while_typing=False,
        multiline=True,
        key_bindings=bindings,
        style=Style.from_dict(STYLE),
        prompt_continuation=lambda width, line, soft: "." * (width - 1) + " ",
    )
    repl.say("botlang REPL: :help for commands, :quit to leave")
    while True:
        try:
            text = session.prompt(repl.prompt)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not repl.handle(text):
            break
    return 0


def scripted(repl: Repl, lines: Iterable[str]) -> int:
    """Read inputs from lines (no prompts); exit status 1 if any failed."""
    pending = ""
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        pending = f"{pending}\n{line}" if pending else line
        if repl.needs_more(pending):
            continue
        text, pending = pending, ""
        if not repl.handle(text):
            break
    else:
        if pending.strip():
            repl.handle(pending)  # reports what is left unclosed
    return 1 if repl.failures else 0


def register(subparsers: Any) -> None:
    """Add ``repl`` to ``subparsers`` (an argparse subparsers action)."""
    parser = subparsers.add_parser(
        "repl",
        help="interactive calculator and bot conversation, per client",
        description="Try calculator statements, or talk to a bot as a client. Calls are "
        "recorded, never placed, unless --place-calls is given with a --config that has a "
        "[mango] section. Reads lines without prompts when stdin is not a terminal.",
    )
    parser.add_argument("file", nargs="?", help="a .bot flow or a calculator script to load")
    parser.add_argument("--client", metavar="PHONE", help="start as the client with this phone")
    parser.add_argument("--clock", metavar="TIME", help="fix the time, e.g. '2024-01-15 12:00'")
    parser.add_argument(
        "--config", metavar="FILE", help="botlang.toml: the project's flow and Mango account"
    )
    parser.add_argument(
        "--place-calls",
        action="store_true",
        help="place real Mango Office calls through --config's [mango] account "
        "(still spam-guarded and shown by :calls)",
    )
    parser.set_defaults(func=run_repl)


def telephony_from(args: argparse.Namespace) -> tuple[RecordingTelephony, Path | None]:
    """The telephony of the REPL and the studio (recording; forwarding to Mango with
    --place-calls) and the flow named by --config. Raises ValueError with a message for the
    user."""
    if args.place_calls and not args.config:
        raise ValueError("--place-calls needs --config with a [mango] section")
    if not args.config:
        return RecordingTelephony(), None
    from botlang.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    forward = None
    if args.place_calls:
        if config.mango is None:
            raise ValueError(f"{args.config}: --place-calls needs a [mango] section")
        from botlang.telephony.mango import MangoOffice

        forward = MangoOffice(
            config.mango.api_key.get_secret_value(),
            config.mango.api_salt.get_secret_value(),
            base_url=config.mango.base_url,
        )
    return RecordingTelephony(forward=forward), config.project.flow


def run_repl(args: argparse.Namespace) -> int:
    """Handler of ``botlang repl``."""
    try:
        telephony, flow = telephony_from(args)
    except ValueError as exc:
        print(f"botlang repl: {exc}", file=sys.stderr)
        return 2
    conversation = Conversation(telephony=telephony)
    if args.client:
        conversation.switch_client(args.client)
    if args.clock:
        try:
            conversation.now = parse_clock(args.clock)
        except ValueError as exc:
            print(f"botlang repl: {exc}", file=sys.stderr)
            return 2
    repl = Repl(conversation)
    if args.file or flow:
        repl.load(Path(args.file) if args.file else flow)
    if telephony.forward is not None:
        repl.say("calls are PLACED through Mango Office (--place-calls)")
    if sys.stdin.isatty() and sys.stdout.isatty():
        return interactive(repl)
    return scripted(repl, sys.stdin)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``botlang repl`` on its own (``python -m botlang.tools.repl``)."""
    parser = argparse.ArgumentParser(prog="botlang")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(["repl", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
