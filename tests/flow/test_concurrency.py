"""Messages of one client handled at once, in several processes, through the runtime:
no update is lost (4 processes × 250 messages → counter 1,000), on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from typing import Any

import pytest

from botlang.flow import Bot
from botlang.store import open_store

# fork is quick and needs nothing re-imported; elsewhere spawn is the only choice.
MP = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")

PROCESSES = 4
MESSAGES = 250

COUNTER = """
block count
  calculator:
    client.counter = counter + 1
    project.messages = messages + 1
  message: #{counter}
  -> count
    on: message

any -> count
  new_client: yes
"""


def _send(url: str, client_id: str, times: int, ready: Any) -> None:
    bot = Bot.from_source(COUNTER, "counter.bot")
    store = open_store(url)
    # Start together, once every process has its store open: the messages overlap as much
    # as possible, and no process is still opening (creating tables) while others write.
    ready.wait(timeout=60)
    try:
        for _ in range(times):
            turn = bot.handle_message(store, client_id, "+1")
            if not turn.ok:
                raise RuntimeError(str(turn.errors[0]))
    finally:
        store.close()


def _hammer(url: str) -> None:
    store = open_store(url)
    try:
        client_id = store.create_client(client_type=6, phone="79001112233").client_id
        ready = MP.Barrier(PROCESSES)
        processes = [
            MP.Process(target=_send, args=(url, client_id, MESSAGES, ready))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        assert [p.exitcode for p in processes] == [0] * PROCESSES
        variables = store.read_variables(client_id)
        assert variables["client"]["counter"] == PROCESSES * MESSAGES
        assert variables["project"]["messages"] == PROCESSES * MESSAGES
        assert variables["session"]["block"] == "count"
    finally:
        store.close()


def test_four_processes_one_client_sqlite(tmp_path: Path) -> None:
    _hammer(f"sqlite:///{tmp_path / 'counter.db'}")


def test_four_processes_one_client_postgres(postgres_schema_url: str) -> None:
    _hammer(postgres_schema_url)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_threads_share_one_bot_and_store(tmp_path: Path, kind: str) -> None:
    import threading

    url = "memory://" if kind == "memory" else f"sqlite:///{tmp_path / 'threads.db'}"
    bot = Bot.from_source(COUNTER, "counter.bot")
    store = open_store(url)
    try:
        client_id = store.create_client(client_type=6, phone="79001112233").client_id
        failures: list[BaseException] = []

        def send() -> None:
            try:
                for _ in range(50):
                    bot.handle_message(store, client_id, "+1")
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert store.read_variables(client_id)["client"]["counter"] == 200
    finally:
        store.close()
