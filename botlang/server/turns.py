"""Turns the service runs: one client at a time, telephony calls outside any write lock.

A flow turn may place a call, and Mango may take seconds to answer it. Holding the store's
write transaction (with SQLite, the one write lock of the database) for that long would
stall webhook intake and every other client. So :class:`TurnRunner` runs a turn in three
short steps instead of one long transaction:

1. **take the client**: a named lease ``client:<id>`` (a row in the store, so it holds
   across processes) is taken and the client's scopes are read, in one short transaction.
   Another holder makes the runner wait (up to ``wait_seconds``, then :class:`ClientBusy`);
   the lease is renewed in the background while the turn runs;
2. **run the turn** with no transaction open. Each call goes through
   :class:`JournaledTelephony`: its *intent* is committed to the store's call journal
   (keyed by the turn's identity and the call's position in it) before the command is
   sent, and its result after; writes to *other* clients' variables are kept aside;
3. **commit**, in one short transaction: check the lease is still this turn's, write what
   the turn changed, the kept-aside writes and the caller's bookkeeping (an event's outbox
   entry and fenced "done" mark, a request's stored answer), release the lease. A lost
   lease or claim rolls all of it back (:class:`~botlang.store.ClaimLost`).

A crash at any point leaves the journal saying, for every call of the turn, whether it may
have been sent: ``intent`` (it may have) or ``done`` (it was, with its result). A re-run of
the same turn (the same event after a crash, the same ``Idempotency-Key``) reads the
journal instead of calling again: a ``done`` call gives its recorded result, an intent left
by an attempt that is gone is settled as ``unknown`` and gives a failed result saying the
call may have been placed — it is never sent twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botlang.core.errors import BotlangError
from botlang.server.logs import log
from botlang.store.base import (
    CallEntry,
    ClaimLost,
    ClientState,
    InboxItem,
    Store,
    UnknownClient,
    encode_checked,
)
from botlang.telephony import CallResult, GuardedTelephony, guarded
from botlang.telephony import codes as result_codes

if TYPE_CHECKING:
    from botlang.flow import Bot, Turn, TurnRequest
    from botlang.server.inbox import StoreGate

logger = logging.getLogger("botlang.server.turns")

UNKNOWN_MESSAGE = (
    "an earlier attempt of this turn may have placed this call and did not record the "
    "outcome; it is not placed again"
)


class ClientBusy(Exception):
    """Another turn holds the client (try again later)."""


class TurnAborted(Exception):
    """The turn could not finish safely (a call's journal entry could not be written, or an
    earlier attempt's call is not settled yet); nothing of it was committed."""


def client_lease(client_id: str) -> str:
    """The name of a client's lease."""
    return f"client:{client_id}"


def call_key(turn_key: str, ordinal: int, kind: str, args: dict[str, str]) -> str:
    """The journal key of a turn's ``ordinal``-th call: a re-run placing the same call at
    the same position finds it; a different call is a different command."""
    text = json.dumps([turn_key, ordinal, kind, args], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def result_of(entry: CallEntry) -> CallResult:
    """What a journalled call gives a re-run: its recorded result, or "may have been placed"."""
    if entry.status == "done" and entry.result is not None:
        return CallResult.from_mapping(entry.result)
    return CallResult(False, result_codes.SERVER_ERROR, UNKNOWN_MESSAGE)


class Renewals:
    """A thread that keeps leases and claims alive while the work holding them runs.

    :meth:`hold` registers a renewal (a function returning False once the lease is lost)
    for the duration of a ``with`` block; each is called every ``every_seconds``.
    """

    def __init__(self, every_seconds: float) -> None:
        self.every_seconds = every_seconds
        self._held: dict[int, Callable[[], bool]] = {}
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._next = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    @contextmanager
    def hold(self, renew: Callable[[], bool]) -> Iterator[Callable[[], bool]]:
        """Renew while the block runs; yields a function telling whether it was lost."""
        with self._lock:
            handle = self._next
            self._next += 1
            self._held[handle] = renew
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="botlang-renewals", daemon=True
                )
                self._thread.start()
        try:
            yield lambda: handle in self._lost
        finally:
            with self._lock:
                self._held.pop(handle, None)
                self._lost.discard(handle)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join(10)

    def _run(self) -> None:
        while not self._wake.wait(self.every_seconds):
            with self._lock:
                held = list(self._held.items())
            for handle, renew in held:
                try:
                    kept = renew()
                except Exception as exc:  # the store is down: the next round tries again
                    log(logger, logging.WARNING, "lease.renew_failed", error=type(exc).__name__)
                    continue
                if not kept:
                    with self._lock:
                        if handle in self._held:
                            self._lost.add(handle)


class JournaledTelephony(GuardedTelephony):
    """A turn's telephony: each call is journalled before it is sent and after (see the
    module's docstring); ``shared`` (validation, spam guard, the adapter) sends it.

    When a call cannot be journalled, or an earlier attempt's call is not settled,
    :attr:`aborted` says why, and every call from then on is answered without being sent:
    the runner then throws the turn away.
    """

    def __init__(
        self,
        shared: GuardedTelephony,
        journal: Store,
        *,
        turn_key: str,
        owner: str,
        client_id: str | None,
        settle_seconds: float,
    ) -> None:
        super().__init__(shared.inner, shared.guard)
        self._shared = shared
        self._journal = journal
        self.turn_key = turn_key
        self.owner = owner
        self.client_id = client_id
        self.settle_seconds = settle_seconds
        self._ordinal = 0
        self.aborted: str | None = None
        self.sent = 0  # commands this turn sent (not replayed)
        self.replayed = 0  # calls answered from the journal

    def employee_call(self, extension: object, phone: object) -> CallResult:
        args = {"extension": str(extension), "phone": str(phone)}
        return self._journaled(
            "employee", args, lambda: self._shared.employee_call(extension, phone)
        )

    def group_call(self, group: object, line_number: object, phone: object) -> CallResult:
        args = {"group": str(group), "line_number": str(line_number), "phone": str(phone)}
        return self._journaled(
            "group", args, lambda: self._shared.group_call(group, line_number, phone)
        )

    def hangup(self, call_id: object) -> CallResult:
        return self._journaled(
            "hangup", {"call_id": str(call_id)}, lambda: self._shared.hangup(call_id)
        )

    def send_sms(
        self, extension: object, phone: object, text: str, sender: str | None = None
    ) -> CallResult:
        args = {"extension": str(extension), "phone": str(phone), "text": str(text)}
        if sender is not None:
            args["sender"] = str(sender)
        return self._journaled(
            "sms", args, lambda: self._shared.send_sms(extension, phone, text, sender)
        )

    def _abort(self, reason: str) -> CallResult:
        self.aborted = self.aborted or reason
        return CallResult(False, result_codes.SERVER_ERROR, f"not placed: {self.aborted}")

    def _journaled(
        self, kind: str, args: dict[str, str], send: Callable[[], CallResult]
    ) -> CallResult:
        ordinal = self._ordinal
        self._ordinal += 1
        if self.aborted is not None:
            return self._abort(self.aborted)
        key = call_key(self.turn_key, ordinal, kind, args)
        try:
            entry = self._journal.call_intent(
                key,
                turn_key=self.turn_key,
                ordinal=ordinal,
                kind=kind,
                args=args,
                client_id=self.client_id,
                owner=self.owner,
            )
        except Exception as exc:  # no intent on record: the command must not be sent
            return self._abort(f"the call journal could not be written ({type(exc).__name__})")
        if entry.owner != self.owner or entry.status != "intent":
            return self._replay(entry)
        result = send()
        self.sent += 1
        try:
            self._journal.call_record(key, result.as_dict())
        except Exception as exc:  # sent, but not recorded: the intent stays "may have"
            return self._abort(f"the call's result could not be recorded ({type(exc).__name__})")
        return result

    def _replay(self, entry: CallEntry) -> CallResult:
        if entry.status == "intent":
            age = self._journal.clock() - entry.created_at
            if age < self.settle_seconds:
                return self._abort("an earlier attempt's call is not settled yet")
            try:
                entry = self._journal.call_settle(entry.call_key)
            except Exception as exc:
                return self._abort(f"the call journal could not be written ({type(exc).__name__})")
            log(
                logger,
                logging.WARNING,
                "call.unknown",
                turn=self.turn_key,
                ordinal=entry.ordinal,
                kind=entry.kind,
                client_id=entry.client_id,
                status=entry.status,
            )
        self.replayed += 1
        return result_of(entry)


class DeferredWrites:
    """The store as a turn sees it: writes to other clients' variables are checked at once
    (an unknown client, a limit) and kept, to be committed with the turn."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.writes: dict[tuple[str, str], Any] = {}

    def get_client_var(self, client_id: str, name: str) -> Any:
        key = (str(client_id), name)
        if key in self.writes:
            return self.writes[key]
        return self._store.get_client_var(str(client_id), name)

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        if self._store.get_client(str(client_id)) is None:
            raise UnknownClient(str(client_id))
        encode_checked(self._store.limits, "client", name, value)
        self.writes[(str(client_id), name)] = value

    def apply(self, store: Store) -> None:
        for (client_id, name), value in self.writes.items():
            store.set_client_var(client_id, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@dataclass
class TurnOutcome:
    """A finished turn and what its telephony did."""

    turn: Turn | None  # None: the request gave no turn
    sent: int  # commands sent by this attempt
    replayed: int  # calls answered from the journal


Bookkeeping = Callable[[ClientState, "Turn | None"], None]


class TurnRunner:
    """Runs flow turns for the service (see the module's docstring).

    ``lease_seconds`` is the client lease (renewed every third of it while a turn runs);
    ``wait_seconds`` how long to wait for a client another turn holds; ``settle_seconds``
    how long an earlier attempt's unrecorded call is given before it is settled as
    ``unknown`` (longer than a call command can take).
    """

    def __init__(
        self,
        gate: StoreGate,
        bot: Bot,
        *,
        lease_seconds: float = 30.0,
        wait_seconds: float = 30.0,
        settle_seconds: float = 30.0,
        renewals: Renewals | None = None,
    ) -> None:
        self.gate = gate
        self.bot = bot
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.settle_seconds = settle_seconds
        self.renewals = renewals or Renewals(lease_seconds / 3)

    def run(
        self,
        client_id: str,
        request: TurnRequest | Callable[[ClientState], TurnRequest | None],
        *,
        turn_key: str,
        claim: InboxItem | None = None,
        on_taken: Callable[[], None] | None = None,
        before_commit: Bookkeeping | None = None,
        wait_seconds: float | None = None,
    ) -> TurnOutcome:
        """Run one turn on the client and commit it (see the module's docstring).

        ``request`` may be a function of the client's state as read (None: no turn, the
        state alone is committed). ``turn_key`` names the turn for the call journal (the
        same on a re-run); ``claim``
        is the inbox item the turn applies, finished (fenced by its token) in the commit;
        ``on_taken()`` runs once the client is held (raise to give the turn up);
        ``before_commit(state, turn)`` adds the caller's bookkeeping to the commit.
        Raises ClientBusy, TurnAborted, ClaimLost (nothing committed) or the store's error.
        """
        gate = self.gate
        name = client_lease(client_id)
        owner = claim.token if claim is not None and claim.token else uuid.uuid4().hex
        state = self._take(name, owner, client_id, wait_seconds)
        released = False
        try:
            if on_taken is not None:
                on_taken()
            renew = lambda: gate.lease_acquire(name, owner, self.lease_seconds)  # noqa: E731
            with self.renewals.hold(renew) as lost:
                prepared = request(state) if callable(request) else request
                shared = guarded(self.bot.telephony) if prepared is not None else None
                telephony = None
                if shared is not None:
                    telephony = JournaledTelephony(
                        shared,
                        gate.store,
                        turn_key=turn_key,
                        owner=owner,
                        client_id=client_id,
                        settle_seconds=self.settle_seconds,
                    )
                deferred = DeferredWrites(gate.store)
                turn = None
                if prepared is not None:
                    turn = self.bot.turn(deferred, state, prepared, telephony=telephony)  # type: ignore[arg-type]
                if telephony is not None and telephony.aborted is not None:
                    raise TurnAborted(telephony.aborted)
                if lost():
                    raise ClaimLost(f"the lease on client {client_id} is lost")
                with gate.exclusive(name):
                    if not gate.lease_held(name, owner):
                        raise ClaimLost(f"the lease on client {client_id} is lost")
                    if before_commit is not None:
                        before_commit(state, turn)
                    gate.save_state(state)
                    deferred.apply(gate.store)
                    if claim is not None:
                        gate.inbox_done(claim.item_id, token=claim.token)
                    gate.lease_release(name, owner)
                released = True
        finally:
            if not released:
                with suppress(Exception):
                    gate.lease_release(name, owner)
        sent = telephony.sent if telephony is not None else 0
        replayed = telephony.replayed if telephony is not None else 0
        return TurnOutcome(turn, sent, replayed)

    def _take(
        self, name: str, owner: str, client_id: str, wait_seconds: float | None
    ) -> ClientState:
        """Take the client's lease and read its state (one transaction), waiting for it."""
        gate = self.gate
        deadline = time.monotonic() + (self.wait_seconds if wait_seconds is None else wait_seconds)
        pause = 0.005
        while True:
            with gate.exclusive(name):
                if gate.lease_acquire(name, owner, self.lease_seconds):
                    return gate.load_state(client_id)
            if time.monotonic() >= deadline:
                raise ClientBusy(f"client {client_id} is busy with another turn")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def close(self) -> None:
        self.renewals.stop()


def describe_turn_error(exc: BaseException) -> str:
    """A short, secret-free description of why a turn did not commit."""
    if isinstance(exc, BotlangError | ClientBusy | TurnAborted | ClaimLost):
        return str(exc)[:300]
    return type(exc).__name__
