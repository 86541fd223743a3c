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


def delivered(sim: MangoSimulator, path: str) -> list[dict[str, Any]]:
    return [d.payload for d in sim.deliveries if d.path == path]


@pytest.mark.parametrize("delivery", ["ordered", "parallel", "shuffled"])
def test_a_two_leg_callback(
    simulator: tuple[MangoSimulator, str], service: tuple[str, Store], delivery: str
) -> None:
    """Mango rings the employee (leg 1), then the client (leg 2, taken from leg 1)."""
    sim, _ = simulator
    sim.delivery = delivery
    url, store = service
    phone = "79004443322"
    _, placed = converse(url, phone, "привет", "позвоните")
    assert placed["calls"][0]["ok"] is True
    settle(sim, store)

    (sent,) = sim.commands
    assert sent.path == "commands/callback"
    assert sent.payload == {**sent.payload, "from": {"extension": "219"}, "to_number": phone}
    legs = delivered(sim, "events/call")
    employee_leg = next(e["call_id"] for e in legs if e["to"].get("extension") == "219")
    client_leg = next(e["call_id"] for e in legs if e["to"].get("number") == phone)
    assert employee_leg != client_leg
    (summary,) = delivered(sim, "events/summary")
    (record,) = delivered(sim, "events/record/added")

    variables, session = client_of(store, phone)
    assert variables["call_entry_id"] == summary["entry_id"]
    assert variables["call_id"] == client_leg  # the client's leg, not the employee's
    assert variables["call_state"] == "Disconnected"
    assert variables["call_direction"] == "outgoing"  # not "incoming", as leg 1 looks
    assert variables["call_initiator"] == "API"
    assert variables["call_answered"] is True
    assert variables["call_talk_seconds"] == 45
    assert variables["call_result"] == 1100
    assert variables["call_result_text"] == "Вызов завершен в нормальном режиме"
    assert variables["call_outcome"] == "answered"
    assert variables["call_employee"] == "219"
    assert variables["call_line_number"] == "74992262961"
    assert variables["call_command_id"] == sent.payload["command_id"]
    assert variables["call_record_id"] == record["recording_id"]
    assert {leg["call_id"]: leg["role"] for leg in variables["call_legs"]} == {
        employee_leg: "employee",
        client_leg: "client",
    }
    # the flow's callback arrow fired once, for the summary (leg events set variables only)
    assert variables["answered_callbacks"] == 1
    assert "other_callbacks" not in variables and "missed_callbacks" not in variables
    assert variables["seen_from_outside"] == 5
    assert session["block"] == "talked"
    assert store.inbox_stats()["failed"] == 0


def test_a_group_callback(
    simulator: tuple[MangoSimulator, str], service: tuple[str, Store]
) -> None:
    """The group's operators are rung first; the one who answers is the call's employee."""
    sim, _ = simulator
    sim.delivery = "parallel"
    sim.set_employee_outcome("no-answer", extension="219")
    url, store = service
    phone = "79007778899"
    converse(url, phone, "привет", "группа")
    settle(sim, store)

    (sent,) = sim.commands
    assert sent.path == "commands/callback_group"
    assert (sent.payload["from"], sent.payload["to"]) == ("12345", phone)
    assert sent.payload["line_number"] == "74992262961"
    variables, session = client_of(store, phone)
    assert variables["call_outcome"] == "answered"
    assert variables["call_employee"] == "101"  # the operator who answered
    assert variables["call_group"] == "12345"
    legs = {leg["employee"]: leg for leg in variables["call_legs"] if leg["role"] == "employee"}
    assert legs["101"]["answered"] is True and legs["219"]["answered"] is False
    assert legs["219"]["result"] == 1182  # taken by another operator
    assert variables["answered_callbacks"] == 1
    assert session["block"] == "talked"


@pytest.mark.parametrize(
    ("side", "outcome", "code", "callback"),
    [
        ("client", "busy", 1121, "busy"),
        ("client", "no-answer", 1111, "no_answer"),
        ("employee", "no-answer", 1111, "no_answer"),
        ("employee", "busy", 1121, "busy"),
    ],
)
def test_a_missed_callback(
    simulator: tuple[MangoSimulator, str],
    service: tuple[str, Store],
    side: str,
    outcome: str,
    code: int,
    callback: str,
) -> None:
    """Missed at either leg: the summary reaches the client the command was placed for,
    even when it names only the employee (who missed it first)."""
    sim, _ = simulator
    url, store = service
    phone = "79005556677"
    if side == "client":
        sim.set_outcome(outcome, phone=phone)
    else:
        sim.set_employee_outcome(outcome, extension="219")
        user = next(u for u in sim.users if u["telephony"]["extension"] == "219")
        user["telephony"]["numbers"] = [{"number": "79161234567"}]  # rung on a mobile
    converse(url, phone, "привет", "позвоните")
    settle(sim, store)

    (summary,) = delivered(sim, "events/summary")
    if side == "employee":
        assert summary["to"]["extension"] == "219"
        assert [e["to"].get("number") for e in delivered(sim, "events/call")] == [
            "79161234567"
        ] * 2  # the client was never dialled
        assert store.find_client_by_variable_value("79161234567") is None
    variables, session = client_of(store, phone)
    assert variables["call_answered"] is False
    assert variables["call_talk_seconds"] == 0
    assert variables["call_result"] == code
    assert variables["call_outcome"] == callback
    assert variables["call_missed_by"] == side
    assert variables["call_state"] == "Disconnected"
    assert "call_record_id" not in variables
    assert variables["missed_callbacks"] == 1
    assert variables["last_miss"] == callback
    assert "answered_callbacks" not in variables and "other_callbacks" not in variables
    assert session["block"] == "missed"


def test_a_group_callback_nobody_answers(
    simulator: tuple[MangoSimulator, str], service: tuple[str, Store]
) -> None:
    sim, _ = simulator
    sim.set_employee_outcome("no-answer")
    url, store = service
    phone = "79003334455"
    converse(url, phone, "привет", "группа")
    settle(sim, store)
    variables, session = client_of(store, phone)
    assert variables["call_outcome"] == "no_answer"
    assert variables["call_missed_by"] == "employee"
    assert variables["call_group"] == "12345"
    assert "call_employee" not in variables  # nobody answered
    assert variables["missed_callbacks"] == 1
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
        assert printed["client"]["call_direction"] == "outgoing"
        # the recording is ready a moment after the summary: botlang vars shows it
        recorded = wait_for(
            lambda: (p := shown()) and p["client"].get("call_record_id") and p,
            60,
            "botlang vars to show the call's recording",
        )
        assert recorded["client"]["call_record_id"]
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
