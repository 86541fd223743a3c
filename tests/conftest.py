"""Fixtures shared by every test folder: a real PostgreSQL and a real Redis.

Without a server, the tests that need it skip with the reason shown; with
``BOTLANG_REQUIRE_SERVICES=1`` (set by CI, where both run) they fail instead, so a CI run
can never pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def service_missing(reason: str) -> None:
    """Skip the test (or fail it, when services are required) because a server is missing."""
    if os.environ.get("BOTLANG_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and BOTLANG_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL (``BOTLANG_TEST_POSTGRES_URL``, default 127.0.0.1:5432/test)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    url = os.environ.get("BOTLANG_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    info = conninfo_to_dict(url)
    where = f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        text = str(exc).strip()
        first_line = text.splitlines()[0] if text else type(exc).__name__
        service_missing(f"PostgreSQL not reachable at {where} ({first_line})")
    return url


@pytest.fixture
def new_postgres_schema(request: pytest.FixtureRequest, postgres_url: str) -> Callable[[str], str]:
    """Make store URLs in fresh schemas of the test PostgreSQL, dropped after the test."""
    import psycopg

    def make(prefix: str = "botlang_test") -> str:
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"

        def drop() -> None:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        request.addfinalizer(drop)
        return f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema={schema}"

    return make


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (``BOTLANG_TEST_REDIS_URL``, default 127.0.0.1:6379); skip without one."""
    import redis

    from botlang.telephony.redis_guard import redacted_url

    url = os.environ.get("BOTLANG_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        where = redacted_url(url).removeprefix("redis://").removeprefix("rediss://")
        service_missing(f"Redis not reachable at {where.rsplit('/', 1)[0]}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    import redis

    prefix = f"botlang-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
