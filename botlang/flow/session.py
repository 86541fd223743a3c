"""The runtime session: one client's message or event through a flow, in one transaction.

:class:`Bot` holds a loaded :class:`~botlang.flow.model.Flow` and what runs it (telephony
adapter, clock, constants). ``bot.handle_message(store, client_id, text)`` and
``bot.handle_event(store, client_id, text, variables=...)`` each open the client's store
transaction and run :meth:`Bot.turn` on it: pick the arrow in Salebot's order (start
conditions, the current block's arrows, quick answers), enter blocks (running calculators,
rendering buttons and messages, following immediate arrows) and return a :class:`Turn`
describing what the bot said and did. Everything a turn changes is committed together or
not at all; a telephony call already placed cannot be taken back.

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
from botlang.core.builtins import Registry
from botlang.core.errors import BotlangError, LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.run import Run
from botlang.core.runtime.scopes import Environment
from botlang.core.runtime.values import to_json_ready, to_text, truthy
from botlang.flow.loader import load_flow, parse_flow
from botlang.flow.matching import condition_matches
from botlang.flow.model import Arrow, Block, BlockKind, Button, Flow, Trigger
from botlang.flow.output import Order, ShownButton
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
SESSION_ONCE = "once"  # keys of the "once" arrows this client has taken
SESSION_ORDERS = "orders"  # how many deals the client has closed
SESSION_ORDER = "order"  # the last order: {"order": text, "order_id": id}


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sends (or would send): its text, the block it came from, and its
    buttons, row by row. ``keyboard`` says how they are shown ("reply", "inline", "auto");
    ``hint`` is the text for messengers that cannot show buttons. A message may be buttons
    only (empty ``text``)."""

    text: str
    block: str
    buttons: tuple[tuple[ShownButton, ...], ...] = ()
    keyboard: str | None = None
    hint: str | None = None

    @property
    def button_list(self) -> list[ShownButton]:
        """Every button, row by row."""
        return [b for row in self.buttons for b in row]

    def text_without_buttons(self) -> str:
        """What a messenger without buttons shows: the text, then the hint."""
        if not self.hint:
            return self.text
        return f"{self.text}\n\n{self.hint}" if self.text else self.hint

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "block": self.block,
            "buttons": [[b.to_dict() for b in row] for row in self.buttons],
            "keyboard": self.keyboard,
            "hint": self.hint,
        }


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

    ``messages`` are the messages sent, in order, with their buttons; ``undelivered`` are
    messages a client who cannot be written to (a telephony-only client) did not get.
    ``orders`` are the deals closed. ``changes`` maps each scope (``client``, ``deal``,
    ``project``) to the variables set, with their new values, and ``removed`` to the
    variables deleted. ``errors`` are the runtime errors, located in the flow file.
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
    orders: list[Order] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """The texts of the messages sent."""
        return [m.text for m in self.messages]

    @property
    def buttons(self) -> list[ShownButton]:
        """The buttons on offer after the turn: those of its last message that has any."""
        for message in reversed(self.messages):
            if message.buttons:
                return message.button_list
        return []

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
            "orders": [o.to_dict() for o in self.orders],
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
        cls,
        text: str,
        *,
        message_from_outside: int = FROM_CLIENT,
        name: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> TurnRequest:
        """The client wrote ``text`` (a pressed button arrives the same way, as its label).
        ``variables`` are set as client variables first."""
        return cls(
            "message",
            _text(text),
            Trigger.MESSAGE,
            message_from_outside,
            name=name,
            variables=variables,
        )

    @classmethod
    def contact(cls, phone: str, *, name: str | None = None) -> TurnRequest:
        """The client shared its number (a "request phone" button): the number arrives as a
        message and is written to ``phone`` (a client variable) first, as in Salebot."""
        from botlang.clients.phones import InvalidPhone, normalize_phone

        try:
            number = normalize_phone(phone)
        except InvalidPhone:
            number = _text(phone)
        return cls.message(_text(phone), name=name, variables={"phone": number})

    @classmethod
    def location(cls, latitude: float, longitude: float) -> TurnRequest:
        """The client sent its location (a location button): a message with the
        coordinates that sets the client variables ``latitude`` and ``longitude``."""
        return cls.message(
            f"{latitude}, {longitude}",
            variables={"latitude": float(latitude), "longitude": float(longitude)},
        )

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
        return cls("enter", _text(text), Trigger.MESSAGE, message_from_outside, target=block_id)


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
    variables: Mapping[str, Mapping[str, Any]] | None = None,
    session: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables the runtime sets (FLOW_SYSTEM_VARIABLES) for a client at ``now``.

    ``phone`` is the client's number unless a script has written ``phone`` (a writable
    service variable): then the deal's, else the client's value, as lookups go.
    ``variables`` are the client's scopes, ``session`` its session (for the last order).
    """
    phone: Any = client.phone
    for scope in ("deal", "client"):
        values = (variables or {}).get(scope) or {}
        if "phone" in values:
            phone = values["phone"]
            break
    order = (session or {}).get(SESSION_ORDER) or {}
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
        "phone": phone,
        "order": order.get("order"),
        "order_id": order.get("order_id"),
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
        self.once = set(state.session.get(SESSION_ONCE) or [])
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
            variables={"deal": state.deal_vars, "client": state.client_vars},
            session=state.session,
        )
        adapter = telephony if telephony is not None else bot.telephony
        turn_telephony = None
        if adapter is not None:
            shared = guarded(adapter)
            assert shared is not None
            turn_telephony = _TurnTelephony(shared, self.note_call)
        # the turn's one run: its variables, budgets and what builtins see of the host
        self.ctx = self.env = Run(
            state.deal_vars,
            client=state.client_vars,
            project=state.project_vars,
            constants=bot.constants,
            system=self.system,
            limits=self.limits,
            telephony=turn_telephony,
            rng=bot.rng,
            clock=lambda: now,
            client_id=client.client_id,
        )
        self.ctx.clients = ScopedClientAccess(store, client.client_id, self.env)
        self.running: str | None = self.current  # the block whose parts run now

    # -- bookkeeping -----------------------------------------------------------------------

    def note_call(self, kind: str, args: dict[str, str], result: CallResult) -> None:
        self.turn.calls.append(TelephonyCall(kind, args, result, self.running))

    def record(self, err: BotlangError) -> None:
        if err.source is None or err.filename == self.flow.filename:
            # Calculators are compiled from padded copies of their lines; show the file.
            err.source, err.filename = self.flow.source, self.flow.filename
        self.turn.errors.append(err)

    @property
    def out_of_steps(self) -> bool:
        return self.ctx.exhausted

    def set_system(self, name: str, value: Any) -> None:
        self.system[name] = value
        self.env.view[name] = value

    # -- the turn --------------------------------------------------------------------------

    def preset(self, variables: Mapping[str, Any]) -> None:
        """Set client variables that come with the request, before any arrow is checked."""
        for name, value in variables.items():
            try:
                self.env.assign("client", str(name), value)
            except BotlangError as err:
                err.filename = "<event>"
                self.turn.errors.append(err)

    def run(self, target: str | None = None) -> None:
        if target is None:
            arrow = self.dispatch()
            if arrow is None:
                return
            target = self.take(arrow)
        entered = 0
        while target is not None:
            last = self.turn.arrows[-1] if self.turn.arrows else None
            if entered >= self.limits.max_blocks_per_turn:
                self.record(
                    LimitExceeded(
                        f"more than {self.limits.max_blocks_per_turn} blocks entered for one "
                        "message; arrows taken at once go round in a loop",
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
            block = self.flow.blocks[target]
            self.enter(block)
            arrow = self.first(self.flow.immediate(block.id), message=False)
            target = self.take(arrow) if arrow is not None else None

    def dispatch(self) -> Arrow | None:
        """The arrow for the request's message or callback, in Salebot's order: start
        conditions, the current block's arrows, quick answers."""
        return self.first(self.flow.candidates(self.current, self.trigger), message=True)

    def first(self, arrows: tuple[Arrow, ...], *, message: bool) -> Arrow | None:
        """The first arrow whose conditions hold. ``message``: the arrows are tried on the
        client's message (text conditions apply); else on entering a block."""
        text = self.turn.text
        for arrow in arrows:
            if arrow.once and arrow.key in self.once:
                continue
            if arrow.new_client and self.current is not None:
                continue
            try:
                if arrow.minus is not None and condition_matches(arrow.minus, text, self.limits):
                    continue
                if arrow.compare_variable is not None:
                    assert arrow.condition is not None
                    value = self.env.lookup(arrow.compare_variable)
                    compared = "" if value is None else to_text(value)
                    if not condition_matches(arrow.condition, compared, self.limits):
                        continue
                    return arrow
                if (
                    message
                    and arrow.condition is not None
                    and not condition_matches(arrow.condition, text, self.limits)
                ):
                    continue
            except BotlangError as err:
                self.record(err)
                continue
            if arrow.comparison is not None:
                try:
                    if not truthy(arrow.comparison.evaluate_in(self.ctx)):
                        continue
                except BotlangError as err:
                    self.record(err)
                    if self.out_of_steps:
                        return None
                    continue
            return arrow
        return None

    def take(self, arrow: Arrow) -> str:
        """Follow an arrow: note it, store the answer of a data-entry arrow, remember a
        "once" arrow; returns the target."""
        self.turn.arrows.append(arrow)
        if arrow.once:
            self.once.add(arrow.key)
        if arrow.save_name is not None:
            assert arrow.save_scope is not None
            try:
                self.env.assign(arrow.save_scope, arrow.save_name, self.turn.text)
            except BotlangError as err:
                err.line, err.column = arrow.line, arrow.column
                err.source = None
                self.record(err)
            if arrow.save_name == "phone":
                self.set_system("phone", self.env.lookup("phone"))
        return arrow.target

    def enter(self, block: Block) -> None:
        """Run a block: calculator, (closing the deal), buttons, message. A state block
        becomes the client's position; a «Не состояние» block does not."""
        if block.is_state:
            self.current = block.id
            self.turn.block = block.id
        self.running = block.id
        self.turn.blocks.append(block.id)
        self.set_system("message_id", block.id)
        if block.calculator is not None:
            try:
                block.calculator.execute(self.ctx)
            except BotlangError as err:
                self.record(err)
        closed = self.close_deal(block) if block.kind is BlockKind.CLOSE_DEAL else None
        self.send(block)
        if closed is not None:
            self.clear_deal()

    def send(self, block: Block) -> None:
        rows = self.buttons(block)
        text = ""
        if block.message is not None and block.message.text.strip() != "#{none}":
            try:
                text = block.message.render_in(self.ctx)
            except BotlangError as err:
                self.record(err)
                text = ""
            if text.strip() == "#{none}":
                text = ""
        if not text.strip():
            if not rows:
                return
            text = ""  # a buttons-only message
        hint = None
        if block.hint is not None:
            try:
                hint = block.hint.render_in(self.ctx).strip() or None
            except BotlangError as err:
                self.record(err)
        message = BotMessage(text, block.id, rows, block.keyboard if rows else None, hint)
        if self.can_write:
            self.turn.messages.append(message)
            return
        self.turn.undelivered.append(message)
        refused = ClientCannotReceiveMessages(self.state.client)
        refused.line = block.message_line or block.line
        refused.column = block.message_column or block.column
        self.record(refused)

    def buttons(self, block: Block) -> tuple[tuple[ShownButton, ...], ...]:
        """The block's buttons with their labels rendered. A button whose label renders
        empty is left out (a way to show a button only sometimes); an arrow's button is
        left out once its "once" arrow has been taken."""
        rows = []
        for row in block.rows:
            shown = [self.button(b) for b in row]
            kept = tuple(b for b in shown if b is not None)
            if kept:
                rows.append(kept)
        return tuple(rows)

    def button(self, button: Button) -> ShownButton | None:
        arrow = button.arrow
        if arrow is not None and arrow.once and arrow.key in self.once:
            return None
        try:
            label = " ".join(button.label.render_in(self.ctx).split())
            url = None if button.url is None else button.url.render_in(self.ctx)
        except BotlangError as err:
            self.record(err)
            return None
        if not label:
            return None
        limit = self.limits.max_button_label_chars
        if len(label) > limit or '"' in label:
            why = (
                f"is {len(label)} characters long; the limit is {limit}"
                if len(label) > limit
                else "holds '\"', which a label cannot"
            )
            self.record(
                LimitExceeded(
                    f"the button label {label[:40]!r} {why}; the button is not shown",
                    line=button.line,
                    column=button.column,
                )
            )
            return None
        return ShownButton(label, button.action, url, button.callback, button.color)

    def close_deal(self, block: Block) -> Order:
        """«Закрыть сделку»: the deal variables become an order (``order``, ``order_id``)."""
        session = self.state.session
        number = int(session.get(SESSION_ORDERS) or 0) + 1
        session[SESSION_ORDERS] = number
        client_id = self.state.client.client_id
        variables = dict(self.state.deal_vars)
        text = "\n".join(f"{name}: {to_text(value)}" for name, value in variables.items())
        order = Order(f"{client_id}-{number}", client_id, block.id, variables, text)
        self.turn.orders.append(order)
        session[SESSION_ORDER] = {"order": text, "order_id": order.order_id}
        self.set_system("order", text)
        self.set_system("order_id", order.order_id)
        return order

    def clear_deal(self) -> None:
        """Delete the deal variables (client and project variables stay), as Salebot does
        after closing a deal."""
        env = self.env
        names = list(env.deal)
        env.deal.clear()
        if "phone" in names:
            client_phone = env.scopes["client"].get("phone", self.state.client.phone)
            self.system["phone"] = client_phone
        for name in names:
            if name in self.system:
                env.view[name] = self.system[name]
            elif name in env.scopes["client"]:
                env.view[name] = env.scopes["client"][name]
            elif name in env.scopes["project"]:
                env.view[name] = env.scopes["project"][name]
            elif name in env.constants:
                env.view[name] = env.constants[name]
            else:
                env.view.pop(name, None)

    def finish(self) -> None:
        """Note what changed, and save the block, the "once" arrows and errors on the
        session."""
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
        if self.once:
            session[SESSION_ONCE] = sorted(self.once)
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
        """Handle a message from the client (a pressed button arrives as its label): pick
        the arrow in Salebot's order — start conditions, the client's block's arrows, quick
        answers — enter the blocks it leads to, and return what the bot said.

        A client in no block yet (a new client) starts only at a start condition or a
        quick answer; if none matches, nothing happens. ``name`` (the client's name as the
        messenger gives it) is kept on the session and shown to scripts as ``name``. Opens
        the client's store transaction; see :meth:`turn` to run on one the caller holds.
        """
        request = TurnRequest.message(text, message_from_outside=message_from_outside, name=name)
        return self.handle(store, client_id, request)

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
        only callback arrows (``on: callback``) are checked, in the same order as for
        messages; with none matching, the client stays where it is.
        ``message_from_outside`` is 5 (telephony) unless given.
        """
        request = TurnRequest.event(
            text, variables=variables, message_from_outside=message_from_outside
        )
        return self.handle(store, client_id, request)

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
        message, follow its immediate arrows: ``delay: 0``). KeyError for an unknown block."""
        if block_id not in self.flow.blocks:
            raise KeyError(f"no block {block_id!r} in {self.flow.filename}")
        request = TurnRequest.enter(block_id, text=text, message_from_outside=message_from_outside)
        return self.handle(store, client_id, request)

    def current_block(self, store: Store, client_id: str) -> str | None:
        """The block the client is in (None before the first message)."""
        block = store.read_variables(client_id)["session"].get(SESSION_BLOCK)
        return block if block in self.flow.blocks else None

    def reset(self, store: Store, client_id: str) -> None:
        """Forget where the client is in the flow, the "once" arrows it has taken and its
        recorded errors (variables stay)."""
        with store.transaction(client_id) as state:
            for key in (SESSION_BLOCK, SESSION_ERRORS, SESSION_ONCE):
                state.session.pop(key, None)

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

    def handle(self, store: Store, client_id: str, request: TurnRequest) -> Turn:
        """Run any request (a message, an event, a button's press, an entry) in the
        client's own store transaction::

            turn = bot.handle_message(store, client_id, "привет")
            request = turn.buttons[0].press()  # what pressing the first button sends
            bot.handle(store, client_id, request)
        """
        if request.target is not None and request.target not in self.flow.blocks:
            raise KeyError(f"no block {request.target!r} in {self.flow.filename}")
        self._check_size(request)  # before taking the client's lock
        with store.transaction(str(client_id)) as state:
            return self.turn(store, state, request)

    def __repr__(self) -> str:
        return f"<botlang.Bot {self.flow.filename}>"
