"""The worker: takes events from the durable inbox and applies them to clients.

One event is applied in one store transaction — the flow turn's own — together with the
call model's update of the client's ``call_*`` variables (:mod:`botlang.server.events`,
which orders each leg's events by ``seq`` itself), the event's "done" mark and (with an
outbox) the turn's messages for the client, so it takes effect exactly once even if the
process dies at any point: an event not marked done is handed out again (after its lease,
:attr:`botlang.store.Store.inbox_lease_seconds`) and re-applied from scratch, because
nothing of the first attempt was committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botlang.clients.matching import match_client
from botlang.clients.phones import InvalidPhone
from botlang.core.errors import BotlangError
from botlang.flow.session import FROM_TELEPHONY, TurnRequest
from botlang.server.events import CallUpdate, update_for
from botlang.server.inbox import StoreGate
from botlang.server.logs import log
from botlang.server.outbox import OUTBOX_KIND, log_messages, outgoing_message
from botlang.server.webhook import BadDelivery, parse_event
from botlang.store.base import ClientRecord, InboxItem

if TYPE_CHECKING:
    from botlang.flow import Bot

logger = logging.getLogger("botlang.server.worker")


class Worker:
    """A thread applying inbox events; ``bot`` is a :class:`botlang.flow.Bot` or None
    (then events only set variables).

    With ``outbox`` on, the messages of each callback turn are queued in the store's
    outbox in the turn's transaction (``on_outbox`` is told after the commit); with it
    off they are logged (``event=message.out``).
    """

    def __init__(
        self,
        gate: StoreGate,
        bot: Bot | None,
        *,
        messengers: Sequence[str] = (),
        batch: int = 100,
        idle_seconds: float = 1.0,
        prune_every_seconds: float = 600.0,
        retention_seconds: float = 3 * 24 * 3600,
        on_processed: Callable[[int], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        outbox: bool = False,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.gate = gate
        self.outbox = outbox
        self._on_outbox = on_outbox
        self.bot = bot
        self.messengers = tuple(messengers)
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.prune_every_seconds = prune_every_seconds
        self.retention_seconds = retention_seconds
        self._on_processed = on_processed
        self._on_idle = on_idle
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = time.monotonic()
        self.processed = 0  # events finished by this worker (applied, ignored or failed)
        self.failures = 0  # unexpected errors (the event is retried after its lease)

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="botlang-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the event in hand, then stop (claimed events left are re-leased later)."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self, _count: int = 0) -> None:
        """New events are in the inbox."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                count = self.run_once()
                if count == 0 and not self._stop.is_set():
                    self._idle()
            except Exception as exc:  # the store is unreachable: wait, then try again
                log(logger, logging.ERROR, "worker.store_failed", error=type(exc).__name__)
                count = 0
            if count == 0 and not self._stop.is_set():
                self._wake.wait(self.idle_seconds)
                self._wake.clear()

    def _idle(self) -> None:
        if self._on_idle is not None:
            self._on_idle()
        if time.monotonic() - self._last_prune >= self.prune_every_seconds:
            self._last_prune = time.monotonic()
            removed = self.gate.inbox_prune(self.retention_seconds)
            if removed:
                log(logger, logging.INFO, "inbox.pruned", removed=removed)

    # -- processing ------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim one batch and process it; the number of events claimed."""
        items = self.gate.inbox_claim(self.batch, queue="events")
        for item in items:
            if self._stop.is_set():
                break  # the rest go back to the inbox when their lease ends
            self.process(item)
        return len(items)

    def process(self, item: InboxItem) -> None:
        """Apply one event; never raises."""
        started = time.perf_counter()
        outcome, detail = "applied", None
        try:
            outcome, detail = self._apply(item)
        except Exception as exc:
            self.failures += 1
            if item.attempts >= self.gate.inbox_max_attempts:
                outcome, detail = "failed", type(exc).__name__
                self._finish(item, f"{type(exc).__name__}: {exc}")
            else:
                log(
                    logger,
                    logging.ERROR,
                    "event.retry_later",
                    id=item.item_id,
                    kind=item.kind,
                    attempt=item.attempts,
                    error=type(exc).__name__,
                )
                return
        self.processed += 1
        if self._on_processed is not None:
            self._on_processed(1)
        log(
            logger,
            logging.INFO,
            "event.processed",
            id=item.item_id,
            kind=item.kind,
            outcome=outcome,
            detail=detail,
            ms=(time.perf_counter() - started) * 1000,
        )

    def _finish(self, item: InboxItem, error: str | None = None) -> None:
        self.gate.inbox_done(item.item_id, error)

    def _apply(self, item: InboxItem) -> tuple[str, str | None]:
        try:
            event = parse_event(item.kind, item.payload)
        except BadDelivery as exc:
            self._finish(item, str(exc))
            return "failed", "invalid event"
        update = update_for(event, item.kind)
        if update is None:
            self._finish(item)
            return "stored", None
        client = self._client_for(update)
        if client is None:
            self._finish(item)
            return "skipped", "no client"
        return self._apply_to(item, update, client)

    def _client_for(self, update: CallUpdate) -> ClientRecord | None:
        """The client an event is about: the one on the call (``call_entry_id``), else the
        one whose command placed it (``call_command_id``), else by the client's phone."""
        for value in (update.entry_id, update.command_id):
            if value:
                found = self.gate.find_client_by_variable_value(value)
                if found is not None:
                    return found
        if update.phone is not None:
            try:
                client, _created = match_client(
                    self.gate.store, update.phone, messengers=self.messengers
                )
            except InvalidPhone:
                return None
            return client
        return None

    def _apply_to(
        self, item: InboxItem, update: CallUpdate, client: ClientRecord
    ) -> tuple[str, str | None]:
        gate = self.gate
        queued: list[str] = []
        try:
            # One transaction: the seq check, the turn, its queued messages and the done mark.
            with gate.transaction(client.client_id) as state:
                # The call model orders the legs itself: it reads what the client holds.
                effect = update.apply(state.client_vars)
                for name in effect.cleared:
                    state.client_vars.pop(name, None)
                if self.bot is None or effect.callback is None:
                    state.client_vars.update(effect.assigned)
                    turn = None
                else:
                    request = TurnRequest.event(
                        effect.callback,
                        variables=effect.assigned,
                        message_from_outside=FROM_TELEPHONY,
                    )
                    turn = self.bot.turn(gate.store, state, request)
                    if self.outbox:
                        entry = outgoing_message(item, client, turn, gate.clock())
                        if entry is not None and gate.inbox_add(entry[0], OUTBOX_KIND, entry[1]):
                            queued.append(entry[1]["id"])
                gate.inbox_done(item.item_id)
        except BotlangError as exc:
            # A limit hit on commit: nothing was written; retrying cannot help.
            self._finish(item, str(exc)[:500])
            return "failed", type(exc).__name__
        if turn is not None:
            note_command(gate, client.client_id, turn)
            detail = f"blocks={','.join(turn.blocks) or None}"
            if turn.messages:
                detail += f" messages={len(turn.messages)}"
            if queued:
                detail += f" outbox={queued[0]}"
                if self._on_outbox is not None:
                    self._on_outbox()
            elif not self.outbox:
                log_messages(turn)
            if turn.errors:
                detail += f" errors={len(turn.errors)}"
            return "applied", detail
        return "applied", effect.note


def note_command(gate: StoreGate, client_id: str, turn: Any) -> None:
    """Remember the last call command a turn placed (``call_command_id``), so a failed
    ``result/callback`` can be traced back to this client."""
    command_ids = [c.result.command_id for c in turn.calls if c.result.command_id]
    if command_ids:
        gate.set_client_var(client_id, "call_command_id", command_ids[-1])
