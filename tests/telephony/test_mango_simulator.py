"""The simulator: Mango's request checks, and call playback to a real webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from botlang.telephony.mango import MangoOffice
from botlang.telephony.signing import encode_payload, sign, signed_form, verify_form
from botlang.telephony.simulator import RATE_LIMIT_BODY, MangoSimulator, serve_app

from .conftest import API_KEY, API_SALT

PHONE = "79004443322"


def post(url: str, path: str, form: dict[str, str]) -> httpx.Response:
    return httpx.post(url + path, data=form, timeout=5.0)


def good(payload: dict[str, Any]) -> dict[str, str]:
    return signed_form(API_KEY, API_SALT, payload)


CALLBACK = {"command_id": "c1", "from": {"extension": "219"}, "to_number": PHONE}


def test_answers_like_mango(sim_url: str, sim: MangoSimulator) -> None:
    response = post(sim_url, "commands/callback", good(CALLBACK))
    assert response.status_code == 200 and response.json() == {"result": 1000}
    assert sim.commands[0].payload == CALLBACK


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"vpbx_api_key": API_KEY, "json": "{}"}, 3103),  # no sign
        ({"sign": "x", "json": "{}"}, 3103),  # no key
        ({**good(CALLBACK), "vpbx_api_key": "other"}, 3105),
        ({**good(CALLBACK), "sign": "0" * 64}, 3102),
        (
            {
                "vpbx_api_key": API_KEY,
                "json": '{"a":1}',
                "sign": sign(API_KEY, '{"a": 1}', API_SALT),  # signed another string
            },
            3102,
        ),
        (
            {"vpbx_api_key": API_KEY, "json": "{oops", "sign": sign(API_KEY, "{oops", API_SALT)},
            3104,
        ),
        ({"vpbx_api_key": API_KEY, "json": "[1]", "sign": sign(API_KEY, "[1]", API_SALT)}, 3104),
        (good({"command_id": "c", "from": {"extension": "219"}}), 3103),
        (good({"command_id": "c", "from": "219", "to_number": PHONE}), 3104),
        (good({"command_id": "c", "from": {"extension": "219"}, "to_number": "12"}), 3200),
        (good({"command_id": "c", "from": "12345", "to": PHONE}), 3103),
    ],
)
def test_request_checks(sim_url: str, form: dict[str, str], code: int) -> None:
    path = "commands/callback_group" if '"to":' in form.get("json", "") else "commands/callback"
    response = post(sim_url, path, form)
    assert response.json() == {"result": code}


def test_not_post_and_unknown_path(sim_url: str) -> None:
    assert httpx.get(sim_url + "commands/callback").json() == {"result": 3101}
    response = post(sim_url, "commands/nope", good({}))
    assert response.status_code == 404 and response.json() == {"result": 4001}


def test_lockout_after_repeated_invalid_requests(sim_url: str, sim: MangoSimulator) -> None:
    bad = {**good(CALLBACK), "sign": "0" * 64}
    assert post(sim_url, "commands/callback", bad).json() == {"result": 3102}
    assert post(sim_url, "commands/callback", bad).json() == {"result": 3102}
    blocked = post(sim_url, "commands/callback", good(CALLBACK))
    assert blocked.status_code == 401
    assert sim.commands == []


def test_rate_limit_body(sim_url: str, sim: MangoSimulator) -> None:
    sim.call_rate_limit = (1, 60.0)
    assert post(sim_url, "commands/callback", good(CALLBACK)).status_code == 200
    limited = post(sim_url, "commands/callback", good(CALLBACK))
    assert limited.status_code == 429 and limited.json() == RATE_LIMIT_BODY
    assert post(sim_url, "groups", good({})).status_code == 200  # general limit not reached


@dataclass
class Receiver:
    """A tiny webhook receiver that verifies every delivery like a real server must."""

    url: str = ""
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [payload for p, payload in self.received if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    import json

    rec = Receiver()

    async def hook(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        path = request.path_params["path"]
        if not verify_form(API_KEY, API_SALT, form):
            with rec.lock:
                rec.bad.append(path)
            return Response(status_code=403)
        assert encode_payload(json.loads(form["json"])) == form["json"]  # compact like Mango
        with rec.lock:
            rec.received.append((path, json.loads(form["json"])))
        return Response("ok")

    app = Starlette(routes=[Route("/mango_webhook/KEY/{path:path}", hook, methods=["POST"])])
    with serve_app(app) as url:
        rec.url = url + "/mango_webhook/KEY"
        yield rec


def test_playback_answered(sim: MangoSimulator, sim_url: str, receiver: Receiver) -> None:
    sim.webhook_url = receiver.url
    client = MangoOffice(API_KEY, API_SALT, sim_url)
    result = client.employee_call("219", PHONE)
    assert result.ok
    assert sim.wait_idle(5.0)
    client.close()
    assert receiver.bad == []
    assert all(d.status == 200 for d in sim.deliveries)
    assert receiver.of("result/callback") == [{"command_id": result.command_id, "result": 1000}]
    events = receiver.of("events/call")
    assert [e["call_state"] for e in events] == ["Appeared", "Connected", "Disconnected"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert len({e["entry_id"] for e in events}) == 1 and len({e["call_id"] for e in events}) == 1
    assert all(e["command_id"] == result.command_id for e in events)
    assert events[0]["from"] == {"extension": "219"} and events[0]["to"]["number"] == PHONE
    assert events[-1]["disconnect_reason"] == 1100
    assert "disconnect_reason" not in events[0]
    (summary,) = receiver.of("events/summary")
    assert summary["entry_id"] == events[0]["entry_id"]
    assert summary["disconnect_reason"] == 1100 and summary["entry_result"] == 1
    assert summary["talk_time"] > 0 and summary["end_time"] > summary["talk_time"]
    assert summary["to"] == {"number": PHONE}
    assert [p for p, _ in receiver.received][-1] == "events/summary"  # the final word


def test_playback_busy_for_one_number(
    sim: MangoSimulator, sim_url: str, receiver: Receiver
) -> None:
    sim.webhook_url = receiver.url
    sim.set_outcome("busy", phone=PHONE)
    client = MangoOffice(API_KEY, API_SALT, sim_url)
    assert client.group_call("12345", "74992262961", PHONE).ok
    assert client.employee_call("219", "79005556677").ok
    assert sim.wait_idle(5.0)
    client.close()
    summaries = {s["to"]["number"]: s for s in receiver.of("events/summary")}
    assert summaries[PHONE]["disconnect_reason"] == 1121
    assert summaries[PHONE]["talk_time"] == 0 and summaries[PHONE]["entry_result"] == 0
    assert summaries["79005556677"]["disconnect_reason"] == 1100
    busy_events = [e for e in receiver.of("events/call") if e["to"]["number"] == PHONE]
    assert [e["call_state"] for e in busy_events] == ["Appeared", "Disconnected"]
    assert busy_events[0]["to"]["acd_group"] == "12345"
    assert receiver.of("result/callback_group")


def test_playback_out_of_order(sim: MangoSimulator, sim_url: str, receiver: Receiver) -> None:
    sim.webhook_url = receiver.url
    sim.shuffle_events = True
    sim.set_outcome("no-answer")
    post(sim_url, "commands/callback", good(CALLBACK))
    assert sim.wait_idle(5.0)
    events = sorted(receiver.of("events/call"), key=lambda e: e["seq"])
    assert [e["call_state"] for e in events] == ["Appeared", "Disconnected"]
    assert events[-1]["disconnect_reason"] == 1111


def test_failed_delivery_is_recorded(sim: MangoSimulator, sim_url: str) -> None:
    with serve_app(Starlette()) as url:
        pass  # nothing listens there any more
    sim.webhook_url = url
    post(sim_url, "commands/callback", good(CALLBACK))
    assert sim.wait_idle(5.0)
    assert sim.deliveries and all(d.status is None and d.error for d in sim.deliveries)
