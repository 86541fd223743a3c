"""Liveness and readiness, the guard's Redis persistence check, the outbox's per-client
order across retries and re-sending failed messages, and the new configuration keys."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from server_testkit import Receiver, make_config, signed, summary, wait_for

from botlang.cli import main as cli_main
from botlang.config import ConfigError, load_config, parse_config
from botlang.server.outbox import OutboxPolicy
from botlang.store import open_store
from botlang.telephony import GuardedTelephony, RecordingTelephony
from botlang.telephony.guard import guard_from_config


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ready_when_store_guard_and_backlog_are_fine(serve: Any) -> None:
    server = serve()
    ready = server.http.get(f"{server.url}/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert body["checks"]["store"] == "ok" and body["checks"]["backlog"] == 0
    assert server.http.get(f"{server.url}/health").json()["status"] == "ok"


def test_not_ready_while_the_guard_is_down_yet_alive(serve: Any, tmp_path: Path) -> None:
    guard = guard_from_config({"url": f"redis://127.0.0.1:{closed_port()}/0"})
    server = serve(telephony=GuardedTelephony(RecordingTelephony(), guard))
    ready = server.http.get(f"{server.url}/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready"
    assert any("spam guard unavailable" in reason for reason in body["reasons"])
    assert body["checks"]["store"] == "ok"
    assert server.http.get(f"{server.url}/health").status_code == 200  # alive all the same
    guard.close()


class HangingStore:
    """A store whose counting hangs (a database that stopped answering)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.hang = threading.Event()
        self.release = threading.Event()

    def inbox_stats(self, **kwargs: Any) -> dict[str, int]:
        if self.hang.is_set():
            self.release.wait(30)
        return self.inner.inbox_stats(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_not_ready_within_a_short_timeout_when_the_store_hangs(serve: Any) -> None:
    store = HangingStore(open_store("memory://"))
    server = serve(store=store)
    server.service.ready_timeout_seconds = 0.3
    store.hang.set()
    try:
        ready = server.http.get(f"{server.url}/ready")
    finally:
        store.release.set()
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"] == "unavailable: no answer within 0.3 s"
    assert "store unavailable" in ready.json()["reasons"][0]


def test_not_ready_with_the_backlog_at_its_limit(serve: Any, tmp_path: Path) -> None:
    config = make_config(tmp_path, server={"max_ready_backlog": 2})
    server = serve(config=config, worker=False)
    for entry in ("e1", "e2"):
        assert server.webhook("events/summary", summary(entry_id=entry)).status_code == 200
    ready = server.http.get(f"{server.url}/ready")
    assert ready.status_code == 503
    assert ready.json()["reasons"] == ["event backlog 2 is at its limit (2)"]


def test_a_guard_on_redis_without_persistence_is_warned_about(
    serve: Any, tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        saves = client.config_get("save").get("save")
        aof = client.info("persistence").get("aof_enabled")
    finally:
        client.close()
    if saves or str(aof) == "1":
        pytest.skip("this Redis persists its data")
    caplog.set_level(logging.WARNING, logger="botlang.server")
    config = make_config(tmp_path, guard={"url": redis_url})
    guard = guard_from_config(config.guard)
    assert guard.history.persistence() == "none"  # type: ignore[union-attr]
    serve(config=config, telephony=GuardedTelephony(RecordingTelephony(), guard))
    assert "event=guard.no_persistence" in caplog.text
    assert "appendonly yes" in caplog.text
    guard.close()


# -- the outbox: order across retries, re-sending ---------------------------------------------

FLOW_TEXT = """\
bot "Сообщения по порядку"

block start "Приветствие"
  message: Здравствуйте!

block said "Итог"
  message: Звонок #{call_entry_id}: #{call_outcome}

any -> said
  on: callback
"""


def test_a_clients_messages_keep_their_order_across_retries(
    serve: Any, tmp_path: Path, outgoing: tuple[Receiver, str]
) -> None:
    target, url = outgoing
    target.statuses = [503, 503]  # the first message is refused twice, then accepted
    flow = tmp_path / "order.bot"
    flow.write_text(FLOW_TEXT, encoding="utf-8")
    config = make_config(
        tmp_path, flow=flow, store_url="sqlite:///state.db", server={"outgoing_url": url}
    )
    running = serve(config=config)
    sender = running.service.sender
    assert sender is not None
    sender.idle_seconds = 0.05
    sender.policy = OutboxPolicy(first_retry_seconds=0.2, max_retry_seconds=0.4)
    for n in range(1, 4):
        response = running.webhook("events/summary", summary(entry_id=f"call-{n}"))
        assert response.status_code == 200
    wait_for(lambda: running.store.inbox_stats(queue="outbox")["done"] == 3)
    said = [body["messages"][0] for body in target.received]
    print(f"POSTs {len(said)}: {said}")
    assert said == [
        "Звонок call-1: answered",
        "Звонок call-1: answered",
        "Звонок call-1: answered",
        "Звонок call-2: answered",
        "Звонок call-3: answered",
    ]


def test_failed_messages_are_sent_again_by_the_command(
    serve: Any,
    tmp_path: Path,
    outgoing: tuple[Receiver, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    target, url = outgoing
    target.statuses = [400]
    flow = tmp_path / "order.bot"
    flow.write_text(FLOW_TEXT, encoding="utf-8")
    toml = tmp_path / "botlang.toml"
    toml.write_text(
        f'[project]\nflow = "order.bot"\nmessengers = ["whatsapp"]\n'
        f'[store]\nurl = "sqlite:///state.db"\n[server]\noutgoing_url = "{url}"\n'
        '[mango]\napi_key = "k"\napi_salt = "s"\n',
        encoding="utf-8",
    )
    config = load_config(toml)
    running = serve(config=config)
    assert running.service.sender is not None
    running.service.sender.idle_seconds = 0.05
    running.service.api_key = "k"
    running.service.api_salt = "s"
    form = signed(summary(), key="k", salt="s")
    assert running.webhook("events/summary", form=form, key="k").status_code == 200
    wait_for(lambda: running.store.inbox_stats(queue="outbox")["failed"] == 1)
    assert cli_main(["outbox", "failed", "--config", str(toml)]) == 0
    listed = capsys.readouterr().out
    assert '"error": "HTTP 400' in listed
    message_id = target.received[0]["id"]
    assert cli_main(["outbox", "retry", "nope", "--config", str(toml)]) == 1
    assert "no failed outgoing message with id nope" in capsys.readouterr().err
    assert cli_main(["outbox", "retry", message_id, "--config", str(toml)]) == 0
    assert "1 message queued to be sent again" in capsys.readouterr().out
    wait_for(lambda: running.store.inbox_stats(queue="outbox")["done"] == 1)
    assert [body["id"] for body in target.received] == [message_id, message_id]
    assert cli_main(["outbox", "retry", "--config", str(toml)]) == 1  # neither ids nor --all


# -- configuration ----------------------------------------------------------------------------

PROJECT = {"project": {"flow": "bot.bot"}}


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"store": {"pool_max": 0}}, "store.pool_max: must be at least 1"),
        ({"store": {"pool_min": 5, "pool_max": 2}}, "store.pool_min: must be at most pool_max"),
        ({"store": {"statement_timeout_seconds": 0}}, "store.statement_timeout_seconds: must be"),
        ({"store": {"keepalive_count": "3"}}, "store.keepalive_count: must be an integer"),
        ({"store": {"pool_size": 3}}, "store.pool_size: unknown key; known keys: url, pool_max"),
        ({"outbox": {"backoff": 0.5}}, "outbox.backoff: must be at least 1"),
        (
            {"outbox": {"first_retry_seconds": 60, "max_retry_seconds": 10}},
            "outbox.max_retry_seconds: must be at least first_retry_seconds",
        ),
        ({"outbox": {"max_age_hours": 1}}, "outbox.max_age_hours: unknown key"),
        (
            {"server": {"idempotency_retention_seconds": -1}},
            "server.idempotency_retention_seconds: must be more than 0",
        ),
    ],
)
def test_bad_reliability_keys_are_named(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**PROJECT, **section})
    assert problem in str(caught.value)


def test_reliability_keys_reach_the_store_and_the_outbox(tmp_path: Path) -> None:
    from botlang.server.app import outbox_policy

    config = parse_config(
        {
            **PROJECT,
            "store": {"pool_max": 4, "lock_timeout_seconds": 2.5, "keepalive_idle_seconds": 9},
            "outbox": {"first_retry_seconds": 5, "backoff": 3, "max_age_seconds": 3600},
        }
    )
    settings = config.store.settings()
    assert (settings.pool_max, settings.lock_timeout_seconds) == (4, 2.5)
    assert settings.keepalive_idle_seconds == 9
    policy = outbox_policy(config)
    assert [policy.delay(n) for n in (1, 2, 3)] == [5, 15, 45]
    assert policy.delay(40) == 3600  # never more than max_retry_seconds
    assert policy.delay(1, retry_after=30) == 30
