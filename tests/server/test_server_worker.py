"""The inbox writer and the worker on their own: exactly-once under failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from server_testkit import FLOW, PHONE, call_event, summary, wait_for

from botlang.core.errors import LimitExceeded
from botlang.core.limits import DEFAULT_LIMITS
from botlang.flow import Bot, Turn, TurnRequest
from botlang.server.inbox import InboxWriter, Overloaded, StoreGate
from botlang.server.webhook import read_delivery
from botlang.server.worker import Worker, order_group
from botlang.store import Store, open_store
from botlang.store.base import ClientState
from botlang.telephony import RecordingTelephony
from botlang.telephony.signing import encode_payload


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/inbox.db"
    else:
        url = request.getfixturevalue("new_postgres_schema")("botlang_server")
    opened = open_store(url)
    yield opened
    opened.close()


def add(store: Store, kind: str, payload: dict[str, Any]) -> bool:
    """Store an event as the webhook does (in its client's group)."""
    delivery = read_delivery(kind, encode_payload(payload))
    group = order_group(delivery.kind, delivery.payload)
    return store.inbox_add(delivery.key, delivery.kind, delivery.payload, group=group)


def client_vars(store: Store, phone: str = PHONE) -> dict[str, Any]:
    client = store.find_client_by_variable_value(phone)
    assert client is not None
    return store.read_variables(client.client_id)["client"]


def bot() -> Bot:
    return Bot.load(FLOW, telephony=RecordingTelephony())


def drain(worker: Worker) -> None:
    while worker.run_once():
        pass


def test_events_apply_in_order_and_once(store: Store) -> None:
    worker = Worker(StoreGate(store), bot(), messengers=["whatsapp"])
    add(store, "events/call", call_event(1))
    add(store, "events/call", call_event(3, "Disconnected", disconnect_reason=1121))
    add(store, "events/call", call_event(2, "Connected"))  # arrived late: ignored
    add(store, "events/summary", summary(answered=False, reason=1121))
    drain(worker)
    variables = client_vars(store)
    assert variables["call_state"] == "Disconnected"
    assert variables["call_outcome"] == "busy"
    assert variables["missed_callbacks"] == 1
    assert "other_callbacks" not in variables
    assert store.inbox_stats() == {"pending": 0, "claimed": 0, "done": 4, "failed": 0}
    assert worker.processed == 4


class CrashingBot:
    """Runs the real turn, then dies before the transaction commits — the first ``crashes``
    times — as a process killed mid-turn would."""

    def __init__(self, inner: Bot, crashes: int = 1) -> None:
        self.inner = inner
        self.crashes = crashes
        self.calls = 0

    @property
    def telephony(self) -> Any:
        return self.inner.telephony

    def turn(self, store: Store, state: ClientState, request: TurnRequest, **options: Any) -> Turn:
        self.calls += 1
        turn = self.inner.turn(store, state, request, **options)
        if self.calls > self.crashes:
            return turn
        state.client_vars["answered_callbacks"] = 99  # would be wrong if it stuck
        raise RuntimeError("killed mid-turn")


def test_an_event_whose_turn_dies_is_handed_back_and_applied_once(store: Store) -> None:
    crashing = CrashingBot(bot())
    worker = Worker(StoreGate(store), crashing, messengers=["whatsapp"], retry_base_seconds=0.1)
    add(store, "events/call", call_event(1, "Connected"))
    add(store, "events/summary", summary())
    assert worker.run_once() == 1  # one event of the client at a time: the call event
    assert worker.run_once() == 1  # then the summary, whose turn dies
    assert worker.failures == 1
    (pending,) = store.inbox_items("pending")
    assert pending.token is None  # handed back at once, not left to its lease
    assert pending.error == "RuntimeError" and pending.lease_until > store.clock()
    wait_for(lambda: worker.run_once() and store.inbox_stats()["pending"] == 0)
    variables = client_vars(store)
    assert variables["answered_callbacks"] == 1
    assert variables["call_id"] == "leg-1"  # the leg event was applied too
    assert variables["call_state"] == "Disconnected"  # and the summary ended the call
    assert store.inbox_stats()["done"] == 2


def test_a_stale_event_changes_nothing(store: Store) -> None:
    worker = Worker(StoreGate(store), bot(), messengers=["whatsapp"])
    add(store, "events/call", call_event(5, "Connected"))
    drain(worker)
    before = client_vars(store)
    add(store, "events/call", call_event(4, "Appeared"))
    drain(worker)
    assert client_vars(store) == before
    assert store.inbox_stats()["done"] == 2


class FailsOnce(StoreGate):
    """A gate whose first "done" mark fails, as a process killed just before the commit."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.done_calls = 0

    def inbox_done(self, item_id: int, error: str | None = None, **options: Any) -> None:
        self.done_calls += 1
        if self.done_calls == 1:
            raise RuntimeError("killed before the commit")
        super().inbox_done(item_id, error, **options)


def test_the_done_mark_commits_with_the_turn(store: Store) -> None:
    worker = Worker(FailsOnce(store), bot(), messengers=["whatsapp"], retry_base_seconds=0.1)
    add(store, "events/summary", summary())
    assert worker.run_once() == 1 and worker.failures == 1
    assert store.inbox_stats()["done"] == 0
    client = store.find_client_by_variable_value(PHONE)
    assert client is not None
    assert "call_outcome" not in store.read_variables(client.client_id)["client"]
    wait_for(lambda: worker.run_once() and store.inbox_stats()["done"] == 1)
    assert client_vars(store)["call_outcome"] == "answered"


def test_events_without_a_client_are_finished_without_creating_one(store: Store) -> None:
    worker = Worker(StoreGate(store), bot())
    internal = {**summary(direction=0), "from": {"extension": "1"}, "to": {"extension": "2"}}
    add(store, "events/summary", internal)
    add(store, "events/summary", {**summary(entry_id="e2"), "to": {"number": "anonymous"}})
    add(store, "result/callback", {"command_id": "nobody", "result": 3200})
    add(store, "events/dtmf", {"entry_id": "e", "dtmf": "1"})
    drain(worker)
    assert store.inbox_stats()["done"] == 4
    assert store.find_client_by_variable_value("anonymous") is None


def test_without_a_bot_events_still_set_variables(store: Store) -> None:
    worker = Worker(StoreGate(store), None)
    add(store, "events/summary", summary())
    drain(worker)
    variables = client_vars(store)
    assert variables["call_answered"] is True
    assert store.find_client_by_phone(PHONE, client_type=13) is not None  # no messengers


class RefusingBot:
    """A bot whose turns are refused by the store (a limit checked at commit)."""

    telephony = None

    def turn(self, store: Store, state: ClientState, request: TurnRequest, **options: Any) -> Turn:
        state.client_vars["x"] = 1
        raise LimitExceeded("too many client variables")


def test_an_event_refused_by_a_limit_is_marked_failed_not_retried(store: Store) -> None:
    worker = Worker(StoreGate(store), RefusingBot(), messengers=["whatsapp"])
    add(store, "events/summary", summary())
    drain(worker)
    assert store.inbox_stats()["failed"] == 1
    assert client_vars(store) == {}


def test_variables_over_a_limit_are_errors_on_the_turn(store: Store) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_variables_per_scope=3)
    store.limits = limits
    worker = Worker(StoreGate(store), Bot.load(FLOW, limits=limits), messengers=["whatsapp"])
    add(store, "events/summary", summary())
    drain(worker)
    assert store.inbox_stats()["done"] == 1
    client = store.find_client_by_variable_value(PHONE)
    assert client is not None
    scopes = store.read_variables(client.client_id)
    assert len(scopes["client"]) == 3
    assert scopes["session"]["errors"]


def test_the_worker_thread_wakes_on_new_events(store: Store) -> None:
    worker = Worker(StoreGate(store), bot(), messengers=["whatsapp"], idle_seconds=30)
    worker.start()
    try:
        time.sleep(0.05)
        add(store, "events/summary", summary())
        worker.wake()
        wait_for(lambda: store.inbox_stats()["done"] == 1)
    finally:
        worker.stop()
    assert not worker.alive


# -- the inbox writer -------------------------------------------------------------------------


def test_the_writer_commits_groups_and_reports_duplicates(store: Store) -> None:
    added: list[int] = []
    writer = InboxWriter(StoreGate(store), on_added=added.append)
    futures = [writer.submit(f"k{i % 5}", "events/call", {"i": i}) for i in range(10)]
    writer.start()
    try:
        results = [f.result(timeout=10) for f in futures]
    finally:
        writer.stop()
    assert results == [True] * 5 + [False] * 5
    assert sum(added) == 5
    assert store.inbox_stats()["pending"] == 5


def test_a_full_writer_queue_refuses_instead_of_growing(store: Store) -> None:
    writer = InboxWriter(StoreGate(store), max_pending=2)  # not started: nothing drains
    writer.submit("a", "events/call", {})
    writer.submit("b", "events/call", {})
    with pytest.raises(Overloaded):
        writer.submit("c", "events/call", {})
    writer.start()
    writer.stop()  # stopping writes what was queued
    assert store.inbox_stats()["pending"] == 2


def test_one_bad_write_does_not_fail_the_group(store: Store) -> None:
    writer = InboxWriter(StoreGate(store))
    good = writer.submit("good", "events/call", {})
    bad = writer.submit("", "events/call", {})  # an empty key is refused by the store
    writer.start()
    try:
        assert good.result(timeout=10) is True
        with pytest.raises(Exception, match="inbox key"):
            bad.result(timeout=10)
    finally:
        writer.stop()


def test_sqlite_writers_in_one_process_queue_on_the_gate(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/gate.db")
    gate = StoreGate(store)
    client = store.create_client(client_type=13, phone=PHONE)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.transaction(client.client_id):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(10)
    finished = threading.Event()
    adder = threading.Thread(target=lambda: (gate.inbox_add("k", "x", {}), finished.set()))
    adder.start()
    assert not finished.wait(0.2)  # waits on the gate, not in SQLite's busy loop
    release.set()
    thread.join(10)
    adder.join(10)
    assert finished.is_set()
    store.close()


class _FlakyClaims:
    """A store whose first claims fail, as an unreachable database would."""

    def __init__(self, inner: Store, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def inbox_claim(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError("database unreachable")
        return self.inner.inbox_claim(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_worker_thread_outlives_store_failures(store: Store) -> None:
    flaky = _FlakyClaims(store, failures=2)
    worker = Worker(StoreGate(flaky), bot(), messengers=["whatsapp"], idle_seconds=0.05)  # type: ignore[arg-type]
    add(store, "events/summary", summary())
    worker.start()
    try:
        wait_for(lambda: store.inbox_stats()["done"] == 1)
        assert worker.alive
    finally:
        worker.stop()
    assert client_vars(store)["answered_callbacks"] == 1
