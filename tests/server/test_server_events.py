"""Reading deliveries and turning events into variables: pure functions, no server."""

from __future__ import annotations

import pytest
from server_testkit import call_event, summary

from botlang.server.events import outcome_of, update_for
from botlang.server.models import CallEvent, CallSummary, CommandResult, Party
from botlang.server.webhook import (
    BadDelivery,
    classify,
    dedupe_key,
    parse_event,
    parse_form,
    read_delivery,
)
from botlang.telephony.signing import encode_payload

FORM = "application/x-www-form-urlencoded"

# -- paths and forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("events/call", "events/call"),
        ("/events/summary/", "events/summary"),
        ("result/callback", "result/callback"),
        ("result/callback_group", "result/callback_group"),
        ("result/call/hangup", "result/call/hangup"),
        ("events/recording", "events/recording"),
        ("ping", "ping"),
        ("", None),
        ("events", None),
        ("events/call/extra", None),
        ("commands/callback", None),
        ("events/../ping", None),
        ("EVENTS/CALL", None),
    ],
)
def test_classify(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def test_parse_form_reads_the_three_fields_exactly() -> None:
    body = b"vpbx_api_key=k&sign=s&json=%7B%22a%22%3A+1%7D&extra=1"
    assert parse_form(body, FORM) == {"vpbx_api_key": "k", "sign": "s", "json": '{"a": 1}'}
    assert parse_form(body, f"{FORM}; charset=utf-8")["json"] == '{"a": 1}'
    assert parse_form(body, None)["sign"] == "s"  # no Content-Type: read as a form
    with pytest.raises(BadDelivery, match="expected"):
        parse_form(body, "application/json")
    with pytest.raises(BadDelivery, match="'sign'"):
        parse_form(b"vpbx_api_key=k&json=%7B%7D", FORM)
    with pytest.raises(BadDelivery, match="not form-encoded"):
        parse_form(b"just text", FORM)
    with pytest.raises(BadDelivery, match="'vpbx_api_key'"):
        parse_form(b"", FORM)


# -- models: Mango's loose types ------------------------------------------------------------


def test_numbers_arrive_as_strings_or_integers() -> None:
    event = CallEvent.model_validate(
        call_event(" 7 ", "Disconnected", disconnect_reason="1121", timestamp=1.7e9)
    )
    assert (event.seq, event.disconnect_reason, event.timestamp) == (7, 1121, 1_700_000_000)
    as_ints = CallEvent.model_validate(call_event(7, "Disconnected", disconnect_reason=1121))
    assert (as_ints.seq, as_ints.disconnect_reason) == (7, 1121)


def test_extensions_arrive_as_integers_and_parties_in_several_shapes() -> None:
    event = CallEvent.model_validate(
        call_event(**{"from": {"extension": 219}, "to": "79004443322"})
    )
    assert event.from_.extension == "219"
    assert event.to.number == "79004443322"
    assert CallEvent.model_validate(call_event(to="")).to == Party()


def test_empty_and_null_optional_fields_are_missing() -> None:
    loose = summary()
    loose.update(talk_time="", disconnect_reason=None, end_time=" ")
    parsed = CallSummary.model_validate(loose)
    assert (parsed.talk_time, parsed.disconnect_reason, parsed.end_time) == (None, None, None)


@pytest.mark.parametrize("bad", [True, "12a", 1.5, [], {"x": 1}, "9" * 30])
def test_a_number_field_refuses_what_is_not_a_whole_number(bad: object) -> None:
    with pytest.raises(BadDelivery, match="seq"):
        parse_event("events/call", call_event(bad))  # type: ignore[arg-type]


def test_unknown_fields_are_kept_not_refused() -> None:
    event = CallSummary.model_validate({**summary(), "recording_id": "r1"})
    assert event.model_extra == {"recording_id": "r1"}


# -- dedupe keys ----------------------------------------------------------------------------


def test_dedupe_keys_follow_the_event_identity() -> None:
    first = read_delivery("events/call", encode_payload(call_event(2, "Connected")))
    again = read_delivery("events/call", encode_payload({**call_event(2, "Connected"), "x": 1}))
    later = read_delivery("events/call", encode_payload(call_event(3, "Disconnected")))
    assert first.key == again.key == "events/call:leg-1:2:Connected"
    assert later.key != first.key
    assert read_delivery("events/summary", encode_payload(summary())).key == (
        "events/summary:entry-1"
    )
    result = read_delivery("result/callback", '{"command_id":"c-1","result":1000}')
    assert result.key == "result/callback:c-1"


def test_dedupe_keys_without_ids_hash_the_canonical_json() -> None:
    a = read_delivery("events/recording", '{"b":1,"a":2}')
    b = read_delivery("events/recording", '{"a": 2, "b": 1}')
    c = read_delivery("events/recording", '{"a": 2, "b": 3}')
    assert a.key == b.key != c.key
    assert a.key.startswith("events/recording:sha256:")
    long_id = CommandResult(command_id="x" * 600, result=1000)
    assert len(dedupe_key("result/callback", long_id, {"command_id": "x" * 600})) < 500


# -- what events do -------------------------------------------------------------------------


def test_an_answered_summary() -> None:
    update = update_for(CallSummary.model_validate(summary(talk_seconds=95)))
    assert update is not None
    assert update.phone == "79004443322"
    assert update.callback == "answered"
    assert update.order is None
    assert update.variables == {
        "call_entry_id": "entry-1",
        "call_direction": "outgoing",
        "call_answered": True,
        "call_talk_seconds": 95,
        "call_outcome": "answered",
        "call_employee": "219",
        "call_line_number": "74992262961",
        "call_result": 1100,
        "call_result_text": "Вызов завершен в нормальном режиме",
        "call_started_at": 1_700_000_000,
        "call_ended_at": 1_700_000_100,
    }


def test_entry_result_alone_does_not_make_a_call_answered() -> None:
    claims_answered = {**summary(answered=False, reason=1110), "entry_result": 1}
    update = update_for(CallSummary.model_validate(claims_answered))
    assert update is not None
    assert update.variables["call_answered"] is False
    assert update.callback == "no_answer"
    # without talk_time at all, entry_result is all there is
    no_talk_time = {k: v for k, v in summary().items() if k != "talk_time"}
    update = update_for(CallSummary.model_validate(no_talk_time))
    assert update is not None and update.variables["call_answered"] is True
    assert update.variables["call_talk_seconds"] == 0


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (1121, "busy"),
        (1111, "no_answer"),
        (1110, "no_answer"),
        (1100, "no_answer"),
        (1122, "rejected"),
        (1123, "rejected"),
        (1131, "failed"),
        (1164, "failed"),
        (2240, "failed"),
        (None, "no_answer"),
    ],
)
def test_outcomes_of_unanswered_calls(code: int | None, outcome: str) -> None:
    assert outcome_of(False, code) == outcome
    assert outcome_of(True, code) == "answered"


def test_result_texts_use_the_class_rule() -> None:
    update = update_for(CallSummary.model_validate(summary(answered=False, reason="2219")))
    assert update is not None
    assert update.variables["call_result"] == 2219
    assert update.variables["call_result_text"] == "Доступ ограничен периодом использования"


def test_directions_pick_the_client_side() -> None:
    incoming = update_for(CallSummary.model_validate(summary(direction=1)))
    assert incoming is not None
    assert (incoming.phone, incoming.variables["call_direction"]) == ("79004443322", "incoming")
    internal = {**summary(direction=0), "from": {"extension": "1"}, "to": {"extension": "2"}}
    update = update_for(CallSummary.model_validate(internal))
    assert update is not None and update.phone is None
    unknown = {k: v for k, v in summary(direction=1).items() if k != "call_direction"}
    guessed = update_for(CallSummary.model_validate(unknown))
    assert guessed is not None and guessed.variables["call_direction"] == "incoming"


def test_a_call_event_orders_by_leg_and_names_its_state() -> None:
    event = CallEvent.model_validate(
        call_event(
            5,
            "OnHold",
            command_id="cmd-9",
            **{"to": {"number": "79001112233", "acd_group": "12345"}},
        )
    )
    update = update_for(event)
    assert update is not None
    assert update.order == ("leg-1", 5)
    assert update.callback is None  # the summary brings the outcome
    assert update.phone == "79001112233"
    assert update.variables["call_command_id"] == "cmd-9"
    assert update.variables["call_employee"] == "219"
    assert "call_result" not in update.variables


def test_command_results() -> None:
    assert update_for(CommandResult(command_id="c", result=1000)) is None
    failed = update_for(CommandResult(command_id="c", result=3200))
    assert failed is not None
    assert (failed.command_id, failed.callback, failed.phone) == ("c", "failed", None)
    assert failed.variables["call_result_text"] == "Неверно указан номер абонента"
    assert update_for(CommandResult(command_id=None, result=3200)) is None


def test_every_variable_an_event_sets_is_a_declared_call_variable() -> None:
    """The checker and the docs rely on CALL_VARIABLES listing exactly what events set."""
    from botlang.telephony import CALL_VARIABLES

    set_by_events: set[str] = set()
    for event in (
        CallSummary.model_validate(summary(talk_seconds=95)),
        CallSummary.model_validate(summary(answered=False, reason=1121, talk_seconds=0)),
        CallEvent.model_validate(call_event(1, "Appeared")),
        CallEvent.model_validate(call_event(3, "Disconnected")),
    ):
        update = update_for(event)
        assert update is not None
        set_by_events |= set(update.variables)
    assert set_by_events <= set(CALL_VARIABLES)
    assert "call_outcome" in set_by_events
