"""``botlang serve`` and ``botlang vars`` as processes, and a kill -9 between receipt and
processing (the event applied once, its messages delivered once)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_testkit import API_KEY, API_SALT, FLOW, PHONE, Receiver, signed, summary, wait_for

from botlang.store import open_store

OUTGOING_TOKEN = "cli-outgoing-token-77d2e1"
ENV = {
    **os.environ,
    "MANGO_API_KEY": API_KEY,
    "MANGO_API_SALT": API_SALT,
    "BOTLANG_OUTGOING_TOKEN": OUTGOING_TOKEN,
}


def botlang(*args: str) -> list[str]:
    """The command line for ``botlang ARGS``."""
    return [sys.executable, "-m", "botlang", *args]


def write_project(folder: Path, port: int, outgoing_url: str | None = None) -> Path:
    config = folder / "botlang.toml"
    outgoing = ""
    if outgoing_url is not None:
        outgoing = (
            f'outgoing_url = "{outgoing_url}"\noutgoing_token_env = "BOTLANG_OUTGOING_TOKEN"\n'
        )
    config.write_text(
        f'[project]\nflow = "{FLOW.as_posix()}"\nmessengers = ["whatsapp"]\n'
        '[store]\nurl = "sqlite:///state.db"\n'
        '[mango]\napi_key_env = "MANGO_API_KEY"\napi_salt_env = "MANGO_API_SALT"\n'
        'base_url = "http://127.0.0.1:9/"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n{outgoing}',
        encoding="utf-8",
    )
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(config: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            botlang("serve", "--config", str(config), *extra), env=ENV, stdout=out, stderr=out
        )
    port = int(config.read_text().split("port = ")[1].split()[0])

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"botlang serve exited:\n{log.read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, 30, "botlang serve to start")
    return process


def post_summary(port: int, payload: dict[str, Any]) -> httpx.Response:
    url = f"http://127.0.0.1:{port}/mango_webhook/{API_KEY}/events/summary"
    return httpx.post(url, data=signed(payload), timeout=10)


def variables_of(db: Path, phone: str = PHONE) -> dict[str, Any] | None:
    store = open_store(f"sqlite:///{db}")
    try:
        client = store.find_client_by_variable_value(phone)
        return None if client is None else store.read_variables(client.client_id)["client"]
    finally:
        store.close()


def test_a_kill_between_the_200_and_processing_loses_nothing(
    tmp_path: Path, outgoing: tuple[Receiver, str]
) -> None:
    receiver, url = outgoing
    port = free_port()
    config = write_project(tmp_path, port, outgoing_url=url)
    log = tmp_path / "serve.log"
    db = tmp_path / "state.db"

    receiving = start(config, log, "--no-worker")  # stores events, processes none
    try:
        assert post_summary(port, summary(talk_seconds=17)).status_code == 200
    finally:
        receiving.send_signal(signal.SIGKILL)
        receiving.wait(10)
    store = open_store(f"sqlite:///{db}")
    assert store.inbox_stats()["pending"] == 1  # durable before the 200
    store.close()
    assert variables_of(db) is None  # and not yet applied

    serving = start(config, log)
    try:
        applied = wait_for(lambda: (variables_of(db) or {}).get("answered_callbacks"), 30)
        assert applied == 1
        again = post_summary(port, summary(talk_seconds=17))  # Mango delivers it again
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        (sent,) = wait_for(lambda: receiver.received, 30, "the callback turn's messages")
        assert sent["messages"] == ["Спасибо за разговор (17 с)!"] and sent["block"] == "talked"
        assert receiver.authorizations == [f"Bearer {OUTGOING_TOKEN}"]
        shown = subprocess.run(
            botlang("vars", "+7 900 444-33-22", "--config", str(config)),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        printed = json.loads(shown.stdout)
        assert printed["client"]["answered_callbacks"] == 1
        assert printed["client"]["call_talk_seconds"] == 17
        assert printed["session"]["block"] == "talked"
        assert printed["phone"] == PHONE
    finally:
        serving.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert serving.wait(30) in (0, -signal.SIGTERM)
    assert variables_of(db)["answered_callbacks"] == 1  # type: ignore[index]
    logs = log.read_text()
    assert "event=server.started" in logs and "event=event.processed" in logs
    assert "event=server.stopped" in logs and "event=outbox.delivered" in logs
    assert API_KEY not in logs and API_SALT not in logs and OUTGOING_TOKEN not in logs
    assert len(receiver.received) == 1  # delivered once


def test_vars_without_a_matching_client_creates_none(tmp_path: Path) -> None:
    config = write_project(tmp_path, free_port())
    result = subprocess.run(
        botlang("vars", PHONE, "--config", str(config)),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"no client matches phone {PHONE}" in result.stderr
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    assert store.find_client_by_variable_value(PHONE) is None
    store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("vars", "12"), "invalid phone"),
        (("vars", PHONE, "--config", "missing.toml"), "no such file"),
        (("serve", "--config", "missing.toml"), "no such file"),
    ],
)
def test_cli_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    write_project(tmp_path, free_port())
    result = subprocess.run(
        botlang(*args), cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert message in result.stderr


def test_serve_refuses_a_bad_config_naming_the_key(tmp_path: Path) -> None:
    config = write_project(tmp_path, free_port())
    env = {k: v for k, v in ENV.items() if k != "MANGO_API_SALT"}
    result = subprocess.run(
        botlang("serve", "--config", str(config)),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "mango.api_salt_env" in result.stderr
    assert API_KEY not in result.stderr


def test_serve_options_are_documented() -> None:
    result = subprocess.run(botlang("serve", "--help"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--no-worker" in result.stdout and "--config" in result.stdout
