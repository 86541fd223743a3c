"""open_store: choosing a store by URL, and clear errors for URLs it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from botlang.store import StoreError, open_store
from botlang.store.memory import MemoryStore
from botlang.store.postgres import redact, split_schema
from botlang.store.sqlite import SqliteStore


def test_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_sqlite_absolute_and_relative_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SqliteStore)
    assert absolute.path == tmp_path / "abs.db"
    absolute.close()
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.db?synchronous=normal&busy_timeout=5")
    assert isinstance(relative, SqliteStore)
    assert relative.path == Path("rel.db")
    assert (relative.synchronous, relative.busy_timeout) == ("NORMAL", 5.0)
    relative.close()
    assert (tmp_path / "rel.db").exists()


def test_sqlite_journal_is_wal(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'wal.db'}")
    assert isinstance(store, SqliteStore)
    with store._tx() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:6379/0", "unsupported store URL scheme 'redis'"),
        ("mysql://user@host/db", "unsupported store URL scheme 'mysql'"),
        ("botlang.db", "not a store URL"),
        ("sqlite://", "sqlite:///relative.db"),
        ("sqlite:///", "sqlite:///relative.db"),
        ("sqlite:///x.db?journal=off", "unknown SQLite store option 'journal'"),
        ("sqlite:///x.db?synchronous=sometimes", "synchronous must be one of"),
        ("sqlite:///:memory:", "use memory://"),
        ("sqlite:////no/such/folder/x.db", "no such folder"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message.replace("?", r"\?")):
        open_store(url)


def test_unreachable_postgres_names_host_not_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://bot:s3cret-pass@127.0.0.1:1/db")
    assert "127.0.0.1:1" in str(caught.value)
    assert "s3cret-pass" not in str(caught.value)


def test_postgres_url_parsing() -> None:
    assert redact("postgresql://u:pw@h:5/d") == "postgresql://u:***@h:5/d"
    assert redact("postgres://u@h/d") == "postgres://u@h/d"
    assert split_schema("postgresql://u@h/d?schema=bot_1&sslmode=disable") == (
        "postgresql://u@h/d?sslmode=disable",
        "bot_1",
    )
    with pytest.raises(StoreError, match="schema name"):
        split_schema("postgresql://u@h/d?schema=x;drop")
