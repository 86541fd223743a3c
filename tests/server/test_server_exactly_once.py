"""Calls placed by the service's turns: journalled, sent outside any write lock, and never
sent twice — by a re-run after a crash, a store failure, or a retried POST /message."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_testkit import PHONE, make_config, summary, wait_for

from botlang.flow import Bot, TurnRequest
from botlang.server.inbox import StoreGate
from botlang.server.turns import TurnRunner, call_key
from botlang.server.webhook import read_delivery
from botlang.server.worker import Worker, order_group
from botlang.store import Store, open_store
from botlang.telephony import CallResult, GuardedTelephony, RecordingTelephony
from botlang.telephony.guard import SpamGuard
from botlang.telephony.signing import encode_payload

CALLING_FLOW = """\
bot "Перезвон при занятости"

block start "Приветствие"
  message: Здравствуйте!
  -> call
    contains: позвони

block call "Звонок"
  calculator:
    r = mango_employee_call("219", phone)
    client.calls_placed = calls_placed + 1
    client.last_result = r["result"]
  message: #{if(r["ok"], "Соединяю", "Не удалось: " + r["message"])}

any -> call
  on: callback
  exact: busy

any -> call
  contains: позвони
"""
BUSY = summary(answered=False, reason=1121)


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "calling.bot"
    path.write_text(CALLING_FLOW, encoding="utf-8")
    return path


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/calls.db"
    else:
        url = request.getfixturevalue("new_postgres_schema")("botlang_calls")
    opened = open_store(url)
    yield opened
    opened.close()


def add(store: Store, kind: str, payload: dict[str, Any]) -> str:
    delivery = read_delivery(kind, encode_payload(payload))
    group = order_group(delivery.kind, delivery.payload)
    store.inbox_add(delivery.key, delivery.kind, delivery.payload, group=group)
    return delivery.key


def client_vars(store: Store) -> dict[str, Any]:
    client = store.find_client_by_variable_value(PHONE)
    assert client is not None
    return store.read_variables(client.client_id)["client"]


def drain(worker: Worker) -> None:
    wait_for(lambda: worker.run_once() == 0 and worker.gate.inbox_stats()["pending"] == 0)


def unguarded(telephony: RecordingTelephony) -> GuardedTelephony:
    return GuardedTelephony(telephony, SpamGuard(enabled=False))


def test_a_call_is_journalled_then_sent_once(store: Store, flow: Path) -> None:
    phone = RecordingTelephony()
    worker = Worker(StoreGate(store), Bot.load(flow, telephony=phone), messengers=["whatsapp"])
    key = add(store, "events/summary", BUSY)
    drain(worker)
    assert len(phone.calls) == 1
    (entry,) = store.call_entries()
    assert entry.turn_key == f"event:{key}" and entry.ordinal == 0
    assert entry.status == "done" and entry.kind == "employee"
    assert entry.args == {"extension": "219", "phone": PHONE}
    assert entry.command_id == phone.calls[0].result.command_id
    variables = client_vars(store)
    assert variables["calls_placed"] == 1
    assert variables["call_command_id"] == entry.command_id  # noted in the turn's commit
    assert worker.calls_sent == 1 and worker.calls_replayed == 0


class DiesAfterTheCall(StoreGate):
    """A gate whose first commit of an event dies after the call was sent and recorded, as
    a process killed at that moment would."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.deaths = 1

    def inbox_done(self, item_id: int, error: str | None = None, **options: Any) -> None:
        if self.deaths and options.get("token"):
            self.deaths -= 1
            raise RuntimeError("killed before the commit")
        super().inbox_done(item_id, error, **options)


def test_a_re_run_after_a_crash_replays_the_call_instead_of_placing_it_again(
    store: Store, flow: Path
) -> None:
    phone = RecordingTelephony()
    gate = DiesAfterTheCall(store)
    worker = Worker(
        gate, Bot.load(flow, telephony=phone), messengers=["whatsapp"], retry_base_seconds=0.05
    )
    add(store, "events/summary", BUSY)
    drain(worker)
    print(f"commands sent {len(phone.calls)}, replayed {worker.calls_replayed}")
    assert len(phone.calls) == 1  # the re-run did not ring the client again
    assert worker.failures == 1 and worker.calls_replayed == 1
    assert client_vars(store)["calls_placed"] == 1  # the first attempt was rolled back
    assert client_vars(store)["last_result"] == 1000  # the re-run saw the recorded result


def test_an_intent_left_by_a_killed_attempt_is_settled_unknown_never_resent(
    store: Store, flow: Path
) -> None:
    phone = RecordingTelephony()
    bot = Bot.load(flow, telephony=phone)
    gate = StoreGate(store)
    runner = TurnRunner(gate, bot, settle_seconds=0.3)
    worker = Worker(gate, bot, messengers=["whatsapp"], runner=runner, retry_base_seconds=0.05)
    key = add(store, "events/summary", BUSY)
    # What a process killed between the intent and the answer leaves behind:
    args = {"extension": "219", "phone": PHONE}
    store.call_intent(
        call_key(f"event:{key}", 0, "employee", args),
        turn_key=f"event:{key}",
        ordinal=0,
        kind="employee",
        args=args,
        client_id=None,
        owner="a-killed-attempt",
    )
    assert worker.run_once() == 1
    assert worker.deferred == 1  # too fresh to settle: the event waits
    assert store.inbox_stats()["done"] == 0
    drain(worker)
    assert phone.calls == []  # never sent: it may have been, by the killed attempt
    (entry,) = store.call_entries()
    assert entry.status == "unknown"
    variables = client_vars(store)
    assert variables["last_result"] == 5000 and variables["calls_placed"] == 1


class RecordFails(StoreGate):
    """A gate that cannot record the first call's result (the store went away)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.failures = 1

    def call_record(self, key: str, result: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError("store unreachable")
        return super().call_record(key, result)


def test_a_result_that_cannot_be_recorded_is_never_followed_by_a_second_call(
    store: Store, flow: Path
) -> None:
    phone = RecordingTelephony()
    bot = Bot.load(flow, telephony=phone)
    gate = RecordFails(store)
    runner = TurnRunner(gate, bot, settle_seconds=0.2)
    worker = Worker(gate, bot, messengers=["whatsapp"], runner=runner, retry_base_seconds=0.05)
    add(store, "events/summary", BUSY)
    drain(worker)
    assert len(phone.calls) == 1
    assert store.call_entries()[0].status == "unknown"
    assert client_vars(store)["calls_placed"] == 1


class BlockingTelephony(RecordingTelephony):
    """A Mango that answers a call only when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.calling = threading.Event()
        self.answer = threading.Event()

    def employee_call(self, extension: str, phone: str) -> CallResult:
        self.calling.set()
        assert self.answer.wait(20), "never told to answer"
        return super().employee_call(extension, phone)


def test_sqlite_writers_do_not_wait_for_a_call_in_flight(tmp_path: Path, flow: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/slow.db")
    phone = BlockingTelephony()
    gate = StoreGate(store)
    worker = Worker(gate, Bot.load(flow, telephony=phone), messengers=["whatsapp"])
    add(store, "events/summary", BUSY)
    processing = threading.Thread(target=worker.run_once)
    processing.start()
    try:
        assert phone.calling.wait(20)
        # Mango has not answered: the webhook's writes and another client's turn go on.
        assert gate.inbox_add("another-event", "events/summary", {"n": 1})
        other = store.create_client(client_type=6, phone="79005556677", messenger="whatsapp")
        turn = worker.runner.run(  # type: ignore[union-attr]
            other.client_id,
            TurnRequest.message("привет"),
            turn_key="message:other",
        ).turn
        assert turn is not None and turn.kind == "message"  # ran and committed meanwhile
    finally:
        phone.answer.set()
        processing.join(20)
    assert len(phone.calls) == 1
    store.close()


# -- POST /message ----------------------------------------------------------------------------


def start_calling(serve: Any, tmp_path: Path, flow: Path) -> tuple[Any, RecordingTelephony]:
    phone = RecordingTelephony()
    config = make_config(tmp_path, flow=flow, store_url="sqlite:///state.db")
    running = serve(config=config, telephony=unguarded(phone))
    return running, phone


def test_a_retried_message_with_an_idempotency_key_is_answered_again_not_run_again(
    serve: Any, tmp_path: Path, flow: Path
) -> None:
    running, phone = start_calling(serve, tmp_path, flow)
    url = f"{running.url}/message"
    body = {"phone": PHONE, "text": "позвоните"}
    headers = {"Idempotency-Key": "msg-7f3a"}
    first = running.http.post(url, json=body, headers=headers)
    second = running.http.post(url, json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["messages"] == ["Соединяю"]
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert len(phone.calls) == 1
    assert running.client_vars()["calls_placed"] == 1
    reused = running.http.post(url, json={**body, "text": "другое"}, headers=headers)
    assert reused.status_code == 422 and "another request" in reused.json()["error"]
    fresh = running.http.post(url, json=body, headers={"Idempotency-Key": "msg-other"})
    assert fresh.status_code == 200 and len(phone.calls) == 2
    bad = running.http.post(url, json=body, headers={"Idempotency-Key": "k" * 201})
    assert bad.status_code == 400


def test_a_messenger_message_id_makes_a_message_idempotent(
    serve: Any, tmp_path: Path, flow: Path
) -> None:
    running, phone = start_calling(serve, tmp_path, flow)
    url = f"{running.url}/message"
    body = {"phone": PHONE, "text": "позвоните", "message_id": "wamid.HBgL"}
    answers = [running.http.post(url, json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(phone.calls) == 1
    assert running.http.post(url, json={**body, "message_id": ""}).status_code == 400
    assert running.http.post(url, json={**body, "message_id": True}).status_code == 400


def test_concurrent_retries_of_one_message_place_one_call(
    serve: Any, tmp_path: Path, flow: Path
) -> None:
    running, phone = start_calling(serve, tmp_path, flow)
    url = f"{running.url}/message"
    body = {"phone": PHONE, "text": "позвоните"}
    results: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(timeout=30) as http:
            results.append(http.post(url, json=body, headers={"Idempotency-Key": "twin"}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(r.status_code for r in results)
    print(f"statuses {statuses}, calls {len(phone.calls)}")
    assert len(phone.calls) == 1
    assert set(statuses) <= {200, 409, 503} and 200 in statuses
    assert running.client_vars()["calls_placed"] == 1
