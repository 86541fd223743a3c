"""Fixtures for the telephony tests: a fake clock, the simulator served over real HTTP, and
the spam guard's call histories (memory, and Redis when one is reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from botlang.telephony.guard import CallHistory, MemoryCallHistory
from botlang.telephony.mango import MangoOffice, RateLimits
from botlang.telephony.simulator import MangoSimulator, serve_app

API_KEY = "test-vpbx-key-0001"
API_SALT = "zz-very-secret-salt-4f2a9"


class FakeClock:
    """A monotonic clock tests move by hand; ``sleep`` advances it and is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class _Switch:
    """An ASGI app forwarding to the current test's simulator (one server per session)."""

    def __init__(self) -> None:
        self.target: MangoSimulator | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None
        await self.target.app(scope, receive, send)


@pytest.fixture(scope="session")
def _served() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with serve_app(switch) as url:
        yield switch, url + "/vpbx/"


@pytest.fixture
def sim() -> MangoSimulator:
    return MangoSimulator(API_KEY, API_SALT)


@pytest.fixture
def sim_url(sim: MangoSimulator, _served: tuple[_Switch, str]) -> Iterator[str]:
    """The base URL of a real HTTP server on 127.0.0.1 answering as this test's ``sim``."""
    switch, url = _served
    switch.target = sim
    yield url
    sim.wait_idle(2.0)
    switch.target = None


@pytest.fixture
def mango(sim_url: str, clock: FakeClock) -> Iterator[MangoOffice]:
    client = MangoOffice(
        API_KEY,
        API_SALT,
        sim_url,
        timeout=2.0,
        rate_limits=RateLimits(),
        clock=clock,
        sleep=clock.sleep,
    )
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def history(request: pytest.FixtureRequest) -> Iterator[CallHistory]:
    """Each spam guard history in turn; the Redis one under a prefix of its own."""
    if request.param == "memory":
        yield MemoryCallHistory()
        return
    from botlang.telephony.redis_guard import RedisCallHistory

    redis_url = request.getfixturevalue("redis_url")
    shared = RedisCallHistory(redis_url, prefix=request.getfixturevalue("redis_prefix"))
    yield shared
    shared.close()
