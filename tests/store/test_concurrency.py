"""Concurrent use of a store: threads on every backend, processes on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable

import pytest

from botlang.store import Store, open_store

# fork is quick and needs no importable test module; elsewhere spawn is the only choice.
MP = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _increment(url: str, client_id: str, times: int, worker: int) -> None:
    store = open_store(url)
    try:
        for _ in range(times):
            with store.transaction(client_id) as state:
                state.client_vars["counter"] = state.client_vars.get("counter", 0) + 1
                key = f"worker_{worker}"
                state.project_vars[key] = state.project_vars.get(key, 0) + 1
    finally:
        store.close()


def _add_then_die(url: str) -> None:
    store = open_store(url)
    store.inbox_add("delivered-once", "events/summary", {"entry_id": "e1"})
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no cleanup: like kill -9


def run_processes(target: Callable[..., None], args: list[tuple[object, ...]]) -> None:
    processes = [MP.Process(target=target, args=a) for a in args]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_four_processes_increment_one_counter(shared_store_url: str) -> None:
    store = open_store(shared_store_url)
    try:
        cid = store.create_client(client_type=13, phone="79001112233").client_id
        run_processes(_increment, [(shared_store_url, cid, 250, n) for n in range(4)])
        variables = store.read_variables(cid)
        assert variables["client"]["counter"] == 1000
        assert variables["project"] == {f"worker_{n}": 250 for n in range(4)}
    finally:
        store.close()


def test_inbox_add_is_durable_when_it_returns(shared_store_url: str) -> None:
    store = open_store(shared_store_url)
    try:
        process = MP.Process(target=_add_then_die, args=(shared_store_url,))
        process.start()
        process.join(timeout=30)
        assert process.exitcode == -signal.SIGKILL
        assert store.inbox_stats()["pending"] == 1
        assert store.inbox_add("delivered-once", "events/summary", {}) is False
    finally:
        store.close()


def _increment_inherited(store: Store, client_id: str) -> None:
    for _ in range(20):
        with store.transaction(client_id) as state:
            state.client_vars["counter"] = state.client_vars.get("counter", 0) + 1
    store.close()  # closes only this process's connections


@pytest.mark.skipif(MP.get_start_method() != "fork", reason="needs fork")
def test_a_store_opened_before_a_fork_works_on_both_sides(shared_store_url: str) -> None:
    store = open_store(shared_store_url)
    try:
        cid = store.create_client(client_type=13).client_id
        run_processes(_increment_inherited, [(store, cid), (store, cid)])
        with store.transaction(cid) as state:  # the parent's connection still works
            state.client_vars["counter"] += 1
        assert store.get_client_var(cid, "counter") == 41
    finally:
        store.close()


def run_threads(target: Callable[[int], None], count: int) -> None:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


def test_threads_increment_one_counter(store: Store) -> None:
    cid = store.create_client(client_type=13).client_id

    def work(_: int) -> None:
        for _ in range(50):
            with store.transaction(cid) as state:
                state.client_vars["counter"] = state.client_vars.get("counter", 0) + 1

    run_threads(work, 4)
    assert store.get_client_var(cid, "counter") == 200


def test_two_clients_change_different_project_variables(store: Store) -> None:
    """Both transactions are open at once where the backend allows it (PostgreSQL)."""
    a = store.create_client(client_type=13).client_id
    b = store.create_client(client_type=13).client_id
    with store.transaction(a) as state:
        state.project_vars.update(from_a=0, from_b=0, untouched="yes")
    a_loaded, b_done = threading.Event(), threading.Event()

    def client_a(_: int) -> None:
        with store.transaction(a) as state:
            a_loaded.set()
            b_done.wait(timeout=0.3)  # where b must wait for us, go on
            state.project_vars["from_a"] = 1

    def client_b(_: int) -> None:
        a_loaded.wait(timeout=5)
        with store.transaction(b) as state:
            state.project_vars["from_b"] = 1
        b_done.set()

    run_threads(lambda n: (client_a, client_b)[n](n), 2)
    assert store.read_variables(a)["project"] == {"from_a": 1, "from_b": 1, "untouched": "yes"}


def test_concurrent_claims_never_hand_out_an_item_twice(store: Store) -> None:
    for i in range(60):
        store.inbox_add(f"k{i}", "events/call", {"i": i})
    claimed: list[list[int]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        while batch := store.inbox_claim(limit=4):
            for item in batch:
                claimed[n].append(item.payload["i"])
                store.inbox_done(item.item_id)

    run_threads(worker, 4)
    everything = sorted(i for got in claimed for i in got)
    assert everything == list(range(60))
    assert store.inbox_stats()["done"] == 60


def test_exclusive_blocks_do_not_overlap(store: Store) -> None:
    inside = 0
    most = 0
    lock = threading.Lock()

    def worker(_: int) -> None:
        nonlocal inside, most
        for _ in range(5):
            with store.exclusive("one-at-a-time"):
                with lock:
                    inside += 1
                    most = max(most, inside)
                threading.Event().wait(0.002)
                with lock:
                    inside -= 1

    run_threads(worker, 3)
    assert most == 1


def test_each_memory_store_is_its_own() -> None:
    first, second = open_store("memory://"), open_store("memory://")
    first.create_client(client_type=13, phone="79001112233")
    assert second.find_client_by_phone("79001112233") is None
