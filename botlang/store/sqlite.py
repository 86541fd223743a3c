"""The embedded default store: one SQLite file in WAL mode.

Every write is a ``BEGIN IMMEDIATE`` transaction, which takes the database's write lock at
once, so work on a client is serialised across threads and processes (other writers wait up
to the busy timeout). ``synchronous=FULL`` by default: a committed transaction survives a
power cut, not just a killed process. Reads run alongside writers (WAL).

Connections come from :class:`SqlitePool`: at most ``pool_max`` per store, reused by
whichever thread needs one, all closed by :meth:`SqliteStore.close`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import DEFAULT_STORE_SETTINGS, StoreError, StoreSettings
from botlang.store.sql import Result, SqlStore

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS botlang_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS botlang_clients ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, client_type INTEGER NOT NULL, phone TEXT,"
    " messenger TEXT, created_at REAL NOT NULL, session TEXT NOT NULL DEFAULT '{}')",
    "CREATE INDEX IF NOT EXISTS botlang_clients_phone ON botlang_clients (phone, client_type)",
    "CREATE TABLE IF NOT EXISTS botlang_variables ("
    " client_id INTEGER NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,"
    " value TEXT NOT NULL, text_value TEXT, PRIMARY KEY (client_id, scope, name))",
    "CREATE INDEX IF NOT EXISTS botlang_variables_text ON botlang_variables (text_value)",
    "CREATE TABLE IF NOT EXISTS botlang_project (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS botlang_inbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0,"
    " created_at REAL NOT NULL, finished_at REAL, error TEXT)",
    "CREATE INDEX IF NOT EXISTS botlang_inbox_pending ON botlang_inbox (id)"
    " WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS botlang_inbox_finished ON botlang_inbox (finished_at)"
    " WHERE status <> 'pending'",
    "CREATE TABLE IF NOT EXISTS botlang_call_seq ("
    " call_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS botlang_call_seq_updated ON botlang_call_seq (updated_at)",
)

MIGRATIONS = {
    2: (
        "ALTER TABLE botlang_inbox ADD COLUMN claim_token TEXT",
        "ALTER TABLE botlang_inbox ADD COLUMN group_key TEXT",
        "CREATE INDEX IF NOT EXISTS botlang_inbox_group ON botlang_inbox (group_key, id)"
        " WHERE status = 'pending' AND group_key IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS botlang_leases ("
        " name TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS botlang_calls ("
        " call_key TEXT PRIMARY KEY, turn_key TEXT NOT NULL, ordinal INTEGER NOT NULL,"
        " kind TEXT NOT NULL, args TEXT NOT NULL, client_id TEXT, owner TEXT NOT NULL,"
        " status TEXT NOT NULL, result TEXT, created_at REAL NOT NULL,"
        " updated_at REAL NOT NULL)",
        "CREATE INDEX IF NOT EXISTS botlang_calls_turn ON botlang_calls (turn_key, ordinal)",
        "CREATE INDEX IF NOT EXISTS botlang_calls_updated ON botlang_calls (updated_at)",
        "CREATE TABLE IF NOT EXISTS botlang_answers ("
        " key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, response TEXT NOT NULL,"
        " created_at REAL NOT NULL)",
        "CREATE INDEX IF NOT EXISTS botlang_answers_created ON botlang_answers (created_at)",
    )
}


class SqlitePool:
    """At most ``size`` SQLite connections, handed out one thread at a time.

    ``getconn`` waits up to its timeout for a free connection (StoreError after that);
    ``close`` closes the idle ones at once and each one in use when it comes back.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int) -> None:
        self._connect = connect
        self.size = max(1, size)
        self._idle: list[sqlite3.Connection] = []
        self._opened = 0
        self._closed = False
        self._cond = threading.Condition()

    @property
    def opened(self) -> int:
        """Connections open now (idle or in use)."""
        return self._opened

    def getconn(self, timeout: float | None = None) -> sqlite3.Connection:
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._closed or self._idle or self._opened < self.size, timeout
            ):
                raise StoreError(
                    f"no SQLite connection free within {timeout:g} s (pool of {self.size})"
                )
            if self._closed:
                raise StoreError("the store is closed")
            if self._idle:
                return self._idle.pop()
            self._opened += 1
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._opened -= 1
                self._cond.notify()
            raise

    def putconn(self, conn: sqlite3.Connection) -> None:
        with self._cond:
            if not self._closed and not conn.in_transaction:
                self._idle.append(conn)
                self._cond.notify()
                return
            self._opened -= 1
            self._cond.notify()
        conn.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


class SqliteStore(SqlStore):
    """A store in one SQLite file, safe to share between threads and processes."""

    begin_write_sql = "BEGIN IMMEDIATE"
    migrations: ClassVar[dict[int, tuple[str, ...]]] = MIGRATIONS

    def __init__(
        self,
        path: str | Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        synchronous: str = "FULL",
        busy_timeout: float = 30.0,
        inbox_lease_seconds: float = 60.0,
        inbox_max_attempts: int = 5,
        settings: StoreSettings = DEFAULT_STORE_SETTINGS,
    ) -> None:
        super().__init__(
            limits=limits,
            inbox_lease_seconds=inbox_lease_seconds,
            inbox_max_attempts=inbox_max_attempts,
            settings=settings,
        )
        if sqlite3.sqlite_version_info < (3, 35, 0):
            raise StoreError(
                f"the SQLite store needs SQLite 3.35 or newer (this Python has "
                f"{sqlite3.sqlite_version})"
            )
        if str(path) in ("", ":memory:"):
            raise StoreError("a SQLite store needs a file; use memory:// for an in-memory store")
        if synchronous.upper() not in SYNCHRONOUS:
            raise StoreError(
                f"SQLite synchronous must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}"
            )
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.busy_timeout = float(busy_timeout)
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot open SQLite store {self.path}: no such folder")
        with self._borrow() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        with self._tx(write=True) as conn:
            for statement in SCHEMA:
                conn.execute(statement)
            self._check_schema_version(conn)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def _open_pool(self) -> SqlitePool:
        return SqlitePool(self._connect, self.settings.pool_max)

    @property
    def open_connections(self) -> int:
        """Connections this process's pool holds open (idle or in use)."""
        pool = self._pool
        return pool.opened if isinstance(pool, SqlitePool) else 0

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit; transactions are begun explicitly
                check_same_thread=False,  # pooled: used by one thread at a time, any thread
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from None
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = conn.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
        return Result(rows, cur.rowcount)

    def _run_many(self, conn: Any, sql: str, rows: list[Sequence[Any]]) -> None:
        conn.executemany(sql, rows)
