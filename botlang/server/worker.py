"""The worker: takes events from the durable inbox and applies them to clients, exactly once.

- **Fenced claims.** Events are claimed with a lease and a token; the lease is renewed
  while the event is worked on, and the event's "done" mark, written in the same
  transaction as its effects, checks the token: a worker whose claim was lost (its lease
  ran out and another worker took the event) rolls back instead of committing a second
  time. A caught error hands the event back at once (with a growing delay), so it need not
  wait out its lease.
- **Per-client order.** Events are stored in a group per client (:func:`order_group`);
  the inbox never hands out an event while an earlier one of its group is pending, so a
  client's events are applied in the order they arrived, even after a crash or a store
  error.
- **Effects.** The call model's update of the client's ``call_*`` variables
  (:mod:`botlang.server.events`, which orders each leg's events by ``seq`` itself) is
  computed from the client's variables as they stand. An event without a callback is
  applied in one short transaction. A callback turn runs through
  :class:`~botlang.server.turns.TurnRunner`: under the client's lease, with no transaction
  open while its calls are sent (each journalled), then committed together with the call
  model's update, the turn's outgoing messages (the outbox) and the fenced "done" mark.

Up to ``concurrency`` events (of different groups) are worked on at once, so one slow call
does not hold up every other client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botlang.clients.matching import match_client
from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.core.errors import BotlangError
from botlang.flow.session import FROM_TELEPHONY, TurnRequest
from botlang.server.events import CallUpdate, Effect, update_for
from botlang.server.inbox import StoreGate
from botlang.server.logs import log
from botlang.server.outbox import OUTBOX_KIND, log_messages, outbox_group, outgoing_message
from botlang.server.turns import (
    ClientBusy,
    Renewals,
    TurnAborted,
    TurnRunner,
    client_lease,
    describe_turn_error,
)
from botlang.server.webhook import BadDelivery, parse_event
from botlang.store.base import ClaimLost, ClientRecord, ClientState, InboxItem

if TYPE_CHECKING:
    from botlang.flow import Bot, Turn

logger = logging.getLogger("botlang.server.worker")

BUSY_RETRY_SECONDS = 0.5  # an event whose client another turn holds is tried again this soon
MAX_RETRY_SECONDS = 60.0  # the longest wait between attempts after an unexpected error


# -- which client an event is for -------------------------------------------------------------


def order_group(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The inbox group an event is stored in, so that events of one client are applied
    one at a time, in the order they arrived: the client's phone, else the call's
    ``entry_id`` (None: no order to keep)."""
    try:
        update = update_for(parse_event(kind, dict(payload)), kind)
    except BadDelivery:
        return None
    if update is None:
        return None
    if update.phone is not None:
        try:
            return f"phone:{normalize_phone(update.phone)}"
        except InvalidPhone:
            pass
    return f"entry:{update.entry_id}" if update.entry_id else None


def client_for(
    gate: StoreGate, update: CallUpdate, messengers: Sequence[str]
) -> ClientRecord | None:
    """The client an event is about: the one on the call (``call_entry_id``), else the one
    whose command placed it (``call_command_id``), else by the client's phone (created if
    needed); None for nobody."""
    for value in (update.entry_id, update.command_id):
        if value:
            found = gate.find_client_by_variable_value(value)
            if found is not None:
                return found
    if update.phone is not None:
        try:
            client, _created = match_client(gate.store, update.phone, messengers=messengers)
        except InvalidPhone:
            return None
        return client
    return None


class Worker:
    """A thread applying inbox events; ``bot`` is a :class:`botlang.flow.Bot` or None
    (then events only set variables).

    With ``outbox`` on, the messages of each callback turn are queued in the store's
    outbox in the turn's transaction (``on_outbox`` is told after the commit); with it
    off they are logged (``event=message.out``). ``lease_seconds`` is each claim's lease
    (default: the store's ``inbox_lease_seconds``), renewed every third of it unless
    ``renew_claims`` is off.
    """

    def __init__(
        self,
        gate: StoreGate,
        bot: Bot | None,
        *,
        messengers: Sequence[str] = (),
        batch: int = 100,
        concurrency: int = 4,
        idle_seconds: float = 1.0,
        prune_every_seconds: float = 600.0,
        retention_seconds: float = 3 * 24 * 3600,
        answers_retention_seconds: float = 24 * 3600,
        on_processed: Callable[[int], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        outbox: bool = False,
        on_outbox: Callable[[], None] | None = None,
        runner: TurnRunner | None = None,
        lease_seconds: float | None = None,
        renew_claims: bool = True,
        retry_base_seconds: float = 1.0,
    ) -> None:
        self.gate = gate
        self.outbox = outbox
        self._on_outbox = on_outbox
        self.bot = bot
        self.messengers = tuple(messengers)
        self.batch = batch
        self.concurrency = max(1, concurrency)
        self.idle_seconds = idle_seconds
        self.prune_every_seconds = prune_every_seconds
        self.retention_seconds = retention_seconds
        self.answers_retention_seconds = answers_retention_seconds
        self._on_processed = on_processed
        self._on_idle = on_idle
        self.lease_seconds = float(
            gate.inbox_lease_seconds if lease_seconds is None else lease_seconds
        )
        self.renew_claims = renew_claims
        self.retry_base_seconds = retry_base_seconds
        self.renewals = runner.renewals if runner is not None else Renewals(self.lease_seconds / 3)
        self.runner = runner
        if self.runner is None and bot is not None:
            self.runner = TurnRunner(gate, bot, renewals=self.renewals)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = time.monotonic()
        self._counts = threading.Lock()
        self.processed = 0  # events finished by this worker (applied, ignored or failed)
        self.failures = 0  # unexpected errors (the event is handed back and retried)
        self.lost_claims = 0  # events another worker took over before this one committed
        self.deferred = 0  # events handed back to wait (client busy, a call not settled)
        self.calls_sent = 0  # call commands sent by this worker's turns
        self.calls_replayed = 0  # calls answered from the journal on a re-run

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="botlang-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the events in hand, then stop (nothing more is claimed)."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None
        self.renewals.stop()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self, _count: int = 0) -> None:
        """New events are in the inbox."""
        self._wake.set()

    def _run(self) -> None:
        in_flight: set[Future[None]] = set()
        lock = threading.Lock()

        def finished(future: Future[None]) -> None:
            with lock:
                in_flight.discard(future)
            self._wake.set()

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="botlang-event") as pool:
            while not self._stop.is_set():
                with lock:
                    free = self.concurrency - len(in_flight)
                items: list[InboxItem] = []
                if free > 0:
                    try:
                        items = self._claim(free)
                    except Exception as exc:  # the store is unreachable: wait, then try again
                        log(logger, logging.ERROR, "worker.store_failed", error=type(exc).__name__)
                for item in items:
                    future = pool.submit(self.process, item)
                    with lock:
                        in_flight.add(future)
                    future.add_done_callback(finished)
                if not items:
                    with lock:
                        idle = not in_flight
                    if idle:
                        self._idle_safely()
                    self._wake.wait(self.idle_seconds)
                    self._wake.clear()

    def _idle_safely(self) -> None:
        try:
            self._idle()
        except Exception as exc:
            log(logger, logging.ERROR, "worker.store_failed", error=type(exc).__name__)

    def _idle(self) -> None:
        if self._on_idle is not None:
            self._on_idle()
        if time.monotonic() - self._last_prune >= self.prune_every_seconds:
            self._last_prune = time.monotonic()
            removed = self.gate.inbox_prune(self.retention_seconds)
            answers = self.gate.answer_prune(self.answers_retention_seconds)
            if removed or answers:
                log(logger, logging.INFO, "inbox.pruned", removed=removed, answers=answers)

    # -- processing ------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[InboxItem]:
        return self.gate.inbox_claim(limit, lease_seconds=self.lease_seconds, queue="events")

    def run_once(self) -> int:
        """Claim one batch and process it here, one event after another; the number of
        events claimed."""
        items = self._claim(self.batch)
        for n, item in enumerate(items):
            if self._stop.is_set():
                for rest in items[n:]:  # hand the rest back for another worker
                    self._release(rest, "stopping", 0.0, count_attempt=False)
                break
            self.process(item)
        return len(items)

    def process(self, item: InboxItem) -> None:
        """Apply one event, its claim renewed meanwhile; never raises."""
        if self.renew_claims and item.token is not None:
            token = item.token

            def renew() -> bool:
                return self.gate.inbox_renew(item.item_id, token, self.lease_seconds)

            with self.renewals.hold(renew):
                self._process(item)
        else:
            self._process(item)

    def _process(self, item: InboxItem) -> None:
        started = time.perf_counter()
        fields = {"id": item.item_id, "kind": item.kind, "attempt": item.attempts}
        outcome, detail = "applied", None
        try:
            outcome, detail = self._apply(item)
        except ClaimLost as exc:
            with self._counts:
                self.lost_claims += 1
            log(logger, logging.WARNING, "event.claim_lost", **fields, detail=str(exc))
            return
        except (ClientBusy, TurnAborted) as exc:
            with self._counts:
                self.deferred += 1
            delay = BUSY_RETRY_SECONDS if isinstance(exc, ClientBusy) else self.retry_base_seconds
            self._release(item, describe_turn_error(exc), delay, count_attempt=False)
            log(logger, logging.INFO, "event.deferred", **fields, reason=describe_turn_error(exc))
            return
        except Exception as exc:
            with self._counts:
                self.failures += 1
            if item.attempts >= self.gate.inbox_max_attempts:
                outcome, detail = "failed", type(exc).__name__
                if not self._finish(item, f"{type(exc).__name__}: {exc}"[:500]):
                    return
            else:
                delay = min(
                    self.retry_base_seconds * 2 ** max(0, item.attempts - 1), MAX_RETRY_SECONDS
                )
                self._release(item, type(exc).__name__, delay)
                log(
                    logger,
                    logging.ERROR,
                    "event.retry_later",
                    **fields,
                    error=type(exc).__name__,
                    retry_in=delay,
                )
                return
        with self._counts:
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

    def _release(
        self, item: InboxItem, error: str, delay: float, *, count_attempt: bool = True
    ) -> None:
        """Hand the event back at once (a failure here leaves it to its lease)."""
        try:
            self.gate.inbox_release(
                item.item_id,
                error,
                delay_seconds=delay,
                token=item.token,
                count_attempt=count_attempt,
            )
        except Exception as exc:
            log(
                logger,
                logging.WARNING,
                "event.release_failed",
                id=item.item_id,
                error=type(exc).__name__,
            )

    def _finish(self, item: InboxItem, error: str | None = None) -> bool:
        """Mark the event finished; False when its claim was lost meanwhile."""
        try:
            self.gate.inbox_done(item.item_id, error, token=item.token)
        except ClaimLost:
            with self._counts:
                self.lost_claims += 1
            return False
        return True

    def _apply(self, item: InboxItem) -> tuple[str, str | None]:
        try:
            event = parse_event(item.kind, item.payload)
        except BadDelivery as exc:
            return self._finished(item, "failed", "invalid event", str(exc))
        update = update_for(event, item.kind)
        if update is None:
            return self._finished(item, "stored")
        client = client_for(self.gate, update, self.messengers)
        if client is None:
            return self._finished(item, "skipped", "no client")
        try:
            return self._apply_to(item, update, client)
        except BotlangError as exc:
            # A limit hit on commit: nothing was written; retrying cannot help.
            return self._finished(item, "failed", type(exc).__name__, str(exc)[:500])

    def _finished(
        self, item: InboxItem, outcome: str, detail: str | None = None, error: str | None = None
    ) -> tuple[str, str | None]:
        if not self._finish(item, error):
            raise ClaimLost(f"the claim on inbox item {item.item_id} is lost")
        return outcome, detail

    def _apply_to(
        self, item: InboxItem, update: CallUpdate, client: ClientRecord
    ) -> tuple[str, str | None]:
        """An event without a callback: one short transaction (no call can happen). One
        with a callback is given up here and run as a turn (:meth:`_turn`)."""
        gate = self.gate
        name, owner = client_lease(client.client_id), item.token or ""
        try:
            with gate.transaction(client.client_id) as state:
                if not gate.lease_acquire(name, owner, self.lease_seconds):
                    raise ClientBusy(f"client {client.client_id} is busy with another turn")
                effect = update.apply(state.client_vars)
                if self.runner is not None and effect.callback is not None:
                    raise _NeedsTurn
                apply_effect(state, effect)
                gate.inbox_done(item.item_id, token=item.token)
                gate.lease_release(name, owner)
        except _NeedsTurn:
            return self._turn(item, update, client)
        return "applied", effect.note

    def _turn(
        self, item: InboxItem, update: CallUpdate, client: ClientRecord
    ) -> tuple[str, str | None]:
        assert self.runner is not None
        gate = self.gate
        queued: list[str] = []

        def prepare(state: ClientState) -> TurnRequest | None:
            # Computed again under the client's lease, from the variables as they stand.
            effect = update.apply(state.client_vars)
            apply_effect(state, effect, keep_assigned=effect.callback is not None)
            if effect.callback is None:
                return None
            return TurnRequest.event(
                effect.callback, variables=effect.assigned, message_from_outside=FROM_TELEPHONY
            )

        def bookkeeping(state: ClientState, turn: Turn | None) -> None:
            if turn is None:
                return
            note_command(state, turn)
            if self.outbox:
                entry = outgoing_message(item, client, turn, gate.clock())
                if entry is not None and gate.inbox_add(
                    entry[0], OUTBOX_KIND, entry[1], group=outbox_group(client.client_id)
                ):
                    queued.append(entry[1]["id"])

        outcome = self.runner.run(
            client.client_id,
            prepare,
            turn_key=f"event:{item.key}",
            claim=item,
            before_commit=bookkeeping,
            wait_seconds=1.0,
        )
        with self._counts:
            self.calls_sent += outcome.sent
            self.calls_replayed += outcome.replayed
        turn = outcome.turn
        if turn is None:
            return "applied", None
        detail = f"blocks={','.join(turn.blocks) or None}"
        if turn.messages:
            detail += f" messages={len(turn.messages)}"
        if outcome.sent or outcome.replayed:
            detail += f" calls_sent={outcome.sent} calls_replayed={outcome.replayed}"
        if queued:
            detail += f" outbox={queued[0]}"
            if self._on_outbox is not None:
                self._on_outbox()
        elif not self.outbox:
            log_messages(turn)
        if turn.errors:
            detail += f" errors={len(turn.errors)}"
        return "applied", detail


class _NeedsTurn(Exception):
    """The event has a callback: its transaction gives way to a turn."""


def apply_effect(state: ClientState, effect: Effect, *, keep_assigned: bool = False) -> None:
    """Set (and clear) the client variables an event's effect names; with ``keep_assigned``
    the assigned ones are left for the turn, which sets them first."""
    for name in effect.cleared:
        state.client_vars.pop(name, None)
    if not keep_assigned:
        state.client_vars.update(effect.assigned)


def note_command(state: ClientState, turn: Any) -> None:
    """Remember the last call command a turn placed (``call_command_id``), so a failed
    ``result/callback`` can be traced back to this client; part of the turn's commit."""
    command_ids = [c.result.command_id for c in turn.calls if c.result.command_id]
    if command_ids:
        state.client_vars["call_command_id"] = command_ids[-1]
