"""The recording fake: what it records and how it is told outcomes."""

from __future__ import annotations

from botlang.telephony import CallResult, RecordingTelephony, Telephony, codes

from .conftest import FakeClock

PHONE = "79004443322"


def test_is_a_telephony_and_records_calls(clock: FakeClock) -> None:
    tel = RecordingTelephony(clock=clock)
    assert isinstance(tel, Telephony)
    first = tel.employee_call("219", PHONE)
    clock.advance(5)
    second = tel.group_call("12345", "74992262961", PHONE)
    assert first.ok and first.result == 1000 and first.command_id == "rec-1"
    assert second.command_id == "rec-2"
    assert [c.kind for c in tel.calls] == ["employee", "group"]
    assert tel.calls[0].args == {"extension": "219", "phone": PHONE}
    assert tel.calls[0].time == 1000.0 and tel.calls[1].time == 1005.0
    assert tel.calls[1].group == "12345" and tel.calls[1].line_number == "74992262961"
    assert tel.calls[1].result == second
    assert tel.employee_calls == tel.calls[:1] and tel.group_calls == tel.calls[1:]
    assert tel.last_call is tel.calls[1]
    assert tel.calls[0].as_dict()["result"] == 1000


def test_default_result() -> None:
    tel = RecordingTelephony(result=1121)
    busy = tel.employee_call("219", PHONE)
    assert busy == CallResult(False, 1121, codes.CODES[1121], "rec-1")
    assert busy.as_dict() == {
        "ok": False,
        "result": 1121,
        "message": codes.CODES[1121],
        "command_id": "rec-1",
    }
    tel.set_result("answered")
    assert tel.employee_call("219", PHONE).result == 1100


def test_queue_then_per_phone_then_default() -> None:
    tel = RecordingTelephony()
    tel.set_result("no-answer", phone="+7 (900) 444-33-22")
    tel.queue("busy", CallResult(False, 5000, "down", "fixed-id"))
    assert tel.employee_call("219", "79005556677").result == 1121  # queued first
    assert tel.employee_call("219", PHONE).command_id == "fixed-id"
    assert tel.employee_call("219", PHONE).result == 1111  # per phone
    assert tel.employee_call("219", "79005556677").result == 1000  # default
    tel.clear()
    assert tel.calls == []


def test_optional_capabilities() -> None:
    tel = RecordingTelephony(users=[{"telephony": {"extension": "219"}}])
    assert tel.hangup("call-1").ok
    assert tel.send_sms("219", PHONE, "hi").ok
    assert [c.kind for c in tel.calls] == ["hangup", "sms"]
    assert tel.users() == [{"telephony": {"extension": "219"}}] and tel.groups() == []


def test_call_result_from_code_and_mapping() -> None:
    assert CallResult.from_code("1000").ok
    assert CallResult.from_code(2219).message == codes.CODES[2210]
    data = CallResult(True, 1000, "ok", "id").as_dict()
    assert CallResult.from_mapping(data) == CallResult(True, 1000, "ok", "id")
