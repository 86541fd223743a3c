"""A conversation written down as it happens, in ``.bottest`` lines, to be saved as a test.

The REPL's ``:save`` and the studio's "save as test" both write through a
:class:`Transcript`: each action (``> text``, ``press``, ``event``, ``enter``) followed by
everything the runner requires to be accounted for — the bot's messages (with their
buttons), the calls it asked for and its runtime errors — and the settings that change
what comes next (``clock:``, ``calls:``, ``next calls:``). :meth:`Transcript.to_bottest`
gives the file, which passes when run against the same flow.

A message from a block with random variants (``{Привет|Здравствуйте}``) is written as a
``<~`` line whose pattern accepts every variant, so the test does not depend on the draw.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botlang.core.errors import BotlangError
from botlang.flow import BotMessage, Flow, Turn
from botlang.testing.conversation import CLIENT_TYPES
from botlang.testing.format import button_row
from botlang.testing.runner import answer_lines, describe_call, normalize_text, show_value

_CLIENT_WORDS = {code: word for word, code in CLIENT_TYPES.items()}


def clock_text(moment: datetime) -> str:
    """A time as a test file's ``clock:`` writes it (seconds only when there are any)."""
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment.second else f"{moment:%Y-%m-%d %H:%M}"


def message_lines(message: BotMessage, flow: Flow | None = None) -> list[str]:
    """A bot message in test-file form: ``<`` lines (or a ``<~`` pattern for a message with
    random variants), then its buttons, a ``[..]`` line per row."""
    block = flow.blocks.get(message.block) if flow is not None else None
    text = message.text
    if not text:
        lines = ["<"]
    elif block is not None and block.message is not None and block.message.has_variants:
        lines = [f"<~ {block.message.pattern()}"]
    elif normalize_text(text) == "...":  # '< ...' would mean "the rest is not checked"
        lines = [r"<~ \A\s*\.\.\.\s*\Z"]
    else:
        lines = answer_lines(text)
    rows = [[b.text for b in row] for row in message.buttons]
    if all("[" not in label and "]" not in label for row in rows for label in row):
        lines.extend(button_row(row) for row in rows)
    elif not text:
        lines = [r"<~ \A\Z"]  # labels a '[..]' line cannot hold: the buttons go unchecked
    return lines


def event_line(text: str, variables: Mapping[str, Any] | None = None) -> str:
    """``event TEXT [with NAME = VALUE; ...]``."""
    if not variables:
        return f"event {text}"
    values = "; ".join(f"{name} = {show_value(value)}" for name, value in variables.items())
    return f"event {text} with {values}"


def press_line(label: str, latitude: float | None = None, longitude: float | None = None) -> str:
    """``press LABEL [at LAT LON]``."""
    if latitude is None or longitude is None:
        return f"press {label}"
    return f"press {label} at {latitude} {longitude}"


@dataclass
class Transcript:
    """The lines of one client's conversation so far, and the time it started at (None:
    the real time, so the saved test runs on the runner's default clock)."""

    started: datetime | None = None
    lines: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def restart(self, started: datetime | None) -> None:
        """Forget everything: a new conversation starts at ``started``."""
        self.started = started
        self.lines.clear()

    def action(self, line: str) -> None:
        """An action line: ``> text``, ``press ...``, ``event ...``, ``enter BLOCK``."""
        self.lines.append(line)

    def setting(self, line: str) -> None:
        """A setting that applies from here on: ``clock: ...``, ``calls: busy``, ..."""
        self.lines.append(line)

    def message(self, message: BotMessage, flow: Flow | None = None) -> list[str]:
        """Write down a message the bot sent; returns its lines."""
        lines = message_lines(message, flow)
        self.lines.extend(lines)
        return lines

    def call(self, kind: str, args: dict[str, str], result: int | None) -> str:
        """Write down a call the bot asked for (with how it ended); returns the line."""
        line = describe_call(kind, args, result)
        self.lines.append(line)
        return line

    def error(self, error: BotlangError) -> str:
        """Write down a runtime error the turn had; returns the line."""
        line = f"expect error {error.message.splitlines()[0] if error.message else ''}".rstrip()
        self.lines.append(line)
        return line

    def turn(self, action: str, turn: Turn, flow: Flow | None = None) -> None:
        """An action and all that its turn did, as the runner checks it."""
        self.action(action)
        for message in turn.messages:
            self.message(message, flow)
        for call in turn.calls:
            self.call(call.kind, call.args, call.result.result)
        for error in turn.errors:
            self.error(error)

    def to_bottest(
        self,
        name: str,
        *,
        target: Path,
        flow_path: Path | None,
        client_type: int,
        phone: str | None,
    ) -> str:
        """The whole test file: ``bot:`` (relative to where the file goes), the clock the
        conversation started at, the client, then one test of every line."""
        lines = []
        if flow_path is not None:
            bot = os.path.relpath(flow_path.resolve(), target.resolve().parent)
            lines.append(f"bot: {Path(bot).as_posix()}")
        if self.started is not None:
            lines.append(f"clock: {clock_text(self.started)}")
        kind = _CLIENT_WORDS.get(client_type, str(client_type))
        lines.append(f"client: {kind} {phone}" if phone else f"client: {kind}")
        lines.extend(["", f"test: {name}"])
        lines.extend(f"  {line}" for line in self.lines)
        return "\n".join(lines) + "\n"
