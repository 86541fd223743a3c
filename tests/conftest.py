"""Fixtures shared by every test folder: a real Redis (skipped, visibly, when there is none)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


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
        pytest.skip(f"Redis not reachable at {where.rsplit('/', 1)[0]}")
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
