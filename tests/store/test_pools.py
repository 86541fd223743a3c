"""Bounded connection pools: however many threads come and go, a store holds at most
``pool_max`` connections, closes them on close(), and PostgreSQL connections carry the
configured timeouts and keepalive."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from botlang.store import StoreError, StoreSettings, open_store
from botlang.store.postgres import PostgresStore
from botlang.store.sqlite import SqliteStore


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads_each_use(store: object, count: int) -> None:
    """``count`` short-lived threads, each doing a write and a read, as anyio's would."""

    def work(n: int) -> None:
        store.inbox_add(f"k{n}", "events/summary", {"n": n})  # type: ignore[attr-defined]
        store.inbox_stats()  # type: ignore[attr-defined]

    for start in range(0, count, 20):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(start, start + 20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_sqlite_connections_stay_bounded_as_threads_come_and_go(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/pool.db", settings=StoreSettings(pool_max=3))
    assert isinstance(store, SqliteStore)
    before = _open_fds()
    _threads_each_use(store, 200)
    assert store.open_connections <= 3
    grown = _open_fds() - before
    print(f"sqlite: 200 threads, {store.open_connections} connections, {grown} more fds")
    assert grown <= 3 * 3  # a connection is the file, its WAL and its shared memory
    assert store.inbox_stats()["pending"] == 200
    store.close()
    assert store.open_connections == 0
    assert _open_fds() <= before


def test_a_sqlite_pool_refuses_when_no_connection_frees_up(tmp_path: Path) -> None:
    settings = StoreSettings(pool_max=1, pool_timeout_seconds=0.2)
    store = open_store(f"sqlite:///{tmp_path}/pool.db", settings=settings)
    client = store.create_client(client_type=13)
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction(client.client_id):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(StoreError, match="no SQLite connection free"):
            store.inbox_stats()
    finally:
        release.set()
        holder.join(10)
    assert store.inbox_stats()["pending"] == 0
    store.close()


def _backends(url: str, application: str) -> int:
    conninfo = url.split("?")[0]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_postgres_connections_stay_bounded_as_threads_come_and_go(
    new_postgres_schema: object,
) -> None:
    url = new_postgres_schema("botlang_pool")  # type: ignore[operator]
    name = f"botlang-pool-test-{os.getpid()}"
    settings = StoreSettings(pool_min=1, pool_max=4, application_name=name)
    store = open_store(url, settings=settings)
    assert isinstance(store, PostgresStore)
    _threads_each_use(store, 200)
    backends = _backends(url, name)
    print(f"postgres: 200 threads, {store.open_connections} connections, {backends} backends")
    assert store.open_connections <= 4 and backends <= 4
    assert store.inbox_stats()["pending"] == 200
    store.close()
    assert store.open_connections == 0
    deadline = time.monotonic() + 10  # the server notices closed connections at once, or soon
    while _backends(url, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backends(url, name) == 0


def test_postgres_connections_carry_the_configured_timeouts(new_postgres_schema: object) -> None:
    url = new_postgres_schema("botlang_pool")  # type: ignore[operator]
    settings = StoreSettings(
        statement_timeout_seconds=0.5,
        lock_timeout_seconds=0.25,
        keepalive_idle_seconds=17,
        keepalive_interval_seconds=4,
        keepalive_count=2,
    )
    store = open_store(url, settings=settings)
    assert isinstance(store, PostgresStore)
    try:
        with store._tx() as conn:
            shown = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("statement_timeout", "lock_timeout")
            }
            info = conn.info.get_parameters()
        assert shown == {"statement_timeout": "500ms", "lock_timeout": "250ms"}
        assert info["keepalives_idle"] == "17" and info["keepalives_count"] == "2"
        # A statement over the timeout is cancelled rather than holding a turn.
        with pytest.raises(psycopg.errors.QueryCanceled), store._tx() as conn:
            conn.execute("SELECT pg_sleep(5)")
        assert store.inbox_stats()["pending"] == 0  # the pool gives a working connection
    finally:
        store.close()


def test_an_unreachable_postgres_fails_fast_with_the_reason() -> None:
    settings = StoreSettings(connect_timeout_seconds=1)
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        open_store("postgresql://postgres@127.0.0.1:1/none", settings=settings)
