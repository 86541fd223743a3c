"""Store fixtures: every store test runs against memory, SQLite and PostgreSQL.

PostgreSQL is taken from ``BOTLANG_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); each test gets its own schema, dropped
afterwards (fixtures in tests/conftest.py). If the server cannot be reached, the
PostgreSQL cases are skipped with the reason shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store import Store, open_store


def _postgres_schema_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("new_postgres_schema")("botlang_test")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh store's URL, once per backend."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'botlang.db'}"
    return _postgres_schema_url(request)


@pytest.fixture(params=["sqlite", "postgres"])
def shared_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A fresh store's URL for the backends several processes can share."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'botlang.db'}"
    return _postgres_schema_url(request)


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., Store]]:
    """Open the test's store (memory: the same instance every time), closed afterwards."""
    opened: list[Store] = []
    memory: dict[str, Store] = {}

    def make(limits: Limits = DEFAULT_LIMITS) -> Store:
        if store_url.startswith("memory"):
            if "store" not in memory:
                memory["store"] = open_store(store_url, limits=limits)
            return memory["store"]
        store = open_store(store_url, limits=limits)
        opened.append(store)
        return store

    yield make
    for store in [*opened, *memory.values()]:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    """A fresh, empty store (each backend in turn)."""
    return make_store()
