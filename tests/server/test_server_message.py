"""``POST /message``: a client's text in, the bot's answers out; the bearer token."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from server_testkit import PHONE, make_config

from botlang.config import parse_config
from botlang.core.limits import DEFAULT_LIMITS
from botlang.telephony import RecordingTelephony


def post(server: Any, body: Any = None, **kwargs: Any) -> Any:
    if body is not None:
        kwargs["json"] = body
    return server.http.post(f"{server.url}/message", **kwargs)


def test_a_new_phone_becomes_a_client_and_gets_the_first_block(serve: Any) -> None:
    server = serve()
    response = post(server, {"phone": "+7 (900) 444-33-22", "text": "привет", "name": "Анна"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["created"] is True
    assert answer["block"] == "start"
    assert answer["messages"][0].startswith("Здравствуйте!")
    assert answer["errors"] == [] and answer["undelivered"] == []
    again = post(server, {"client_id": answer["client_id"], "text": "позвоните"}).json()
    assert again["created"] is False
    assert again["block"] == "call_employee"
    assert again["messages"] == ["Соединяю с менеджером"]
    assert again["calls"][0]["extension"] == "219"
    assert again["calls"][0]["phone"] == PHONE


def test_buttons_are_in_the_answer_and_a_press_comes_back_as_the_label(serve: Any) -> None:
    server = serve()
    answer = post(server, {"phone": PHONE, "text": "привет"}).json()
    (reply,) = answer["replies"]
    assert reply["text"] == answer["messages"][0] and reply["block"] == "start"
    assert reply["buttons"] == [
        [{"text": "позвоните", "action": "message"}],
        [{"text": "группа", "action": "message"}],
    ]
    assert reply["keyboard"] == "reply" and answer["orders"] == []
    label = reply["buttons"][1][0]["text"]
    pressed = post(server, {"client_id": answer["client_id"], "text": label}).json()
    assert pressed["block"] == "call_group"


def test_the_call_goes_through_the_configured_telephony(serve: Any) -> None:
    telephony = RecordingTelephony(result="busy")
    server = serve(telephony=telephony)
    post(server, {"phone": PHONE, "text": "привет"})
    answer = post(server, {"phone": PHONE, "text": "группа"}).json()
    assert answer["messages"][0].startswith("Не удалось позвонить")
    (call,) = telephony.group_calls
    assert (call.group, call.line_number, call.phone) == ("12345", "74992262961", PHONE)


def test_a_telephony_only_client_gets_nothing_written(serve: Any, tmp_path: Path) -> None:
    server = serve(config=make_config(tmp_path, messengers=()))
    answer = post(server, {"phone": PHONE, "text": "привет"}).json()
    assert answer["messages"] == []
    assert answer["undelivered"] and "telephony-only" in answer["errors"][0]


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"content": b"{oops"}, 400, "JSON"),
        ({"json": ["phone", "text"]}, 400, "object"),
        ({"json": {"text": "hi"}}, 400, "exactly one"),
        ({"json": {"phone": PHONE, "client_id": "1", "text": "hi"}}, 400, "exactly one"),
        ({"json": {"phone": PHONE}}, 400, "'text'"),
        ({"json": {"phone": PHONE, "text": 5}}, 400, "'text'"),
        ({"json": {"phone": ["7"], "text": "hi"}}, 400, "'phone'"),
        ({"json": {"phone": "12", "text": "hi"}}, 400, "phone"),
        ({"json": {"client_id": "424242", "text": "hi"}}, 404, "no client"),
        ({"json": {"phone": PHONE, "text": "hi", "name": 3}}, 400, "'name'"),
    ],
)
def test_bad_messages(serve: Any, kwargs: dict[str, Any], status: int, reason: str) -> None:
    server = serve()
    response = post(server, **kwargs)
    assert response.status_code == status
    assert reason in response.json()["error"]


def test_size_limits(serve: Any) -> None:
    limits = DEFAULT_LIMITS.with_changes(max_message_chars=10, max_request_body_bytes=200)
    server = serve(limits=limits)
    assert post(server, {"phone": PHONE, "text": "x" * 11}).status_code == 413
    assert post(server, {"phone": PHONE, "text": "x" * 300}).status_code == 413
    assert post(server, {"phone": PHONE, "text": "x" * 10}).status_code == 200


def test_too_many_turns_at_once_is_503(serve: Any) -> None:
    server = serve(limits=DEFAULT_LIMITS.with_changes(max_concurrent_messages=1))
    slots = server.service.message_slots
    assert slots.acquire(blocking=False)  # a turn in progress
    try:
        busy = post(server, {"phone": PHONE, "text": "привет"})
        assert busy.status_code == 503 and "retry-after" in busy.headers
    finally:
        slots.release()
    assert post(server, {"phone": PHONE, "text": "привет"}).status_code == 200


TOKEN = "msg-token-0123456789abcdef"


def with_token(folder: Path) -> Any:
    config = make_config(folder)
    data = config.model_dump(mode="python", exclude={"server", "mango", "guard"})
    data["project"]["flow"] = str(data["project"]["flow"])
    data["server"] = {"message_token_env": "TEST_MESSAGE_TOKEN"}
    return parse_config(data, base=folder, env={"TEST_MESSAGE_TOKEN": TOKEN})


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_a_message_token_is_required_when_set(
    serve: Any, tmp_path: Path, authorization: str | None
) -> None:
    server = serve(config=with_token(tmp_path))
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post(server, {"phone": PHONE, "text": "привет"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text


def test_the_right_token_is_let_in(
    serve: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botlang.server")
    server = serve(config=with_token(tmp_path))
    for scheme in ("Bearer", "bearer"):
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        response = post(server, {"phone": PHONE, "text": "привет"}, headers=headers)
        assert response.status_code == 200
    assert post(server, {"phone": PHONE, "text": "привет"}).status_code == 401
    lines = [r.getMessage() for r in caplog.records]
    assert not any("message.unauthenticated" in line for line in lines)
    assert any("message.rejected" in line for line in lines)
    assert not any(TOKEN in line for line in lines)


def test_without_a_token_the_endpoint_is_open_and_says_so(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="botlang.server")
    server = serve()
    assert post(server, {"phone": PHONE, "text": "привет"}).status_code == 200
    warnings = [r for r in caplog.records if "message.unauthenticated" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
