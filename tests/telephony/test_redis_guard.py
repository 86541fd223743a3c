"""The spam guard's Redis history: shared and atomic across processes, keys that expire, and
refusal (4501) whenever Redis cannot be used. Semantics shared with the memory history are
tested over both in test_spam_guard.py."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis

from botlang.telephony import GuardedTelephony, RecordingTelephony, SpamGuard, SpamLimit
from botlang.telephony.guard import GuardUnavailable, guard_from_config
from botlang.telephony.redis_guard import RedisCallHistory, redacted_url

from .conftest import FakeClock

PHONE = "79004443322"
LINE = "74992262961"
DEAD_REDIS = "redis://guard-user:s3cret-redis-pw@127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def shared(redis_url: str, redis_prefix: str) -> Iterator[RedisCallHistory]:
    history = RedisCallHistory(redis_url, prefix=redis_prefix)
    yield history
    history.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def test_keys_are_namespaced_and_expire(
    shared: RedisCallHistory, raw: redis.Redis, redis_prefix: str, clock: FakeClock
) -> None:
    guard = SpamGuard(history=shared, clock=clock)
    assert guard.admit("group", PHONE) is None
    key = redis_prefix + PHONE
    ((member, score),) = raw.zrange(key, 0, -1, withscores=True)
    assert member.startswith("group:") and score == clock.now
    assert 0 < raw.ttl(key) <= 601  # the longest window, plus a second


def test_guards_sharing_a_redis_share_the_count(
    redis_url: str, redis_prefix: str, clock: FakeClock
) -> None:
    histories = [RedisCallHistory(redis_url, prefix=redis_prefix) for _ in range(2)]
    first, second = (
        GuardedTelephony(RecordingTelephony(), SpamGuard(history=h)) for h in histories
    )
    assert first.group_call("12345", LINE, PHONE).ok
    refused = second.group_call("12345", LINE, PHONE)
    assert refused.result == 4501 and "group calls" in refused.message
    assert second.inner.calls == []  # type: ignore[attr-defined]
    for history in histories:
        history.close()


def test_without_a_clock_redis_keeps_time(
    shared: RedisCallHistory, raw: redis.Redis, redis_prefix: str
) -> None:
    guard = SpamGuard(per_number=SpamLimit(2, 600), history=shared)
    assert guard.admit("employee", PHONE) is None and guard.admit("employee", PHONE) is None
    refused = guard.admit("employee", PHONE)
    assert refused is not None and "next allowed in 10 min" in refused
    seconds, micros = raw.time()
    scores = [s for _, s in raw.zrange(redis_prefix + PHONE, 0, -1, withscores=True)]
    assert all(abs(seconds + micros / 1e6 - s) < 5 for s in scores)  # the server's clock


_WORKER = """
import json, sys, time
import redis
from botlang.telephony import GuardedTelephony, RecordingTelephony, SpamGuard, SpamLimit
from botlang.telephony.redis_guard import RedisCallHistory

url, prefix, processes, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
guard = SpamGuard(
    per_number=SpamLimit(3, 600),
    group_per_number=SpamLimit(1, 600),
    history=RedisCallHistory(url, prefix=prefix),
)
inner = RecordingTelephony()
tel = GuardedTelephony(inner, guard)
barrier = redis.Redis.from_url(url)
barrier.incr(prefix + "barrier")
deadline = time.monotonic() + 20
while int(barrier.get(prefix + "barrier")) < processes:
    if time.monotonic() > deadline:
        sys.exit("the other processes did not start")
    time.sleep(0.001)
call = tel.group_call if kind == "group" else tel.employee_call
args = ("12345", "74992262961") if kind == "group" else ("219",)
results = [call(*args, "79004443322").result for _ in range(10)]
print(json.dumps({"kind": kind, "results": results, "placed": len(inner.calls)}))
"""


def test_atomic_across_processes(redis_url: str, redis_prefix: str) -> None:
    kinds = ["employee", "group", "employee", "group"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, redis_url, redis_prefix, str(len(kinds)), kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in kinds
    ]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    admitted = [r.count(1000) for r in (report["results"] for report in reports)]
    assert sum(admitted) == 3  # 40 attempts from 4 processes, a limit of 3
    assert sum(report["placed"] for report in reports) == 3
    assert (
        sum(n for n, report in zip(admitted, reports, strict=True) if report["kind"] == "group")
        <= 1
    )
    refused = [c for report in reports for c in report["results"] if c != 1000]
    assert refused == [4501] * 37


def test_unreachable_redis_refuses_every_call(caplog: pytest.LogCaptureFixture) -> None:
    guard = guard_from_config({"url": DEAD_REDIS})
    inner = RecordingTelephony()
    tel = GuardedTelephony(inner, guard)
    with caplog.at_level(logging.WARNING, logger="botlang.telephony"):
        employee = tel.employee_call("219", PHONE)
        group = tel.group_call("12345", LINE, PHONE)
    for refused in (employee, group):
        assert not refused.ok and refused.result == 4501 and refused.command_id is None
        assert "spam guard unavailable" in refused.message
        assert "127.0.0.1" not in refused.message  # a client may be shown this text
    assert inner.calls == []
    (line,) = [r.getMessage() for r in caplog.records]  # one line per interval, not per call
    assert "spam guard unavailable" in line and "redis://127.0.0.1:1/0" in line
    assert not guard.available()
    guard.refund("employee", PHONE)  # logged, not raised: the count can only be too high
    with pytest.raises(GuardUnavailable):
        guard.reset()
    for shown in (line, repr(guard), repr(tel), *(r.getMessage() for r in caplog.records)):
        assert "s3cret-redis-pw" not in shown and "guard-user" not in shown
    guard.close()


def test_any_redis_error_refuses(
    shared: RedisCallHistory, raw: redis.Redis, redis_prefix: str, clock: FakeClock
) -> None:
    raw.set(redis_prefix + PHONE, "not a sorted set")  # WRONGTYPE inside the script
    inner = RecordingTelephony()
    tel = GuardedTelephony(inner, SpamGuard(history=shared, clock=clock))
    refused = tel.employee_call("219", PHONE)
    assert refused.result == 4501 and "spam guard unavailable" in refused.message
    assert inner.calls == []


def test_redacted_url() -> None:
    assert redacted_url("redis://u:pw@cache.internal:6380/2") == "redis://cache.internal:6380/2"
    assert redacted_url("rediss://:pw@cache") == "rediss://cache:6379/0"
