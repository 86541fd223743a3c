"""The service's side of the store: serialised writes and the inbox writer that commits
received events in groups.

:class:`StoreGate` wraps the store for everything the service does:

with SQLite every write takes the database's one write lock; waiting for it inside SQLite
means sleeping in its busy handler (1, 2, 5, 10... ms), so the gate makes this process's
writers (inbox writer, worker, message turns, lease renewals) queue on a Python lock
instead. Transactions stay short: a turn that places a call holds no transaction while
the call is sent (:mod:`botlang.server.turns`).

:class:`InboxWriter` is one thread that takes deliveries from the request handlers and
writes them in one transaction per group (a group commit): each request still gets its
answer only after its event is durable.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, cast

from botlang.server.logs import log
from botlang.store.base import ClientState, Store

logger = logging.getLogger("botlang.server.inbox")


class Overloaded(Exception):
    """Too many deliveries are waiting for their inbox write (HTTP 503)."""


class StoreGate:
    """The store as the service uses it (see the module's docstring).

    Pass ``gate.store`` (typed as a :class:`~botlang.store.Store`) wherever a store is
    expected: the flow runtime and client matching go through the gate that way.
    """

    def __init__(self, store: Store, *, serialize_writes: bool | None = None) -> None:
        self.inner = store
        if serialize_writes is None:
            from botlang.store.sqlite import SqliteStore

            serialize_writes = isinstance(store, SqliteStore)
        self._lock: threading.RLock | None = threading.RLock() if serialize_writes else None

    @property
    def store(self) -> Store:
        """This gate, seen as a Store."""
        return cast(Store, self)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold this process's write lock (no-op for a store that needs none)."""
        with self._lock if self._lock is not None else nullcontext():
            yield

    @contextmanager
    def transaction(self, client_id: str) -> Iterator[ClientState]:
        with self.writing(), self.inner.transaction(client_id) as state:
            yield state

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        with self.writing(), self.inner.exclusive(name):
            yield

    # Writes outside a transaction take the lock too (re-entrant inside one).

    def inbox_add(self, key: str, kind: str, payload: Mapping[str, Any], **options: Any) -> bool:
        with self.writing():
            return self.inner.inbox_add(key, kind, payload, **options)

    def inbox_claim(self, limit: int = 100, **options: Any) -> list[Any]:
        with self.writing():
            return self.inner.inbox_claim(limit, **options)

    def inbox_done(self, item_id: int, error: str | None = None, **options: Any) -> None:
        with self.writing():
            self.inner.inbox_done(item_id, error, **options)

    def inbox_release(self, item_id: int, error: str, **options: Any) -> None:
        with self.writing():
            self.inner.inbox_release(item_id, error, **options)

    def inbox_renew(self, item_id: int, token: str, lease_seconds: float) -> bool:
        with self.writing():
            return self.inner.inbox_renew(item_id, token, lease_seconds)

    def inbox_retry(self, **options: Any) -> int:
        with self.writing():
            return self.inner.inbox_retry(**options)

    def save_state(self, state: ClientState) -> None:
        with self.writing():
            self.inner.save_state(state)

    def lease_acquire(self, name: str, owner: str, seconds: float) -> bool:
        with self.writing():
            return self.inner.lease_acquire(name, owner, seconds)

    def lease_release(self, name: str, owner: str) -> None:
        with self.writing():
            self.inner.lease_release(name, owner)

    def call_intent(self, call_key: str, **fields: Any) -> Any:
        with self.writing():
            return self.inner.call_intent(call_key, **fields)

    def call_record(self, call_key: str, result: Mapping[str, Any]) -> Any:
        with self.writing():
            return self.inner.call_record(call_key, result)

    def call_settle(self, call_key: str) -> Any:
        with self.writing():
            return self.inner.call_settle(call_key)

    def answer_put(self, key: str, request_hash: str, response: Mapping[str, Any]) -> None:
        with self.writing():
            self.inner.answer_put(key, request_hash, response)

    def answer_prune(self, older_than_seconds: float) -> int:
        with self.writing():
            return self.inner.answer_prune(older_than_seconds)

    def inbox_prune(self, older_than_seconds: float) -> int:
        with self.writing():
            return self.inner.inbox_prune(older_than_seconds)

    def call_seq_advance(self, call_id: str, seq: int) -> bool:
        with self.writing():
            return self.inner.call_seq_advance(call_id, seq)

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        with self.writing():
            self.inner.set_client_var(client_id, name, value)

    def create_client(self, **kwargs: Any) -> Any:
        with self.writing():
            return self.inner.create_client(**kwargs)

    def close_deal(self, client_id: str) -> None:
        with self.writing():
            self.inner.close_deal(client_id)

    def __getattr__(self, name: str) -> Any:
        # Reads (and anything else) go straight to the store.
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"StoreGate({self.inner!r})"


@dataclass
class _Write:
    key: str
    kind: str
    payload: dict[str, Any]
    group: str | None
    future: concurrent.futures.Future[bool]


_STOP = object()


class InboxWriter:
    """One thread writing received events to the inbox, a group per transaction.

    :meth:`submit` returns a future that resolves to True (stored), False (a duplicate
    key) or an exception (not stored). At most ``max_pending`` writes wait; beyond that
    :meth:`submit` raises :class:`Overloaded` rather than queue without bound.
    """

    def __init__(
        self,
        gate: StoreGate,
        *,
        max_pending: int = 2_000,
        max_batch: int = 256,
        on_added: Callable[[int], None] | None = None,
    ) -> None:
        self.gate = gate
        self.max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._on_added = on_added
        # A name no other process uses: the group needs a transaction, not a shared lock.
        self._name = f"botlang-inbox-writer:{os.getpid()}:{uuid.uuid4().hex}"
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Writes waiting (approximately)."""
        return self._queue.qsize()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="botlang-inbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(
        self, key: str, kind: str, payload: dict[str, Any], *, group: str | None = None
    ) -> concurrent.futures.Future[bool]:
        """Queue one write (``group``: the inbox group its item belongs to)."""
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        try:
            self._queue.put_nowait(_Write(key, kind, payload, group, future))
        except queue.Full:
            raise Overloaded(f"{self._queue.maxsize} deliveries are waiting to be stored") from None
        return future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Write] = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self.write(batch)

    def write(self, batch: list[_Write]) -> None:
        """Store a group in one transaction; if that fails, each on its own."""
        results: list[bool | BaseException]
        try:
            with self.gate.exclusive(self._name):
                results = [
                    self.gate.inbox_add(w.key, w.kind, w.payload, group=w.group) for w in batch
                ]
        except Exception as exc:
            log(
                logger,
                logging.WARNING,
                "inbox.group_failed",
                size=len(batch),
                error=type(exc).__name__,
            )
            results = []
            for w in batch:
                try:
                    results.append(self.gate.inbox_add(w.key, w.kind, w.payload, group=w.group))
                except Exception as single:
                    results.append(single)
        added = sum(1 for r in results if r is True)
        if added and self._on_added is not None:
            self._on_added(added)
        for w, result in zip(batch, results, strict=True):
            if not w.future.set_running_or_notify_cancel():
                continue  # the request went away; the event is stored all the same
            if isinstance(result, BaseException):
                w.future.set_exception(result)
            else:
                w.future.set_result(result)
