"""The store for deployments that outgrow one machine: PostgreSQL through psycopg 3.

Several ``botlang serve`` processes on several hosts can share one database. Work on a
client is serialised by ``SELECT ... FOR UPDATE`` on its row; named locks use
``pg_advisory_xact_lock``; inbox workers claim with ``FOR UPDATE SKIP LOCKED``.

Connections come from a :class:`psycopg_pool.ConnectionPool` (``pool_min`` to ``pool_max``
per store object, checked before each use so a restarted server is reconnected to), each
with a connect timeout, a ``statement_timeout``, a ``lock_timeout``, an
``idle_in_transaction_session_timeout`` and TCP keepalive (:class:`StoreSettings`). Tables
are created on open (under an advisory lock, so processes starting together do not race).
Leases use each host's clock: keep hosts in sync (NTP).

The URL may carry ``?schema=NAME`` (botlang's own parameter): the tables then live in that
schema, created if missing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import DEFAULT_STORE_SETTINGS, StoreError, StoreSettings
from botlang.store.sql import Result, SqlStore

SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
SCHEMA_LOCK = 0x626F746C616E67  # advisory lock key held while creating tables

TABLES = (
    "CREATE TABLE IF NOT EXISTS botlang_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS botlang_clients ("
    " id BIGSERIAL PRIMARY KEY, client_type INTEGER NOT NULL, phone TEXT, messenger TEXT,"
    " created_at DOUBLE PRECISION NOT NULL, session TEXT NOT NULL DEFAULT '{}')",
    "CREATE INDEX IF NOT EXISTS botlang_clients_phone ON botlang_clients (phone, client_type)",
    "CREATE TABLE IF NOT EXISTS botlang_variables ("
    " client_id BIGINT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL,"
    " value TEXT NOT NULL, text_value TEXT, PRIMARY KEY (client_id, scope, name))",
    # hash, not btree: values may be far longer than a btree entry may be
    "CREATE INDEX IF NOT EXISTS botlang_variables_text ON botlang_variables"
    " USING hash (text_value)",
    "CREATE TABLE IF NOT EXISTS botlang_project (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS botlang_inbox ("
    " id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " created_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION, error TEXT)",
    "CREATE INDEX IF NOT EXISTS botlang_inbox_pending ON botlang_inbox (id)"
    " WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS botlang_inbox_finished ON botlang_inbox (finished_at)"
    " WHERE status <> 'pending'",
    "CREATE TABLE IF NOT EXISTS botlang_call_seq ("
    " call_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS botlang_call_seq_updated ON botlang_call_seq (updated_at)",
)

MIGRATIONS = {
    2: (
        "ALTER TABLE botlang_inbox ADD COLUMN IF NOT EXISTS claim_token TEXT",
        "ALTER TABLE botlang_inbox ADD COLUMN IF NOT EXISTS group_key TEXT",
        "CREATE INDEX IF NOT EXISTS botlang_inbox_group ON botlang_inbox (group_key, id)"
        " WHERE status = 'pending' AND group_key IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS botlang_leases ("
        " name TEXT PRIMARY KEY, owner TEXT NOT NULL, until DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS botlang_calls ("
        " call_key TEXT PRIMARY KEY, turn_key TEXT NOT NULL, ordinal INTEGER NOT NULL,"
        " kind TEXT NOT NULL, args TEXT NOT NULL, client_id TEXT, owner TEXT NOT NULL,"
        " status TEXT NOT NULL, result TEXT, created_at DOUBLE PRECISION NOT NULL,"
        " updated_at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS botlang_calls_turn ON botlang_calls (turn_key, ordinal)",
        "CREATE INDEX IF NOT EXISTS botlang_calls_updated ON botlang_calls (updated_at)",
        "CREATE TABLE IF NOT EXISTS botlang_answers ("
        " key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, response TEXT NOT NULL,"
        " created_at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS botlang_answers_created ON botlang_answers (created_at)",
    )
}


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def redact(url: str) -> str:
    """The URL with any password replaced, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def split_schema(url: str) -> tuple[str, str | None]:
    """Remove botlang's ``schema`` parameter from a PostgreSQL URL; return both."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = None
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if schema is not None and not SCHEMA_NAME.fullmatch(schema):
        raise StoreError(f"PostgreSQL schema name {schema!r} must be letters, digits and _")
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database, shared by any number of processes and hosts."""

    lock_client_suffix = " FOR UPDATE"
    claim_suffix = " FOR UPDATE SKIP LOCKED"
    migrations: ClassVar[dict[int, tuple[str, ...]]] = MIGRATIONS

    def __init__(
        self,
        url: str,
        *,
        limits: Limits = DEFAULT_LIMITS,
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
        self.url = url
        self._conninfo, self.schema = split_schema(url)
        self._sql: dict[str, str] = {}
        self._borrow_first()
        with self._tx(write=True) as conn:
            self._run(conn, "SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            # CREATE ... IF NOT EXISTS still takes table locks, which deadlock against
            # other processes' running transactions: only create what is missing.
            if self._run(conn, "SELECT to_regclass('botlang_meta')").fetchone()[0] is None:
                if self.schema:
                    self._run(conn, f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                for statement in TABLES:
                    self._run(conn, statement)
            self._check_schema_version(conn)

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.url)!r})"

    def connection_options(self) -> dict[str, Any]:
        """The libpq parameters every connection is opened with (timeouts, keepalive)."""
        settings = self.settings
        options = [
            f"-c statement_timeout={_ms(settings.statement_timeout_seconds)}",
            f"-c lock_timeout={_ms(settings.lock_timeout_seconds)}",
            "-c idle_in_transaction_session_timeout="
            f"{_ms(settings.idle_in_transaction_timeout_seconds)}",
        ]
        if self.schema:
            options.append(f"-c search_path={self.schema}")
        return {
            "autocommit": True,  # transactions are begun explicitly
            "connect_timeout": max(1, round(settings.connect_timeout_seconds)),
            "keepalives": 1,
            "keepalives_idle": settings.keepalive_idle_seconds,
            "keepalives_interval": settings.keepalive_interval_seconds,
            "keepalives_count": settings.keepalive_count,
            "application_name": settings.application_name,
            "options": " ".join(options),
        }

    def _open_pool(self) -> ConnectionPool[Any]:
        settings = self.settings
        pool: ConnectionPool[Any] = ConnectionPool(
            self._conninfo,
            min_size=min(settings.pool_min, settings.pool_max),
            max_size=settings.pool_max,
            kwargs=self.connection_options(),
            timeout=settings.pool_timeout_seconds,
            check=ConnectionPool.check_connection,
            reconnect_timeout=max(30.0, settings.pool_timeout_seconds * 3),
            name="botlang",
            open=False,
        )
        pool.open(wait=False)
        return pool

    def _borrow_first(self) -> None:
        """Fail fast with a clear StoreError when the server cannot be reached at all."""
        try:
            with psycopg.connect(self._conninfo, **self.connection_options()):
                pass
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}".strip()
            ) from None

    def _pool_error(self, exc: Exception) -> StoreError:
        if isinstance(exc, PoolTimeout):
            return StoreError(
                f"no PostgreSQL connection to {redact(self.url)} within "
                f"{self.settings.pool_timeout_seconds:g} s (pool of {self.settings.pool_max})"
            )
        return super()._pool_error(exc)

    @property
    def open_connections(self) -> int:
        """Connections this process's pool holds open (idle or in use)."""
        pool = self._pool
        if not isinstance(pool, ConnectionPool):
            return 0
        stats = pool.get_stats()
        return int(stats.get("pool_size", 0))

    def _translate(self, sql: str) -> str:
        query = self._sql.get(sql)
        if query is None:
            query = self._sql[sql] = sql.replace("?", "%s")
        return query

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = conn.execute(self._translate(sql), tuple(params) or None)
        rows = cur.fetchall() if cur.description else []
        return Result(rows, cur.rowcount)

    def _run_many(self, conn: Any, sql: str, rows: list[Sequence[Any]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(self._translate(sql), rows)

    def _lock_name(self, conn: Any, name: str) -> None:
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        self._run(conn, "SELECT pg_advisory_xact_lock(?)", (key,))
