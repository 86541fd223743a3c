"""``botlang serve`` puts the flow's telephony behind the spam guard ``[guard]`` describes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from server_testkit import API_KEY, API_SALT, PHONE, make_config

from botlang.telephony import GuardedTelephony, RecordingTelephony, SpamGuard
from botlang.telephony import redis_guard as redis_guard_module
from botlang.telephony.mango import MangoOffice
from botlang.telephony.redis_guard import RedisCallHistory
from botlang.telephony.simulator import MangoSimulator


def post(server: Any, text: str, phone: str = PHONE) -> dict[str, Any]:
    response = server.http.post(f"{server.url}/message", json={"phone": phone, "text": text})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_configured_limits_apply(serve: Any, tmp_path: Path) -> None:
    telephony = RecordingTelephony()
    config = make_config(tmp_path, guard={"calls_per_number": 1, "window_seconds": 3600})
    server = serve(config=config, telephony=telephony)
    assert post(server, "позвоните")["calls"][0]["ok"]
    refused = post(server, "позвоните")
    assert refused["calls"][0]["result"] == 4501
    assert refused["messages"][0].startswith("Не удалось позвонить: call to 79004443322 refused")
    assert "1 per 1 h" in refused["messages"][0]
    assert len(telephony.calls) == 1


def test_a_disabled_guard_lets_calls_through(serve: Any, tmp_path: Path) -> None:
    telephony = RecordingTelephony()
    server = serve(config=make_config(tmp_path, guard={"enabled": False}), telephony=telephony)
    for _ in range(5):
        assert post(server, "позвоните")["calls"][0]["ok"]
    assert len(telephony.calls) == 5


def test_a_guarded_telephony_keeps_its_own_guard(serve: Any, tmp_path: Path) -> None:
    mine = GuardedTelephony(RecordingTelephony(), SpamGuard.disabled())
    server = serve(config=make_config(tmp_path, guard={"calls_per_number": 1}), telephony=mine)
    assert server.service.telephony is mine
    assert all(post(server, "позвоните")["calls"][0]["ok"] for _ in range(3))


def test_mango_behind_a_redis_guard_shared_by_two_services(
    serve: Any,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two services on one Redis stand for two `botlang serve` processes on two hosts.
    monkeypatch.setattr(redis_guard_module, "KEY_PREFIX", redis_prefix)
    sim = MangoSimulator(API_KEY, API_SALT)
    with sim.serve() as base_url:
        config = make_config(
            tmp_path, base_url=base_url, guard={"group_calls_per_number": 1, "url": redis_url}
        )
        caplog.set_level(logging.INFO, logger="botlang.server")
        first = serve(config=config, telephony=None)
        second = serve(config=config, telephony=None)
        for server in (first, second):
            telephony = server.service.telephony
            assert isinstance(telephony, GuardedTelephony)
            assert isinstance(telephony.inner, MangoOffice)
            assert isinstance(telephony.guard.history, RedisCallHistory)
        for server in (first, second):
            post(server, "привет")  # a new client's first message starts the flow
        assert post(first, "группа")["calls"][0]["ok"]
        refused = post(second, "группа")["calls"][0]
        assert refused["result"] == 4501 and not refused["ok"]
        assert sim.wait_idle(5.0)
        assert len(sim.commands) == 1  # the refused call never reached Mango
    started = [r.getMessage() for r in caplog.records if "server.started" in r.getMessage()]
    assert started and all("guard=RedisCallHistory" in line for line in started)
