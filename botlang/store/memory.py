"""An in-memory store for tests, the REPL and one-off runs; nothing survives the process.

It behaves like the database stores: values are kept as JSON text (so no caller shares a
mutable value with the store), the limits are checked on commit, and a transaction rolls
back completely, including store calls that joined it. One lock serialises all
transactions, which is plenty for a single process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import (
    CallEntry,
    ClaimLost,
    ClientRecord,
    ClientState,
    InboxItem,
    Snapshot,
    Store,
    StoredAnswer,
    StoreError,
    UnknownClient,
    check_call_status,
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
    new_token,
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
    token: str | None = None
    group: str | None = None


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
        self._leases: dict[str, tuple[str, float]] = {}  # name -> (owner, until)
        self._calls: dict[str, CallEntry] = {}
        self._answers: dict[str, StoredAnswer] = {}
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

    def _load(self, client_id: str) -> ClientState:
        cid = self._cid(client_id)
        client_texts, _ = self._scope(cid, "client")
        deal_texts, _ = self._scope(cid, "deal")
        snap = Snapshot(
            dict(client_texts), dict(deal_texts), dict(self._project), self._sessions[cid]
        )
        return ClientState(
            client=self._clients[cid],
            client_vars=decoded(snap.client),
            deal_vars=decoded(snap.deal),
            project_vars=decoded(snap.project),
            session=decode(snap.session),
            loaded=snap,
        )

    def _save(self, cid: int, state: ClientState, snap: Snapshot) -> None:
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
        if session != snap.session:
            self._assign(self._sessions, cid, session)

    @contextmanager
    def transaction(self, client_id: str) -> Iterator[ClientState]:
        self._refuse_nested()
        with self._tx():
            state = self._load(client_id)
            yield state
            assert state.loaded is not None
            self._save(self._cid(client_id), state, state.loaded)

    def load_state(self, client_id: str) -> ClientState:
        with self._tx():
            return self._load(client_id)

    def save_state(self, state: ClientState) -> None:
        if state.loaded is None:
            raise StoreError("save_state needs a state from load_state")
        with self._tx():
            self._save(self._cid(state.client.client_id), state, state.loaded)

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

    def inbox_add(
        self,
        key: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        group: str | None = None,
        not_before: float | None = None,
    ) -> bool:
        check_inbox_key(key)
        body = encode(dict(payload))
        with self._tx():
            if key in self._inbox_keys:
                return False
            item_id = self._next_id["inbox"]
            self._next_id["inbox"] += 1
            row = _Inbox(
                item_id,
                key,
                kind,
                body,
                self.clock(),
                lease_until=float(not_before or 0.0),
                group=group,
            )
            self._assign(self._inbox, item_id, row)
            self._assign(self._inbox_keys, key, item_id)
            return True

    def inbox_claim(
        self,
        limit: int = 100,
        *,
        lease_seconds: float | None = None,
        queue: str | None = None,
        max_attempts: int | None = None,
    ) -> list[InboxItem]:
        check_queue(queue)
        lease = self.inbox_lease_seconds if lease_seconds is None else lease_seconds
        most = self.inbox_max_attempts if max_attempts is None else max_attempts
        claimed: list[InboxItem] = []
        with self._tx():
            now = self.clock()
            for item in list(self._inbox.values()):
                if item.status != "pending" or item.lease_until > now:
                    continue
                if not in_queue(item.kind, queue):
                    continue
                if item.attempts >= most:
                    error = given_up(most, item.error)
                    worn = replace(
                        item,
                        status="failed",
                        error=error,
                        finished_at=now,
                        lease_until=0.0,
                        token=None,
                    )
                    self._assign(self._inbox, item.item_id, worn)
            blocked: set[str] = set()
            for item in list(self._inbox.values()):  # in id order
                if item.status != "pending":
                    continue
                ahead = item.group is not None and item.group in blocked
                if item.group is not None:
                    blocked.add(item.group)
                if ahead or item.lease_until > now or not in_queue(item.kind, queue):
                    continue
                if len(claimed) >= limit:
                    continue
                taken = replace(
                    item, attempts=item.attempts + 1, lease_until=now + lease, token=new_token()
                )
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
            token=row.token,
            group=row.group,
        )

    def _pending(self, item_id: int, token: str | None) -> _Inbox:
        item = self._inbox.get(int(item_id))
        if item is None or item.status != "pending" or (token is not None and item.token != token):
            if token is not None:
                raise ClaimLost(f"the claim on inbox item {item_id} is lost")
            raise StoreError(f"no pending inbox item {item_id}")
        return item

    def inbox_done(
        self, item_id: int, error: str | None = None, *, token: str | None = None
    ) -> None:
        with self._tx():
            item = self._pending(item_id, token)
            finished = replace(
                item,
                status="done" if error is None else "failed",
                error=error,
                finished_at=self.clock(),
                lease_until=0.0,
                token=None,
            )
            self._assign(self._inbox, item.item_id, finished)

    def inbox_release(
        self,
        item_id: int,
        error: str,
        *,
        delay_seconds: float,
        token: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        with self._tx():
            item = self._pending(item_id, token)
            attempts = item.attempts if count_attempt else max(0, item.attempts - 1)
            later = replace(
                item,
                error=error,
                lease_until=self.clock() + delay_seconds,
                token=None,
                attempts=attempts,
            )
            self._assign(self._inbox, item.item_id, later)

    def inbox_renew(self, item_id: int, token: str, lease_seconds: float) -> bool:
        with self._tx():
            item = self._inbox.get(int(item_id))
            if item is None or item.status != "pending" or item.token != token:
                return False
            self._assign(
                self._inbox, item.item_id, replace(item, lease_until=self.clock() + lease_seconds)
            )
            return True

    def inbox_retry(self, *, queue: str, item_ids: Sequence[int] | None = None) -> int:
        check_queue(queue)
        wanted = None if item_ids is None else {int(i) for i in item_ids}
        count = 0
        with self._tx():
            for item in list(self._inbox.values()):
                if item.status != "failed" or not in_queue(item.kind, queue):
                    continue
                if wanted is not None and item.item_id not in wanted:
                    continue
                again = replace(
                    item, status="pending", attempts=0, lease_until=0.0, finished_at=None
                )
                self._assign(self._inbox, item.item_id, again)
                count += 1
        return count

    def inbox_stats(self, *, queue: str | None = None) -> dict[str, int]:
        check_queue(queue)
        stats = {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
        with self._tx():
            now = self.clock()
            for item in self._inbox.values():
                if not in_queue(item.kind, queue):
                    continue
                stats[item.status] += 1
                if item.status == "pending" and item.token is not None and item.lease_until > now:
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
            for key, entry in list(self._calls.items()):
                if entry.updated_at < cutoff:
                    self._remove(self._calls, key)
            for name, (_, until) in list(self._leases.items()):
                if until < cutoff:
                    self._remove(self._leases, name)
        return removed

    # -- call ordering ---------------------------------------------------------------------

    def call_seq_advance(self, call_id: str, seq: int) -> bool:
        with self._tx():
            last = self._call_seq.get(str(call_id))
            if last is not None and int(seq) <= last[0]:
                return False
            self._assign(self._call_seq, str(call_id), (int(seq), self.clock()))
            return True

    # -- leases ------------------------------------------------------------------------------

    def lease_acquire(self, name: str, owner: str, seconds: float) -> bool:
        with self._tx():
            now = self.clock()
            held = self._leases.get(name)
            if held is not None and held[0] != owner and held[1] > now:
                return False
            self._assign(self._leases, name, (owner, now + seconds))
            return True

    def lease_held(self, name: str, owner: str) -> bool:
        with self._tx():
            held = self._leases.get(name)
            return held is not None and held[0] == owner

    def lease_release(self, name: str, owner: str) -> None:
        with self._tx():
            held = self._leases.get(name)
            if held is not None and held[0] == owner:
                self._remove(self._leases, name)

    # -- the call journal --------------------------------------------------------------------

    def _call(self, call_key: str) -> CallEntry:
        entry = self._calls.get(call_key)
        if entry is None:
            raise StoreError(f"no journalled call {call_key!r}")
        return entry

    def call_intent(
        self,
        call_key: str,
        *,
        turn_key: str,
        ordinal: int,
        kind: str,
        args: Mapping[str, Any],
        client_id: str | None,
        owner: str,
    ) -> CallEntry:
        with self._tx():
            if call_key not in self._calls:
                now = self.clock()
                entry = CallEntry(
                    call_key,
                    turn_key,
                    int(ordinal),
                    kind,
                    decode(encode(dict(args))),
                    client_id,
                    owner,
                    "intent",
                    None,
                    now,
                    now,
                )
                self._assign(self._calls, call_key, entry)
            return self._call(call_key)

    def call_record(self, call_key: str, result: Mapping[str, Any]) -> CallEntry:
        with self._tx():
            entry = replace(
                self._call(call_key),
                status="done",
                result=decode(encode(dict(result))),
                updated_at=self.clock(),
            )
            self._assign(self._calls, call_key, entry)
            return entry

    def call_settle(self, call_key: str) -> CallEntry:
        with self._tx():
            entry = self._call(call_key)
            if entry.status == "intent":
                entry = replace(entry, status="unknown", updated_at=self.clock())
                self._assign(self._calls, call_key, entry)
            return entry

    def call_entries(
        self, *, turn_key: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[CallEntry]:
        check_call_status(status)
        with self._tx():
            entries = [
                e
                for e in self._calls.values()
                if (turn_key is None or e.turn_key == turn_key)
                and (status is None or e.status == status)
            ]
        entries.sort(key=lambda e: (e.created_at, e.turn_key, e.ordinal))
        return entries[: max(0, int(limit))]

    # -- stored answers ----------------------------------------------------------------------

    def answer_get(self, key: str) -> StoredAnswer | None:
        with self._tx():
            return self._answers.get(key)

    def answer_put(self, key: str, request_hash: str, response: Mapping[str, Any]) -> None:
        with self._tx():
            if key not in self._answers:
                response = decode(encode(dict(response)))
                answer = StoredAnswer(key, request_hash, response, self.clock())
                self._assign(self._answers, key, answer)

    def answer_prune(self, older_than_seconds: float) -> int:
        removed = 0
        with self._tx():
            cutoff = self.clock() - older_than_seconds
            for key, answer in list(self._answers.items()):
                if answer.created_at < cutoff:
                    self._remove(self._answers, key)
                    removed += 1
        return removed

    def close(self) -> None:
        self._closed = True
