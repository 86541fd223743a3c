"""What the SQLite and PostgreSQL stores share: the tables, the queries, the transactions.

SQL here is written with ``?`` placeholders; the PostgreSQL store translates them. Every
public operation runs in one database transaction; on a thread that already has a
:meth:`Store.transaction` or :meth:`Store.exclusive` block open it joins that transaction.

Connections come from a bounded pool (the dialect's) and go back to it when the
transaction ends, so a process holds at most ``pool_max`` connections per store however
many threads come and go; :meth:`SqlStore.close` closes them all.
"""

from __future__ import annotations

import json
import os
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, ClassVar, Protocol

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import (
    DEFAULT_STORE_SETTINGS,
    QUEUE_PREFIXES,
    CallEntry,
    ClaimLost,
    ClientRecord,
    ClientState,
    InboxItem,
    Snapshot,
    Store,
    StoredAnswer,
    StoreError,
    StoreSettings,
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
    new_token,
    search_text,
)

SCHEMA_VERSION = 2

CLIENT_COLUMNS = "id, client_type, phone, created_at, messenger"
INBOX_COLUMNS = (
    "id, key, kind, payload, attempts, created_at, status, error, finished_at, lease_until,"
    " claim_token, group_key"
)
CALL_COLUMNS = (
    "call_key, turn_key, ordinal, kind, args, client_id, owner, status, result, created_at,"
    " updated_at"
)


def _queue_filter(queue: str | None, column: str = "kind") -> tuple[str, tuple[Any, ...]]:
    """An ``AND ...`` condition (and its parameters) keeping one inbox queue's items."""
    check_queue(queue)
    if queue is None:
        return "", ()
    if queue in QUEUE_PREFIXES:
        prefix = QUEUE_PREFIXES[queue]
        return f" AND substr({column}, 1, {len(prefix)}) = ?", (prefix,)
    conditions = "".join(
        f" AND substr({column}, 1, {len(prefix)}) <> ?" for prefix in QUEUE_PREFIXES.values()
    )
    return conditions, tuple(QUEUE_PREFIXES.values())


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
        token=row[10],
        group=row[11],
    )


def _call_entry(row: Sequence[Any]) -> CallEntry:
    return CallEntry(
        call_key=row[0],
        turn_key=row[1],
        ordinal=int(row[2]),
        kind=row[3],
        args=decode(row[4]),
        client_id=row[5],
        owner=row[6],
        status=row[7],
        result=None if row[8] is None else decode(row[8]),
        created_at=float(row[9]),
        updated_at=float(row[10]),
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


class Pool(Protocol):
    """What a dialect's connection pool provides."""

    def getconn(self, timeout: float | None = None) -> Any: ...

    def putconn(self, conn: Any) -> None: ...

    def close(self) -> None: ...


class SqlStore(Store):
    """A store on a SQL database, its connections drawn from a bounded pool."""

    begin_write_sql = "BEGIN"
    lock_client_suffix = ""  # appended to the SELECT of the client row in transaction()
    claim_suffix = ""  # appended to the SELECT of inbox rows to claim

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        inbox_lease_seconds: float = 60.0,
        inbox_max_attempts: int = 5,
        settings: StoreSettings = DEFAULT_STORE_SETTINGS,
    ) -> None:
        self.limits = limits
        self.inbox_lease_seconds = inbox_lease_seconds
        self.inbox_max_attempts = inbox_max_attempts
        self.settings = settings
        self.clock: Callable[[], float] = time.time
        self._local = threading.local()
        self._pool: Pool | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        self._inherited: list[Pool] = []  # a parent process's pools: never touched again
        self._closed = False

    # -- what a dialect provides ---------------------------------------------------------

    @abstractmethod
    def _open_pool(self) -> Pool:
        """A new pool of connections in autocommit mode (transactions are begun
        explicitly), at most ``settings.pool_max`` of them."""

    @abstractmethod
    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Result:
        """Execute one statement."""

    @abstractmethod
    def _run_many(self, conn: Any, sql: str, rows: list[Sequence[Any]]) -> None:
        """Execute one statement for each row of parameters."""

    def _lock_name(self, conn: Any, name: str) -> None:
        """Take a named lock for the rest of the transaction (if BEGIN alone is not one)."""

    def _pool_error(self, exc: Exception) -> StoreError:
        """The StoreError for a pool that gave no connection in time."""
        return StoreError(
            f"no database connection free within {self.settings.pool_timeout_seconds:g} s "
            f"(pool of {self.settings.pool_max}): {type(exc).__name__}"
        )

    # -- connections and transactions ----------------------------------------------------

    def _current_pool(self) -> Pool:
        if self._closed:
            raise StoreError("the store is closed")
        pid = os.getpid()
        if self._pool is None or self._pool_pid != pid:
            with self._pool_lock:
                if self._pool is None or self._pool_pid != pid:
                    if self._pool is not None:
                        # A forked child must not touch its parent's connections (nor
                        # close them): keep the parent's pool referenced, unused.
                        self._inherited.append(self._pool)
                        self._local = threading.local()
                    self._pool = self._open_pool()
                    self._pool_pid = pid
        return self._pool

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        """A connection from the pool for the duration of the block."""
        pool = self._current_pool()
        try:
            conn = pool.getconn(self.settings.pool_timeout_seconds)
        except StoreError:
            raise
        except Exception as exc:
            raise self._pool_error(exc) from None
        try:
            yield conn
        finally:
            with suppress(Exception):
                pool.putconn(conn)

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
        with self._borrow() as conn:
            self._run(conn, self.begin_write_sql if write else "BEGIN")
            local.in_tx, local.conn = True, conn
            try:
                yield conn
            except BaseException:
                local.in_tx, local.conn = False, None
                self._rollback(conn)
                raise
            local.in_tx, local.conn = False, None
            try:
                self._run(conn, "COMMIT")
            except BaseException:
                self._rollback(conn)
                raise

    def _rollback(self, conn: Any) -> None:
        # A connection that cannot roll back is broken: the pool discards it.
        with suppress(Exception):
            self._run(conn, "ROLLBACK")

    def close(self) -> None:
        self._closed = True
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            with suppress(Exception):
                pool.close()

    # -- schema --------------------------------------------------------------------------

    # version -> the statements that reach it from the one before (the dialect's)
    migrations: ClassVar[dict[int, tuple[str, ...]]] = {}

    def _check_schema_version(self, conn: Any) -> None:
        row = self._run(
            conn, "SELECT value FROM botlang_meta WHERE key = 'schema_version'"
        ).fetchone()
        version = 1 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the database was written by a newer botlang (schema version {version}; "
                f"this botlang knows {SCHEMA_VERSION})"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in self.migrations.get(target, ()):
                self._run(conn, statement)
        if row is None:
            self._run(
                conn,
                "INSERT INTO botlang_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        elif version < SCHEMA_VERSION:
            self._run(
                conn,
                "UPDATE botlang_meta SET value = ? WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),),
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

    def _load(self, conn: Any, cid: int, client_id: str, suffix: str = "") -> ClientState:
        row = self._client_row(conn, cid, suffix)
        if row is None:
            raise UnknownClient(str(client_id))
        client_texts, deal_texts = self._scope_texts(conn, cid)
        snap = Snapshot(client_texts, deal_texts, self._project_texts(conn), row[5])
        return ClientState(
            client=self._record(row),
            client_vars=decoded(snap.client),
            deal_vars=decoded(snap.deal),
            project_vars=decoded(snap.project),
            session=decode(snap.session),
            loaded=snap,
        )

    @contextmanager
    def transaction(self, client_id: str) -> Iterator[ClientState]:
        self._refuse_nested()
        cid = self._db_id(client_id)
        with self._tx(write=True) as conn:
            state = self._load(conn, cid, client_id, self.lock_client_suffix)
            yield state
            assert state.loaded is not None
            self._save(conn, cid, state, state.loaded)

    def load_state(self, client_id: str) -> ClientState:
        cid = self._db_id(client_id)
        with self._tx(write=False) as conn:
            return self._load(conn, cid, client_id)

    def save_state(self, state: ClientState) -> None:
        if state.loaded is None:
            raise StoreError("save_state needs a state from load_state")
        with self._tx(write=True) as conn:
            cid = self._require_client(conn, state.client.client_id)
            self._save(conn, cid, state, state.loaded)

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
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "INSERT INTO botlang_inbox (key, kind, payload, created_at, group_key, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, kind, body, self.clock(), group, float(not_before or 0.0)),
            )
            return cur.rowcount == 1

    def inbox_claim(
        self,
        limit: int = 100,
        *,
        lease_seconds: float | None = None,
        queue: str | None = None,
        max_attempts: int | None = None,
    ) -> list[InboxItem]:
        lease = self.inbox_lease_seconds if lease_seconds is None else lease_seconds
        most = self.inbox_max_attempts if max_attempts is None else max_attempts
        only, only_params = _queue_filter(queue)
        with self._tx(write=True) as conn:
            now = self.clock()
            worn = self._run(
                conn,
                "SELECT id, error FROM botlang_inbox WHERE status = 'pending' AND lease_until <= ?"
                f" AND attempts >= ?{only} ORDER BY id{self.claim_suffix}",
                (now, most, *only_params),
            ).fetchall()
            if worn:
                self._run_many(
                    conn,
                    "UPDATE botlang_inbox SET status = 'failed', error = ?, finished_at = ?,"
                    " lease_until = 0, claim_token = NULL WHERE id = ?",
                    [(given_up(most, error), now, item_id) for item_id, error in worn],
                )
            # The head of each group only: no earlier item of its group is pending.
            ids = [
                r[0]
                for r in self._run(
                    conn,
                    "SELECT id FROM botlang_inbox AS i WHERE status = 'pending'"
                    f" AND lease_until <= ? AND attempts < ?{only} AND (group_key IS NULL OR"
                    " NOT EXISTS (SELECT 1 FROM botlang_inbox AS e WHERE e.status = 'pending'"
                    " AND e.group_key = i.group_key AND e.id < i.id))"
                    f" ORDER BY id LIMIT ?{self.claim_suffix}",
                    (now, most, *only_params, int(limit)),
                ).fetchall()
            ]
            if not ids:
                return []
            self._run_many(
                conn,
                "UPDATE botlang_inbox SET attempts = attempts + 1, lease_until = ?,"
                " claim_token = ? WHERE id = ?",
                [(now + lease, new_token(), item_id) for item_id in ids],
            )
            marks = ", ".join("?" * len(ids))
            rows = self._run(
                conn,
                f"SELECT {INBOX_COLUMNS} FROM botlang_inbox WHERE id IN ({marks}) ORDER BY id",
                ids,
            ).fetchall()
        return [_inbox_item(r) for r in rows]

    @staticmethod
    def _fence(token: str | None) -> tuple[str, tuple[Any, ...]]:
        return (" AND claim_token = ?", (token,)) if token is not None else ("", ())

    def _not_pending(self, item_id: int, token: str | None) -> StoreError:
        if token is not None:
            return ClaimLost(f"the claim on inbox item {item_id} is lost")
        return StoreError(f"no pending inbox item {item_id}")

    def inbox_done(
        self, item_id: int, error: str | None = None, *, token: str | None = None
    ) -> None:
        status = "done" if error is None else "failed"
        fence, fence_params = self._fence(token)
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET status = ?, error = ?, finished_at = ?, lease_until = 0,"
                f" claim_token = NULL WHERE id = ? AND status = 'pending'{fence}",
                (status, error, self.clock(), int(item_id), *fence_params),
            )
            if cur.rowcount != 1:
                raise self._not_pending(item_id, token)

    def inbox_release(
        self,
        item_id: int,
        error: str,
        *,
        delay_seconds: float,
        token: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        fence, fence_params = self._fence(token)
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET error = ?, lease_until = ?, claim_token = NULL,"
                " attempts = CASE WHEN attempts > 0 THEN attempts - ? ELSE 0 END"
                f" WHERE id = ? AND status = 'pending'{fence}",
                (
                    error,
                    self.clock() + delay_seconds,
                    0 if count_attempt else 1,
                    int(item_id),
                    *fence_params,
                ),
            )
            if cur.rowcount != 1:
                raise self._not_pending(item_id, token)

    def inbox_renew(self, item_id: int, token: str, lease_seconds: float) -> bool:
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET lease_until = ?"
                " WHERE id = ? AND status = 'pending' AND claim_token = ?",
                (self.clock() + lease_seconds, int(item_id), token),
            )
            return cur.rowcount == 1

    def inbox_retry(self, *, queue: str, item_ids: Sequence[int] | None = None) -> int:
        only, only_params = _queue_filter(queue)
        chosen, chosen_params = "", ()
        if item_ids is not None:
            if not item_ids:
                return 0
            chosen = f" AND id IN ({', '.join('?' * len(item_ids))})"
            chosen_params = tuple(int(i) for i in item_ids)
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "UPDATE botlang_inbox SET status = 'pending', attempts = 0, lease_until = 0,"
                f" finished_at = NULL, claim_token = NULL WHERE status = 'failed'{only}{chosen}",
                (*only_params, *chosen_params),
            )
            return int(cur.rowcount)

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
                f" AND claim_token IS NOT NULL AND lease_until > ?{only}",
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
        now = self.clock()
        cutoff = now - older_than_seconds
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "DELETE FROM botlang_inbox WHERE status IN ('done', 'failed') AND finished_at < ?",
                (cutoff,),
            )
            removed = int(cur.rowcount)
            self._run(conn, "DELETE FROM botlang_call_seq WHERE updated_at < ?", (cutoff,))
            self._run(conn, "DELETE FROM botlang_calls WHERE updated_at < ?", (cutoff,))
            self._run(conn, "DELETE FROM botlang_leases WHERE until < ?", (cutoff,))
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

    # -- leases ------------------------------------------------------------------------------

    def lease_acquire(self, name: str, owner: str, seconds: float) -> bool:
        now = self.clock()
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "INSERT INTO botlang_leases (name, owner, until) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
                " until = excluded.until"
                " WHERE botlang_leases.until <= ? OR botlang_leases.owner = excluded.owner",
                (name, owner, now + seconds, now),
            )
            return cur.rowcount == 1

    def lease_held(self, name: str, owner: str) -> bool:
        with self._tx(write=False) as conn:
            row = self._run(
                conn, "SELECT 1 FROM botlang_leases WHERE name = ? AND owner = ?", (name, owner)
            ).fetchone()
        return row is not None

    def lease_release(self, name: str, owner: str) -> None:
        with self._tx(write=True) as conn:
            self._run(
                conn, "DELETE FROM botlang_leases WHERE name = ? AND owner = ?", (name, owner)
            )

    # -- the call journal --------------------------------------------------------------------

    def _call_row(self, conn: Any, call_key: str) -> CallEntry:
        row = self._run(
            conn, f"SELECT {CALL_COLUMNS} FROM botlang_calls WHERE call_key = ?", (call_key,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no journalled call {call_key!r}")
        return _call_entry(row)

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
        now = self.clock()
        with self._tx(write=True) as conn:
            self._run(
                conn,
                f"INSERT INTO botlang_calls ({CALL_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'intent', NULL, ?, ?)"
                " ON CONFLICT (call_key) DO NOTHING",
                (
                    call_key,
                    turn_key,
                    int(ordinal),
                    kind,
                    encode(dict(args)),
                    client_id,
                    owner,
                    now,
                    now,
                ),
            )
            return self._call_row(conn, call_key)

    def call_record(self, call_key: str, result: Mapping[str, Any]) -> CallEntry:
        with self._tx(write=True) as conn:
            self._run(
                conn,
                "UPDATE botlang_calls SET status = 'done', result = ?, updated_at = ?"
                " WHERE call_key = ?",
                (encode(dict(result)), self.clock(), call_key),
            )
            return self._call_row(conn, call_key)

    def call_settle(self, call_key: str) -> CallEntry:
        with self._tx(write=True) as conn:
            self._run(
                conn,
                "UPDATE botlang_calls SET status = 'unknown', updated_at = ?"
                " WHERE call_key = ? AND status = 'intent'",
                (self.clock(), call_key),
            )
            return self._call_row(conn, call_key)

    def call_entries(
        self, *, turn_key: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[CallEntry]:
        check_call_status(status)
        where, params = [], []
        if turn_key is not None:
            where.append("turn_key = ?")
            params.append(turn_key)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._tx(write=False) as conn:
            rows = self._run(
                conn,
                f"SELECT {CALL_COLUMNS} FROM botlang_calls{clause}"
                " ORDER BY created_at, turn_key, ordinal LIMIT ?",
                (*params, max(0, int(limit))),
            ).fetchall()
        return [_call_entry(r) for r in rows]

    # -- stored answers ----------------------------------------------------------------------

    def answer_get(self, key: str) -> StoredAnswer | None:
        with self._tx(write=False) as conn:
            row = self._run(
                conn,
                "SELECT key, request_hash, response, created_at FROM botlang_answers WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], decode(row[2]), float(row[3]))

    def answer_put(self, key: str, request_hash: str, response: Mapping[str, Any]) -> None:
        with self._tx(write=True) as conn:
            self._run(
                conn,
                "INSERT INTO botlang_answers (key, request_hash, response, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, request_hash, encode(dict(response)), self.clock()),
            )

    def answer_prune(self, older_than_seconds: float) -> int:
        with self._tx(write=True) as conn:
            cur = self._run(
                conn,
                "DELETE FROM botlang_answers WHERE created_at < ?",
                (self.clock() - older_than_seconds,),
            )
            return int(cur.rowcount)
