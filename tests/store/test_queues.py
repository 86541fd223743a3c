"""The claim protocol every queue shares (events, outbox, timers): fenced claims, groups,
due times; and the exactly-once helpers beside it: leases, the call journal, answers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from botlang.store import ClaimLost, Store, StoreError, open_store


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(store: Store) -> FakeClock:
    fake = FakeClock()
    store.clock = fake
    return fake


# -- fencing ----------------------------------------------------------------------------------


def test_each_claim_has_its_own_token(store: Store, clock: FakeClock) -> None:
    store.inbox_add("a", "events/summary", {})
    (first,) = store.inbox_claim(lease_seconds=10)
    assert first.token
    clock.now += 11  # the lease runs out: another worker takes the item over
    (second,) = store.inbox_claim(lease_seconds=10)
    assert second.item_id == first.item_id and second.token != first.token


def test_a_lost_claim_cannot_finish_the_item(store: Store, clock: FakeClock) -> None:
    store.inbox_add("a", "events/summary", {})
    (first,) = store.inbox_claim(lease_seconds=10)
    clock.now += 11
    (second,) = store.inbox_claim(lease_seconds=10)
    with pytest.raises(ClaimLost):
        store.inbox_done(first.item_id, token=first.token)
    with pytest.raises(ClaimLost):
        store.inbox_release(first.item_id, "late", delay_seconds=0, token=first.token)
    assert store.inbox_renew(first.item_id, first.token or "", 10) is False
    store.inbox_done(second.item_id, token=second.token)
    with pytest.raises(ClaimLost):  # finished: no claim is valid any more
        store.inbox_done(second.item_id, token=second.token)
    assert store.inbox_stats()["done"] == 1


def test_finishing_twice_is_refused_without_a_token_too(store: Store) -> None:
    store.inbox_add("a", "events/summary", {})
    (item,) = store.inbox_claim()
    store.inbox_done(item.item_id)
    with pytest.raises(StoreError, match="no pending"):
        store.inbox_done(item.item_id)


def test_a_lost_claim_rolls_back_the_effects_committed_with_it(store: Store) -> None:
    client = store.create_client(client_type=13, phone="79001112233")
    store.inbox_add("a", "events/summary", {})
    (item,) = store.inbox_claim(lease_seconds=30)
    store.inbox_release(item.item_id, "handed back", delay_seconds=0, token=item.token)
    with pytest.raises(ClaimLost), store.transaction(client.client_id) as state:
        state.client_vars["applied"] = True
        store.inbox_done(item.item_id, token=item.token)
    assert store.read_variables(client.client_id)["client"] == {}
    assert store.inbox_stats()["pending"] == 1


def test_renewing_keeps_the_claim(store: Store, clock: FakeClock) -> None:
    store.inbox_add("a", "events/summary", {})
    (item,) = store.inbox_claim(lease_seconds=10)
    for _ in range(3):
        clock.now += 8
        assert store.inbox_renew(item.item_id, item.token or "", 10)
    assert store.inbox_claim() == []  # still held: 24 s after a 10 s lease
    store.inbox_done(item.item_id, token=item.token)


def test_release_without_counting_the_attempt(store: Store, clock: FakeClock) -> None:
    store.inbox_add("a", "events/summary", {})
    (item,) = store.inbox_claim()
    store.inbox_release(
        item.item_id, "busy", delay_seconds=5, token=item.token, count_attempt=False
    )
    assert store.inbox_claim() == []
    clock.now += 6
    (again,) = store.inbox_claim()
    assert again.attempts == 1
    assert store.inbox_stats()["claimed"] == 1


# -- groups: one item of a group at a time, in order ------------------------------------------


def test_a_group_is_handed_out_one_item_at_a_time_in_order(store: Store, clock: FakeClock) -> None:
    for n in range(3):
        store.inbox_add(f"a{n}", "events/summary", {"n": n}, group="client:1")
    store.inbox_add("b0", "events/summary", {"n": 10}, group="client:2")
    store.inbox_add("free", "events/summary", {"n": 20})
    heads = store.inbox_claim(limit=10)
    assert [i.key for i in heads] == ["a0", "b0", "free"]
    assert heads[0].group == "client:1"
    assert store.inbox_claim(limit=10) == []  # a1 waits for a0, leased or not
    store.inbox_release(heads[0].item_id, "store error", delay_seconds=30, token=heads[0].token)
    assert store.inbox_claim(limit=10) == []  # a0 is pending again: a1 still waits
    clock.now += 31
    (a0,) = store.inbox_claim(limit=10)
    assert a0.key == "a0"
    store.inbox_done(a0.item_id, token=a0.token)
    assert [i.key for i in store.inbox_claim(limit=10)] == ["a1"]


def test_a_failed_item_no_longer_holds_its_group(store: Store, clock: FakeClock) -> None:
    store.inbox_add("a0", "events/summary", {}, group="g")
    store.inbox_add("a1", "events/summary", {}, group="g")
    (a0,) = store.inbox_claim(lease_seconds=1, max_attempts=1)
    assert a0.key == "a0"
    clock.now += 2
    (a1,) = store.inbox_claim(max_attempts=1)  # a0 gave up after its one attempt
    assert a1.key == "a1"
    assert store.inbox_items("failed")[0].key == "a0"


# -- due times and the timer queue --------------------------------------------------------


def test_a_timer_is_due_at_its_time_and_claimed_from_its_own_queue(
    store: Store, clock: FakeClock
) -> None:
    store.inbox_add("t1", "timer/block", {"block": "remind"}, not_before=clock.now + 60)
    store.inbox_add("e1", "events/summary", {})
    assert store.inbox_claim(queue="timers") == []
    assert [i.key for i in store.inbox_claim(queue="events")] == ["e1"]
    assert store.inbox_stats(queue="timers") == {
        "pending": 1,
        "claimed": 0,
        "done": 0,
        "failed": 0,
    }
    clock.now += 61
    (timer,) = store.inbox_claim(queue="timers")
    assert timer.key == "t1" and timer.token
    store.inbox_done(timer.item_id, token=timer.token)


# -- re-sending failed items --------------------------------------------------------------


def test_failed_items_are_put_back_by_id_or_all(store: Store) -> None:
    for n in range(3):
        store.inbox_add(f"o{n}", "outbox/message", {"n": n})
    store.inbox_add("e", "events/summary", {})
    for item in store.inbox_claim(limit=10):
        store.inbox_done(item.item_id, "HTTP 400", token=item.token)
    failed = store.inbox_items("failed", queue="outbox")
    assert store.inbox_retry(queue="outbox", item_ids=[failed[0].item_id]) == 1
    (pending,) = store.inbox_items("pending", queue="outbox")
    assert pending.attempts == 0 and pending.error == "HTTP 400"
    assert store.inbox_retry(queue="outbox") == 2
    assert store.inbox_stats(queue="outbox")["pending"] == 3
    assert store.inbox_stats(queue="events")["failed"] == 1  # another queue: untouched
    assert store.inbox_retry(queue="outbox", item_ids=[]) == 0


# -- leases -------------------------------------------------------------------------------


def test_a_lease_has_one_owner_until_it_runs_out(store: Store, clock: FakeClock) -> None:
    assert store.lease_acquire("client:1", "w1", 10)
    assert not store.lease_acquire("client:1", "w2", 10)
    assert store.lease_acquire("client:1", "w1", 10)  # the owner extends it
    assert store.lease_held("client:1", "w1") and not store.lease_held("client:1", "w2")
    clock.now += 11
    assert store.lease_held("client:1", "w1")  # run out, but nobody took it
    assert store.lease_acquire("client:1", "w2", 10)
    assert not store.lease_held("client:1", "w1")
    store.lease_release("client:1", "w1")  # not the owner: nothing happens
    assert store.lease_held("client:1", "w2")
    store.lease_release("client:1", "w2")
    assert store.lease_acquire("client:1", "w3", 10)


# -- the call journal -----------------------------------------------------------------------


def test_the_call_journal_keeps_one_entry_per_key(store: Store, clock: FakeClock) -> None:
    args = {"extension": "219", "phone": "79001112233"}
    first = store.call_intent(
        "k1", turn_key="event:a", ordinal=0, kind="employee", args=args, client_id="1", owner="t1"
    )
    assert first.status == "intent" and first.result is None and first.owner == "t1"
    again = store.call_intent(
        "k1", turn_key="event:a", ordinal=0, kind="employee", args=args, client_id="1", owner="t2"
    )
    assert again == first  # the first intent stands
    clock.now += 1
    done = store.call_record("k1", {"ok": True, "result": 1000, "command_id": "c-1"})
    assert done.status == "done" and done.command_id == "c-1" and done.updated_at == clock.now
    store.call_intent(
        "k2", turn_key="event:a", ordinal=1, kind="group", args={}, client_id="1", owner="t1"
    )
    settled = store.call_settle("k2")
    assert settled.status == "unknown"
    assert store.call_settle("k1").status == "done"  # a recorded result is never unsettled
    assert [e.ordinal for e in store.call_entries(turn_key="event:a")] == [0, 1]
    assert [e.call_key for e in store.call_entries(status="unknown")] == ["k2"]
    with pytest.raises(StoreError):
        store.call_record("nope", {})
    with pytest.raises(StoreError, match="call status"):
        store.call_entries(status="sent")


def test_journal_entries_and_leases_are_pruned_with_the_inbox(
    store: Store, clock: FakeClock
) -> None:
    store.call_intent(
        "k1", turn_key="t", ordinal=0, kind="employee", args={}, client_id=None, owner="o"
    )
    store.lease_acquire("client:1", "w1", 10)
    clock.now += 100
    store.inbox_prune(older_than_seconds=50)
    assert store.call_entries() == []
    assert store.lease_acquire("client:1", "w2", 10)


# -- stored answers ---------------------------------------------------------------------------


def test_answers_are_stored_once_and_pruned(store: Store, clock: FakeClock) -> None:
    assert store.answer_get("k") is None
    store.answer_put("k", "h1", {"messages": ["привет"]})
    store.answer_put("k", "h2", {"messages": ["other"]})  # the first stands
    answer = store.answer_get("k")
    assert answer is not None and answer.request_hash == "h1"
    assert answer.response == {"messages": ["привет"]} and answer.created_at == clock.now
    clock.now += 100
    store.answer_put("new", "h", {})
    assert store.answer_prune(older_than_seconds=50) == 1
    assert store.answer_get("k") is None and store.answer_get("new") is not None


# -- detached state ---------------------------------------------------------------------------


def test_load_then_save_writes_only_what_changed(store: Store) -> None:
    client = store.create_client(client_type=13, phone="79001112233", variables={"a": 1})
    state = store.load_state(client.client_id)
    state.client_vars["b"] = 2
    state.session["block"] = "start"
    store.set_client_var(client.client_id, "c", 3)  # written meanwhile by someone else
    with store.exclusive("commit"):
        store.save_state(state)
    scopes = store.read_variables(client.client_id)
    assert scopes["client"] == {"a": 1, "b": 2, "c": 3}
    assert scopes["session"] == {"block": "start"}


def test_save_needs_a_loaded_state(store: Store) -> None:
    client = store.create_client(client_type=13)
    with store.transaction(client.client_id) as state:
        pass
    state.loaded = None
    with pytest.raises(StoreError, match="load_state"):
        store.save_state(state)


# -- an older database is upgraded on open ----------------------------------------------------


def test_a_version_1_sqlite_database_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE botlang_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO botlang_meta VALUES ('schema_version', '1');
        CREATE TABLE botlang_inbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
          key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
          lease_until REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL, finished_at REAL,
          error TEXT);
        INSERT INTO botlang_inbox (key, kind, payload, created_at)
          VALUES ('old', 'events/summary', '{}', 1);
        """
    )
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        (item,) = store.inbox_claim()
        assert item.key == "old" and item.token and item.group is None
        store.inbox_done(item.item_id, token=item.token)
    finally:
        store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM botlang_meta").fetchone() == ("2",)
    conn.close()
