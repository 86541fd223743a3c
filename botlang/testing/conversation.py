"""A conversation with a bot in memory: one store, fake telephony, a clock you set.

:class:`Conversation` is what bot tests, the pytest fixtures and the REPL drive. It keeps
a memory store, a :class:`~botlang.telephony.RecordingTelephony` (calls are recorded,
never placed), the current client, and a clock that can be fixed. With a flow loaded it
sends messages and events to the bot; with or without one it runs calculator statements
and renders ``#{}`` templates against the current client's variables, exactly as a block
of that client would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botlang.clients.matching import ClientType
from botlang.clients.phones import normalize_phone
from botlang.core.builtins import CallContext
from botlang.core.compiler import compile_expression, compile_program, compile_template
from botlang.core.errors import BotlangError
from botlang.core.runtime.scopes import (
    SCOPES,
    SYSTEM_VARIABLES,
    WRITABLE_SYSTEM_VARIABLES,
    Environment,
)
from botlang.flow import FROM_CLIENT, Bot, ShownButton, Turn
from botlang.flow.model import FLOW_SYSTEM_VARIABLES
from botlang.flow.session import (
    SESSION_BLOCK,
    SESSION_NAME,
    ScopedClientAccess,
    system_variables,
)
from botlang.store import ClientRecord, Store, open_store
from botlang.telephony import CallRecord, RecordingTelephony, SpamGuard, guarded

DEFAULT_PHONE = "79000000001"
# Fixed so that tests of time-dependent flows do not depend on when they run: a Monday noon.
DEFAULT_TEST_CLOCK = datetime(2024, 1, 15, 12, 0)

CLIENT_TYPES: dict[str, int] = {
    "telegram": ClientType.TELEGRAM,
    "whatsapp": ClientType.WHATSAPP,
    "telephony": ClientType.TELEPHONY,
}
_MESSENGERS = {ClientType.TELEGRAM: "telegram", ClientType.WHATSAPP: "whatsapp"}

_CLOCK_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def parse_clock(text: str) -> datetime | None:
    """``2024-01-15 12:00``, ``15.01.2024 12:00`` (or a date alone) → datetime; ``now`` → None.

    Raises ValueError with the accepted forms.
    """
    text = " ".join(text.split())
    if text.lower() == "now":
        return None
    for fmt in _CLOCK_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(
        f"cannot read the time {text!r}; write YYYY-MM-DD HH:MM, DD.MM.YYYY HH:MM or 'now'"
    )


def parse_client_type(text: str) -> int:
    """``whatsapp``/``telegram``/``telephony`` or a client_type number → the number."""
    word = text.strip().lower()
    if word in CLIENT_TYPES:
        return CLIENT_TYPES[word]
    if word.isdigit():
        return int(word)
    raise ValueError(f"unknown client type {text!r}; use {', '.join(CLIENT_TYPES)} or a number")


@dataclass
class ScriptOutcome:
    """What running calculator statements did: printed lines, calls, the error if any."""

    value: Any = None
    has_value: bool = False
    output: list[str] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    error: BotlangError | None = None
    warnings: list[str] = field(default_factory=list)


class Conversation:
    """One bot (or none), a memory store, recorded telephony and the client talking now.

    ``now`` is the fixed time the bot sees (None: the real time). Switch clients with
    :meth:`switch_client`; each phone number is one client, kept for the conversation.
    """

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        telephony: RecordingTelephony | None = None,
        store: Store | None = None,
        now: datetime | None = None,
        phone: str = DEFAULT_PHONE,
        client_type: int | str = ClientType.WHATSAPP,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self.telephony = telephony if telephony is not None else RecordingTelephony()
        # The spam guard follows the conversation's clock, so moving the clock in a test
        # moves the guard's window too.
        guarded(self.telephony, SpamGuard(clock=lambda: self.current_time().timestamp()))
        self.store = store if store is not None else open_store("memory://")
        self.now = now
        self.extra_constants: dict[str, Any] = dict(constants or {})
        self.bot: Bot | None = None
        self.last_text = ""
        self.offered: list[ShownButton] = []  # the buttons of the last turn, to press
        self.client: ClientRecord = self.switch_client(phone, client_type)
        if bot is not None:
            self.attach(bot)

    # -- set-up ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], **options: Any) -> Conversation:
        """A conversation with the bot of a ``.bot`` file (FlowError if it does not load)."""
        conversation = cls(**options)
        conversation.load_flow(path)
        return conversation

    def load_flow(self, path: str | os.PathLike[str]) -> Bot:
        """Load a ``.bot`` file as this conversation's bot (clients and variables stay)."""
        return self.attach(Bot.load(path))

    def attach(self, bot: Bot) -> Bot:
        """Talk to ``bot`` from now on, with this conversation's telephony and clock."""
        self.bot = Bot(
            bot.flow,
            telephony=self.telephony,
            clock=self.current_time,
            constants={**bot.constants, **self.extra_constants},
            limits=bot.limits,
            rng=bot.rng,
        )
        return self.bot

    def current_time(self) -> datetime:
        """The time the bot sees."""
        return self.now if self.now is not None else datetime.now()

    def set_constant(self, name: str, value: Any) -> None:
        """Set a project constant (read-only for scripts)."""
        self.extra_constants[name] = value
        if self.bot is not None:
            self.bot.constants[name] = value

    @property
    def constants(self) -> dict[str, Any]:
        if self.bot is not None:
            return dict(self.bot.constants)
        return dict(self.extra_constants)

    def switch_client(
        self, phone: str | None = None, client_type: int | str = ClientType.WHATSAPP
    ) -> ClientRecord:
        """Talk as the client with this phone number (created on first use)."""
        kind = parse_client_type(client_type) if isinstance(client_type, str) else client_type
        number = normalize_phone(phone or DEFAULT_PHONE)
        found = self.store.find_client_by_phone(number, client_type=kind)
        if found is None:
            found = self.store.create_client(
                client_type=kind, phone=number, messenger=_MESSENGERS.get(kind)
            )
        self.client = found
        return found

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def clients(self) -> list[ClientRecord]:
        """Every client of the conversation, in creation order."""
        found = []
        number = 1
        while True:
            record = self.store.get_client(str(number))
            if record is None:
                break
            found.append(record)
            number += 1
        return found

    # -- talking to the bot ----------------------------------------------------------------

    def _require_bot(self) -> Bot:
        if self.bot is None:
            raise RuntimeError("no bot is loaded: load a .bot file first")
        return self.bot

    def _offer(self, turn: Turn) -> Turn:
        self.offered = turn.buttons
        return turn

    def say(self, text: str) -> Turn:
        """The client sends ``text``; returns the bot's turn (``.texts``, ``.calls``, ...)."""
        self.last_text = text
        return self._offer(self._require_bot().handle_message(self.store, self.client_id, text))

    def event(self, text: str, variables: Mapping[str, Any] | None = None) -> Turn:
        """An event for the client, such as a finished call (``answered``, ``busy``, ...)."""
        bot = self._require_bot()
        return self._offer(bot.handle_event(self.store, self.client_id, text, variables=variables))

    def enter(self, block: str) -> Turn:
        """Put the client in ``block`` as an API call would (KeyError for an unknown one)."""
        return self._offer(self._require_bot().enter(self.store, self.client_id, block))

    def button(self, label: str) -> ShownButton:
        """The button with this label among those the last turn showed; LookupError
        (naming the buttons on offer) when there is none."""
        wanted = " ".join(label.split())
        for button in self.offered:
            if button.text == wanted:
                return button
        shown = " ".join(b.describe() for b in self.offered) or "none"
        raise LookupError(f"no button '{wanted}' on offer; the last turn showed: {shown}")

    def press(
        self, label: str, *, latitude: float | None = None, longitude: float | None = None
    ) -> Turn:
        """Press a button the last turn showed, as the messenger would deliver it: the label
        as a message, a callback button's text as a callback, this client's number for a
        phone button, a place for a location button. LookupError for a button not on offer,
        ValueError for a link button (it sends nothing to the bot)."""
        button = self.button(label)
        request = button.press(
            phone=self.client.phone or DEFAULT_PHONE, latitude=latitude, longitude=longitude
        )
        if request is None:
            raise ValueError(f"'{button.text}' opens a link ({button.url}); it sends nothing")
        self.last_text = request.text
        return self._offer(self._require_bot().handle(self.store, self.client_id, request))

    @property
    def block(self) -> str | None:
        """The client's current block (None before the first message)."""
        if self.bot is None:
            return None
        return self.bot.current_block(self.store, self.client_id)

    # -- variables -------------------------------------------------------------------------

    def scopes(self) -> dict[str, dict[str, Any]]:
        """The client's ``deal``, ``client`` and ``project`` variables."""
        found = self.store.read_variables(self.client_id)
        return {scope: dict(found[scope]) for scope in SCOPES}

    def variables(self) -> dict[str, Any]:
        """Every variable the client's scripts see, scopes merged by lookup order."""
        scopes = self.scopes()
        merged = dict(self.constants)
        for scope in ("project", "client", "deal"):
            merged.update(scopes[scope])
        return merged

    def get(self, name: str, scope: str | None = None) -> Any:
        """One variable: as scripts read it (the runtime's own, such as ``order_id``,
        included), or from one scope (None when not set)."""
        if scope is None:
            found = self.variables()
            if name not in found and name in FLOW_SYSTEM_VARIABLES:
                return self.system_variables().get(name)
            return found.get(name)
        if scope == "constant":
            return self.constants.get(name)
        return self.scopes()[scope].get(name)

    def set(self, name: str, value: Any, scope: str = "deal") -> None:
        """Set a variable in a scope (``deal``, ``client`` or ``project``)."""
        if name in SYSTEM_VARIABLES and name not in WRITABLE_SYSTEM_VARIABLES:
            raise ValueError(f"'{name}' is a system variable and cannot be set")
        with self.store.transaction(self.client_id) as state:
            target = {
                "deal": state.deal_vars,
                "client": state.client_vars,
                "project": state.project_vars,
            }[scope]
            target[name] = value

    def reset(self) -> None:
        """Forget the client's deal and client variables and where it is in the flow."""
        with self.store.transaction(self.client_id) as state:
            state.deal_vars.clear()
            state.client_vars.clear()
            state.session.clear()

    def system_variables(
        self,
        session: Mapping[str, Any] | None = None,
        variables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The system variables a script of the current client sees now (``session`` and
        ``variables``, the client's scopes, are read from the store when not given)."""
        if session is None or variables is None:
            found = self.store.read_variables(self.client_id)
            session = found["session"] if session is None else session
            variables = found if variables is None else variables
        now = self.current_time()
        client = self.client
        block = session.get(SESSION_BLOCK)
        if self.bot is None or block not in self.bot.flow.blocks:
            block = None
        return system_variables(
            now,
            client,
            question=self.last_text,
            block=block,
            message_from_outside=FROM_CLIENT,
            name=session.get(SESSION_NAME),
            variables=variables,
            session=session,
        )

    # -- scripts and templates -------------------------------------------------------------

    def run(self, source: str, filename: str = "<repl>") -> ScriptOutcome:
        """Run calculator statements as the current client; assignments before an error
        stand. When ``source`` is one expression, its value is returned too.

        A ParseError is raised (nothing runs); runtime errors are returned.
        """
        from botlang.core.syntax import ast
        from botlang.core.syntax.parser import parse_program

        tree = parse_program(source, filename)
        single = (
            tree.statements[0].expr
            if len(tree.statements) == 1 and isinstance(tree.statements[0], ast.ExprStatement)
            else None
        )
        program = compile_program(source, filename)
        outcome = ScriptOutcome(warnings=[w.message for w in tree.warnings])
        calls_before = len(self.telephony.calls)
        now = self.current_time()
        with self.store.transaction(self.client_id) as state:
            env = Environment(
                state.deal_vars,
                client=state.client_vars,
                project=state.project_vars,
                constants=self.constants,
                system=self.system_variables(
                    state.session, {"deal": state.deal_vars, "client": state.client_vars}
                ),
            )
            ctx = CallContext(
                telephony=self.telephony,
                clients=ScopedClientAccess(self.store, self.client_id, env),
                rng=self.bot.rng if self.bot is not None else None,
                clock=lambda: now,
                client_id=self.client_id,
            )
            try:
                if single is not None:
                    expression = compile_expression(source.strip(), filename)
                    outcome.value = expression.evaluate_in(env, ctx)
                    # print() shows its argument already
                    outcome.has_value = not (
                        isinstance(single, ast.Call) and single.name == "print"
                    )
                else:
                    program.execute(env, ctx)
            except BotlangError as err:
                outcome.error = err
            outcome.output = list(ctx.output)
        outcome.calls = self.telephony.calls[calls_before:]
        return outcome

    def evaluate(self, expression: str) -> Any:
        """The value of one expression against the client's variables."""
        env = Environment(dict(self.variables()), system=self.system_variables())
        ctx = CallContext(telephony=self.telephony, clock=self.current_time)
        return compile_expression(expression, "<expression>").evaluate_in(env, ctx)

    def render(self, template: str) -> str:
        """Render message text with ``#{...}`` against the client's variables."""
        env = Environment(dict(self.variables()), system=self.system_variables())
        ctx = CallContext(telephony=self.telephony, clock=self.current_time)
        return compile_template(template, "<message>").render_in(env, ctx)

    # -- telephony -------------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        """Every call asked for so far (recorded, not placed)."""
        return list(self.telephony.calls)

    def calls_answer(self, outcome: int | str) -> None:
        """Answer every later call with ``outcome`` (``busy``, ``no-answer``, 1121, ...)."""
        self.telephony.set_result(outcome)

    def next_calls(self, *outcomes: int | str) -> None:
        """Answer the next calls with these outcomes, in order."""
        self.telephony.queue(*outcomes)


_NAME = re.compile(r"[^\W\d]\w*\Z")


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid variable name."""
    return bool(_NAME.match(text))
