"""The service over real HTTP: impossible ids and numbers get the right status, and no log
line shows the API key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_testkit import API_KEY, Running, call_event, make_config

from botlang.server import create_app, serve_in_thread
from botlang.telephony import RecordingTelephony


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    app = create_app(make_config(tmp_path), telephony=RecordingTelephony())
    with serve_in_thread(app) as url, httpx.Client(timeout=30.0) as http:
        yield Running(url, app, http)


def message(server: Running, client_id: object) -> httpx.Response:
    return server.http.post(f"{server.url}/message", json={"client_id": client_id, "text": "hi"})


@pytest.mark.parametrize("client_id", ["99999999999999999999", 10**20, "-1", "abc", "１２"])
def test_an_impossible_client_id_is_404(server: Running, client_id: object) -> None:
    response = message(server, client_id)
    assert response.status_code == 404, response.text


def test_a_webhook_seq_past_64_bits_is_refused_as_malformed(server: Running) -> None:
    response = server.webhook("events/call", call_event(10**20, "Appeared"))
    assert response.status_code == 400
    assert server.store.inbox_stats()["pending"] == 0


def test_a_webhook_seq_as_a_huge_float_is_refused(server: Running) -> None:
    payload = call_event(1, "Appeared")
    payload["seq"] = 1e20
    assert server.webhook("events/call", payload).status_code == 400


def test_the_api_key_never_reaches_the_log(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.http.post(f"{server.url}/mango_webhook/{API_KEY}/{API_KEY}/events/call", data={})
    server.http.post(f"{server.url}/mango_webhook/wrong/{API_KEY}/events/call", data={})
    server.webhook("events/call", form={"vpbx_api_key": API_KEY, "sign": "x", "json": "{}"})
    # the service's own lines (the test's HTTP client logs the URL it was asked to call)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("botlang", "uvicorn"))]
    assert any("webhook.rejected" in line for line in lines)
    assert not any(API_KEY in line for line in lines)
