"""The runtime session: one client's message or event through a flow, in one transaction.

:class:`Bot` holds a loaded :class:`~botlang.flow.model.Flow` and what runs it (telephony
adapter, clock, constants). ``bot.handle_message(store, client_id, text)`` and
``bot.handle_event(store, client_id, text, variables=...)`` each open the client's store
transaction, pick the arrow, enter blocks (running calculators and rendering messages) and
return a :class:`Turn` describing what the bot said and did. Everything a turn changes is
committed together or not at all; a telephony call already placed cannot be taken back.

Runtime errors follow the language's rule: a failing statement stops its calculator, the
assignments before it stand, the block's message is still rendered, and the error is
recorded on the turn and on the client's session. A turn never raises for a script's
error; it raises for an unknown client, a store failure, or an input text over the limit.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from botlang.clients.matching import ClientCannotReceiveMessages, can_receive_messages
from botlang.core.builtins import CallContext, Registry
from botlang.core.errors import BotlangError, LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.scopes import Environment
from botlang.core.runtime.values import to_json_ready, truthy
from botlang.flow.loader import load_flow, parse_flow, shift_message_error
from botlang.flow.matching import condition_matches
from botlang.flow.model import Arrow, Block, Flow, Trigger
from botlang.store.base import ClientRecord, ClientState, Store, encode
from botlang.telephony import CallResult, GuardedTelephony, Telephony, guarded

# message_from_outside values (Salebot's)
FROM_CLIENT = 0
FROM_API = 1
FROM_CRM = 2
FROM_CALLBACK = 3
FROM_TELEPHONY = 5

SESSION_BLOCK = "block"
SESSION_ERRORS = "errors"
SESSION_NAME = "name"


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sends (or would send): its text and the block it came from."""

    text: str
    block: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "block": self.block}


@dataclass(frozen=True)
class TelephonyCall:
    """A call a block asked for, with the arguments as given and the adapter's answer."""

    kind: str  # "employee" | "group" | "hangup" | "sms"
    args: dict[str, str]
    result: CallResult
    block: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.args, "block": self.block, **self.result.as_dict()}


@dataclass
class Turn:
    """What handling one message or event did.

    ``messages`` are the texts sent, in order; ``undelivered`` are messages a client who
    cannot be written to (a telephony-only client) did not get. ``changes`` maps each scope
    (``client``, ``deal``, ``project``) to the variables set, with their new values, and
    ``removed`` to the variables deleted. ``errors`` are the runtime errors, located in the
    flow file.
    """

    client_id: str
    kind: str  # "message" | "event" | "enter"
    text: str
    block_before: str | None
    block: str | None = None
    blocks: list[str] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    messages: list[BotMessage] = field(default_factory=list)
    undelivered: list[BotMessage] = field(default_factory=list)
    calls: list[TelephonyCall] = field(default_factory=list)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    errors: list[BotlangError] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """The texts of the messages sent."""
        return [m.text for m in self.messages]

    @property
    def matched(self) -> bool:
        """Whether the turn entered any block."""
        return bool(self.blocks)

    @property
    def ok(self) -> bool:
        """Whether the turn ran without runtime errors."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (errors as ``FILE:LINE:COL``-style dicts)."""
        return {
            "client_id": self.client_id,
            "kind": self.kind,
            "text": self.text,
            "block_before": self.block_before,
            "block": self.block,
            "blocks": list(self.blocks),
            "arrows": [a.describe() for a in self.arrows],
            "messages": [m.to_dict() for m in self.messages],
            "undelivered": [m.to_dict() for m in self.undelivered],
            "calls": [c.to_dict() for c in self.calls],
            "changes": to_json_ready(self.changes),
            "removed": self.removed,
            "errors": [e.to_dict() for e in self.errors],
            "output": list(self.output),
        }


@dataclass(frozen=True)
class TurnRequest:
    """What starts a turn: a client's message, an event (a callback text), or an entry
    into a block by API. Build one with :meth:`message`, :meth:`event` or :meth:`enter`."""

    kind: str  # "message" | "event" | "enter"
    text: str
    trigger: Trigger
    message_from_outside: int
    name: str | None = None
    variables: Mapping[str, Any] | None = None
    target: str | None = None

    @classmethod
    def message(
        cls, text: str, *, message_from_outside: int = FROM_CLIENT, name: str | None = None
    ) -> TurnRequest:
        """The client wrote ``text`` (a button press arrives the same way)."""
        return cls("message", _text(text), Trigger.MESSAGE, message_from_outside, name=name)

    @classmethod
    def event(
        cls,
        text: str,
        *,
        variables: Mapping[str, Any] | None = None,
        message_from_outside: int = FROM_TELEPHONY,
    ) -> TurnRequest:
        """An event such as a finished call; ``variables`` are set as client variables
        first, then only callback arrows are checked."""
        return cls(
            "event", _text(text), Trigger.CALLBACK, message_from_outside, variables=variables
        )

    @classmethod
    def enter(
        cls, block_id: str, *, text: str = "", message_from_outside: int = FROM_API
    ) -> TurnRequest:
        """Put the client in ``block_id`` as if an arrow led there."""
        return cls("enter", _text(text), Trigger.NOW, message_from_outside, target=block_id)


def _text(text: object) -> str:
    return "" if text is None else str(text)


class _TurnTelephony(GuardedTelephony):
    """The turn's guarded adapter (the bot's, or the one given to :meth:`Bot.turn`): every
    call goes through it as is, and is noted on the turn."""

    def __init__(self, shared: GuardedTelephony, note: Callable[..., None]) -> None:
        super().__init__(shared.inner, shared.guard)
        self._shared = shared
        self._note = note

    def employee_call(self, extension: object, phone: object) -> CallResult:
        result = self._shared.employee_call(extension, phone)
        self._note("employee", {"extension": str(extension), "phone": str(phone)}, result)
        return result

    def group_call(self, group: object, line_number: object, phone: object) -> CallResult:
        result = self._shared.group_call(group, line_number, phone)
        args = {"group": str(group), "line_number": str(line_number), "phone": str(phone)}
        self._note("group", args, result)
        return result

    def hangup(self, call_id: object) -> CallResult:
        result = self._shared.hangup(call_id)
        self._note("hangup", {"call_id": str(call_id)}, result)
        return result

    def send_sms(
        self, extension: object, phone: object, text: str, sender: str | None = None
    ) -> CallResult:
        result = self._shared.send_sms(extension, phone, text, sender)
        self._note("sms", {"extension": str(extension), "phone": str(phone)}, result)
        return result


def system_variables(
    now: datetime,
    client: ClientRecord,
    *,
    question: str | None,
    block: str | None,
    message_from_outside: int,
    name: str | None,
) -> dict[str, Any]:
    """The read-only variables (SYSTEM_VARIABLES) a run sees, for a client at ``now``."""
    return {
        "question": question,
        "message_id": block,
        "message_from_outside": message_from_outside,
        "current_date": now.strftime("%d.%m.%Y"),
        "current_time": now.strftime("%H:%M"),
        "next_day": (now + timedelta(days=1)).strftime("%d.%m.%Y"),
        "weekday": now.isoweekday(),
        "timestamp": int(now.timestamp()),
        "client_id": client.client_id,
        "client_type": client.client_type,
        "platform_id": client.phone or client.client_id,
        "name": name,
        "phone": client.phone,
    }


class ScopedClientAccess:
    """``get_client_var``/``set_client_var`` for one run: this client through the run's
    environment (so the change is part of the turn), others through the store."""

    def __init__(self, store: Store, client_id: str, env: Environment) -> None:
        self.store = store
        self.client_id = client_id
        self.env = env

    def get_client_var(self, client_id: str, name: str) -> Any:
        if str(client_id) == self.client_id:
            return self.env.scopes["client"].get(name)
        return self.store.get_client_var(str(client_id), name)

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        if str(client_id) == self.client_id:
            self.env.assign("client", name, value)
        else:
            self.store.set_client_var(str(client_id), name, value)


def _texts(scope: Mapping[str, Any]) -> dict[str, str]:
    return {name: encode(value) for name, value in scope.items()}


class _Run:
    """One turn in progress, inside the client's transaction."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        state: ClientState,
        turn: Turn,
        trigger: Trigger,
        message_from_outside: int,
        now: datetime,
        telephony: Telephony | None = None,
    ) -> None:
        self.bot = bot
        self.flow = bot.flow
        self.limits = bot.limits
        self.state = state
        self.turn = turn
        self.trigger = trigger
        client = state.client
        self.can_write = can_receive_messages(client)
        current = state.session.get(SESSION_BLOCK)
        self.current: str | None = current if current in self.flow.blocks else None
        turn.block_before = self.current
        turn.block = self.current
        self.before = {
            "client": _texts(state.client_vars),
            "deal": _texts(state.deal_vars),
            "project": _texts(state.project_vars),
        }
        self.system = system_variables(
            now,
            client,
            question=turn.text,
            block=self.current,
            message_from_outside=message_from_outside,
            name=state.session.get(SESSION_NAME),
        )
        self.env = Environment(
            state.deal_vars,
            client=state.client_vars,
            project=state.project_vars,
            constants=bot.constants,
            system=self.system,
            limits=self.limits,
        )
        adapter = telephony if telephony is not None else bot.telephony
        turn_telephony = None
        if adapter is not None:
            shared = guarded(adapter)
            assert shared is not None
            turn_telephony = _TurnTelephony(shared, self.note_call)
        self.ctx = CallContext(
            telephony=turn_telephony,
            clients=ScopedClientAccess(store, client.client_id, self.env),
            limits=self.limits,
            rng=bot.rng,
            clock=lambda: now,
            client_id=client.client_id,
        )

    # -- bookkeeping -----------------------------------------------------------------------

    def note_call(self, kind: str, args: dict[str, str], result: CallResult) -> None:
        self.turn.calls.append(TelephonyCall(kind, args, result, self.current))

    def record(self, err: BotlangError) -> None:
        if err.source is None or err.filename == self.flow.filename:
            # Calculators are compiled from padded copies of their lines; show the file.
            err.source, err.filename = self.flow.source, self.flow.filename
        self.turn.errors.append(err)

    @property
    def out_of_steps(self) -> bool:
        return self.ctx.steps >= self.limits.max_steps

    def set_system(self, name: str, value: Any) -> None:
        self.system[name] = value
        self.env.view[name] = value

    # -- the turn --------------------------------------------------------------------------

    def preset(self, variables: Mapping[str, Any]) -> None:
        """Set client variables that come with an event, before any arrow is checked."""
        for name, value in variables.items():
            try:
                self.env.assign("client", str(name), value)
            except BotlangError as err:
                err.filename = "<event>"
                self.turn.errors.append(err)

    def run(self, target: str | None = None) -> None:
        if target is None:
            arrow = self.select(self.current, self.trigger)
            if arrow is not None:
                self.turn.arrows.append(arrow)
                target = arrow.target
            elif self.trigger is Trigger.MESSAGE and self.current is None:
                target = self.flow.entry
        entered = 0
        while target is not None:
            last = self.turn.arrows[-1] if self.turn.arrows else None
            if entered >= self.limits.max_blocks_per_turn:
                self.record(
                    LimitExceeded(
                        f"more than {self.limits.max_blocks_per_turn} blocks entered for one "
                        "message; arrows without conditions go round in a loop",
                        line=last.line if last else 1,
                        column=last.column if last else 1,
                    )
                )
                break
            if self.out_of_steps:
                if not any(isinstance(e, LimitExceeded) for e in self.turn.errors):
                    self.record(
                        LimitExceeded(
                            f"step budget of {self.limits.max_steps:,} exhausted before "
                            f"block '{target}'",
                            line=last.line if last else 1,
                            column=last.column if last else 1,
                        )
                    )
                break
            entered += 1
            self.enter(self.flow.blocks[target])
            arrow = self.select(target, Trigger.NOW)
            target = None
            if arrow is not None:
                self.turn.arrows.append(arrow)
                target = arrow.target

    def select(self, block_id: str | None, trigger: Trigger) -> Arrow | None:
        """The first arrow, by priority, whose text condition and comparison hold."""
        text = self.turn.text
        for arrow in self.flow.candidates(block_id, trigger):
            if arrow.condition is not None:
                try:
                    if not condition_matches(arrow.condition, text, self.limits):
                        continue
                except BotlangError as err:
                    self.record(err)
                    continue
            if arrow.comparison is not None:
                try:
                    if not truthy(arrow.comparison.evaluate_in(self.env, self.ctx)):
                        continue
                except BotlangError as err:
                    self.record(err)
                    if self.out_of_steps:
                        return None
                    continue
            return arrow
        return None

    def enter(self, block: Block) -> None:
        self.current = block.id
        self.turn.blocks.append(block.id)
        self.turn.block = block.id
        self.set_system("message_id", block.id)
        if block.calculator is not None:
            try:
                block.calculator.execute(self.env, self.ctx)
            except BotlangError as err:
                self.record(err)
        if block.message is None or block.message.text.strip() == "#{none}":
            return
        try:
            text = block.message.render_in(self.env, self.ctx)
        except BotlangError as err:
            self.record(shift_message_error(err, block.message_line, block.message_indent))
            return
        stripped = text.strip()
        if not stripped or stripped == "#{none}":
            return
        message = BotMessage(text, block.id)
        if self.can_write:
            self.turn.messages.append(message)
            return
        self.turn.undelivered.append(message)
        refused = ClientCannotReceiveMessages(self.state.client)
        refused.line, refused.column = block.message_line, block.message_column
        self.record(refused)

    def finish(self) -> None:
        """Note what changed, and save the block and errors on the session."""
        scopes = {
            "client": self.state.client_vars,
            "deal": self.state.deal_vars,
            "project": self.state.project_vars,
        }
        for scope, values in scopes.items():
            before = self.before[scope]
            changed = {
                name: value for name, value in values.items() if before.get(name) != encode(value)
            }
            removed = [name for name in before if name not in values]
            if changed:
                self.turn.changes[scope] = changed
            if removed:
                self.turn.removed[scope] = removed
        self.turn.output = list(self.ctx.output)
        session = self.state.session
        if self.current is None:
            session.pop(SESSION_BLOCK, None)
        else:
            session[SESSION_BLOCK] = self.current
        if self.turn.errors:
            kept = list(session.get(SESSION_ERRORS) or [])
            for err in self.turn.errors:
                kept.append({**err.to_dict(), "at": self.system["timestamp"]})
            session[SESSION_ERRORS] = kept[-self.limits.max_session_errors :]


class Bot:
    """A flow ready to talk to clients::

        bot = Bot.load("examples/callback/callback.bot", telephony=RecordingTelephony())
        turn = bot.handle_message(store, client_id, "Перезвоните мне")
        turn.texts  # ['Напишите, пожалуйста, номер телефона ...']

    ``telephony`` is any :class:`~botlang.telephony.Telephony` adapter (None: the call
    functions fail with a clear error). ``clock`` returns the current time (injectable for
    tests); with ``timezone`` an aware time is converted to that zone first.
    ``constants`` add to (and override) the flow's own ``constants:``. A Bot keeps no
    per-client state of its own and may serve many threads at once.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        telephony: Telephony | None = None,
        clock: Callable[[], datetime] | None = None,
        timezone: tzinfo | None = None,
        constants: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        rng: random.Random | None = None,
    ) -> None:
        self.flow = flow
        self.telephony = telephony
        self.timezone = timezone
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone))
        self.constants: dict[str, Any] = {**flow.constants, **(constants or {})}
        self.limits = limits
        self.rng = rng

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        registry: Registry | None = None,
        **options: Any,
    ) -> Bot:
        """Load a ``.bot`` file; raises :class:`~botlang.flow.FlowError` listing every error.

        ``options`` are those of the constructor (telephony, clock, timezone, constants,
        limits, rng).
        """
        limits = options.get("limits", DEFAULT_LIMITS)
        return cls(load_flow(path, registry=registry, limits=limits), **options)

    @classmethod
    def from_source(
        cls,
        source: str,
        filename: str = "<flow>",
        *,
        registry: Registry | None = None,
        **options: Any,
    ) -> Bot:
        """Compile the text of a ``.bot`` file; same options as :meth:`load`."""
        limits = options.get("limits", DEFAULT_LIMITS)
        return cls(parse_flow(source, filename, registry=registry, limits=limits), **options)

    # -- handling --------------------------------------------------------------------------

    def handle_message(
        self,
        store: Store,
        client_id: str,
        text: str,
        *,
        message_from_outside: int = FROM_CLIENT,
        name: str | None = None,
    ) -> Turn:
        """Handle a message from the client: pick the arrow from the client's block (or a
        starting arrow), enter the blocks it leads to, and return what the bot said.

        A client without a current block who matches no starting arrow enters the first
        block. ``name`` (the client's name as the messenger gives it) is kept on the
        session and shown to scripts as ``name``. Opens the client's store transaction;
        see :meth:`turn` to run on one the caller holds.
        """
        request = TurnRequest.message(text, message_from_outside=message_from_outside, name=name)
        return self._in_transaction(store, client_id, request)

    def handle_event(
        self,
        store: Store,
        client_id: str,
        text: str,
        *,
        variables: Mapping[str, Any] | None = None,
        message_from_outside: int = FROM_TELEPHONY,
    ) -> Turn:
        """Handle an event, such as a finished call, delivered as a callback text
        (``answered``, ``busy``, ``no_answer``, ...).

        ``variables`` are first set as client variables (in the same transaction), then
        only callback arrows (``on: callback``) are checked; with none matching, the client
        stays where it is. ``message_from_outside`` is 5 (telephony) unless given.
        """
        request = TurnRequest.event(
            text, variables=variables, message_from_outside=message_from_outside
        )
        return self._in_transaction(store, client_id, request)

    def enter(
        self,
        store: Store,
        client_id: str,
        block_id: str,
        *,
        text: str = "",
        message_from_outside: int = FROM_API,
    ) -> Turn:
        """Put the client in ``block_id`` as if an arrow led there (run it, send its
        message, follow its immediate arrows). KeyError for an unknown block."""
        if block_id not in self.flow.blocks:
            raise KeyError(f"no block {block_id!r} in {self.flow.filename}")
        request = TurnRequest.enter(block_id, text=text, message_from_outside=message_from_outside)
        return self._in_transaction(store, client_id, request)

    def current_block(self, store: Store, client_id: str) -> str | None:
        """The block the client is in (None before the first message)."""
        block = store.read_variables(client_id)["session"].get(SESSION_BLOCK)
        return block if block in self.flow.blocks else None

    def reset(self, store: Store, client_id: str) -> None:
        """Forget where the client is in the flow and its recorded errors (variables stay)."""
        with store.transaction(client_id) as state:
            state.session.pop(SESSION_BLOCK, None)
            state.session.pop(SESSION_ERRORS, None)

    def now(self) -> datetime:
        """The current time as the flow sees it."""
        moment = self.clock()
        if self.timezone is not None and moment.tzinfo is not None:
            moment = moment.astimezone(self.timezone)
        return moment

    def turn(
        self,
        store: Store,
        state: ClientState,
        request: TurnRequest,
        *,
        telephony: Telephony | None = None,
    ) -> Turn:
        """Run one turn on a client's state that the caller opened and will commit.

        ``state`` comes from ``store.transaction(client_id)`` (or any other way the caller
        holds the client exclusively); the turn changes it in place and returns what it
        did. Nothing is committed here: the caller commits the state together with its own
        bookkeeping (an event's "done" mark, queued messages) or rolls everything back.
        ``store`` serves cross-client reads and writes (``get_client_var``), which join
        the caller's transaction when it is open on this thread. ``telephony`` replaces
        the bot's adapter for this turn only (the service passes one that journals each
        call); a :class:`~botlang.telephony.GuardedTelephony` is used as it is.
        """
        self._check_size(request)
        text = request.text
        if request.name is not None:
            state.session[SESSION_NAME] = request.name
        turn = Turn(state.client.client_id, request.kind, text, None)
        run = _Run(
            self,
            store,
            state,
            turn,
            request.trigger,
            request.message_from_outside,
            self.now(),
            telephony,
        )
        if request.variables:
            run.preset(request.variables)
        run.run(request.target)
        run.finish()
        return turn

    def _check_size(self, request: TurnRequest) -> None:
        size = len(request.text)
        if size > self.limits.max_message_chars:
            what = "message" if request.kind == "message" else "event text"
            raise LimitExceeded(
                f"the {what} is {size:,} characters long; the limit is "
                f"{self.limits.max_message_chars:,}"
            )

    def _in_transaction(self, store: Store, client_id: str, request: TurnRequest) -> Turn:
        self._check_size(request)  # before taking the client's lock
        with store.transaction(str(client_id)) as state:
            return self.turn(store, state, request)

    def __repr__(self) -> str:
        return f"<botlang.Bot {self.flow.filename}>"
