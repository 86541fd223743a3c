"""The simulator: Mango's request checks, and call playback to a real webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from mango_calls import PLACED, CallSequence, shape
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
    employee_leg, client_leg = events[0]["call_id"], events[2]["call_id"]
    assert [(e["call_id"], e["seq"], e["call_state"]) for e in events] == [
        (employee_leg, 1, "Appeared"),
        (employee_leg, 2, "Connected"),
        (client_leg, 1, "Appeared"),
        (employee_leg, 3, "Disconnected"),
        (client_leg, 2, "Connected"),
        (client_leg, 3, "Disconnected"),
    ]
    assert len({e["entry_id"] for e in events}) == 1
    assert all(e["command_id"] == result.command_id for e in events)
    assert all(e["callback_initiator"] == "API" for e in events)
    # leg 1 rings the employee on the client's behalf; leg 2 is taken from it
    assert events[0]["from"] == {"number": PHONE}
    assert events[0]["to"]["extension"] == "219" and events[0]["to"]["number"].startswith("sip:")
    assert events[2]["from"]["taken_from_call_id"] == employee_leg
    assert events[2]["to"] == {"number": PHONE, "line_number": "74992262961"}
    assert events[3]["disconnect_reason"] == "1000"
    assert events[-1]["disconnect_reason"] == 1100
    (summary,) = receiver.of("events/summary")
    assert summary["entry_id"] == events[0]["entry_id"]
    assert summary["disconnect_reason"] == 1100 and summary["entry_result"] == 1
    assert summary["talk_time"] > 0 and summary["end_time"] - summary["talk_time"] == 30
    assert summary["to"] == {"number": PHONE} and summary["from"]["extension"] == "219"
    recording = receiver.of("events/recording")
    assert [r["recording_state"] for r in recording] == ["Started", "Completed"]
    (added,) = receiver.of("events/record/added")
    assert added["recording_id"] == recording[0]["recording_id"]
    paths = [p for p, _ in receiver.received]
    assert paths.index("events/summary") > max(i for i, p in enumerate(paths) if p == "events/call")
    assert paths[-1] == "events/record/added"


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
    to_client = [e for e in receiver.of("events/call") if e["to"].get("number") == PHONE]
    assert [e["call_state"] for e in to_client] == ["Appeared", "Disconnected"]
    assert to_client[-1]["disconnect_reason"] == "1121"
    operators = [e for e in receiver.of("events/call") if e["to"].get("acd_group") == "12345"]
    assert {e["to"]["extension"] for e in operators} == {"219", "101"}
    assert receiver.of("result/callback_group")
    assert not [r for r in receiver.of("events/recording") if r["entry_id"] == to_client[0]]


def test_the_employee_missing_the_call_means_the_client_is_never_dialled(
    sim: MangoSimulator, sim_url: str, receiver: Receiver
) -> None:
    sim.webhook_url = receiver.url
    sim.set_employee_outcome("busy", extension="219")
    post(sim_url, "commands/callback", good(CALLBACK))
    assert sim.wait_idle(5.0)
    events = receiver.of("events/call")
    assert [(e["call_state"], e.get("disconnect_reason")) for e in events] == [
        ("Appeared", None),
        ("Disconnected", "1121"),
    ]
    assert all(e["to"]["extension"] == "219" for e in events)
    (summary,) = receiver.of("events/summary")
    assert summary["to"]["extension"] == "219"  # the first party that missed the call
    assert (summary["talk_time"], summary["forward_time"], summary["disconnect_reason"]) == (
        0,
        0,
        1121,
    )
    assert receiver.of("events/recording") == []


@pytest.mark.parametrize("delivery", ["parallel", "shuffled"])
def test_playback_out_of_order(
    sim: MangoSimulator, sim_url: str, receiver: Receiver, delivery: str
) -> None:
    sim.webhook_url = receiver.url
    sim.delivery = delivery
    post(sim_url, "commands/callback", good(CALLBACK))
    assert sim.wait_idle(5.0)
    events = sorted(receiver.of("events/call"), key=lambda e: (e["call_id"], e["seq"]))
    assert len(events) == 6
    paths = [p for p, _ in receiver.received]
    assert paths[0] == "result/callback"
    assert paths.index("events/summary") > max(i for i, p in enumerate(paths) if p == "events/call")
    if delivery == "parallel":  # each leg's own events stay in order
        for leg in {e["call_id"] for e in events}:
            seqs = [e["seq"] for e in receiver.of("events/call") if e["call_id"] == leg]
            assert seqs == sorted(seqs)


def test_an_unknown_delivery_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="delivery"):
        MangoSimulator(delivery="sometimes")


# -- the simulator against the sequences written from the spec (tests/mango_calls) -----------

# How each sequence's sides end, and who the VPBX knows, for the simulator to play it.
SETUPS: dict[str, dict[str, Any]] = {
    "callback_answered": {"client": 1120},
    "callback_missed_by_employee": {
        "employees": {"219": "no-answer"},
        "numbers": {"219": "79161234567"},
    },
    "callback_missed_by_client": {"client": "busy"},
    "group_callback_answered": {"client": 1110, "employees": {"219": "no-answer"}},
    "group_callback_missed": {"employees": {"219": "no-answer", "101": "no-answer"}},
}


def _play(sim: MangoSimulator, sim_url: str, receiver: Receiver, sequence: CallSequence) -> None:
    setup = SETUPS[sequence.name]
    sim.webhook_url = receiver.url
    sim.record_calls = any(path == "events/recording" for path, _ in sequence.deliveries)
    if "client" in setup:
        sim.set_outcome(setup["client"], phone=sequence.client)
    for extension, outcome in setup.get("employees", {}).items():
        sim.set_employee_outcome(outcome, extension=extension)
    for extension, number in setup.get("numbers", {}).items():
        for user in sim.users:
            if user["telephony"]["extension"] == extension:
                user["telephony"] = {**user["telephony"], "numbers": [{"number": number}]}
    command = sequence.command
    assert command is not None
    assert post(sim_url, command["path"], good(command["json"])).json() == {"result": 1000}
    assert sim.wait_idle(5.0)
    assert receiver.bad == []


def test_every_placed_sequence_has_a_setup() -> None:
    assert sorted(SETUPS) == sorted(s.name for s in PLACED)


@pytest.mark.parametrize("sequence", PLACED, ids=str)
def test_the_simulator_plays_each_call_as_the_spec_does(
    sim: MangoSimulator, sim_url: str, receiver: Receiver, sequence: CallSequence
) -> None:
    _play(sim, sim_url, receiver, sequence)
    assert shape(receiver.received) == shape(sequence.deliveries)


@pytest.mark.parametrize("sequence", PLACED, ids=str)
def test_the_simulator_in_parallel_posts_the_same_events(
    sim: MangoSimulator, sim_url: str, receiver: Receiver, sequence: CallSequence
) -> None:
    sim.delivery = "parallel"
    _play(sim, sim_url, receiver, sequence)
    assert sorted(map(repr, shape(receiver.received))) == sorted(
        map(repr, shape(sequence.deliveries))
    )


def test_failed_delivery_is_recorded(sim: MangoSimulator, sim_url: str) -> None:
    with serve_app(Starlette()) as url:
        pass  # nothing listens there any more
    sim.webhook_url = url
    post(sim_url, "commands/callback", good(CALLBACK))
    assert sim.wait_idle(5.0)
    assert sim.deliveries and all(d.status is None and d.error for d in sim.deliveries)


def test_changing_one_simulators_directory_leaves_the_defaults_alone() -> None:
    first = MangoSimulator()
    first.users[0]["telephony"]["numbers"] = [{"number": "79161234567"}]
    first.groups[0]["operators"].append({"extension": "555"})
    second = MangoSimulator()
    assert (
        "numbers" not in second.users[0]["telephony"] or not second.users[0]["telephony"]["numbers"]
    )
    assert {"extension": "555"} not in second.groups[0]["operators"]
