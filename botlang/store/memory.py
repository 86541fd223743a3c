"""An in-memory store for tests, the REPL and one-off runs; nothing survives the process.

It behaves like the database stores: values are kept as JSON text (so no caller shares a
mutable value with the store), the limits are checked on commit, and a transaction rolls
back completely, including store calls that joined it. One lock serialises all
transactions, which is plenty for a single process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import (
    ClientRecord,
    ClientState,
    InboxItem,
    Snapshot,
    Store,
    StoreError,
    UnknownClient,
    check_inbox_key,
    check_queue,
    check_status,
    decode,
    decoded,
    diff_scope,
    encode,
    encode_checked,
    encode_session,
    given_up,
    in_queue,
    search_text,
)

_MISSING = object()


@dataclass(frozen=True)
class _Inbox:
    item_id: int
    key: str
    kind: str
    payload: str
    created_at: float
    status: str = "pending"
    attempts: int = 0
    lease_until: float = 0.0
    finished_at: float | None = None
    error: str | None = None


class MemoryStore(Store):
    """A store held in this process's memory."""

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        inbox_lease_seconds: float = 60.0,
        inbox_max_attempts: int = 5,
    ) -> None:
        self.limits = limits
        self.inbox_lease_seconds = inbox_lease_seconds
        self.inbox_max_attempts = inbox_max_attempts
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._local = threading.local()
        self._undo: list[Callable[[], None]] | None = None
        self._next_id = {"client": 1, "inbox": 1}
        self._clients: dict[int, ClientRecord] = {}
        self._sessions: dict[int, str] = {}
        # (client id, "client" | "deal") -> name -> JSON text
        self._vars: dict[tuple[int, str], dict[str, str]] = {}
        self._search: dict[tuple[int, str], dict[str, str | None]] = {}
        self._project: dict[str, str] = {}
        self._inbox: dict[int, _Inbox] = {}
        self._inbox_keys: dict[str, int] = {}
        self._call_seq: dict[str, tuple[int, float]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._clients)} clients)"

    # -- locking and undo --------------------------------------------------------------------

    def _refuse_nested(self) -> None:
        if getattr(self._local, "in_tx", False):
            raise StoreError(
                "a transaction is already open on this thread; finish it before opening another"
            )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """Run under the store lock; inside an open transaction, record how to undo."""
        if self._closed:
            raise StoreError("the store is closed")
        if getattr(self._local, "in_tx", False):
            yield
            return
        with self._lock:
            self._undo = []
            self._local.in_tx = True
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                raise
            finally:
                self._local.in_tx = False
                self._undo = None

    def _assign(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)
        mapping[key] = value
        if self._undo is not None:
            self._undo.append(lambda: self._restore(mapping, key, old))

    def _remove(self, mapping: MutableMapping[Any, Any], key: Any) -> None:
        old = mapping.pop(key, _MISSING)
        if self._undo is not None and old is not _MISSING:
            self._undo.append(lambda: self._restore(mapping, key, old))

    @staticmethod
    def _restore(mapping: MutableMapping[Any, Any], key: Any, old: Any) -> None:
        if old is _MISSING:
            mapping.pop(key, None)
        else:
            mapping[key] = old

    def _cid(self, client_id: str) -> int:
        text = str(client_id)
        if not text.isdigit() or int(text) not in self._clients:
            raise UnknownClient(text)
        return int(text)

    def _scope(self, cid: int, scope: str) -> tuple[dict[str, str], dict[str, str | None]]:
        return (
            self._vars.setdefault((cid, scope), {}),
            self._search.setdefault((cid, scope), {}),
        )

    # -- clients ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self, client_id: str) -> Iterator[ClientState]:
        self._refuse_nested()
        with self._tx():
            cid = self._cid(client_id)
            client_texts, _ = self._scope(cid, "client")
            deal_texts, _ = self._scope(cid, "deal")
            snap = Snapshot(
                dict(client_texts), dict(deal_texts), dict(self._project), self._sessions[cid]
            )
            state = ClientState(
                client=self._clients[cid],
                client_vars=decoded(snap.client),
                deal_vars=decoded(snap.deal),
                project_vars=decoded(snap.project),
                session=decode(snap.session),
            )
            yield state
            client = diff_scope(self.limits, "client", snap.client, state.client_vars)
            deal = diff_scope(self.limits, "deal", snap.deal, state.deal_vars)
            project = diff_scope(self.limits, "project", snap.project, state.project_vars)
            session = encode_session(state.session)
            for scope, changes in (("client", client), ("deal", deal)):
                texts, search = self._scope(cid, scope)
                for name, (text, found_by) in changes.updated.items():
                    self._assign(texts, name, text)
                    self._assign(search, name, found_by)
                for name in changes.removed:
                    self._remove(texts, name)
                    self._remove(search, name)
            for name, (text, _) in project.updated.items():
                self._assign(self._project, name, text)
            for name in project.removed:
                self._remove(self._project, name)
            self._assign(self._sessions, cid, session)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        self._refuse_nested()
        with self._tx():
            yield

    def get_client(self, client_id: str) -> ClientRecord | None:
        text = str(client_id)
        with self._tx():
            return self._clients.get(int(text)) if text.isdigit() else None

    def create_client(
        self,
        *,
        client_type: int,
        phone: str | None = None,
        messenger: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> ClientRecord:
        changes = diff_scope(self.limits, "client", {}, dict(variables or {}))
        with self._tx():
            cid = self._next_id["client"]
            self._next_id["client"] += 1
            record = ClientRecord(str(cid), int(client_type), phone, self.clock(), messenger)
            self._assign(self._clients, cid, record)
            self._assign(self._sessions, cid, "{}")
            texts, search = self._scope(cid, "client")
            for name, (text, found_by) in changes.updated.items():
                self._assign(texts, name, text)
                self._assign(search, name, found_by)
        return record

    def find_client_by_phone(self, phone: str, *, client_type: int = 13) -> ClientRecord | None:
        with self._tx():
            for record in self._clients.values():  # insertion order is creation order
                if record.client_type == client_type and record.phone == phone:
                    return record
        return None

    def find_client_by_variable_value(self, value: str) -> ClientRecord | None:
        with self._tx():
            for cid, record in self._clients.items():
                if record.phone == value:
                    return record
                for scope in ("client", "deal"):
                    if value in self._search.get((cid, scope), {}).values():
                        return record
        return None

    def read_variables(self, client_id: str) -> dict[str, dict[str, Any]]:
        with self._tx():
            cid = self._cid(client_id)
            return {
                "client": decoded(self._vars.get((cid, "client"), {})),
                "deal": decoded(self._vars.get((cid, "deal"), {})),
                "project": decoded(self._project),
                "session": decode(self._sessions[cid]),
            }

    def get_client_var(self, client_id: str, name: str) -> Any:
        with self._tx():
            cid = self._cid(client_id)
            text = self._vars.get((cid, "client"), {}).get(name)
        return None if text is None else decode(text)

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        text = encode_checked(self.limits, "client", name, value)
        with self._tx():
            cid = self._cid(client_id)
            texts, search = self._scope(cid, "client")
            if name not in texts and len(texts) >= self.limits.max_variables_per_scope:
                raise LimitExceeded(
                    f"too many client variables (setting {name!r}): {len(texts) + 1:,}; "
                    f"the limit is {self.limits.max_variables_per_scope:,} per client"
                )
            self._assign(texts, name, text)
            self._assign(search, name, search_text(value))

    def close_deal(self, client_id: str) -> None:
        with self._tx():
            cid = self._cid(client_id)
            self._assign(self._vars, (cid, "deal"), {})
            self._assign(self._search, (cid, "deal"), {})

    # -- inbox -----------------------------------------------------------------------------

    def inbox_add(self, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
        check_inbox_key(key)
        body = encode(dict(payload))
        with self._tx():
            if key in self._inbox_keys:
                return False
            item_id = self._next_id["inbox"]
            self._next_id["inbox"] += 1
            self._assign(self._inbox, item_id, _Inbox(item_id, key, kind, body, self.clock()))
            self._assign(self._inbox_keys, key, item_id)
            return True

    def inbox_claim(
        self, limit: int = 100, *, lease_seconds: float | None = None, queue: str | None = None
    ) -> list[InboxItem]:
        check_queue(queue)
        lease = self.inbox_lease_seconds if lease_seconds is None else lease_seconds
        claimed: list[InboxItem] = []
        with self._tx():
            now = self.clock()
            for item in list(self._inbox.values()):
                if item.status != "pending" or item.lease_until > now:
                    continue
                if not in_queue(item.kind, queue):
                    continue
                if item.attempts >= self.inbox_max_attempts:
                    error = given_up(self.inbox_max_attempts, item.error)
                    worn = replace(
                        item, status="failed", error=error, finished_at=now, lease_until=0.0
                    )
                    self._assign(self._inbox, item.item_id, worn)
                    continue
                if len(claimed) >= limit:
                    continue
                taken = replace(item, attempts=item.attempts + 1, lease_until=now + lease)
                self._assign(self._inbox, item.item_id, taken)
                claimed.append(self._item(taken))
        return claimed

    @staticmethod
    def _item(row: _Inbox) -> InboxItem:
        return InboxItem(
            row.item_id,
            row.key,
            row.kind,
            decode(row.payload),
            row.attempts,
            row.created_at,
            status=row.status,
            error=row.error,
            finished_at=row.finished_at,
            lease_until=row.lease_until,
        )

    def inbox_done(self, item_id: int, error: str | None = None) -> None:
        with self._tx():
            item = self._inbox.get(int(item_id))
            if item is None:
                raise StoreError(f"no inbox item {item_id}")
            finished = replace(
                item,
                status="done" if error is None else "failed",
                error=error,
                finished_at=self.clock(),
                lease_until=0.0,
            )
            self._assign(self._inbox, item.item_id, finished)

    def inbox_release(self, item_id: int, error: str, *, delay_seconds: float) -> None:
        with self._tx():
            item = self._inbox.get(int(item_id))
            if item is None or item.status != "pending":
                raise StoreError(f"no pending inbox item {item_id}")
            later = replace(item, error=error, lease_until=self.clock() + delay_seconds)
            self._assign(self._inbox, item.item_id, later)

    def inbox_stats(self, *, queue: str | None = None) -> dict[str, int]:
        check_queue(queue)
        stats = {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
        with self._tx():
            now = self.clock()
            for item in self._inbox.values():
                if not in_queue(item.kind, queue):
                    continue
                stats[item.status] += 1
                if item.status == "pending" and item.lease_until > now:
                    stats["claimed"] += 1
        return stats

    def inbox_items(
        self, status: str, *, queue: str | None = None, limit: int = 100
    ) -> list[InboxItem]:
        check_queue(queue)
        check_status(status)
        with self._tx():
            rows = [
                row
                for row in self._inbox.values()
                if row.status == status and in_queue(row.kind, queue)
            ]
            if status != "pending":
                rows.reverse()
            return [self._item(row) for row in rows[: max(0, int(limit))]]

    def inbox_prune(self, older_than_seconds: float) -> int:
        removed = 0
        with self._tx():
            cutoff = self.clock() - older_than_seconds
            for item in list(self._inbox.values()):
                if item.status != "pending" and (item.finished_at or 0.0) < cutoff:
                    self._remove(self._inbox, item.item_id)
                    self._remove(self._inbox_keys, item.key)
                    removed += 1
            for call_id, (_, updated) in list(self._call_seq.items()):
                if updated < cutoff:
                    self._remove(self._call_seq, call_id)
        return removed

    # -- call ordering ---------------------------------------------------------------------

    def call_seq_advance(self, call_id: str, seq: int) -> bool:
        with self._tx():
            last = self._call_seq.get(str(call_id))
            if last is not None and int(seq) <= last[0]:
                return False
            self._assign(self._call_seq, str(call_id), (int(seq), self.clock()))
            return True

    def close(self) -> None:
        self._closed = True
