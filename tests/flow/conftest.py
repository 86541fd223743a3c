"""Fixtures for the flow tests: a fixed clock, stores (memory, SQLite files, PostgreSQL),
bots compiled from text, and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from botlang.flow import Bot
from botlang.store import Store, open_store
from botlang.telephony import RecordingTelephony

# Monday 6 May 2024, 10:30
NOW = datetime(2024, 5, 6, 10, 30)


class Clock:
    """A clock tests set by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def telephony() -> RecordingTelephony:
    return RecordingTelephony()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store: in memory, and in a SQLite file."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'bot.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


@pytest.fixture
def memory_store() -> Iterator[Store]:
    opened = open_store("memory://")
    yield opened
    opened.close()


@pytest.fixture
def make_bot(clock: Clock, telephony: RecordingTelephony) -> Callable[..., Bot]:
    """Compile flow text into a Bot with the test clock and the recording telephony."""

    def make(source: str, **options: Any) -> Bot:
        options.setdefault("clock", clock)
        options.setdefault("telephony", telephony)
        return Bot.from_source(source, "test.bot", **options)

    return make


def new_client(store: Store, *, client_type: int = 6, phone: str = "79004443322") -> str:
    messenger = "whatsapp" if client_type == 6 else None
    return store.create_client(client_type=client_type, phone=phone, messenger=messenger).client_id


@pytest.fixture
def postgres_schema_url(new_postgres_schema: Callable[[str], str]) -> str:
    """A PostgreSQL store URL in a schema of its own, dropped afterwards."""
    return new_postgres_schema("botlang_flow")
