"""The Mango webhook over real HTTP: every rejection, duplicates, ordering, backpressure."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from mango_calls import CallSequence, arrival_cases, check_legs, check_variables
from server_testkit import (
    API_KEY,
    API_SALT,
    PHONE,
    call_event,
    make_config,
    signed,
    summary,
    wait_for,
)

from botlang.core.limits import DEFAULT_LIMITS
from botlang.server.inbox import StoreGate
from botlang.server.worker import Worker
from botlang.store import open_store
from botlang.telephony import CallResult, RecordingTelephony
from botlang.telephony.signing import sign

# -- what an event does --------------------------------------------------------------------


def test_summary_sets_the_call_variables_and_fires_the_callback_arrow(serve: Any) -> None:
    server = serve()
    response = server.webhook("events/summary", summary(talk_seconds=42))
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    server.settled()
    variables = server.client_vars()
    assert variables["call_entry_id"] == "entry-1"
    assert variables["call_direction"] == "outgoing"
    assert variables["call_answered"] is True
    assert variables["call_talk_seconds"] == 42
    assert variables["call_result"] == 1100
    assert variables["call_result_text"] == "Вызов завершен в нормальном режиме"
    assert variables["call_outcome"] == "answered"
    assert variables["call_employee"] == "219"
    # the flow's "answered" callback arrow ran, with message_from_outside = 5
    assert variables["answered_callbacks"] == 1
    assert variables["seen_from_outside"] == 5
    session = server.store.read_variables(
        server.store.find_client_by_variable_value(PHONE).client_id
    )
    assert session["session"]["block"] == "talked"


def test_missed_call_outcome_reaches_the_flow(serve: Any) -> None:
    server = serve()
    assert (
        server.webhook("events/summary", summary(answered=False, reason="1121")).status_code == 200
    )
    server.settled()
    variables = server.client_vars()
    assert variables["call_answered"] is False
    assert variables["call_talk_seconds"] == 0
    assert variables["call_outcome"] == "busy"
    assert variables["last_miss"] == "busy"
    assert variables["missed_callbacks"] == 1


def test_call_events_track_the_leg_with_loose_types(serve: Any) -> None:
    server = serve()
    event = call_event(
        "3", "Disconnected", disconnect_reason="1129", **{"from": {"extension": 219}}
    )
    assert server.webhook("events/call", event).status_code == 200
    server.settled()
    variables = server.client_vars()
    assert variables["call_state"] == "Disconnected"
    assert variables["call_id"] == "leg-1"
    assert variables["call_employee"] == "219"
    assert variables["call_result"] == 1129
    assert variables["call_result_text"] == "Вызов завершен вызываемым абонентом"  # class 1120


def test_an_incoming_call_matches_the_caller(serve: Any) -> None:
    server = serve()
    assert server.webhook("events/summary", summary(direction=1)).status_code == 200
    server.settled()
    assert server.client_vars()["call_direction"] == "incoming"


def test_an_internal_call_changes_no_client(serve: Any) -> None:
    server = serve()
    internal = {**summary(direction=0), "from": {"extension": "101"}, "to": {"extension": "219"}}
    assert server.webhook("events/summary", internal).status_code == 200
    server.settled()
    assert server.store.find_client_by_variable_value(PHONE) is None


# -- duplicates and ordering ----------------------------------------------------------------


def test_the_same_delivery_twice_is_applied_once(serve: Any) -> None:
    server = serve()
    first = server.webhook("events/summary", summary())
    second = server.webhook("events/summary", summary())
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "duplicate"
    server.settled()
    assert server.client_vars()["answered_callbacks"] == 1
    stats = server.store.inbox_stats()
    assert stats["done"] == 1 and stats["pending"] == 0


def test_a_redelivery_serialised_differently_is_still_a_duplicate(serve: Any) -> None:
    server = serve()
    payload = summary()
    reordered = dict(reversed(list(payload.items())))
    assert server.webhook("events/summary", payload).json()["status"] == "accepted"
    assert server.webhook("events/summary", reordered).json()["status"] == "duplicate"


def test_a_lower_seq_than_one_applied_is_ignored(serve: Any) -> None:
    server = serve()
    disconnected = call_event(3, "Disconnected", disconnect_reason=1100)
    assert server.webhook("events/call", disconnected).status_code == 200
    server.settled()
    assert server.webhook("events/call", call_event(2, "Connected")).status_code == 200
    server.settled()
    assert server.client_vars()["call_state"] == "Disconnected"
    assert server.store.inbox_stats()["done"] == 2  # the late one is finished, not applied
    # the late event still tells that the leg was answered
    (leg,) = server.client_vars()["call_legs"]
    assert (leg["seq"], leg["state"], leg["answered"]) == (3, "Disconnected", True)


def test_each_leg_has_its_own_seq_and_the_client_leg_in_progress_wins(serve: Any) -> None:
    server = serve()
    server.webhook("events/call", call_event(4, "OnHold"))
    server.settled()
    assert server.client_vars()["call_state"] == "OnHold"
    # another leg to the client (a transfer) starts at seq 1: applied, it has its own counter
    server.webhook("events/call", call_event(1, "Appeared", call_id="leg-2"))
    server.settled()
    variables = server.client_vars()
    assert [leg["call_id"] for leg in variables["call_legs"]] == ["leg-1", "leg-2"]
    assert (variables["call_id"], variables["call_state"]) == ("leg-1", "OnHold")
    server.webhook("events/call", call_event(2, "Connected", call_id="leg-2"))
    server.webhook("events/call", call_event(5, "Disconnected", disconnect_reason=1183))
    server.settled()
    variables = server.client_vars()
    assert (variables["call_id"], variables["call_state"]) == ("leg-2", "Connected")
    assert variables.get("call_result") is None  # the conversation goes on


def test_call_events_set_variables_without_a_callback(serve: Any) -> None:
    server = serve()
    for seq, state in enumerate(("Appeared", "Connected", "Disconnected"), 1):
        server.webhook("events/call", call_event(seq, state))
    server.settled()
    variables = server.client_vars()
    assert variables["call_state"] == "Disconnected"
    assert "other_callbacks" not in variables  # the catch-all callback arrow did not run
    client = server.store.find_client_by_variable_value(PHONE)
    assert "block" not in server.store.read_variables(client.client_id)["session"]


# -- rejections --------------------------------------------------------------------------------


def test_unknown_key_path_or_address_is_404(serve: Any) -> None:
    server = serve()
    good = signed(summary())
    assert server.webhook("events/summary", form=good, key="not-our-key").status_code == 404
    assert server.webhook("events/call/extra", form=good).status_code == 404
    assert server.webhook("events/summary/x", form=good).status_code == 404
    assert server.webhook("commands/callback", form=good).status_code == 404
    assert server.http.post(f"{server.url}/mango_webhook/{API_KEY}", data=good).status_code == 404
    assert server.http.post(f"{server.url}/elsewhere", data=good).status_code == 404
    assert server.store.inbox_stats()["pending"] == 0


def test_without_mango_configured_every_webhook_is_404(serve: Any, tmp_path: Path) -> None:
    server = serve(config=make_config(tmp_path, mango=False))
    assert server.webhook("events/summary", summary()).status_code == 404


def test_a_bad_sign_is_403(serve: Any) -> None:
    server = serve()
    payload = summary()
    wrong_salt = signed(payload, salt="another-salt")
    assert server.webhook("events/summary", form=wrong_salt).status_code == 403
    tampered = signed(payload)
    tampered["json"] = tampered["json"].replace('"talk_time":1700000005', '"talk_time":1700000001')
    assert server.webhook("events/summary", form=tampered).status_code == 403
    other_key = signed(payload, key="someone-else")
    assert server.webhook("events/summary", form=other_key).status_code == 403
    # the sign is over the raw text: re-serialised JSON with the original sign fails
    respaced = dict(signed(payload))
    respaced["json"] = respaced["json"].replace(",", ", ")
    assert server.webhook("events/summary", form=respaced).status_code == 403
    assert server.store.inbox_stats()["pending"] == 0


def test_a_sign_in_upper_case_is_accepted(serve: Any) -> None:
    server = serve()
    form = signed(summary())
    form["sign"] = form["sign"].upper()
    assert server.webhook("events/summary", form=form).status_code == 200


def _form(json_text: str) -> dict[str, str]:
    return {"vpbx_api_key": API_KEY, "sign": sign(API_KEY, json_text, API_SALT), "json": json_text}


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"json": summary()}, "application/x-www-form-urlencoded"),
        (
            {
                "content": b"\xff\xfe",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            "UTF-8",
        ),
        ({"data": {"vpbx_api_key": API_KEY, "sign": "x"}}, "'json'"),
        ({"data": _form("{not json")}, "not JSON"),
        ({"data": _form("[1, 2]")}, "not a JSON object"),
        ({"data": _form("[" * 5_000 + "]" * 5_000)}, "not JSON"),
        ({"data": _form('{"entry_id": "e", "call_direction": "two"}')}, "call_direction"),
        ({"data": _form('{"call_direction": 1}')}, "entry_id"),
        ({"data": _form('{"entry_id": "e", "talk_time": true}')}, "talk_time"),
        (
            {
                "content": b"vpbx_api_key=a&vpbx_api_key=b&sign=c&json=%7B%7D",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            "more than once",
        ),
    ],
)
def test_a_malformed_delivery_is_400(serve: Any, kwargs: dict[str, Any], reason: str) -> None:
    server = serve()
    response = server.webhook("events/summary", **kwargs)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_call_event_validation_is_400(serve: Any) -> None:
    server = serve()
    no_leg = {k: v for k, v in call_event().items() if k != "call_id"}
    assert server.webhook("events/call", no_leg).status_code == 400
    assert server.webhook("events/call", call_event("first")).status_code == 400
    assert server.webhook("result/callback", {"command_id": "c"}).status_code == 400
    assert server.store.inbox_stats()["pending"] == 0


def test_a_body_over_the_limit_is_413_by_header_and_by_count(serve: Any) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_request_body_bytes=2_000)
    server = serve(limits=limits)
    big = summary()
    big["padding"] = "x" * 3_000
    assert server.webhook("events/summary", big).status_code == 413

    body = httpx.QueryParams(signed(big)).__str__().encode()

    def chunks() -> Any:  # no Content-Length: sent chunked, counted as it streams
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = server.http.post(
        f"{server.url}/mango_webhook/{API_KEY}/events/summary",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    # the server is fine afterwards, and small events still pass
    assert server.webhook("events/summary", summary()).status_code == 200


# -- ping and other paths ---------------------------------------------------------------------


def test_ping_is_verified_and_not_stored(serve: Any) -> None:
    server = serve()
    assert server.webhook("ping", {}).status_code == 200
    assert server.webhook("ping", form=signed({}, salt="wrong")).status_code == 403
    assert server.store.inbox_stats() == {"pending": 0, "claimed": 0, "done": 0, "failed": 0}


def test_other_mango_events_are_stored_and_acknowledged(serve: Any) -> None:
    server = serve()
    notifications = [
        (
            "events/recording",
            {"entry_id": "e-1", "recording_id": "r-1", "recording_state": "Completed"},
        ),
        ("events/record/added", {"entry_id": "e-1", "data": {"recording_id": "r-1"}}),
        ("events/record/tagged", {"entry_id": "e-1", "recording_id": "r-1", "tags": ["sale"]}),
        ("events/recognized/offline", {"entry_id": "e-1", "recording_id": "r-1", "result": []}),
        ("events/dtmf", {"entry_id": "e-1", "call_id": "c-1", "seq": 1, "dtmf": "5"}),
        ("events/sms", {"command_id": "sms-1", "timestamp": 1700000000, "reason": "1000"}),
        ("result/sms", {"command_id": "sms-1", "result": "1000"}),
        ("result/call/hangup", {"command_id": "h-1", "result": "4101"}),
    ]
    for path, payload in notifications:
        assert server.webhook(path, payload).status_code == 200, path
        assert server.webhook(path, form=signed(payload, salt="wrong")).status_code == 403
    server.settled()
    assert server.store.inbox_stats()["done"] == len(notifications)
    stored = {item.kind for item in server.store.inbox_items("done", limit=20)}
    assert stored == {path for path, _ in notifications}
    assert server.store.find_client_by_variable_value(PHONE) is None


# -- calls as Mango posts them (tests/mango_calls) --------------------------------------------


def _place_the_command(server: Any, sequence: CallSequence, telephony: RecordingTelephony) -> None:
    """The flow places the sequence's command (the client asks for a call), so the client
    holds its command id as Mango's events will name it."""
    command = sequence.command
    if command is None:
        return
    telephony.queue(CallResult(True, 1000, "ok", sequence.command_id))
    text = "группа" if command["path"] == "commands/callback_group" else "позвоните"
    for said in ("привет", text):
        answer = server.http.post(
            f"{server.url}/message", json={"phone": sequence.client, "text": said}
        ).json()
    assert answer["calls"][0]["command_id"] == sequence.command_id
    kind = telephony.last_call.kind if telephony.last_call else None
    assert kind == ("group" if text == "группа" else "employee")


@pytest.mark.parametrize(("sequence", "order"), arrival_cases(), ids=str)
def test_a_call_as_mango_posts_it_reaches_the_client_and_the_flow(
    serve: Any, sequence: CallSequence, order: str
) -> None:
    telephony = RecordingTelephony()
    server = serve(telephony=telephony)
    _place_the_command(server, sequence, telephony)
    for path, payload in sequence.arriving(order):
        response = server.webhook(path, payload)
        assert response.status_code == 200, (path, response.text)
    server.settled()
    variables = server.client_vars(sequence.client)
    expect = sequence.expect
    check_variables(variables, expect["variables"])
    check_legs(variables.get("call_legs"), expect["legs"])
    if expect["callback"] == "answered":
        assert variables["answered_callbacks"] == 1
        assert "missed_callbacks" not in variables
    else:
        assert variables["missed_callbacks"] == 1
        assert variables["last_miss"] == expect["callback"]
        assert "answered_callbacks" not in variables
    assert "other_callbacks" not in variables  # one callback for the call, nothing else
    assert server.store.inbox_stats()["failed"] == 0
    # nobody but the client became a client: not the employee's mobile, not a SIP address
    for _path, payload in sequence.deliveries:
        for side in ("from", "to"):
            number = (payload.get(side) or {}).get("number")
            if number and number != sequence.client:
                assert server.store.find_client_by_variable_value(number) is None, number


def test_a_missed_callback_reaches_the_client_the_command_was_placed_for(serve: Any) -> None:
    """The summary names only the employee (on a mobile) and the client's leg never
    existed: the client is found by the call's entry, learnt from the command's leg."""
    from mango_calls import load

    missed = load("callback_missed_by_employee")
    telephony = RecordingTelephony()
    server = serve(telephony=telephony)
    _place_the_command(server, missed, telephony)
    deliveries = missed.deliveries
    path, summary_payload = deliveries[-1]
    only_employee = {**summary_payload, "from": {"extension": "219"}}
    for delivery_path, payload in [*deliveries[:-1], (path, only_employee)]:
        assert server.webhook(delivery_path, payload).status_code == 200
    server.settled()
    variables = server.client_vars(missed.client)
    assert variables["call_outcome"] == "no_answer"
    assert variables["call_missed_by"] == "employee"
    assert variables["missed_callbacks"] == 1 and variables["last_miss"] == "no_answer"
    assert server.store.find_client_by_variable_value("79161234567") is None


def test_a_failed_call_command_is_reported_to_the_client_who_placed_it(serve: Any) -> None:
    server = serve()
    placed = server.http.post(f"{server.url}/message", json={"phone": PHONE, "text": "позвоните"})
    assert placed.status_code == 200
    command_id = placed.json()["calls"][0]["command_id"]
    assert server.client_vars()["call_command_id"] == command_id
    failure = {"command_id": command_id, "result": "4100"}
    assert server.webhook("result/callback", failure).status_code == 200
    server.settled()
    variables = server.client_vars()
    assert variables["call_outcome"] == "failed"
    assert variables["call_result"] == 4100
    assert variables["missed_callbacks"] == 1


# -- limits and backpressure --------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_over_the_per_key_rate_is_429(serve: Any) -> None:
    clock = _Clock()
    server = serve(
        limits=DEFAULT_LIMITS.with_changes(max_webhook_requests_per_second=2.0), clock=clock
    )
    statuses = [server.webhook("ping", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = server.webhook("events/summary", summary())
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    clock.now += 1.0
    assert server.webhook("events/summary", summary()).status_code == 200
    server.settled()
    assert server.client_vars()["answered_callbacks"] == 1


def test_a_full_backlog_is_503_and_accepted_events_are_kept(serve: Any) -> None:
    server = serve(worker=False, limits=DEFAULT_LIMITS.with_changes(max_inbox_backlog=2))
    assert server.webhook("events/call", call_event(1)).status_code == 200
    assert server.webhook("events/call", call_event(2, "Connected")).status_code == 200
    refused = server.webhook("events/summary", summary())
    assert refused.status_code == 503 and "retry-after" in refused.headers
    assert server.store.inbox_stats()["pending"] == 2
    server.service.worker.start()  # processing resumes: the backlog drains, nothing lost
    server.settled()
    assert server.client_vars()["call_state"] == "Connected"
    assert server.webhook("events/summary", summary()).status_code == 200


def test_a_receive_only_server_sees_another_process_drain_the_backlog(
    serve: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, store_url=f"sqlite:///{tmp_path}/shared.db")
    server = serve(
        config=config, worker=False, limits=DEFAULT_LIMITS.with_changes(max_inbox_backlog=1)
    )
    assert server.webhook("events/call", call_event(1)).status_code == 200
    assert server.webhook("events/call", call_event(2, "Connected")).status_code == 503
    other = open_store(f"sqlite:///{tmp_path}/shared.db")  # another process's worker
    try:
        Worker(StoreGate(other), None, messengers=["whatsapp"]).run_once()
        assert other.inbox_stats()["pending"] == 0
    finally:
        other.close()
    # the receiving server re-counts (at most once a second) and accepts again
    wait_for(lambda: server.webhook("events/call", call_event(2, "Connected")).status_code == 200)


class _FailingInbox:
    """A store whose inbox refuses writes while ``failing`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failing = True

    def inbox_add(self, *args: Any, **kwargs: Any) -> bool:
        if self.failing:
            raise OSError("disk full")
        return self.inner.inbox_add(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failing_store_is_503_never_a_false_200(serve: Any, tmp_path: Path) -> None:
    store = _FailingInbox(open_store("memory://"))
    server = serve(store=store)
    response = server.webhook("events/summary", summary())
    assert response.status_code == 503
    assert store.inner.inbox_stats()["pending"] + store.inner.inbox_stats()["done"] == 0
    store.failing = False
    assert server.webhook("events/summary", summary()).status_code == 200
    server.settled()
    assert server.client_vars()["answered_callbacks"] == 1


def test_health_reports_the_worker_and_backlog(serve: Any) -> None:
    server = serve(worker=False)
    server.webhook("events/summary", summary())
    health = server.http.get(f"{server.url}/health")
    assert health.status_code == 200
    assert health.json()["worker"] == "off"
    wait_for(lambda: server.http.get(f"{server.url}/health").json()["backlog"] == 1)


# -- logs -------------------------------------------------------------------------------------


def test_logs_carry_no_secrets(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve()
    good = signed(summary())
    server.webhook("events/summary", form=good)
    server.webhook("events/summary", form=good)  # duplicate
    server.webhook("events/summary", form=signed(summary(), salt="nope"))  # 403
    server.webhook("events/summary", form=good, key=API_KEY + "x")  # 404
    server.webhook("events/summary", form={"vpbx_api_key": API_KEY, "sign": "s"})  # 400
    server.webhook("ping", {})
    server.http.post(f"{server.url}/message", json={"phone": PHONE, "text": "позвоните"})
    server.settled()
    # the service's own records (the test's HTTP client logs its URLs, key included)
    records = [r for r in caplog.records if r.name.startswith(("botlang", "uvicorn"))]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    assert "event=webhook.rejected" in text  # the rejections were logged...
    assert "event=event.processed" in text
    assert "/mango_webhook/***/events/summary" in text
    for secret in (API_KEY, API_SALT, good["sign"]):
        assert secret not in text  # ...without the key, the salt or a sign
