"""place_call: each call method from the client card."""

from __future__ import annotations

from types import SimpleNamespace

from botlang.clients.card import CallOutcome, place_call
from botlang.config import EmployeeConfig
from botlang.store.base import ClientRecord
from botlang.telephony import RecordingTelephony

CLIENT = ClientRecord(client_id="7", client_type=13, phone="79004443322", created_at=0.0)


def employee(call_method: str, extension: str | None = "219") -> EmployeeConfig:
    return EmployeeConfig(name="Иван", extension=extension, call_method=call_method)  # type: ignore[arg-type]


def test_disabled_is_refused() -> None:
    telephony = RecordingTelephony()
    outcome = place_call(employee("disabled"), CLIENT, telephony)
    assert outcome == CallOutcome("disabled", False, "employee 'Иван' has calls disabled")
    assert telephony.calls == []


def test_app_gives_a_tel_link() -> None:
    telephony = RecordingTelephony()
    outcome = place_call(employee("app", extension=None), CLIENT, telephony)
    assert outcome.ok
    assert outcome.link == "tel:+79004443322"
    assert outcome.result is None
    assert telephony.calls == []


def test_app_normalises_the_number() -> None:
    client = ClientRecord("8", 6, "8 (900) 444-33-22", 0.0, "whatsapp")
    assert place_call(employee("app"), client).link == "tel:+79004443322"


def test_mango_api_calls_the_employee_first() -> None:
    telephony = RecordingTelephony()
    outcome = place_call(employee("mango_api"), CLIENT, telephony)
    assert outcome.ok and outcome.method == "mango_api"
    assert outcome.result is not None and outcome.result.result == 1000
    (call,) = telephony.calls
    assert (call.kind, call.extension, call.phone) == ("employee", "219", "79004443322")
    assert outcome.as_dict()["result"]["command_id"] == call.result.command_id


def test_mango_api_reports_a_failed_call() -> None:
    telephony = RecordingTelephony(result=1121)
    outcome = place_call(employee("mango_api"), CLIENT, telephony)
    assert not outcome.ok
    assert outcome.result is not None and outcome.result.result == 1121
    assert outcome.message == outcome.result.message


def test_mango_api_with_an_invalid_number_never_calls() -> None:
    telephony = RecordingTelephony()
    client = ClientRecord("9", 13, "12345", 0.0)
    outcome = place_call(employee("mango_api"), client, telephony)
    assert not outcome.ok
    assert outcome.result is not None and outcome.result.result == 3200
    assert telephony.calls == []


def test_refusals_say_why() -> None:
    no_phone = ClientRecord("10", 1, None, 0.0, "telegram")
    assert "no phone number" in place_call(employee("app"), no_phone).message
    assert "no telephony" in place_call(employee("mango_api"), CLIENT, None).message
    # The configuration refuses this; place_call also takes any object with the three fields.
    unchecked = SimpleNamespace(name="Иван", extension=None, call_method="mango_api")
    no_extension = place_call(unchecked, CLIENT, RecordingTelephony())
    assert not no_extension.ok and "no extension" in no_extension.message
    assert "invalid" not in place_call(employee("app"), CLIENT).message
