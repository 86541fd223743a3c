"""The studio's session: one flow file, one conversation with it, and everything the page
shows about them.

:class:`Studio` keeps a :class:`~botlang.testing.Conversation` (a memory store, recorded
telephony, a fixed virtual clock) with the bot of a ``.bot`` file, and a
:class:`~botlang.testing.transcript.Transcript` of the conversation for "save as test".
:meth:`Studio.refresh` reloads the flow when its file has changed: a flow that loads
replaces the bot (the client, its variables and the conversation stay), one that does not
leaves the last good bot in place and its checker errors on the page. :meth:`Studio.state`
is everything the page draws, as JSON-ready data.

Every method is safe to call from several threads (one lock); requests the studio cannot
do raise :class:`StudioError` with a message for the page.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from botlang.core.errors import BotlangError
from botlang.core.runtime.values import to_json_ready
from botlang.flow import Bot, Flow, FlowError, Turn
from botlang.flow.model import ButtonAction
from botlang.server.events import OUTCOMES as CALL_OUTCOMES
from botlang.studio.timers import NoTimers, Timers
from botlang.telephony import RecordingTelephony, codes
from botlang.testing import Conversation, parse_clock, run_file
from botlang.testing.format import TEST_SUFFIX, parse_test_source
from botlang.testing.runner import describe_call, show_value
from botlang.testing.transcript import Transcript, clock_text, event_line, press_line
from botlang.tools.checker import Diagnostic, check_flow_path
from botlang.tools.graph import build_graph, to_mermaid

# The callback texts botlang serve delivers when a Mango call ends.
CALL_EVENTS: tuple[str, ...] = CALL_OUTCOMES
# How far the clock control moves in one press, in seconds.
CLOCK_STEPS = (60, 600, 3600, 86400)
MAX_CHAT_ENTRIES = 2000  # older entries are dropped from the page (the transcript keeps all)
_TEST_NAME = re.compile(r"[\w\- ]{1,80}\Z")

T = TypeVar("T")


class StudioError(ValueError):
    """A request the studio cannot carry out; the message is shown on the page."""


@dataclass(frozen=True)
class _Loaded:
    """What the last look at the flow file found."""

    digest: str
    diagnostics: list[Diagnostic]
    flow: Flow | None  # None: this version does not load


def _located(
    filename: str, line: int, column: int, message: str, source_line: str
) -> dict[str, Any]:
    return {
        "file": filename,
        "line": line,
        "column": column,
        "message": message,
        "source_line": source_line,
        "where": f"{filename}:{line}:{column}",
    }


class Studio:
    """One flow file and a conversation with its bot."""

    def __init__(
        self,
        path: str | Path,
        *,
        telephony: RecordingTelephony | None = None,
        clock: datetime | None = None,
        phone: str | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.path = Path(path)
        self.telephony = telephony if telephony is not None else RecordingTelephony()
        self.timers: Timers = timers if timers is not None else NoTimers()
        self.start_clock = clock or datetime.now().replace(second=0, microsecond=0)
        self.phone = phone
        self._lock = threading.RLock()
        self.version = 0
        self.loaded: _Loaded | None = None
        self.flow: Flow | None = None  # the last flow that loaded
        self._stat: tuple[int, int] | None = None
        self._new_conversation()
        self.refresh()

    # -- the conversation ----------------------------------------------------------------

    def _new_conversation(self) -> None:
        self.telephony.clear()
        self.telephony.set_result(codes.SUCCESS)
        options: dict[str, Any] = {"telephony": self.telephony, "now": self.start_clock}
        if self.phone:
            options["phone"] = self.phone
        self.conversation = Conversation(**options)
        if self.flow is not None:
            self.conversation.attach(Bot(self.flow))
        self.transcript = Transcript(started=self.start_clock)
        self.chat: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.last_turn: dict[str, Any] | None = None
        self.turns = 0
        self.every_outcome = "accepted"
        self.next_outcomes: list[str] = []

    def _locked(self, action: Callable[[], T]) -> T:
        with self._lock:
            return action()

    def restart(self) -> None:
        """A new conversation: a new client, no variables, the clock back at its start."""
        with self._lock:
            self._new_conversation()
            self._note("restarted")

    # -- the flow file ---------------------------------------------------------------------

    def refresh(self) -> bool:
        """Load the flow file again if it has changed; True when it had."""
        with self._lock:
            try:
                stat = self.path.stat()
                key = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                key = None
            if key is not None and key == self._stat and self.loaded is not None:
                return False
            self._stat = key
            return self._load()

    def _load(self) -> bool:
        try:
            source = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            digest = f"unreadable: {reason}"
            if self.loaded is not None and self.loaded.digest == digest:
                return False
            problem = Diagnostic(str(self.path), 1, 1, "error", f"cannot read: {reason}", "io")
            self.loaded = _Loaded(digest, [problem], None)
            self.version += 1
            return True
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        if self.loaded is not None and self.loaded.digest == digest:
            return False
        diagnostics = check_flow_path(str(self.path))
        flow: Flow | None
        try:
            bot = Bot.from_source(source, str(self.path))
        except FlowError:
            flow = None
        else:
            flow = bot.flow
        first = self.loaded is None
        self.loaded = _Loaded(digest, diagnostics, flow)
        self.version += 1
        if flow is not None:
            self.flow = flow
            self.conversation.attach(Bot(flow))
        if not first:
            errors = sum(d.severity == "error" for d in diagnostics)
            self._note("reloaded" if flow is not None else "reload_failed", errors=errors)
        return True

    # -- talking to the bot ----------------------------------------------------------------

    def _bot(self) -> Bot:
        if self.conversation.bot is None:
            raise StudioError("the flow does not load: fix the errors shown, then try again")
        return self.conversation.bot

    def _run(self, line: str, entry: dict[str, Any], action: Callable[[], Turn]) -> None:
        self._bot()
        try:
            turn = action()
        except (KeyError, LookupError, ValueError) as exc:
            raise StudioError(str(exc.args[0]) if exc.args else str(exc)) from None
        except BotlangError as err:
            raise StudioError(err.message) from None
        self.chat.append(entry)
        self._record(line, turn)

    def _record(self, line: str, turn: Turn) -> None:
        flow = self.flow
        self.transcript.turn(line, turn, flow)
        self.turns += 1
        del self.next_outcomes[: len(turn.calls)]  # each call took one queued outcome
        for message in turn.messages:
            self.chat.append(self._bot_entry(message, delivered=True))
        for message in turn.undelivered:
            self.chat.append(self._bot_entry(message, delivered=False))
        placed = self.telephony.forward is not None
        for call in turn.calls:
            self.chat.append(
                {
                    "kind": "call",
                    "line": describe_call(call.kind, call.args, call.result.result),
                    "placed": placed,
                }
            )
        for error in turn.errors:
            located = self._error(error)
            self.errors.append(located)
            self.chat.append({"kind": "error", **located})
        for order in turn.orders:
            self.chat.append({"kind": "order", "order_id": order.order_id, "text": order.text})
        if not turn.messages and not turn.calls and not turn.errors and not turn.undelivered:
            self._note("no_answer")
        self.last_turn = {
            "number": self.turns,
            "block_before": turn.block_before,
            "block": turn.block,
            "blocks": list(turn.blocks),
            "arrows": [a.describe() for a in turn.arrows],
        }
        del self.chat[:-MAX_CHAT_ENTRIES]

    def _bot_entry(self, message: Any, *, delivered: bool) -> dict[str, Any]:
        return {
            "kind": "bot",
            "text": message.text,
            "block": message.block,
            "buttons": [[b.to_dict() for b in row] for row in message.buttons],
            "hint": message.hint,
            "delivered": delivered,
        }

    def _error(self, error: BotlangError) -> dict[str, Any]:
        located = _located(
            error.filename, error.line, error.column, error.message, error.source_line
        )
        located["block"] = self._block_at(error.line) if error.filename == str(self.path) else None
        located["turn"] = self.turns
        return located

    def _note(self, key: str, **values: Any) -> None:
        self.chat.append({"kind": "note", "key": key, "values": to_json_ready(values)})

    def say(self, text: str) -> None:
        """The client writes ``text``."""
        if not text.strip():
            raise StudioError("write a message first")
        with self._lock:
            entry = {"kind": "client", "text": text}
            self._run(f"> {text}", entry, lambda: self.conversation.say(text))

    def press(
        self, index: int, *, latitude: float | None = None, longitude: float | None = None
    ) -> None:
        """Press the ``index``-th button the last turn showed."""
        with self._lock:
            offered = self.conversation.offered
            if not 0 <= index < len(offered):
                raise StudioError("that button is no longer on offer")
            button = offered[index]
            if button.action is ButtonAction.LOCATION and (latitude is None or longitude is None):
                raise StudioError("a location button sends a place: give its coordinates")
            line = press_line(button.text, latitude, longitude)
            entry = {"kind": "press", "text": button.text, "action": button.action.value}
            self._run(
                line,
                entry,
                lambda: self.conversation.press(
                    button.text, latitude=latitude, longitude=longitude
                ),
            )

    def event(self, text: str, variables: str = "") -> None:
        """An event (a callback) for the client, e.g. ``answered``; ``variables`` are
        ``NAME = VALUE; ...`` set as client variables first."""
        text = " ".join(text.split())
        if not text:
            raise StudioError("an event needs its text, e.g. answered")
        line = f"event {text} with {variables.strip()}" if variables.strip() else f"event {text}"
        parsed = parse_test_source(f"test: studio\n  {line}\n", "<event>")
        if parsed.errors:
            raise StudioError(parsed.errors[0].message)
        step = parsed.tests[0].steps[0]
        values: Mapping[str, Any] = step.value or {}
        with self._lock:
            entry = {"kind": "event", "text": step.text, "variables": to_json_ready(values)}
            self._run(
                event_line(step.text, values),
                entry,
                lambda: self.conversation.event(step.text, dict(values) or None),
            )

    def enter(self, block: str) -> None:
        """Put the client in ``block``, as an API call would."""
        with self._lock:
            if self.flow is not None and block not in self.flow.blocks:
                raise StudioError(f"no block '{block}' in the flow")
            self._run(
                f"enter {block}",
                {"kind": "enter", "block": block},
                lambda: self.conversation.enter(block),
            )

    # -- the clock and call outcomes -------------------------------------------------------

    def set_clock(self, moment: datetime) -> None:
        """Move the virtual clock to ``moment`` (any direction)."""
        with self._lock:
            moment = moment.replace(microsecond=0)
            self.conversation.now = moment
            if self.transcript.lines:
                self.transcript.setting(f"clock: {clock_text(moment)}")
            else:
                self.transcript.restart(moment)
            self._note("clock", now=clock_text(moment))
            for turn in self.timers.advance(self.conversation, moment):
                self.chat.append({"kind": "timer", "block": turn.block_before})
                self._record(f"clock: {clock_text(moment)}", turn)

    def set_clock_text(self, text: str) -> None:
        """Move the clock to a time written ``2024-01-15 12:00`` (or ``...T12:00``)."""
        try:
            moment = parse_clock(text.replace("T", " "))
        except ValueError as exc:
            raise StudioError(str(exc)) from None
        if moment is None:
            raise StudioError("the studio's clock is virtual: give a date and a time")
        self.set_clock(moment)

    def advance(self, seconds: int) -> None:
        """Move the virtual clock forward."""
        if seconds <= 0:
            raise StudioError("the clock moves forward by a positive number of seconds")
        with self._lock:
            self.set_clock(self.conversation.current_time() + timedelta(seconds=seconds))

    def set_outcome(self, outcome: str, *, next_only: bool = False) -> None:
        """How calls end from now on (``busy``, ``no-answer``, a Mango code): every later
        call, or only the next one."""
        try:
            codes.outcome_code(outcome)
        except ValueError as exc:
            raise StudioError(str(exc)) from None
        with self._lock:
            if next_only:
                self.conversation.next_calls(outcome)
                self.next_outcomes.append(outcome)
                self.transcript.setting(f"next calls: {outcome}")
            else:
                self.conversation.calls_answer(outcome)
                self.every_outcome = outcome
                self.transcript.setting(f"calls: {outcome}")
            self._note("outcome_next" if next_only else "outcome", outcome=outcome)

    # -- save as test ----------------------------------------------------------------------

    def test_text(self, name: str, target: Path) -> str:
        """The conversation so far as a ``.bottest`` file meant to be written at ``target``."""
        client = self.conversation.client
        return self.transcript.to_bottest(
            name,
            target=target,
            flow_path=self.path,
            client_type=client.client_type,
            phone=client.phone,
        )

    def save(self, name: str, *, overwrite: bool = False) -> dict[str, Any]:
        """Write the conversation as ``NAME.bottest`` beside the flow, then run it: the
        answer says where it went and whether it passes."""
        name = " ".join(name.split())
        if not _TEST_NAME.match(name):
            raise StudioError(
                "a test name is letters, digits, spaces, '-' and '_' (at most 80 characters)"
            )
        with self._lock:
            if not self.transcript.lines:
                raise StudioError("nothing to save yet: talk to the bot first")
            target = self.path.parent / f"{name.replace(' ', '_')}{TEST_SUFFIX}"
            if target.exists() and not overwrite:
                raise StudioError(f"{target.name} exists already; choose another name")
            text = self.test_text(name, target)
            try:
                target.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise StudioError(f"cannot write {target}: {exc.strerror}") from None
            results = run_file(target)
            failures = [r.failure for r in results if not r.passed]
            self._note("saved", file=target.name, passed=not failures)
            return {
                "path": str(target),
                "file": target.name,
                "text": text,
                "passed": bool(results) and not failures,
                "failure": "\n".join(failures),
            }

    # -- what the page shows ---------------------------------------------------------------

    def _block_at(self, line: int) -> str | None:
        """The block whose text holds ``line`` (None: outside any block)."""
        flow = self.flow
        if flow is None:
            return None
        starts = sorted(
            [(b.line, b.id) for b in flow.blocks.values()]
            + [(a.line, None) for a in flow.starting_arrows]
        )
        at = bisect.bisect_right([s[0] for s in starts], line) - 1
        return starts[at][1] if at >= 0 else None

    def _diagram(self) -> dict[str, Any] | None:
        if self.flow is None:
            return None
        graph = build_graph(self.flow)
        return {"mermaid": to_mermaid(graph), "keys": graph.keys}

    def _variables(self) -> dict[str, dict[str, str]]:
        conversation = self.conversation
        scopes = conversation.scopes()
        shown = {
            "deal": scopes["deal"],
            "client": scopes["client"],
            "project": scopes["project"],
            "constants": conversation.constants,
            "system": conversation.system_variables(),
        }
        return {
            scope: {name: show_value(to_json_ready(value)) for name, value in values.items()}
            for scope, values in shown.items()
        }

    def state(self) -> dict[str, Any]:
        """Everything the page shows, JSON-ready."""
        return self._locked(self._state)

    def _state(self) -> dict[str, Any]:
        conversation = self.conversation
        flow = self.flow
        loaded = self.loaded
        assert loaded is not None
        diagnostics = []
        for d in loaded.diagnostics:
            item = _located(d.filename, d.line, d.column, d.message, d.source_line)
            item.update(
                severity=d.severity,
                code=d.code,
                text=d.format(),
                block=self._block_at(d.line),
            )
            diagnostics.append(item)
        blocks = {}
        if flow is not None:
            blocks = {
                b.id: {"title": b.title, "kind": b.kind.value, "line": b.line}
                for b in flow.blocks.values()
            }
        client = conversation.client
        placed = self.telephony.forward is not None
        calls = [
            {
                "kind": call.kind,
                "args": dict(call.args),
                "result": call.result.result,
                "ok": call.result.ok,
                "message": call.result.message,
                "line": describe_call(call.kind, call.args, call.result.result),
                "placed": placed,
            }
            for call in conversation.calls
        ]
        now = conversation.current_time()
        return {
            "version": self.version,
            "flow": {
                "path": str(self.path),
                "name": self.path.name,
                "title": flow.title if flow is not None else "",
                "loads": loaded.flow is not None,
                "stale": loaded.flow is None and flow is not None,
                "diagram": self._diagram(),
                "blocks": blocks,
                "diagnostics": diagnostics,
            },
            "client": {
                "id": client.client_id,
                "phone": client.phone,
                "type": client.client_type,
                "block": conversation.block,
            },
            "clock": {"now": now.isoformat(timespec="seconds"), "text": clock_text(now)},
            "clock_steps": list(CLOCK_STEPS),
            "chat": self.chat,
            "offered": [
                {"index": i, **b.to_dict(), "sends": b.sends}
                for i, b in enumerate(conversation.offered)
            ],
            "last_turn": self.last_turn,
            "variables": self._variables(),
            "calls": calls,
            "calls_placed": placed,
            "outcome": {"every": self.every_outcome, "next": list(self.next_outcomes)},
            "outcomes": list(codes.OUTCOMES),
            "call_events": list(CALL_EVENTS),
            "timers": {
                "supported": self.timers.supported,
                "pending": [t.to_dict() for t in self.timers.pending(conversation)],
            },
            "errors": self.errors,
            "transcript_lines": len(self.transcript),
        }
