"""End to end over real HTTP on 127.0.0.1: a flow places a call through MangoOffice against
the Mango simulator, the simulator plays the call and posts signed events to the running
service, and the client's variables and the flow's callback arrows show how the call ended.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from botlang.config import parse_config
from botlang.server import create_app, serve_in_thread
from botlang.store import Store, open_store
from botlang.telephony.simulator import MangoSimulator

API_KEY = "e2e-vpbx-key-31d4"
API_SALT = "e2e-vpbx-salt-9b07"
FLOW = Path(__file__).with_name("callme.bot")


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def client_of(store: Store, phone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    client = store.find_client_by_variable_value(phone)
    assert client is not None
    scopes = store.read_variables(client.client_id)
    return scopes["client"], scopes["session"]


@pytest.fixture
def simulator() -> Iterator[tuple[MangoSimulator, str]]:
    sim = MangoSimulator(API_KEY, API_SALT, event_delay=0.01, talk_seconds=45)
    with sim.serve() as base_url:
        yield sim, base_url


@pytest.fixture
def service(simulator: tuple[MangoSimulator, str], tmp_path: Path) -> Iterator[tuple[str, Store]]:
    sim, base_url = simulator
    config = parse_config(
        {
            "project": {"flow": str(FLOW), "messengers": ["whatsapp"]},
            "store": {"url": "sqlite:///e2e.db"},
            "mango": {"api_key": API_KEY, "api_salt": API_SALT, "base_url": base_url},
        },
        base=tmp_path,
    )
    app = create_app(config)  # the real MangoOffice client, pointed at the simulator
    with serve_in_thread(app) as url:
        sim.webhook_url = f"{url}/mango_webhook/{API_KEY}"
        yield url, app.state.service.store


def converse(url: str, phone: str, *texts: str) -> list[dict[str, Any]]:
    answers = []
    with httpx.Client(timeout=30) as http:
        for text in texts:
            response = http.post(f"{url}/message", json={"phone": phone, "text": text})
            assert response.status_code == 200, response.text
            answers.append(response.json())
    return answers


def settle(sim: MangoSimulator, store: Store) -> None:
    assert sim.wait_idle(30), "the simulator did not finish playing the call"
    assert all(d.status == 200 for d in sim.deliveries), sim.deliveries
    wait_for(lambda: store.inbox_stats()["pending"] == 0, what="the events to be processed")


@pytest.mark.parametrize(
    ("request_text", "command", "employee"),
    [("позвоните", "commands/callback", "219"), ("группа", "commands/callback_group", "12345")],
)
def test_an_answered_call(
    simulator: tuple[MangoSimulator, str],
    service: tuple[str, Store],
    request_text: str,
    command: str,
    employee: str,
) -> None:
    sim, _ = simulator
    url, store = service
    phone = "79004443322"
    _, placed = converse(url, phone, "привет", request_text)
    assert placed["calls"][0]["ok"] is True
    settle(sim, store)

    (sent,) = sim.commands
    assert sent.path == command
    if command == "commands/callback":
        assert sent.payload == {**sent.payload, "from": {"extension": "219"}, "to_number": phone}
    else:
        assert (sent.payload["from"], sent.payload["to"]) == ("12345", phone)
        assert sent.payload["line_number"] == "74992262961"
    entry_id = next(d.payload["entry_id"] for d in sim.deliveries if d.path == "events/summary")

    variables, session = client_of(store, phone)
    assert variables["call_entry_id"] == entry_id
    assert variables["call_direction"] == "outgoing"
    assert variables["call_answered"] is True
    assert variables["call_talk_seconds"] == 45
    assert variables["call_result"] == 1100
    assert variables["call_result_text"] == "Вызов завершен в нормальном режиме"
    assert variables["call_outcome"] == "answered"
    assert variables["call_employee"] == employee
    assert variables["call_state"] == "Disconnected"
    assert variables["call_command_id"] == sent.payload["command_id"]
    # the flow's callback arrow fired once, for the summary (leg events set variables only)
    assert variables["answered_callbacks"] == 1
    assert "other_callbacks" not in variables
    assert variables["seen_from_outside"] == 5
    assert "missed_callbacks" not in variables
    assert session["block"] == "talked"
    assert store.inbox_stats()["failed"] == 0


@pytest.mark.parametrize(
    ("outcome", "code", "callback"),
    [("busy", 1121, "busy"), ("no-answer", 1111, "no_answer")],
)
def test_an_unanswered_call(
    simulator: tuple[MangoSimulator, str],
    service: tuple[str, Store],
    outcome: str,
    code: int,
    callback: str,
) -> None:
    sim, _ = simulator
    url, store = service
    phone = "79005556677"
    sim.set_outcome(outcome, phone=phone)
    converse(url, phone, "привет", "позвоните")
    settle(sim, store)

    variables, session = client_of(store, phone)
    assert variables["call_answered"] is False
    assert variables["call_talk_seconds"] == 0
    assert variables["call_result"] == code
    assert variables["call_outcome"] == callback
    assert variables["missed_callbacks"] == 1
    assert variables["last_miss"] == callback
    assert "answered_callbacks" not in variables and "other_callbacks" not in variables
    assert session["block"] == "missed"


def test_the_simulator_replaying_events_changes_nothing(
    simulator: tuple[MangoSimulator, str], service: tuple[str, Store]
) -> None:
    sim, _ = simulator
    url, store = service
    phone = "79001112233"
    converse(url, phone, "привет", "позвоните")
    settle(sim, store)
    before = client_of(store, phone)
    from botlang.telephony.signing import signed_form

    with httpx.Client(timeout=30) as http:  # Mango delivers everything once more
        for delivery in sim.deliveries:
            form = signed_form(API_KEY, API_SALT, delivery.payload)
            response = http.post(f"{sim.webhook_url}/{delivery.path}", data=form)
            assert response.json()["status"] == "duplicate"
    assert client_of(store, phone) == before


# -- the same with the real commands: botlang mango-sim and botlang serve -------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _botlang(*args: str) -> list[str]:
    return [sys.executable, "-m", "botlang", *args]


def test_botlang_serve_against_botlang_mango_sim(tmp_path: Path) -> None:
    serve_port, sim_port = _free_port(), _free_port()
    env = {**os.environ, "MANGO_API_KEY": API_KEY, "MANGO_API_SALT": API_SALT}
    config = tmp_path / "botlang.toml"
    config.write_text(
        f'[project]\nflow = "{FLOW.as_posix()}"\nmessengers = ["whatsapp"]\n'
        '[store]\nurl = "sqlite:///bot.db"\n'
        '[mango]\napi_key_env = "MANGO_API_KEY"\napi_salt_env = "MANGO_API_SALT"\n'
        f'base_url = "http://127.0.0.1:{sim_port}/vpbx/"\n'
        f"[server]\nport = {serve_port}\n",
        encoding="utf-8",
    )
    log = (tmp_path / "processes.log").open("wb")
    webhook = f"http://127.0.0.1:{serve_port}/mango_webhook/{API_KEY}"
    sim_args = ["--port", str(sim_port), "--webhook", webhook, "--event-delay", "0.05"]
    sim = subprocess.Popen(
        [sys.executable, "-m", "botlang", "mango-sim", *sim_args, "--talk-seconds", "12"],
        env=env,
        stdout=log,
        stderr=log,
    )
    serve = subprocess.Popen(
        _botlang("serve", "--config", str(config)), env=env, stdout=log, stderr=log
    )
    try:

        def up(port: int, path: str) -> bool:
            try:
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
                return True
            except httpx.HTTPError:
                return False

        wait_for(lambda: up(serve_port, "/health") and up(sim_port, "/vpbx/"), what="servers")
        converse(f"http://127.0.0.1:{serve_port}", "79007778899", "привет", "позвоните")

        def shown() -> dict[str, Any] | None:
            result = subprocess.run(
                _botlang("vars", "79007778899", "--config", str(config)),
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            printed = json.loads(result.stdout) if result.returncode == 0 else None
            if printed and printed["client"].get("answered_callbacks"):
                return printed
            return None

        printed = wait_for(shown, 60, "botlang vars to show the answered call")
        assert printed["client"]["call_talk_seconds"] == 12
        assert printed["client"]["call_outcome"] == "answered"
        assert printed["session"]["block"] == "talked"
    finally:
        for process in (serve, sim):
            process.send_signal(signal.SIGTERM)
        for process in (serve, sim):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    assert store.inbox_stats()["failed"] == 0
    store.close()
