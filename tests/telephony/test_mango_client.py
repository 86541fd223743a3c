"""MangoOffice against the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import pickle
import time

import httpx
import pytest

from botlang.telephony import GuardedTelephony, SpamGuard, Telephony
from botlang.telephony.mango import MangoError, MangoOffice, RateLimits
from botlang.telephony.signing import encode_payload, sign
from botlang.telephony.simulator import MangoSimulator

from .conftest import API_KEY, API_SALT, FakeClock

PHONE = "79004443322"
LINE = "74992262961"


def wait_for(predicate, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_employee_call_end_to_end(mango: MangoOffice, sim: MangoSimulator) -> None:
    assert isinstance(mango, Telephony)
    result = mango.employee_call("219", "+7 (900) 444-33-22")
    assert result.ok and result.result == 1000
    assert result.command_id and result.command_id.startswith("botlang-")
    (request,) = sim.requests
    assert request.method == "POST" and request.path == "commands/callback"
    assert request.payload == {
        "command_id": result.command_id,
        "from": {"extension": "219"},
        "to_number": PHONE,
    }
    # signed over the exact compact json that was sent
    assert request.form["json"] == encode_payload(request.payload)
    assert request.form["sign"] == sign(API_KEY, request.form["json"], API_SALT)
    assert request.form["vpbx_api_key"] == API_KEY


def test_group_call_end_to_end(mango: MangoOffice, sim: MangoSimulator) -> None:
    result = mango.group_call("12345", LINE, "8 900 444 33 22")
    assert result.ok
    (request,) = sim.commands
    assert request.path == "commands/callback_group"
    assert request.payload == {
        "command_id": result.command_id,
        "from": "12345",
        "to": PHONE,
        "line_number": LINE,
    }


def test_fresh_command_id_per_command(mango: MangoOffice, sim: MangoSimulator) -> None:
    ids = {mango.employee_call("219", PHONE).command_id for _ in range(3)}
    assert len(ids) == 3
    assert {r.payload["command_id"] for r in sim.requests if r.payload} == ids


def test_result_as_string_is_accepted(mango: MangoOffice, sim: MangoSimulator) -> None:
    sim.result_as_string = True
    assert mango.employee_call("219", PHONE).result == 1000
    assert mango.groups()[0]["extension"] == "12345"


def test_invalid_phone_makes_no_request(mango: MangoOffice, sim: MangoSimulator) -> None:
    result = mango.employee_call("219", "12-34")
    assert (result.ok, result.result, result.command_id) == (False, 3200, None)
    assert "too short" in result.message
    assert mango.group_call("12345", LINE, "call me").result == 3200
    assert sim.requests == []


def test_bad_sign_then_lockout(sim: MangoSimulator, sim_url: str, clock: FakeClock) -> None:
    client = MangoOffice(API_KEY, "wrong-salt", sim_url, clock=clock, sleep=clock.sleep)
    bad = client.employee_call("219", PHONE)
    assert (bad.ok, bad.result) == (False, 3102)
    assert "check the api key and salt" in bad.message and "paused for 120 s" in bad.message
    # during the lockout window nothing reaches the API
    for _ in range(3):
        paused = client.employee_call("219", PHONE)
        assert paused.result == 4500 and paused.command_id is None
        assert "paused" in paused.message and "result 3102" in paused.message
    assert client.group_call("12345", LINE, PHONE).result == 4500
    assert len(sim.requests) == 1
    assert client.locked_out_for == 120
    clock.advance(120)
    assert client.employee_call("219", PHONE).result == 3102  # sent again after the window
    assert len(sim.requests) == 2
    client.close()


def test_bad_key(sim: MangoSimulator, sim_url: str, clock: FakeClock) -> None:
    client = MangoOffice("not-our-key", API_SALT, sim_url, clock=clock, sleep=clock.sleep)
    assert client.employee_call("219", PHONE).result == 3105
    assert client.employee_call("219", PHONE).result == 4500
    assert len(sim.requests) == 1
    client.reset_lockout()
    assert client.locked_out_for == 0
    client.close()


def test_http_401_locks_out(mango: MangoOffice, sim: MangoSimulator) -> None:
    sim.fail_next(401, body={"name": "Unauthorized", "status": 401})
    result = mango.employee_call("219", PHONE)
    assert result.result == 4500 and "HTTP 401" in result.message
    assert mango.employee_call("219", PHONE).result == 4500
    assert len(sim.requests) == 1


def test_http_429_is_not_retried_and_pauses(
    mango: MangoOffice, sim: MangoSimulator, clock: FakeClock
) -> None:
    sim.fail_next(429)
    result = mango.employee_call("219", PHONE)
    assert (result.ok, result.result) == (False, 4290)
    assert "HTTP 429" in result.message and "not executed" in result.message
    assert len(sim.requests) == 1 and sim.requests[0].status == 429
    # the next request waits out the pause (1 s without Retry-After) instead of hammering
    assert mango.employee_call("219", PHONE).ok
    assert sum(clock.sleeps) == pytest.approx(1.0)
    assert len(sim.requests) == 2


def test_simulator_rate_limit_gives_429(sim: MangoSimulator, sim_url: str) -> None:
    sim.rate_limit = (2, 60.0)
    client = MangoOffice(API_KEY, API_SALT, sim_url, rate_limits=None)
    assert [client.employee_call("219", PHONE).result for _ in range(3)] == [1000, 1000, 4290]
    assert sim.requests[-1].status == 429
    # a 429 pause longer than max wait refuses without sending
    assert client.employee_call("219", PHONE).result == 4290
    assert len(sim.requests) == 3
    client.close()


def test_client_side_rate_limit_spaces_calls(
    sim: MangoSimulator, sim_url: str, clock: FakeClock
) -> None:
    sim.call_rate_limit = None
    client = MangoOffice(API_KEY, API_SALT, sim_url, clock=clock, sleep=clock.sleep)
    results = [client.employee_call("219", PHONE).result for _ in range(6)]
    assert results == [1000] * 6
    assert clock.sleeps == [pytest.approx(1.0)]  # the 5th call waited for the 4/s window
    assert len(sim.requests) == 6
    client.close()


def test_client_side_rate_limit_refuses_when_wait_too_long(
    sim: MangoSimulator, sim_url: str, clock: FakeClock
) -> None:
    sim.call_rate_limit = None
    client = MangoOffice(
        API_KEY,
        API_SALT,
        sim_url,
        rate_limits=RateLimits(max_wait=0.0),
        clock=clock,
        sleep=clock.sleep,
    )
    results = [client.employee_call("219", PHONE) for _ in range(5)]
    assert [r.result for r in results] == [1000] * 4 + [4290]
    assert "client-side rate limit" in results[-1].message and results[-1].command_id is None
    assert len(sim.requests) == 4
    clock.advance(1.0)
    assert client.employee_call("219", PHONE).ok
    client.close()


def test_timeout_is_not_retried(sim: MangoSimulator, sim_url: str) -> None:
    client = MangoOffice(API_KEY, API_SALT, sim_url, timeout=0.1)
    sim.delay_next(0.3)
    result = client.employee_call("219", PHONE)
    assert (result.ok, result.result) == (False, 5000)
    assert "may or may not have been placed" in result.message
    assert "within 0.1 s" in result.message and "not retried" in result.message
    assert result.command_id is not None  # it was sent: the id can be matched to webhooks
    wait_for(lambda: len(sim.requests) == 1)  # the slow request still executed
    time.sleep(0.1)
    assert len(sim.requests) == 1  # and was sent exactly once
    assert sim.requests[0].payload["command_id"] == result.command_id  # type: ignore[index]
    client.close()


def test_5xx_is_not_retried(mango: MangoOffice, sim: MangoSimulator) -> None:
    sim.fail_next(503)
    result = mango.group_call("12345", LINE, PHONE)
    assert (result.ok, result.result) == (False, 5000)
    assert "HTTP 503" in result.message and "may or may not have been placed" in result.message
    assert len(sim.requests) == 1
    sim.fail_next(500, body={"result": 5003})
    assert mango.employee_call("219", PHONE).result == 5003
    assert mango.employee_call("219", PHONE).ok  # no lockout after a server error


def test_connection_refused_says_nothing_was_sent() -> None:
    with MangoSimulator().serve() as url:
        pass  # the port is closed again
    client = MangoOffice(API_KEY, API_SALT, url, timeout=1.0)
    result = client.employee_call("219", PHONE)
    assert result.result == 5000 and result.command_id is None
    assert "nothing was sent" in result.message
    client.close()


def test_directory(mango: MangoOffice) -> None:
    users = mango.users()
    assert {u["telephony"]["extension"] for u in users} == {"219", "101"}
    assert mango.employee_exists("219") and mango.employee_exists(219)
    assert not mango.employee_exists("999")
    assert mango.group_exists("12345") and not mango.group_exists("54321")


def test_directory_error_raises(mango: MangoOffice, sim: MangoSimulator) -> None:
    sim.fail_next(503)
    with pytest.raises(MangoError) as info:
        mango.groups()
    assert info.value.result == 5000


def test_hangup_and_sms(mango: MangoOffice, sim: MangoSimulator) -> None:
    assert mango.hangup("call-1").ok
    assert mango.send_sms("219", PHONE, "Здравствуйте!").ok
    assert mango.send_sms("219", PHONE, "я" * 269).result == 3104
    assert [r.path for r in sim.requests] == ["commands/call/hangup", "commands/sms"]


def test_guarded_mango(mango: MangoOffice, sim: MangoSimulator) -> None:
    tel = GuardedTelephony(mango, SpamGuard())
    assert tel.group_call(12345, 74992262961, PHONE).ok
    refused = tel.group_call("12345", LINE, PHONE)
    assert refused.result == 4501
    assert tel.employee_call("219", "not a phone").result == 3200
    assert len(sim.requests) == 1


def test_salt_never_shows(
    sim: MangoSimulator, sim_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = MangoOffice(API_KEY, API_SALT, sim_url, timeout=0.2, clock=clock, sleep=clock.sleep)
    texts = [repr(client), str(client), repr(vars(client))]
    results = [client.employee_call("219", PHONE), client.users()]
    sim.fail_next(503)
    results.append(client.employee_call("219", PHONE))
    sim.fail_next(429)
    results.append(client.employee_call("219", PHONE))
    sim.delay_next(0.3)
    results.append(client.employee_call("219", PHONE))
    sim.fail_next(503)
    with pytest.raises(MangoError) as info:
        client.groups()
    texts.append(str(info.value))
    bad = MangoOffice(API_KEY, API_SALT + "x", sim_url, clock=clock, sleep=clock.sleep)
    results += [bad.employee_call("219", PHONE), bad.employee_call("219", PHONE)]
    texts += [repr(bad), repr(results), repr(GuardedTelephony(client))]
    with pytest.raises(TypeError) as pickled:
        pickle.dumps(client)
    texts.append(str(pickled.value))
    closed = MangoOffice(API_KEY, API_SALT, "http://127.0.0.1:9/", timeout=0.2)
    texts.append(repr(closed.employee_call("219", PHONE)))
    for client_ in (client, bad, closed):
        client_.close()
    texts.append(caplog.text)
    assert caplog.records  # something was logged
    for text in texts:
        assert API_SALT not in text
    assert API_KEY not in repr(client)


def test_constructor_needs_secrets() -> None:
    with pytest.raises(ValueError, match="api key and an api salt"):
        MangoOffice("", "salt")


def test_transport_is_injectable() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"result": "1000"})

    client = MangoOffice(API_KEY, API_SALT, transport=httpx.MockTransport(handler))
    assert client.employee_call("219", PHONE).ok
    assert str(seen[0].url) == "https://app.mango-office.ru/vpbx/commands/callback"
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"
    client.close()
