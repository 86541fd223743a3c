"""Fault tests, bounded in time, each printing its counts and asserting them:

- two workers on one PostgreSQL with a lease shorter than the work: every event applied
  once, no call command sent twice (with the leases renewed, and with renewal off so that
  claims really are taken over);
- ``botlang serve`` killed with SIGKILL again and again under load: 0 events lost, 0
  applied twice, each client's events applied in order, no call command sent twice;
- bursty ``POST /message`` traffic: connections and file descriptors stay bounded.
"""

from __future__ import annotations

import collections
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from server_testkit import API_KEY, API_SALT, signed, summary, wait_for
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from botlang.flow import Bot
from botlang.server.inbox import StoreGate
from botlang.server.turns import Renewals, TurnRunner
from botlang.server.webhook import read_delivery
from botlang.server.worker import Worker, order_group
from botlang.store import Store, StoreSettings, open_store
from botlang.telephony import CallResult, GuardedTelephony, RecordingTelephony
from botlang.telephony.guard import SpamGuard
from botlang.telephony.signing import encode_payload
from botlang.util.serving import serve_app

FLOW = """\
bot "Перезвон"

block start "Приветствие"
  message: Здравствуйте!
  -> call
    contains: позвони

block call "Звонок"
  calculator:
    r = mango_employee_call("219", phone)
    client.seen = seen + call_entry_id + ";"
  message: #{if(r["ok"], "Соединяю", "Не удалось: " + r["message"])}

any -> call
  on: callback
"""


def phone_of(n: int) -> str:
    return f"7900{n:07d}"


def expected_history(calls: list[str]) -> str:
    return "".join(f"{entry};" for entry in calls)


# -- two workers, a lease shorter than the work -------------------------------------------------


class SlowTelephony(RecordingTelephony):
    """Mango taking ``seconds`` to answer each call command."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def employee_call(self, extension: str, phone: str) -> CallResult:
        time.sleep(self.seconds)
        return super().employee_call(extension, phone)


def _add(store: Store, payload: dict[str, Any]) -> None:
    delivery = read_delivery("events/summary", encode_payload(payload))
    group = order_group(delivery.kind, delivery.payload)
    store.inbox_add(delivery.key, delivery.kind, delivery.payload, group=group)


@pytest.mark.parametrize("renewed", [True, False], ids=["renewed", "taken-over"])
def test_two_workers_on_postgres_apply_each_event_once_and_call_once(
    new_postgres_schema: Any, tmp_path: Path, renewed: bool
) -> None:
    url = new_postgres_schema("botlang_faults")
    phones, per_phone, work, lease = 12, 3, 0.3, 0.2
    telephony = SlowTelephony(work)
    adapter = GuardedTelephony(telephony, SpamGuard(enabled=False))
    stores = [open_store(url, settings=StoreSettings(pool_max=4)) for _ in range(2)]
    workers = []
    for store in stores:
        gate = StoreGate(store)
        bot = Bot.from_source(FLOW, telephony=adapter)
        renewals = Renewals(lease / 3 if renewed else 3600)
        runner = TurnRunner(gate, bot, lease_seconds=lease, settle_seconds=2.0, renewals=renewals)
        workers.append(
            Worker(
                gate,
                bot,
                messengers=["whatsapp"],
                runner=runner,
                lease_seconds=lease,
                renew_claims=renewed,
                concurrency=2,
                idle_seconds=0.05,
                retry_base_seconds=0.1,
            )
        )
    calls = {n: [f"p{n}-{k}" for k in range(per_phone)] for n in range(phones)}
    for k in range(per_phone):
        for n in range(phones):
            _add(stores[0], summary(phone=phone_of(n), entry_id=calls[n][k], answered=False))
    events = phones * per_phone
    started = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        wait_for(
            lambda: stores[0].inbox_stats(queue="events")["done"] == events,
            timeout=90,
            message="every event to be applied",
        )
    finally:
        for worker in workers:
            worker.stop()
    elapsed = time.monotonic() - started
    commands = collections.Counter(record.phone for record in telephony.calls)
    histories = {}
    for n in range(phones):
        client = stores[0].find_client_by_phone(phone_of(n), client_type=6)
        assert client is not None
        histories[n] = stores[0].read_variables(client.client_id)["client"].get("seen")
    applied_once = sum(histories[n] == expected_history(calls[n]) for n in range(phones))
    doubled = sum(count - per_phone for count in commands.values() if count > per_phone)
    taken_over = sum(w.lost_claims for w in workers)
    deferred = sum(w.deferred for w in workers)
    replayed = sum(w.calls_replayed for w in workers)
    unknown = len(stores[0].call_entries(status="unknown"))
    print(
        f"\ntwo workers, lease {lease} s, work {work} s, renewal {'on' if renewed else 'off'}: "
        f"{events} events in {elapsed:.1f} s; clients applied once and in order "
        f"{applied_once}/{phones}; call commands {len(telephony.calls)} for {events} events "
        f"({doubled} sent twice); commits refused for a lost claim {taken_over}; "
        f"deferred {deferred}; calls replayed from the journal {replayed}; unknown {unknown}"
    )
    assert applied_once == phones, histories
    assert doubled == 0 and len(telephony.calls) == events - unknown
    assert stores[0].inbox_stats(queue="events")["failed"] == 0
    if renewed:
        assert taken_over == 0 and deferred == 0  # renewal keeps every claim
    for store in stores:
        store.close()


# -- kill -9 under load ------------------------------------------------------------------------


class FakeMango:
    """Mango's API on 127.0.0.1: answers each command after ``delay`` seconds, counts them."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.commands: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    async def _command(self, request: Request) -> JSONResponse:
        import asyncio
        import json
        from urllib.parse import parse_qs

        form = parse_qs((await request.body()).decode())
        payload = json.loads(form["json"][0])
        await asyncio.sleep(self.delay)
        with self._lock:
            self.commands.append(payload)
        return JSONResponse({"result": 1000})

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        app = Starlette(routes=[Route("/{path:path}", self._command, methods=["POST"])])
        with serve_app(app, name="fake mango") as url:
            yield url + "/"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """``botlang serve`` in its own process."""

    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "botlang", "serve", "--config", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=30, message="botlang serve to start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    @property
    def fds(self) -> int:
        assert self.process is not None
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def _project(folder: Path, store_url: str, mango_url: str, **server: Any) -> Path:
    (folder / "bot.bot").write_text(FLOW, encoding="utf-8")
    port = _free_port()
    extra = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in server.items())
    (folder / "botlang.toml").write_text(
        '[project]\nflow = "bot.bot"\nmessengers = ["whatsapp"]\n'
        f'[store]\nurl = "{store_url}"\n'
        f"[server]\nport = {port}\n{extra}"
        f'[mango]\napi_key = "{API_KEY}"\napi_salt = "{API_SALT}"\nbase_url = "{mango_url}"\n'
        "[guard]\nenabled = false\n",
        encoding="utf-8",
    )
    return folder / "botlang.toml"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs SIGKILL and /proc")
def test_kill_9_under_load_loses_nothing_doubles_nothing_keeps_order(tmp_path: Path) -> None:
    phones, per_phone, kills = 20, 4, 4
    mango = FakeMango(delay=0.15)
    with mango.serve() as mango_url:
        config = _project(tmp_path, "sqlite:///state.db", mango_url, lease_seconds=1.0)
        port = int(config.read_text().split("port = ")[1].split("\n")[0])
        child = Child(config, port)
        child.start()
        calls = {n: [f"p{n}-{k}" for k in range(per_phone)] for n in range(phones)}
        # Mango sends a client's calls one after another; deliveries are retried until 200.
        queue = [(n, k) for k in range(per_phone) for n in range(phones)]
        accepted = 0
        retries = 0
        killed = 0
        rng = random.Random(7)
        kill_at = sorted(rng.sample(range(10, len(queue) - 5), kills))
        http = httpx.Client(timeout=5)
        try:
            for index, (n, k) in enumerate(queue):
                form = signed(summary(phone=phone_of(n), entry_id=calls[n][k], answered=False))
                while True:
                    try:
                        response = http.post(
                            f"{child.url}/mango_webhook/{API_KEY}/events/summary", data=form
                        )
                        if response.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    retries += 1
                    time.sleep(0.05)
                accepted += 1
                if killed < kills and index == kill_at[killed]:
                    time.sleep(rng.uniform(0.0, 0.4))  # mid-turn, mid-call or idle
                    child.kill()
                    killed += 1
                    child.start()
            store = open_store(f"sqlite:///{tmp_path}/state.db")
            try:
                wait_for(
                    lambda: store.inbox_stats(queue="events")["pending"] == 0,
                    timeout=120,
                    message="the backlog to drain after the kills",
                )
                histories = {}
                for n in range(phones):
                    client = store.find_client_by_phone(phone_of(n), client_type=6)
                    assert client is not None
                    histories[n] = store.read_variables(client.client_id)["client"].get("seen")
                entries = store.call_entries(limit=10_000)
                stats = store.inbox_stats(queue="events")
            finally:
                store.close()
        finally:
            http.close()
            child.stop()
    events = phones * per_phone
    in_order = sum(histories[n] == expected_history(calls[n]) for n in range(phones))
    lost = sum(
        1 for n in range(phones) for entry in calls[n] if f"{entry};" not in (histories[n] or "")
    )
    doubled = sum(
        (histories[n] or "").count(f"{entry};") - 1
        for n in range(phones)
        for entry in calls[n]
        if (histories[n] or "").count(f"{entry};") > 1
    )
    by_turn = collections.Counter(entry.turn_key for entry in entries)
    unknown = sum(1 for entry in entries if entry.status == "unknown")
    print(
        f"\nkill -9 x{killed} under load: {events} events accepted ({retries} re-sent while "
        f"down); lost {lost}, applied twice {doubled}, clients in order {in_order}/{phones}; "
        f"call commands received {len(mango.commands)}, journalled calls {len(entries)} "
        f"(unknown {unknown}); inbox {stats}"
    )
    assert killed == kills and accepted == events
    assert lost == 0 and doubled == 0 and in_order == phones, histories
    assert stats["done"] == events and stats["failed"] == 0
    # One journal entry per event's call, and Mango never got more commands than that.
    assert len(entries) == events and max(by_turn.values()) == 1
    assert events - unknown <= len(mango.commands) <= events


# -- a bursty soak: connections and descriptors stay bounded ----------------------------------


def _backends(postgres_url: str, application: str) -> int:
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_bursty_messages_keep_connections_and_descriptors_bounded(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    application = f"botlang-soak-{os.getpid()}"
    if backend == "postgres":
        postgres_url = request.getfixturevalue("postgres_url")
        store_url = request.getfixturevalue("new_postgres_schema")("botlang_soak")
    else:
        postgres_url, store_url = "", "sqlite:///state.db"
    mango = FakeMango(delay=0.0)
    with mango.serve() as mango_url:
        config = _project(tmp_path, store_url, mango_url)
        text = config.read_text().replace(
            "[server]", '[server]\nmessage_token = "soak-token-0123456789"\n'
        )
        text = text.replace(
            f'url = "{store_url}"\n',
            f'url = "{store_url}"\npool_max = 6\napplication_name = "{application}"\n',
        )
        config.write_text(text)
        port = int(text.split("port = ")[1].split("\n")[0])
        child = Child(config, port)
        child.start()
        headers = {"Authorization": "Bearer soak-token-0123456789"}
        samples: list[tuple[int, int]] = []
        statuses: collections.Counter[int] = collections.Counter()
        try:
            baseline_fds = child.fds
            with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64)) as http:

                def post(n: int) -> int:
                    body = {"phone": phone_of(n % 150), "text": f"привет {n}"}
                    return http.post(f"{child.url}/message", json=body, headers=headers).status_code

                for burst in range(4):
                    with ThreadPoolExecutor(24) as pool:  # under max_concurrent_messages
                        statuses.update(pool.map(post, range(burst * 150, burst * 150 + 150)))
                    time.sleep(0.5)
                    backends = _backends(postgres_url, application) if postgres_url else 0
                    samples.append((child.fds, backends))
        finally:
            child.stop()
    print(
        f"\nsoak on {backend}: 4 bursts of 150 messages, statuses {dict(statuses)}; "
        f"descriptors {baseline_fds} at start, after each burst {[s[0] for s in samples]}; "
        f"PostgreSQL backends after each burst {[s[1] for s in samples]}"
    )
    assert statuses == {200: 600}
    fds = [s[0] for s in samples]
    assert max(fds) - baseline_fds <= 80  # sockets of open requests come and go
    assert fds[-1] <= fds[0] + 10  # flat: no growth from burst to burst
    if postgres_url:
        assert max(s[1] for s in samples) <= 6
