"""Outgoing messages: what an event's callback turn says reaches ``[server] outgoing_url``
(at least once, committed with the turn), or is logged when there is no such URL."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from server_testkit import PHONE, Receiver, Running, make_config, summary, wait_for

from botlang.flow import Bot
from botlang.flow.session import BotMessage, Turn
from botlang.server.inbox import StoreGate
from botlang.server.outbox import OutboxPolicy, log_messages
from botlang.server.webhook import read_delivery
from botlang.server.worker import Worker
from botlang.store import Store, open_store
from botlang.telephony.signing import encode_payload

FLOW_TEXT = """\
bot "Исходящие сообщения"

block start "Приветствие"
  message: Здравствуйте!

block busy "Занято"
  calculator:
    client.busy_callbacks = busy_callbacks + 1
  message: Отдел продаж сейчас занят — вам перезвонит дежурный менеджер.
  -> ticket
    delay: 0

block ticket "Заявка"
  message:
    Звонок #{call_entry_id}: «#{call_outcome}».
    Ответьте «позвоните», чтобы позвонить ещё раз.

any -> busy
  on: callback
  exact: busy
"""
SAID = [
    "Отдел продаж сейчас занят — вам перезвонит дежурный менеджер.",
    "Звонок entry-1: «busy».\nОтветьте «позвоните», чтобы позвонить ещё раз.",
]
BUSY = summary(answered=False, reason=1121)
OUTGOING_TOKEN = "outgoing-token-5e1d0c7a"
MESSAGE_TOKEN = "message-token-a9f3e2b1c4"


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "outgoing.bot"
    path.write_text(FLOW_TEXT, encoding="utf-8")
    return path


def start(
    serve: Callable[..., Running],
    tmp_path: Path,
    flow: Path,
    *,
    lease: float | None = None,
    messengers: tuple[str, ...] = ("whatsapp",),
    **server: Any,
) -> Running:
    config = make_config(
        tmp_path, flow=flow, store_url="sqlite:///state.db", messengers=messengers, server=server
    )
    running = serve(config=config)
    sender = running.service.sender
    if sender is not None:
        sender.idle_seconds = 0.05
        if lease is not None:  # the first retry comes this soon, then twice as late...
            sender.policy = OutboxPolicy(first_retry_seconds=lease, max_retry_seconds=lease * 8)
    return running


def outbox(running: Running) -> dict[str, int]:
    return running.store.inbox_stats(queue="outbox")


def test_an_event_turns_messages_reach_the_receiver_as_the_flow_said_them(
    serve: Any,
    tmp_path: Path,
    flow: Path,
    outgoing: tuple[Receiver, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="botlang.server")
    target, url = outgoing
    running = start(
        serve,
        tmp_path,
        flow,
        outgoing_url=url,
        outgoing_token=OUTGOING_TOKEN,
        message_token=MESSAGE_TOKEN,
    )
    assert running.webhook("events/summary", BUSY).status_code == 200
    wait_for(lambda: target.received, message="the receiver to get the messages")
    wait_for(lambda: outbox(running)["done"] == 1, message="the item to be marked done")

    (body,) = target.received
    client = running.store.find_client_by_variable_value(PHONE)
    assert client is not None
    assert body == {
        "id": body["id"],
        "client_id": client.client_id,
        "phone": PHONE,
        "messenger": "whatsapp",
        "block": "ticket",
        "messages": SAID,
        "replies": [
            {"text": text, "block": block, "buttons": [], "keyboard": None, "hint": None}
            for text, block in zip(SAID, ["busy", "ticket"], strict=True)
        ],
        "orders": [],
        "event": "events/summary",
        "created_at": body["created_at"],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert abs(body["created_at"] - time.time()) < 600
    assert target.authorizations == [f"Bearer {OUTGOING_TOKEN}"]

    again = running.webhook("events/summary", BUSY)  # Mango delivers the summary again
    assert again.json()["status"] == "duplicate"
    assert outbox(running) == {"pending": 0, "claimed": 0, "done": 1, "failed": 0}

    listing = running.http.get(f"{running.url}/outbox?status=done")
    assert listing.status_code == 401  # the /message token guards it
    auth = {"Authorization": f"Bearer {MESSAGE_TOKEN}"}
    listing = running.http.get(f"{running.url}/outbox?status=done&limit=10", headers=auth)
    assert listing.status_code == 200
    shown = listing.json()
    assert shown["counts"]["done"] == 1 and shown["outgoing"] == "on"
    (item,) = shown["items"]
    assert item["id"] == body["id"] and item["message"] == body
    assert item["status"] == "done" and item["attempts"] == 1 and item["error"] is None

    health = running.http.get(f"{running.url}/health").json()
    assert health["outbox"]["sender"] == "running" and health["outbox"]["delivered"] == 1

    logs = caplog.text
    assert "event=outbox.delivered" in logs and f"id={body['id']}" in logs
    assert re.search(r"event=server.started .*outgoing=http://127\.0\.0\.1:\d+$", logs, re.M)
    assert "event=message.out" not in logs
    assert OUTGOING_TOKEN not in logs and MESSAGE_TOKEN not in logs
    assert "/outgoing" not in logs  # only the receiver's scheme, host and port


def test_a_server_error_is_retried_and_the_messages_delivered_once(
    serve: Any, tmp_path: Path, flow: Path, outgoing: tuple[Receiver, str]
) -> None:
    target, url = outgoing
    target.statuses = [500]
    running = start(serve, tmp_path, flow, lease=0.2, outgoing_url=url)
    assert running.webhook("events/summary", BUSY).status_code == 200
    wait_for(lambda: outbox(running)["done"] == 1, message="the retry to succeed")
    first, second = target.received  # one refused with 500, one accepted
    assert first == second and first["messages"] == SAID
    (item,) = running.store.inbox_items("done", queue="outbox")
    assert item.attempts == 2 and item.error is None
    time.sleep(0.5)  # several retry delays: nothing more is sent
    assert len(target.received) == 2


def test_a_refusal_fails_the_messages_for_good_with_the_status_recorded(
    serve: Any, tmp_path: Path, flow: Path, outgoing: tuple[Receiver, str]
) -> None:
    target, url = outgoing
    target.statuses = [400]
    running = start(serve, tmp_path, flow, lease=0.2, outgoing_url=url)
    assert running.webhook("events/summary", BUSY).status_code == 200
    wait_for(lambda: outbox(running)["failed"] == 1, message="the item to fail")
    time.sleep(0.6)  # a retry would have come by now
    assert len(target.received) == 1
    shown = running.http.get(f"{running.url}/outbox?status=failed").json()
    (item,) = shown["items"]
    assert item["error"].startswith("HTTP 400") and item["attempts"] == 1
    assert item["message"]["messages"] == SAID
    assert running.http.get(f"{running.url}/outbox?status=lost").status_code == 400
    assert running.http.get(f"{running.url}/outbox?limit=0").status_code == 400


def test_an_unreachable_receiver_is_retried_then_given_up(
    serve: Any, tmp_path: Path, flow: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/outgoing"  # nobody listens
    running = start(serve, tmp_path, flow, outgoing_url=closed)
    assert running.service.sender is not None
    # 0.05 s, then 0.1, 0.2, 0.2...: a message over 0.5 s old is given up
    running.service.sender.policy = OutboxPolicy(
        first_retry_seconds=0.05, backoff=2.0, max_retry_seconds=0.2, max_age_seconds=0.5
    )
    assert running.webhook("events/summary", BUSY).status_code == 200
    wait_for(lambda: outbox(running)["failed"] == 1, message="the sender to give up")
    (item,) = running.store.inbox_items("failed", queue="outbox")
    assert item.attempts >= 3
    assert item.error == f"given up after {item.attempts} attempts; last error: ConnectError"
    assert item.finished_at is not None and item.finished_at - item.created_at <= 0.5 + 1


def test_without_an_outgoing_url_messages_are_logged_and_not_queued(
    serve: Any, tmp_path: Path, flow: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botlang.server")
    running = start(serve, tmp_path, flow)
    assert running.webhook("events/summary", BUSY).status_code == 200
    running.settled()
    assert running.client_vars()["busy_callbacks"] == 1
    assert outbox(running) == {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
    client = running.store.find_client_by_variable_value(PHONE)
    assert client is not None
    logs = caplog.text
    assert f'event=message.out client_id={client.client_id} block=busy text="{SAID[0]}"' in logs
    assert 'block=ticket text="Звонок entry-1: «busy».\\nОтветьте' in logs
    assert "event=outbox.off" in logs and "outgoing=off" in logs
    assert running.http.get(f"{running.url}/health").json()["outbox"] == {"sender": "off"}


def test_a_logged_message_is_clipped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botlang.server.outbox")
    turn = Turn("7", "event", "busy", None)
    turn.messages.append(BotMessage("я" * 1000, "busy"))
    log_messages(turn)
    (record,) = caplog.records
    assert record.getMessage() == f'event=message.out client_id=7 block=busy text="{"я" * 200}…"'


def test_telephony_only_clients_get_nothing_queued(
    serve: Any, tmp_path: Path, flow: Path, outgoing: tuple[Receiver, str]
) -> None:
    target, url = outgoing
    running = start(serve, tmp_path, flow, messengers=(), outgoing_url=url)
    assert running.webhook("events/summary", BUSY).status_code == 200
    running.settled()
    client = running.store.find_client_by_variable_value(PHONE)
    assert client is not None and client.client_type == 13
    assert running.client_vars()["busy_callbacks"] == 1  # the turn ran; it could not write
    assert outbox(running) == {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
    assert target.received == []


# -- the messages commit with their turn ----------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/outbox.db"
    opened = open_store(url)
    yield opened
    opened.close()


class DiesBeforeCommit(StoreGate):
    """A gate whose first "done" mark fails — after the turn queued its messages, before
    the commit — as a process killed at that moment would."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.calls = 0

    def inbox_done(self, item_id: int, error: str | None = None, **options: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("killed before the commit")
        super().inbox_done(item_id, error, **options)


def test_messages_commit_with_their_turn_or_not_at_all(store: Store, flow: Path) -> None:
    worker = Worker(
        DiesBeforeCommit(store),
        Bot.load(flow),
        messengers=["whatsapp"],
        outbox=True,
        retry_base_seconds=0.1,  # handed back at once, tried again this soon
    )
    delivery = read_delivery("events/summary", encode_payload(BUSY))
    store.inbox_add(delivery.key, delivery.kind, delivery.payload)

    assert worker.run_once() == 1 and worker.failures == 1
    assert store.inbox_stats(queue="outbox") == {"pending": 0, "claimed": 0, "done": 0, "failed": 0}
    assert store.inbox_stats(queue="events")["pending"] == 1
    client = store.find_client_by_variable_value(PHONE)
    assert client is not None
    assert "busy_callbacks" not in store.read_variables(client.client_id)["client"]

    wait_for(lambda: worker.run_once() and store.inbox_stats(queue="events")["done"] == 1)
    (item,) = store.inbox_items("pending", queue="outbox")
    assert item.kind == "outbox/message" and item.payload["messages"] == SAID
    assert store.read_variables(client.client_id)["client"]["busy_callbacks"] == 1
