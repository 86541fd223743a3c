"""mango_employee_call / mango_group_call from botlang scripts."""

from __future__ import annotations

import botlang.stdlib.telephony
import pytest

import botlang
from botlang.telephony import GuardedTelephony, RecordingTelephony, SpamGuard
from botlang.telephony.mango import MangoOffice
from botlang.telephony.simulator import MangoSimulator

from .conftest import API_KEY, API_SALT, FakeClock

SCRIPT = """
a = mango_employee_call("219", phone)
b = mango_group_call("12345", "74992262961", phone)
"""


def test_both_builtins_end_to_end_over_http(
    sim: MangoSimulator, sim_url: str, clock: FakeClock
) -> None:
    mango = MangoOffice(API_KEY, API_SALT, sim_url, clock=clock, sleep=clock.sleep)
    out = botlang.run(SCRIPT, {"phone": "+7 (900) 444-33-22"}, telephony=mango)
    mango.close()
    a, b = out["a"], out["b"]
    assert set(a) == {"ok", "result", "message", "command_id"}
    assert a["ok"] is True and a["result"] == 1000 and b["ok"] is True
    employee, group = sim.commands
    assert employee.path == "commands/callback" and group.path == "commands/callback_group"
    assert employee.payload == {
        "command_id": a["command_id"],
        "from": {"extension": "219"},
        "to_number": "79004443322",
    }
    assert group.payload == {
        "command_id": b["command_id"],
        "from": "12345",
        "to": "79004443322",
        "line_number": "74992262961",
    }


def test_numbers_may_be_given_as_numbers() -> None:
    tel = RecordingTelephony()
    out = botlang.run(
        "r = mango_employee_call(219, 89004443322)\ng = mango_group_call(12345, 74992262961, p)",
        {"p": 79005556677},
        telephony=tel,
    )
    assert out["r"]["ok"] and out["g"]["ok"]
    assert tel.calls[0].args == {"extension": "219", "phone": "79004443322"}
    assert tel.calls[1].args == {
        "group": "12345",
        "line_number": "74992262961",
        "phone": "79005556677",
    }


def test_script_reads_the_result() -> None:
    tel = RecordingTelephony()
    tel.queue("busy")
    out = botlang.run(
        'r = mango_employee_call("219", "79004443322")\nbusy = r["result"] == 1121\nok = r["ok"]',
        telephony=tel,
    )
    assert out["busy"] is True and out["ok"] is False
    assert "занято" in out["r"]["message"]


def test_invalid_phone_gives_3200_without_a_call() -> None:
    tel = RecordingTelephony()
    out = botlang.run('r = mango_employee_call("219", "call me maybe")', telephony=tel)
    assert out["r"]["result"] == 3200 and out["r"]["ok"] is False
    assert out["r"]["command_id"] is None
    assert tel.calls == []


def test_guard_holds_across_runs() -> None:
    tel = RecordingTelephony()
    src = 'r = mango_group_call("12345", "74992262961", "79004443322")'
    assert botlang.run(src, telephony=tel)["r"]["result"] == 1000
    second = botlang.run(src, telephony=tel)["r"]
    assert second["result"] == 4501 and "spam guard" in second["message"]
    assert len(tel.calls) == 1


def test_guard_can_be_configured_by_passing_a_guarded_adapter(clock: FakeClock) -> None:
    tel = RecordingTelephony()
    relaxed = GuardedTelephony(tel, SpamGuard.disabled())
    src = 'r = mango_group_call("12345", "74992262961", "79004443322")'
    results = [botlang.run(src, telephony=relaxed)["r"]["result"] for _ in range(3)]
    assert results == [1000, 1000, 1000]


def test_not_configured_is_a_script_error() -> None:
    with pytest.raises(botlang.ScriptError, match="telephony is not configured") as info:
        botlang.run('x = 1\nr = mango_employee_call("219", "79004443322")')
    assert info.value.line == 2


def test_wrong_argument_types() -> None:
    tel = RecordingTelephony()
    with pytest.raises(botlang.ScriptError, match="short_employee_number"):
        botlang.run('r = mango_employee_call([219], "79004443322")', telephony=tel)
    with pytest.raises(botlang.ParseError, match="takes 3 arguments"):  # checked at compile
        botlang.run('r = mango_group_call("12345", "79004443322")', telephony=tel)
    out = botlang.run('r = mango_employee_call("", "79004443322")', telephony=tel)
    assert out["r"]["result"] == 3103
