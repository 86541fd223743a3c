"""What the SQLite and PostgreSQL stores share: the tables, the queries, the transactions.

SQL here is written with ``?`` placeholders; the PostgreSQL store translates them. Every
public operation runs in one database transaction; on a thread that already has a
:meth:`Store.transaction` or :meth:`Store.exclusive` block open it joins that transaction.
"""

from __future__ import annotations

import json
import os
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import (
    OUTBOX_PREFIX,
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
    search_text,
)

SCHEMA_VERSION = 1

CLIENT_COLUMNS = "id, client_type, phone, created_at, messenger"
INBOX_COLUMNS = (
    "id, key, kind, payload, attempts, created_at, status, error, finished_at, lease_until"
)


def _queue_filter(queue: str | None) -> tuple[str, tuple[Any, ...]]:
    """An ``AND ...`` condition (and its parameter) keeping one inbox queue's items."""
    check_queue(queue)
    if queue is None:
        return "", ()
    op = "=" if queue == "outbox" else "<>"
    return f" AND substr(kind, 1, {len(OUTBOX_PREFIX)}) {op} ?", (OUTBOX_PREFIX,)


def _inbox_item(row: Sequence[Any]) -> InboxItem:
    return InboxItem(
        int(row[0]),
        row[1],
        row[2],
        json.loads(row[3]),
        int(row[4]),
        float(row[5]),
        status=row[6],
        error=row[7],
        finished_at=None if row[8] is None else float(row[8]),
        lease_until=float(row[9]),
    )


class Result:
    """A statement's rows, fetched at once (so no statement stays open), and its row count."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Sequence[Any]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Sequence[Any] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Sequence[Any]]:
        return self.rows


class SqlStore(Store):
    """A store on a SQL database with one connection per thread."""

    begin_write_sql = "BEGIN"
    lock_client_suffix = ""  # appended to the SELECT of the client row in transaction()
    claim_suffix = ""  # appended to the SELECT of inbox rows to claim

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
        self._local = threading.local()
        self._connections: list[tuple[int, Any]] = []  # (process id, connection)
        self._connections_lock = threading.Lock()
        self._closed = False

    # -- what a dialect provides ---------------------------------------------------------

    @abstractmethod
    def _connect(self) -> Any:
        """A new connection in autocommit mode (transactions are begun explicitly)."""

    @abstractmethod
    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Result:
        """Execute one statement."""

    @abstractmethod
    def _run_many(self, conn: Any, sql: str, rows: list[Sequence[Any]]) -> None:
        """Execute one statement for each row of parameters."""

    def _is_usable(self, conn: Any) -> bool:
        return True

    def _lock_name(self, conn: Any, name: str) -> None:
        """Take a named lock for the rest of the transaction (if BEGIN alone is not one)."""

    # -- connections and transactions ----------------------------------------------------

    def _connection(self) -> Any:
        if self._closed:
            raise StoreError("the store is closed")
        local = self._local
        conn = getattr(local, "conn", None)
        if getattr(local, "pid", None) != os.getpid():
            # A forked child must not touch its parent's connections (nor close them).
            conn = None
            local.in_tx = False
        if conn is None or not self._is_usable(conn):
            conn = self._connect()
            local.conn, local.pid = conn, os.getpid()
            with self._connections_lock:
                self._connections.append((local.pid, conn))
        return conn

    def _refuse_nested(self) -> None:
        if getattr(self._local, "in_tx", False):
            raise StoreError(
                "a transaction is already open on this thread; finish it before opening another"
            )

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Any]:
        """One database transaction, or the thread's open one."""
        local = self._local
        if getattr(local, "in_tx", False):
            yield local.conn
            return
        conn = self._connection()
        self._run(conn, self.begin_write_sql if write else "BEGIN")
        local.in_tx = True
        try:
            yield conn
        except BaseException:
            local.in_tx = False
            self._rollback(conn)
            raise
        local.in_tx = False
        try:
            self._run(conn, "COMMIT")
        except BaseException:
            self._rollback(conn)
            raise

    def _rollback(self, conn: Any) -> None:
        try:
            self._run(conn, "ROLLBACK")
        except Exception:
            # The connection is gone or unusable: open a fresh one next time.
            self._local.conn = None

    def close(self) -> None:
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for pid, conn in connections:
            if pid == os.getpid():
                with suppress(Exception):
                    conn.close()

    # -- schema --------------------------------------------------------------------------

    def _check_schema_version(self, conn: Any) -> None:
        row = self._run(
            conn, "SELECT value FROM botlang_meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            self._run(
                conn,
                "INSERT INTO botlang_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"the database was written by a newer botlang (schema version {row[0]}; "
                f"this botlang knows {SCHEMA_VERSION})"
            )

    # -- clients ---------------------------------------------------------------------------

    @staticmethod
    def _db_id(client_id: str) -> int:
        text = str(client_id)
        if not text.isdigit():
            raise UnknownClient(text)
        return int(text)

    @staticmethod
    def _record(row: Sequence[Any]) -> ClientRecord:
        return ClientRecord(
            client_id=str(row[0]),
            client_type=int(row[1]),
            phone=row[2],
            created_at=float(row[3]),
            messenger=row[4],
        )

    def _client_row(self, conn: Any, cid: int, suffix: str = "") -> Sequence[Any] | None:
        return self._run(
            conn,
            f"SELECT {CLIENT_COLUMNS}, session FROM botlang_clients WHERE id = ?{suffix}",
            (cid,),
        ).fetchone()

    def _require_client(self, conn: Any, client_id: str) -> int:
        cid = self._db_id(client_id)
        if self._client_row(conn, cid) is None:
            raise UnknownClient(str(client_id))
        return cid

    def _scope_texts(self, conn: Any, cid: int) -> tuple[dict[str, str], dict[str, str]]:
        client: dict[str, str] = {}
        deal: dict[str, str] = {}
        rows = self._run(
            conn, "SELECT scope, name, value FROM botlang_variables WHERE client_id = ?", (cid,)
        )
        for scope, name, value in rows.fetchall():
            (client if scope == "client" else deal)[name] = value
        return client, deal

    def _project_texts(self, conn: Any) -> dict[str, str]:
        return dict(self._run(conn, "SELECT name, value FROM botlang_project").fetchall())

    @contextmanager
    def transaction(self, client_id: str) -> Iterator[ClientState]:
        self._refuse_nested()
        cid = self._db_id(client_id)
        with self._tx(write=True) as conn:
            row = self._client_row(conn, cid, self.lock_client_suffix)
            if row is None:
                raise UnknownClient(str(client_id))
            client_texts, deal_texts = self._scope_texts(conn, cid)
            snap = Snapshot(client_texts, deal_texts, self._project_texts(conn), row[5])
            state = ClientState(
                client=self._record(row),
                client_vars=decoded(snap.client),
                deal_vars=decoded(snap.deal),
                project_vars=decoded(snap.project),
                session=decode(snap.session),
            )
            yield state
            self._save(conn, cid, state, snap)

    def _save(self, conn: Any, cid: int, state: ClientState, snap: Snapshot) -> None:
        # Check everything before writing anything.
        client = diff_scope(self.limits, "client", snap.client, state.client_vars)
        deal = diff_scope(self.limits, "deal", snap.deal, state.deal_vars)
        project = diff_scope(self.limits, "project", snap.project, state.project_vars)
        session = encode_session(state.session)
        for scope, changes in (("client", client), ("deal", deal)):
            if changes.updated:
                self._run_many(
                    conn,
                    "INSERT INTO botlang_variables (client_id, scope, name, value, text_value)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id, scope, name) DO UPDATE"
                    " SET value = excluded.value, text_value = excluded.text_value",
                    [(cid, scope, n, t, s) for n, (t, s) in changes.updated.items()],
                )
            if changes.removed:
                self._run_many(
                    conn,
                    "DELETE FROM botlang_variables WHERE client_id = ? AND scope = ? AND name = ?",
                    [(cid, scope, n) for n in changes.removed],
                )
        if project.updated:
            self._run_many(
                conn,
                "INSERT INTO botlang_project (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [(n, t) for n, (t, _) in project.updated.items()],
            )
        if project.removed:
            self._run_many(
                conn, "DELETE FROM botlang_project WHERE name = ?", [(n,) for n in project.removed]
            )
        if session != snap.session:
            self._run(conn, "UPDATE botlang_clients SET session = ? WHERE id = ?", (session, cid))

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        self._refuse_nested()
        with self._tx(write=True) as conn:
            self._lock_name(conn, name)
            yield

    def get_client(self, client_id: str) -> ClientRecord | None:
        text = str(client_id)
        if not text.isdigit():
            return None
        with self._tx(write=False) as conn:
            row = self._client_row(conn, int(text))
        return None if row is None else self._record(row)

    def create_client(
        self,
        *,
        client_type: int,
        phone: str | None = None,
        messenger: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> ClientRecord:
        changes = diff_scope(self.limits, "client", {}, dict(variables or {}))
        created = self.clock()
        with self._tx(write=True) as conn:
            row = self._run(
                conn,
                "INSERT INTO botlang_clients (client_type, phone, messenger, created_at, session)"
                " VALUES (?, ?, ?, ?, '{}') RETURNING id",
                (int(client_type), phone, messenger, created),
            ).fetchone()
            cid = int(row[0])
            if changes.updated:
                self._run_many(
                    conn,
                    "INSERT INTO botlang_variables (client_id, scope, name, value, text_value)"
                    " VALUES (?, 'client', ?, ?, ?)",
                    [(cid, n, t, s) for n, (t, s) in changes.updated.items()],
                )
        return ClientRecord(str(cid), int(client_type), phone, created, messenger)

    def find_client_by_phone(self, phone: str, *, client_type: int = 13) -> ClientRecord | None:
        with self._tx(write=False) as conn:
            row = self._run(
                conn,
                f"SELECT {CLIENT_COLUMNS} FROM botlang_clients"
                " WHERE client_type = ? AND phone = ? ORDER BY id LIMIT 1",
                (int(client_type), phone),
            ).fetchone()
        return None if row is None else self._record(row)

    def find_client_by_variable_value(self, value: str) -> ClientRecord | None:
        with self._tx(write=False) as conn:
            row = self._run(
                conn,
                f"SELECT {CLIENT_COLUMNS} FROM botlang_clients WHERE id = (SELECT min(cid) FROM"
                " (SELECT id AS cid FROM botlang_clients WHERE phone = ?"
                " UNION ALL SELECT client_id FROM botlang_variables WHERE text_value = ?) AS m)",
                (value, value),
            ).fetchone()
        return None if row is None else self._record(row)

    def read_variables(self, client_id: str) -> dict[str, dict[str, Any]]:
        with self._tx(write=False) as conn:
            cid = self._db_id(client_id)
            row = self._client_row(conn, cid)
            if row is None:
                raise UnknownClient(str(client_id))
            client, deal = self._scope_texts(conn, cid)
            project = self._project_texts(conn)
        return {
            "client": decoded(client),
            "deal": decoded(deal),
            "project": decoded(project),
            "session": decode(row[5]),
        }

    def get_client_var(self, client_id: str, name: str) -> Any:
        with self._tx(write=False) as conn:
            cid = self._require_client(conn, client_id)
            row = self._run(
                conn,
                "SELECT value FROM botlang_variables"
                " WHERE client_id = ? AND scope = 'client' AND name = ?",
                (cid, name),
            ).fetchone()
        return None if row is None else decode(row[0])

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        text = encode_checked(self.limits, "client", name, value)
        with self._tx(write=True) as conn:
            cid = self._require_client(conn, client_id)
            exists = self._run(
                conn,
                "SELECT 1 FROM botlang_variables WHERE client_id = ? AND scope = 'client'"
                " AND name = ?",
                (cid, name),
            ).fetchone()
            if exists is None:
                (count,) = self._run(
                    conn,
                    "SELECT count(*) FROM botlang_variables"
                    " WHERE client_id = ? AND scope = 'client'",
                    (cid,),
                ).fetchone()
                if count >= self.limits.max_variables_per_scope:
                    raise LimitExceeded(
                        f"too many client variables (setting {name!r}): {count + 1:,}; "
                        f"the limit is {self.limits.max_variables_per_scope:,} per client"
                    )
            self._run(
                conn,
                "INSERT INTO botlang_variables (client_id, scope, name, value, text_value)"
                " VALUES (?, 'client', ?, ?, ?) ON CONFLICT (client_id, scope, name) DO UPDATE"
                " SET value = excluded.value, text_value = excluded.text_value",
                (cid, name, text, search_text(value)),
            )

    def close_deal(self, client_id: str) -> None:
        with self._tx(write=True) as conn:
            cid = self._require_client(conn, client_id)
            self._run(
                conn, "DELETE FROM botlang_variables WHERE client_id = ? AND scope = 'deal'", (cid,)
            )

    # -- inbox -----------------------------------------------------------------------------

    def inbox_add(self, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
        check_inbox_key(key)
        body = encode(dict(payload))
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "INSERT INTO botlang_inbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (key, kind, body, self.clock()),
            )
            return cur.rowcount == 1

    def inbox_claim(
        self, limit: int = 100, *, lease_seconds: float | None = None, queue: str | None = None
    ) -> list[InboxItem]:
        lease = self.inbox_lease_seconds if lease_seconds is None else lease_seconds
        only, only_params = _queue_filter(queue)
        with self._tx(write=True) as conn:
            now = self.clock()
            worn = self._run(
                conn,
                "SELECT id, error FROM botlang_inbox WHERE status = 'pending' AND lease_until <= ?"
                f" AND attempts >= ?{only} ORDER BY id{self.claim_suffix}",
                (now, self.inbox_max_attempts, *only_params),
            ).fetchall()
            if worn:
                self._run_many(
                    conn,
                    "UPDATE botlang_inbox SET status = 'failed', error = ?, finished_at = ?,"
                    " lease_until = 0 WHERE id = ?",
                    [
                        (given_up(self.inbox_max_attempts, error), now, item_id)
                        for item_id, error in worn
                    ],
                )
            ids = [
                r[0]
                for r in self._run(
                    conn,
                    "SELECT id FROM botlang_inbox WHERE status = 'pending' AND lease_until <= ?"
                    f" AND attempts < ?{only} ORDER BY id LIMIT ?{self.claim_suffix}",
                    (now, self.inbox_max_attempts, *only_params, int(limit)),
                ).fetchall()
            ]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self._run(
                conn,
                "UPDATE botlang_inbox SET attempts = attempts + 1, lease_until = ?"
                f" WHERE id IN ({marks})",
                (now + lease, *ids),
            )
            rows = self._run(
                conn,
                f"SELECT {INBOX_COLUMNS} FROM botlang_inbox WHERE id IN ({marks}) ORDER BY id",
                ids,
            ).fetchall()
        return [_inbox_item(r) for r in rows]

    def inbox_done(self, item_id: int, error: str | None = None) -> None:
        status = "done" if error is None else "failed"
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET status = ?, error = ?, finished_at = ?, lease_until = 0"
                " WHERE id = ?",
                (status, error, self.clock(), int(item_id)),
            )
            if cur.rowcount != 1:
                raise StoreError(f"no inbox item {item_id}")

    def inbox_release(self, item_id: int, error: str, *, delay_seconds: float) -> None:
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET error = ?, lease_until = ?"
                " WHERE id = ? AND status = 'pending'",
                (error, self.clock() + delay_seconds, int(item_id)),
            )
            if cur.rowcount != 1:
                raise StoreError(f"no pending inbox item {item_id}")

    def inbox_stats(self, *, queue: str | None = None) -> dict[str, int]:
        only, only_params = _queue_filter(queue)
        where = f" WHERE {only.removeprefix(' AND ')}" if only else ""
        stats = {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
        with self._tx(write=False) as conn:
            for status, count in self._run(
                conn,
                f"SELECT status, count(*) FROM botlang_inbox{where} GROUP BY status",
                only_params,
            ).fetchall():
                stats[status] = int(count)
            (claimed,) = self._run(
                conn,
                "SELECT count(*) FROM botlang_inbox WHERE status = 'pending'"
                f" AND lease_until > ?{only}",
                (self.clock(), *only_params),
            ).fetchone()
        stats["claimed"] = int(claimed)
        return stats

    def inbox_items(
        self, status: str, *, queue: str | None = None, limit: int = 100
    ) -> list[InboxItem]:
        check_status(status)
        only, only_params = _queue_filter(queue)
        order = "" if status == "pending" else " DESC"
        with self._tx(write=False) as conn:
            rows = self._run(
                conn,
                f"SELECT {INBOX_COLUMNS} FROM botlang_inbox WHERE status = ?{only}"
                f" ORDER BY id{order} LIMIT ?",
                (status, *only_params, max(0, int(limit))),
            ).fetchall()
        return [_inbox_item(r) for r in rows]

    def inbox_prune(self, older_than_seconds: float) -> int:
        cutoff = self.clock() - older_than_seconds
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "DELETE FROM botlang_inbox WHERE status IN ('done', 'failed') AND finished_at < ?",
                (cutoff,),
            )
            removed = int(cur.rowcount)
            self._run(conn, "DELETE FROM botlang_call_seq WHERE updated_at < ?", (cutoff,))
        return removed

    # -- call ordering ---------------------------------------------------------------------

    def call_seq_advance(self, call_id: str, seq: int) -> bool:
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "INSERT INTO botlang_call_seq (call_id, seq, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (call_id) DO UPDATE SET seq = excluded.seq,"
                " updated_at = excluded.updated_at WHERE excluded.seq > botlang_call_seq.seq",
                (str(call_id), int(seq), self.clock()),
            )
            return cur.rowcount == 1
