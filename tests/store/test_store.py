"""The store contract, run against every backend (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS
from botlang.store import Store, StoreError, UnknownClient

MAX_VARS = DEFAULT_LIMITS.max_variables_per_scope
MAX_NAME = DEFAULT_LIMITS.max_variable_name_chars
MAX_VALUE = DEFAULT_LIMITS.max_value_chars


def new_client(store: Store, phone: str | None = None, **variables: object) -> str:
    return store.create_client(client_type=13, phone=phone, variables=variables).client_id


# -- clients ------------------------------------------------------------------------------


def test_create_and_get_client(store: Store) -> None:
    first = store.create_client(client_type=13, phone="79001112233")
    second = store.create_client(client_type=6, phone="79004445566", messenger="whatsapp")
    assert first.client_id != second.client_id
    assert store.get_client(first.client_id) == first
    got = store.get_client(second.client_id)
    assert got is not None
    assert (got.client_type, got.phone, got.messenger) == (6, "79004445566", "whatsapp")
    assert got.created_at >= first.created_at
    assert store.get_client("999999") is None
    assert store.get_client("not-an-id") is None


def test_initial_variables(store: Store) -> None:
    cid = new_client(store, name="Анна", tags=["a", "b"])
    assert store.read_variables(cid) == {
        "client": {"name": "Анна", "tags": ["a", "b"]},
        "deal": {},
        "project": {},
        "session": {},
    }


def test_create_client_checks_limits(store: Store) -> None:
    with pytest.raises(LimitExceeded, match="'big'"):
        store.create_client(client_type=13, variables={"big": "x" * MAX_VALUE})


# -- transactions -------------------------------------------------------------------------


def test_transaction_round_trip(store: Store) -> None:
    cid = new_client(store, phone="79001112233")
    values = {
        "none": None,
        "yes": True,
        "int": 42,
        "float": 2.5,
        "text": 'привет\n"quoted"',
        "list": [1, "two", [3.0], {"four": None}],
        "dict": {"a": {"b": [True]}},
    }
    with store.transaction(cid) as state:
        assert state.client.client_id == cid
        assert state.client.phone == "79001112233"
        state.client_vars.update(values)
        state.deal_vars["step"] = 1
        state.project_vars["shared"] = "yes"
        state.session["block"] = "start"
    assert store.read_variables(cid) == {
        "client": values,
        "deal": {"step": 1},
        "project": {"shared": "yes"},
        "session": {"block": "start"},
    }


def test_in_place_changes_and_deletions_are_saved(store: Store) -> None:
    cid = new_client(store, items=[1], gone="x", kept="y")
    with store.transaction(cid) as state:
        state.client_vars["items"].append(2)
        del state.client_vars["gone"]
    with store.transaction(cid) as state:
        assert state.client_vars == {"items": [1, 2], "kept": "y"}


def test_isolation_a_transaction_sees_only_its_client(store: Store) -> None:
    alice = new_client(store, who="alice")
    bob = new_client(store, who="bob")
    with store.transaction(bob) as state:
        state.deal_vars["bob_deal"] = 1
    with store.transaction(alice) as state:
        assert state.client_vars == {"who": "alice"}
        assert state.deal_vars == {}
        state.client_vars["who"] = "changed"
        state.deal_vars["alice_deal"] = 2
        state.project_vars["p"] = 1
    bob_vars = store.read_variables(bob)
    assert bob_vars["client"] == {"who": "bob"}
    assert bob_vars["deal"] == {"bob_deal": 1}
    assert bob_vars["project"] == {"p": 1}  # the project scope is shared


def test_rollback_on_exception(store: Store) -> None:
    cid = new_client(store, n=1)
    other = new_client(store)
    with pytest.raises(RuntimeError), store.transaction(cid) as state:
        state.client_vars["n"] = 2
        state.deal_vars["d"] = 1
        state.project_vars["p"] = 1
        state.session["block"] = "b"
        store.set_client_var(other, "touched", True)  # joins the transaction
        raise RuntimeError("boom")
    assert store.read_variables(cid) == {
        "client": {"n": 1},
        "deal": {},
        "project": {},
        "session": {},
    }
    assert store.get_client_var(other, "touched") is None


def test_calls_inside_a_transaction_commit_with_it(store: Store) -> None:
    cid = new_client(store)
    other = new_client(store)
    with store.transaction(cid) as state:
        state.client_vars["x"] = 1
        store.set_client_var(other, "from", cid)
        assert store.get_client_var(other, "from") == cid
        assert store.inbox_add("k", "test", {})
        assert store.call_seq_advance("call", 1)
    assert store.get_client_var(other, "from") == cid
    assert store.inbox_stats()["pending"] == 1
    assert not store.call_seq_advance("call", 1)


def test_nested_transactions_are_refused(store: Store) -> None:
    a, b = new_client(store), new_client(store)
    with (
        store.transaction(a),
        pytest.raises(StoreError, match="already open"),
        store.transaction(b),
    ):
        pass
    with (
        store.exclusive("x"),
        pytest.raises(StoreError, match="already open"),
        store.transaction(a),
    ):
        pass


def test_read_variables_is_a_copy(store: Store) -> None:
    cid = new_client(store, items=[1])
    snapshot = store.read_variables(cid)
    snapshot["client"]["items"].append(2)
    snapshot["client"]["new"] = 1
    assert store.read_variables(cid)["client"] == {"items": [1]}


def test_unknown_client(store: Store) -> None:
    for missing in ("424242", "nope"):
        with pytest.raises(UnknownClient, match=missing), store.transaction(missing):
            pass
        with pytest.raises(UnknownClient, match=missing):
            store.read_variables(missing)
        with pytest.raises(UnknownClient, match=missing):
            store.get_client_var(missing, "x")
        with pytest.raises(UnknownClient, match=missing):
            store.set_client_var(missing, "x", 1)
        with pytest.raises(UnknownClient, match=missing):
            store.close_deal(missing)
    assert issubclass(UnknownClient, ScriptError)


def test_non_json_values_are_refused(store: Store) -> None:
    cid = new_client(store)
    with pytest.raises(ScriptError, match="'bad'"), store.transaction(cid) as state:
        state.client_vars["ok"] = 1
        state.client_vars["bad"] = {1, 2}
    assert store.read_variables(cid)["client"] == {}
    with pytest.raises(StoreError, match="session"), store.transaction(cid) as state:
        state.session["when"] = object()


# -- limits, at their boundaries ----------------------------------------------------------


@pytest.mark.parametrize("scope", ["client_vars", "deal_vars", "project_vars"])
def test_variable_count_limit(store: Store, scope: str) -> None:
    cid = new_client(store)
    with store.transaction(cid) as state:
        getattr(state, scope).update({f"v{i}": i for i in range(MAX_VARS)})
    with pytest.raises(LimitExceeded, match="'one_too_many'"), store.transaction(cid) as state:
        state.client_vars["other_change"] = "dropped too"
        getattr(state, scope)["one_too_many"] = 1
    after = store.read_variables(cid)
    assert len(after[scope.removesuffix("_vars")]) == MAX_VARS
    assert "other_change" not in after["client"]  # nothing of the transaction was written


@pytest.mark.parametrize("scope", ["client_vars", "deal_vars", "project_vars"])
def test_value_size_limit(store: Store, scope: str) -> None:
    cid = new_client(store)
    largest = "x" * (MAX_VALUE - 2)  # its JSON text has two quotes more
    with store.transaction(cid) as state:
        getattr(state, scope)["big"] = largest
    with pytest.raises(LimitExceeded, match="'bigger'"), store.transaction(cid) as state:
        getattr(state, scope)["bigger"] = largest + "x"
    assert store.read_variables(cid)[scope.removesuffix("_vars")] == {"big": largest}


@pytest.mark.parametrize("scope", ["client_vars", "deal_vars", "project_vars"])
def test_name_length_limit(store: Store, scope: str) -> None:
    cid = new_client(store)
    with store.transaction(cid) as state:
        getattr(state, scope)["n" * MAX_NAME] = 1
    with pytest.raises(LimitExceeded, match="501 characters"), store.transaction(cid) as state:
        getattr(state, scope)["n" * (MAX_NAME + 1)] = 1
    assert list(store.read_variables(cid)[scope.removesuffix("_vars")]) == ["n" * MAX_NAME]


def test_limits_are_configurable(make_store: Callable[..., Store]) -> None:
    store = make_store(DEFAULT_LIMITS.with_changes(max_variables_per_scope=2))
    cid = new_client(store)
    with pytest.raises(LimitExceeded, match="'c'"), store.transaction(cid) as state:
        state.deal_vars.update(a=1, b=2, c=3)


def test_set_client_var_limits(store: Store) -> None:
    cid = new_client(store, **{f"v{i}": i for i in range(MAX_VARS)})
    store.set_client_var(cid, "v0", "replacing is fine")
    with pytest.raises(LimitExceeded, match="'extra'"):
        store.set_client_var(cid, "extra", 1)
    with pytest.raises(LimitExceeded, match="'v1'"):
        store.set_client_var(cid, "v1", "x" * MAX_VALUE)
    assert store.get_client_var(cid, "v0") == "replacing is fine"
    assert store.get_client_var(cid, "extra") is None


# -- cross-client access, deals -----------------------------------------------------------


def test_get_and_set_client_var(store: Store) -> None:
    cid = new_client(store)
    assert store.get_client_var(cid, "missing") is None
    store.set_client_var(cid, "score", {"points": 3})
    assert store.get_client_var(cid, "score") == {"points": 3}
    assert store.read_variables(cid)["client"] == {"score": {"points": 3}}


def test_close_deal_clears_only_deal_variables(store: Store) -> None:
    cid = new_client(store, keep=1)
    with store.transaction(cid) as state:
        state.deal_vars.update(a=1, b=2)
        state.project_vars["p"] = 1
    store.close_deal(cid)
    assert store.read_variables(cid) == {
        "client": {"keep": 1},
        "deal": {},
        "project": {"p": 1},
        "session": {},
    }


# -- finding clients ----------------------------------------------------------------------


def test_find_client_by_phone(store: Store) -> None:
    store.create_client(client_type=6, phone="79001112233", messenger="whatsapp")
    telephony = store.create_client(client_type=13, phone="79001112233")
    store.create_client(client_type=13, phone="79001112233")  # a later duplicate
    assert store.find_client_by_phone("79001112233") == telephony
    whatsapp = store.find_client_by_phone("79001112233", client_type=6)
    assert whatsapp is not None
    assert whatsapp.messenger == "whatsapp"
    assert store.find_client_by_phone("79990000000") is None


def test_find_client_by_variable_value(store: Store) -> None:
    first = new_client(store, note="79001112233")
    second = new_client(store)
    with store.transaction(second) as state:
        state.deal_vars["phone_in_deal"] = "79004445566"
        state.client_vars["as_number"] = 79007778899
    by_record = store.create_client(client_type=6, phone="79005550000")

    def found(value: str) -> str | None:
        record = store.find_client_by_variable_value(value)
        return None if record is None else record.client_id

    assert found("79001112233") == first
    assert found("79004445566") == second
    assert found("79007778899") == second  # a number matches its text
    assert found("79005550000") == by_record.client_id  # the client's phone counts
    assert found("79000000000") is None
    later = new_client(store, other="79004445566")
    assert found("79004445566") == second  # the first in creation order wins
    store.close_deal(second)
    assert found("79004445566") == later


def test_project_variables_are_shared(store: Store) -> None:
    a, b = new_client(store), new_client(store)
    with store.transaction(a) as state:
        state.project_vars["counter"] = 1
    with store.transaction(b) as state:
        assert state.project_vars == {"counter": 1}
        state.project_vars["counter"] += 1
        del state.project_vars["counter"]
        state.project_vars["renamed"] = 2
    assert store.read_variables(a)["project"] == {"renamed": 2}


# -- inbox --------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_inbox_duplicate_key(store: Store) -> None:
    assert store.inbox_add("entry-1:seq-1", "events/call", {"seq": 1}) is True
    assert store.inbox_add("entry-1:seq-1", "events/call", {"seq": 1}) is False
    assert store.inbox_stats() == {"pending": 1, "claimed": 0, "done": 0, "failed": 0}
    with pytest.raises(StoreError):
        store.inbox_add("", "events/call", {})


def test_inbox_claim_lease_done(store: Store) -> None:
    clock = FakeClock()
    store.clock = clock
    for i in range(5):
        assert store.inbox_add(f"k{i}", "events/summary", {"i": i, "text": "звонок"})
    first = store.inbox_claim(limit=3, lease_seconds=30)
    assert [item.payload["i"] for item in first] == [0, 1, 2]  # oldest first
    assert all(item.attempts == 1 and item.kind == "events/summary" for item in first)
    assert first[0].payload == {"i": 0, "text": "звонок"}
    assert store.inbox_stats() == {"pending": 5, "claimed": 3, "done": 0, "failed": 0}
    rest = store.inbox_claim(limit=10, lease_seconds=30)
    assert [item.key for item in rest] == ["k3", "k4"]  # claimed ones are not handed out
    assert store.inbox_claim() == []

    store.inbox_done(first[0].item_id)
    store.inbox_done(first[1].item_id, error="bad payload")
    for item in rest:
        store.inbox_done(item.item_id)
    clock.now += 31  # the lease of the unfinished k2 runs out: its worker died
    again = store.inbox_claim()
    assert [(item.key, item.attempts) for item in again] == [("k2", 2)]
    store.inbox_done(again[0].item_id)
    assert store.inbox_stats() == {"pending": 0, "claimed": 0, "done": 4, "failed": 1}
    with pytest.raises(StoreError):
        store.inbox_done(987654)


def test_inbox_gives_up_after_max_attempts(store: Store) -> None:
    clock = FakeClock()
    store.clock = clock
    store.inbox_add("poison", "events/call", {})
    for attempt in range(1, store.inbox_max_attempts + 1):
        (item,) = store.inbox_claim(lease_seconds=1)
        assert item.attempts == attempt
        clock.now += 2
    assert store.inbox_claim() == []
    assert store.inbox_stats()["failed"] == 1


def test_inbox_prune(store: Store) -> None:
    clock = FakeClock()
    store.clock = clock
    store.inbox_add("old", "ping", {})
    store.inbox_add("open", "ping", {})
    (old, _) = store.inbox_claim()
    store.inbox_done(old.item_id)
    store.call_seq_advance("old-call", 5)
    clock.now += 100
    assert store.inbox_prune(older_than_seconds=50) == 1
    assert store.inbox_stats()["done"] == 0
    assert store.inbox_stats()["pending"] == 1  # unfinished events are kept
    assert store.inbox_add("old", "ping", {}) is True  # a pruned key is forgotten
    assert store.call_seq_advance("old-call", 1) is True


def test_inbox_queues_are_claimed_and_counted_apart(store: Store) -> None:
    store.inbox_add("e1", "events/summary", {"n": 1})
    store.inbox_add("o1", "outbox/message", {"n": 2})
    store.inbox_add("e2", "result/callback", {"n": 3})
    assert store.inbox_stats(queue="outbox")["pending"] == 1
    assert store.inbox_stats(queue="events")["pending"] == 2
    assert store.inbox_stats()["pending"] == 3
    assert [i.key for i in store.inbox_claim(queue="outbox")] == ["o1"]
    assert [i.key for i in store.inbox_claim(queue="events")] == ["e1", "e2"]
    assert store.inbox_stats(queue="outbox")["claimed"] == 1
    assert store.inbox_stats(queue="events")["claimed"] == 2
    with pytest.raises(StoreError, match="queue"):
        store.inbox_claim(queue="elsewhere")


def test_inbox_release_hands_an_item_back_later(store: Store) -> None:
    clock = FakeClock()
    store.clock = clock
    store.inbox_add("o1", "outbox/message", {"id": "m1"})
    (item,) = store.inbox_claim(queue="outbox", lease_seconds=600)
    store.inbox_release(item.item_id, "HTTP 503", delay_seconds=10)
    assert store.inbox_claim(queue="outbox") == []  # not before the delay
    (pending,) = store.inbox_items("pending", queue="outbox")
    assert pending.error == "HTTP 503" and pending.lease_until == clock.now + 10
    clock.now += 11
    (again,) = store.inbox_claim(queue="outbox")
    assert again.attempts == 2 and again.error == "HTTP 503"
    store.inbox_done(again.item_id)
    (done,) = store.inbox_items("done")
    assert done.status == "done" and done.error is None and done.finished_at == clock.now
    with pytest.raises(StoreError):
        store.inbox_release(again.item_id, "late", delay_seconds=1)  # finished already


def test_inbox_items_lists_by_status(store: Store) -> None:
    for i in range(4):
        store.inbox_add(f"o{i}", "outbox/message", {"i": i})
    store.inbox_add("e", "events/call", {})
    claimed = store.inbox_claim(limit=2, queue="outbox")
    store.inbox_done(claimed[0].item_id, "HTTP 400: unknown client")
    store.inbox_done(claimed[1].item_id, "HTTP 404")
    failed = store.inbox_items("failed", queue="outbox")
    assert [i.key for i in failed] == ["o1", "o0"]  # newest first
    assert failed[1].error == "HTTP 400: unknown client" and failed[1].payload == {"i": 0}
    assert [i.key for i in store.inbox_items("pending", queue="outbox")] == ["o2", "o3"]
    assert [i.key for i in store.inbox_items("pending", queue="outbox", limit=1)] == ["o2"]
    assert [i.key for i in store.inbox_items("pending")] == ["o2", "o3", "e"]
    with pytest.raises(StoreError, match="status"):
        store.inbox_items("lost")


def test_giving_up_keeps_the_last_error(store: Store) -> None:
    clock = FakeClock()
    store.clock = clock
    store.inbox_add("o", "outbox/message", {})
    for _ in range(store.inbox_max_attempts):
        (item,) = store.inbox_claim(queue="outbox", lease_seconds=1)
        store.inbox_release(item.item_id, "timeout", delay_seconds=1)
        clock.now += 2
    assert store.inbox_claim(queue="outbox") == []
    (failed,) = store.inbox_items("failed")
    assert (
        failed.error == f"given up after {store.inbox_max_attempts} attempts; last error: timeout"
    )


# -- call ordering ------------------------------------------------------------------------


def test_call_seq_advance(store: Store) -> None:
    assert store.call_seq_advance("call-1", 1) is True
    assert store.call_seq_advance("call-1", 1) is False  # the same event again
    assert store.call_seq_advance("call-1", 3) is True
    assert store.call_seq_advance("call-1", 2) is False  # arrived late
    assert store.call_seq_advance("call-2", 2) is True  # calls are independent
    assert store.call_seq_advance("call-1", 4) is True


# -- any JSON value round-trips -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=json_values,
    name=st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
        min_size=1,
        max_size=20,
    ),
)
def test_any_json_value_round_trips(store: Store, value: object, name: str) -> None:
    cid = new_client(store)
    with store.transaction(cid) as state:
        state.client_vars[name] = value
        state.project_vars[name] = value
    after = store.read_variables(cid)
    assert after["client"] == {name: value}
    assert after["project"][name] == value


def test_lone_surrogates_round_trip(store: Store) -> None:
    cid = new_client(store)
    odd = "a\ud800b"  # not encodable as UTF-8; can come from JSON input
    with store.transaction(cid) as state:
        state.client_vars["odd"] = odd
        state.deal_vars["nested"] = [odd, {"k": odd}]
    variables = store.read_variables(cid)
    assert variables["client"] == {"odd": odd}
    assert variables["deal"] == {"nested": [odd, {"k": odd}]}
    assert store.find_client_by_variable_value("a") is None
    with pytest.raises(ScriptError, match="not valid Unicode"), store.transaction(cid) as state:
        state.client_vars[odd] = 1


def test_nul_characters_in_values_round_trip_and_names_are_refused(store: Store) -> None:
    cid = new_client(store)
    with store.transaction(cid) as state:
        state.client_vars["text"] = "a\x00b"
    assert store.read_variables(cid)["client"] == {"text": "a\x00b"}
    with pytest.raises(ScriptError, match="not valid Unicode"), store.transaction(cid) as state:
        state.client_vars["bad\x00name"] = 1
