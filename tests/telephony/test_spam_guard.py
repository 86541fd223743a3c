"""The spam guard and the guarded wrapper in front of any adapter.

Tests taking the ``history`` fixture run once per call history: in memory and in Redis (the
same semantics; Redis-only behaviour is in test_redis_guard.py).
"""

from __future__ import annotations

import threading

import pytest

from botlang.telephony import (
    CallResult,
    GuardedTelephony,
    RecordingTelephony,
    SpamGuard,
    SpamLimit,
    guarded,
)
from botlang.telephony.guard import CallHistory, MemoryCallHistory, guard_from_config

from .conftest import FakeClock

PHONE = "79004443322"
OTHER = "79005556677"
LINE = "74992262961"


def make(
    clock: FakeClock, history: CallHistory | None = None, **limits: SpamLimit | None
) -> tuple[GuardedTelephony, RecordingTelephony]:
    inner = RecordingTelephony()
    guard = SpamGuard(
        per_number=limits.get("per_number", SpamLimit(3, 600)),
        group_per_number=limits.get("group_per_number", SpamLimit(1, 600)),
        clock=clock,
        history=history,
    )
    return GuardedTelephony(inner, guard), inner


def test_on_by_default() -> None:
    tel = guarded(RecordingTelephony())
    assert tel is not None and tel.guard.enabled
    results = [tel.employee_call("219", PHONE).result for _ in range(4)]
    assert results == [1000, 1000, 1000, 4501]


def test_limit_per_number_across_both_kinds(clock: FakeClock, history: CallHistory) -> None:
    tel, inner = make(clock, history)
    assert tel.employee_call("219", PHONE).ok
    clock.advance(10)
    assert tel.group_call("12345", LINE, PHONE).ok
    clock.advance(10)
    assert tel.employee_call("220", PHONE).ok
    refused = tel.employee_call("219", PHONE)
    assert refused == CallResult(False, 4501, refused.message)
    assert "spam guard" in refused.message and "3 per 10 min" in refused.message
    assert len(inner.calls) == 3  # the refused call made no request
    assert tel.employee_call("219", OTHER).ok  # other numbers are not affected
    clock.advance(600 - 20)  # the first call leaves the window
    assert tel.employee_call("219", PHONE).ok
    assert not tel.employee_call("219", PHONE).ok


def test_group_calls_are_limited_more_strictly(clock: FakeClock, history: CallHistory) -> None:
    tel, inner = make(clock, history)
    assert tel.group_call("12345", LINE, PHONE).ok
    refused = tel.group_call("12345", LINE, PHONE)
    assert refused.result == 4501 and "group calls" in refused.message
    assert "next allowed in 10 min" in refused.message
    assert tel.employee_call("219", PHONE).ok  # employee calls still have room
    clock.advance(599)
    assert tel.group_call("12345", LINE, PHONE).result == 4501
    clock.advance(1)
    assert tel.group_call("12345", LINE, PHONE).ok
    assert [c.kind for c in inner.calls] == ["group", "employee", "group"]


def test_same_number_in_different_forms_counts_once(clock: FakeClock, history: CallHistory) -> None:
    tel, _ = make(clock, history, per_number=SpamLimit(2, 60))
    assert tel.employee_call("219", "+7 (900) 444-33-22").ok
    assert tel.employee_call("219", "8 900 444 33 22").ok
    assert tel.employee_call("219", 79004443322).result == 4501


def test_disabled_and_from_config(clock: FakeClock) -> None:
    tel = GuardedTelephony(RecordingTelephony(), SpamGuard.disabled())
    assert all(tel.group_call("1", LINE, PHONE).ok for _ in range(10))
    guard = SpamGuard.from_config({"calls_per_number": 5, "group_window_seconds": 30})
    assert guard.per_number == SpamLimit(5, 600)
    assert guard.group_per_number == SpamLimit(1, 30)
    assert isinstance(guard.history, MemoryCallHistory)
    assert not SpamGuard.from_config({"enabled": False}).enabled
    default = guard_from_config(None)
    assert (default.per_number, default.group_per_number) == (SpamLimit(3, 600), SpamLimit(1, 600))
    with pytest.raises(ValueError, match=r"guard\.calls: unknown key; known keys: enabled"):
        SpamGuard.from_config({"calls": 1})
    with pytest.raises(ValueError, match=r"guard\.calls_per_number: must be at least 1"):
        guard_from_config({"calls_per_number": 0})
    with pytest.raises(ValueError):
        SpamLimit(0, 10)


def test_thread_safe(clock: FakeClock, history: CallHistory) -> None:
    tel, inner = make(clock, history, per_number=SpamLimit(5, 600))
    barrier = threading.Barrier(20)
    results: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        result = tel.employee_call("219", PHONE).result
        with lock:
            results.append(result)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [1000] * 5 + [4501] * 15
    assert len(inner.calls) == 5


def test_invalid_numbers_never_reach_the_adapter() -> None:
    inner = RecordingTelephony()
    tel = GuardedTelephony(inner)
    bad = tel.employee_call("219", "900-444")
    assert bad.result == 3200 and not bad.ok and bad.command_id is None
    assert "invalid client phone" in bad.message and "too short" in bad.message
    assert tel.group_call("12345", LINE, "abc").result == 3200
    assert tel.group_call("12345", "12", PHONE).result == 3104  # bad line number
    assert tel.employee_call("", PHONE).result == 3103
    assert tel.employee_call(None, PHONE).result == 3103
    assert tel.employee_call("21a", PHONE).result == 3104
    assert tel.group_call(True, LINE, PHONE).result == 3104
    assert inner.calls == []


def test_numbers_given_as_numbers() -> None:
    inner = RecordingTelephony()
    tel = GuardedTelephony(inner)
    assert tel.employee_call(219, 79004443322).ok
    assert tel.group_call(12345.0, 74992262961, "+79005556677").ok
    assert inner.calls[0].args == {"extension": "219", "phone": PHONE}
    assert inner.calls[1].args == {"group": "12345", "line_number": LINE, "phone": OTHER}


def test_guarded_wraps_once_and_keeps_state() -> None:
    inner = RecordingTelephony()
    first = guarded(inner)
    assert first is not None
    assert guarded(inner) is first
    assert guarded(first) is first
    assert guarded(None) is None
    first.group_call("12345", LINE, PHONE)
    assert guarded(inner).group_call("12345", LINE, PHONE).result == 4501  # type: ignore[union-attr]
    explicit = GuardedTelephony(inner, SpamGuard.disabled())
    assert guarded(explicit) is explicit
    assert GuardedTelephony(explicit).inner is inner


class _Exploding:
    def employee_call(self, extension: str, phone: str) -> CallResult:
        raise RuntimeError("boom with some-secret")

    def group_call(self, group: str, line_number: str, phone: str) -> dict[str, object]:
        return {"ok": False, "result": "1121", "message": "busy", "command_id": "x"}


def test_adapter_failures_become_results() -> None:
    tel = GuardedTelephony(_Exploding(), SpamGuard.disabled())  # type: ignore[arg-type]
    failed = tel.employee_call("219", PHONE)
    assert failed.result == 5000 and "RuntimeError" in failed.message
    assert "some-secret" not in failed.message
    assert tel.group_call("1", LINE, PHONE) == CallResult(False, 1121, "busy", "x")
    assert tel.hangup("abc").result == 4001  # not supported by this adapter
    assert tel.users() == [] and tel.groups() == []


def test_calls_never_sent_are_not_counted(clock: FakeClock, history: CallHistory) -> None:
    never_sent = _NeverSends()
    guard = SpamGuard(clock=clock, history=history)
    tel = GuardedTelephony(never_sent, guard)  # type: ignore[arg-type]
    for _ in range(5):
        assert tel.group_call("12345", LINE, PHONE).result == 4500
    assert never_sent.count == 5  # each reached the adapter: none used up the allowance
    never_sent.send = True
    assert tel.group_call("12345", LINE, PHONE).ok
    assert tel.group_call("12345", LINE, PHONE).result == 4501


class _NeverSends:
    """An adapter that sends nothing (command_id None) until told to."""

    def __init__(self) -> None:
        self.count = 0
        self.send = False

    def employee_call(self, extension: str, phone: str) -> CallResult:
        return self.group_call("", "", phone)

    def group_call(self, group: str, line_number: str, phone: str) -> CallResult:
        self.count += 1
        if self.send:
            return CallResult(True, 1000, "ok", "cmd-1")
        return CallResult(False, 4500, "requests are paused; nothing was sent", None)


def test_refund_uncounts_exactly_the_call_not_placed(
    clock: FakeClock, history: CallHistory
) -> None:
    guard = SpamGuard(per_number=SpamLimit(2, 600), clock=clock, history=history)
    first = guard.admit_call("employee", PHONE)
    clock.advance(100)
    second = guard.admit_call("employee", PHONE)
    assert first.refused is None and second.refused is None and first.ticket != second.ticket
    assert guard.admit("employee", PHONE) is not None
    guard.refund("employee", PHONE, first.ticket)  # the older one: the window now starts later
    clock.advance(550)  # 650 s after the first call, 550 after the second
    assert guard.admit("employee", PHONE) is None
    refused = guard.admit("employee", PHONE)
    assert refused is not None and "next allowed in 50 s" in refused
    guard.refund("employee", PHONE)  # no ticket: the latest call of that kind
    assert guard.admit("employee", PHONE) is None


def test_reset_one_number_or_all(clock: FakeClock, history: CallHistory) -> None:
    tel, _ = make(clock, history, per_number=SpamLimit(1, 600))
    assert tel.employee_call("219", PHONE).ok and tel.employee_call("219", OTHER).ok
    assert not tel.employee_call("219", PHONE).ok
    tel.guard.reset(PHONE)
    assert tel.employee_call("219", PHONE).ok
    assert not tel.employee_call("219", OTHER).ok
    tel.guard.reset()
    assert tel.employee_call("219", PHONE).ok and tel.employee_call("219", OTHER).ok


def test_a_disabled_guard_counts_nothing(clock: FakeClock, history: CallHistory) -> None:
    tel = GuardedTelephony(RecordingTelephony(), SpamGuard(enabled=False, history=history))
    assert all(tel.group_call("1", LINE, PHONE).ok for _ in range(5))
    counting, _ = make(clock, history)  # the same history, guard on: nothing was recorded
    assert counting.group_call("1", LINE, PHONE).ok
