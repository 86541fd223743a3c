"""Reading deliveries and turning events into variables: pure functions, no server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mango_calls import (
    SEQUENCES,
    CallSequence,
    arrival_cases,
    check_legs,
    check_variables,
)
from server_testkit import call_event, summary

from botlang.server.events import outcome_of, read_leg, update_for
from botlang.server.models import CallEvent, CallSummary, CommandResult, Party, PartyKind
from botlang.server.webhook import (
    BadDelivery,
    classify,
    dedupe_key,
    parse_event,
    parse_form,
    read_delivery,
)
from botlang.telephony import CALL_VARIABLES
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
        ("events/record/added", "events/record/added"),
        ("events/record/tagged", "events/record/tagged"),
        ("events/recognized/offline", "events/recognized/offline"),
        ("events/dtmf", "events/dtmf"),
        ("events/sms", "events/sms"),
        ("ping", "ping"),
        ("", None),
        ("events", None),
        ("events/call/extra", None),
        ("events/summary/x", None),
        ("events/record/added/x", None),
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


def play(
    deliveries: list[tuple[str, dict[str, Any]]], variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Deliveries read and applied to one client as the worker does (once each, in this
    order); the client's variables and the callbacks its flow got."""
    variables = dict(variables or {})
    callbacks: list[str] = []
    seen: set[str] = set()
    for path, payload in deliveries:
        kind = classify(path)
        assert kind is not None, path
        delivery = read_delivery(kind, encode_payload(payload))
        if delivery.key in seen:
            continue
        seen.add(delivery.key)
        update = update_for(delivery.event, kind)
        if update is None:
            continue
        effect = update.apply(variables)
        for name in effect.cleared:
            variables.pop(name, None)
        variables.update(effect.assigned)
        if effect.callback is not None:
            callbacks.append(effect.callback)
    return variables, callbacks


@pytest.mark.parametrize(("sequence", "order"), arrival_cases(), ids=str)
def test_a_call_from_the_spec_in_every_arrival_order(sequence: CallSequence, order: str) -> None:
    variables, callbacks = play(sequence.arriving(order))
    expect = sequence.expect
    assert callbacks == [expect["callback"]]  # the flow hears about the call once
    check_variables(variables, expect["variables"])
    check_legs(variables.get("call_legs"), expect["legs"])


@pytest.mark.parametrize("sequence", [s for s in SEQUENCES if s.talking], ids=str)
def test_while_the_client_talks_a_late_employee_leg_changes_nothing(
    sequence: CallSequence,
) -> None:
    talking = sequence.talking
    assert talking is not None
    variables, callbacks = play(sequence.picked(talking["deliveries"]))
    assert callbacks == []
    check_variables(variables, talking["variables"])


def test_every_arrival_order_is_a_permutation() -> None:
    for sequence in SEQUENCES:
        for order in sequence.arrivals.values():
            assert sorted(order) == list(range(len(sequence.deliveries))), sequence


def test_a_callbacks_first_leg_is_the_employees_not_an_incoming_call() -> None:
    callback = next(s for s in SEQUENCES if s.name == "callback_answered")
    first_leg = callback.deliveries[1][1]
    view = read_leg(CallEvent.model_validate(first_leg))
    assert (view.role, view.phone, view.employee, view.direction) == (
        "employee",
        "79004443322",
        "219",
        "outgoing",
    )
    variables, _ = play(callback.picked([1]))
    assert variables["call_direction"] == "outgoing"
    assert variables["call_state"] == "Appeared"
    assert variables["call_employee"] == "219"


def test_a_late_employee_leg_after_the_client_connected_keeps_the_conversation() -> None:
    """The employee's Disconnected 1000 arrives last: the client is still talking."""
    callback = next(s for s in SEQUENCES if s.name == "callback_answered")
    variables, _ = play(callback.picked([0, 1, 2, 3, 5, 4]))
    assert variables["call_state"] == "Connected"
    assert variables["call_id"] == callback.deliveries[3][1]["call_id"]  # the client's leg
    assert "call_result" not in variables


# -- parties ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("party", "kind", "phone"),
    [
        ({"extension": "219", "number": "sip:219@vpbx400123456.mangosip.ru"}, "employee", None),
        ({"extension": "219", "number": "79161234567"}, "employee", None),  # a mobile
        ({"number": "sip:reception@vpbx400123456.mangosip.ru"}, "sip", None),
        ({"number": "SIP:101@example.org"}, "sip", None),
        ({"number": "101@vpbx400123456.mangosip.ru"}, "sip", None),
        ({"number": "79004443322"}, "phone", "79004443322"),
        ({"number": "+7 (900) 444-33-22"}, "phone", "79004443322"),
        ({"number": "89004443322"}, "phone", "79004443322"),
        ({"number": "375291234567"}, "phone", "375291234567"),
        ({"number": "9004443322"}, "other", None),  # no country code
        ({"number": "anonymous"}, "other", None),
        ({"number": "79001112233", "acd_group": "12345"}, "group", None),
        ({"acd_group": "12345"}, "group", None),
        ({}, "none", None),
    ],
)
def test_parties_are_classified_by_the_phone_rules(
    party: dict[str, str], kind: str, phone: str | None
) -> None:
    parsed = Party.model_validate(party)
    assert parsed.kind is PartyKind(kind)
    assert parsed.phone == phone


def test_a_sip_side_is_never_the_client_and_a_sip_line_is_no_line_number() -> None:
    sip = next(s for s in SEQUENCES if s.name == "sip_outgoing_call")
    first = CallEvent.model_validate(sip.deliveries[0][1])
    update = update_for(first)
    assert update is not None and update.phone == "79006667788"
    variables, _ = play(sip.deliveries)
    assert variables["call_direction"] == "outgoing"
    assert "call_line_number" not in variables


def test_the_companys_own_line_is_not_a_client() -> None:
    incoming = call_event(
        **{
            "from": {"number": "79005556677"},
            "to": {"number": "74992262961", "line_number": "74992262961"},
            "location": "ivr",
        }
    )
    update = update_for(CallEvent.model_validate(incoming))
    assert update is not None and update.phone == "79005556677"
    variables, _ = play([("events/call", incoming)])
    assert variables["call_direction"] == "incoming"
    assert variables["call_line_number"] == "74992262961"


def test_a_missed_callback_summary_never_takes_the_employees_mobile_for_the_client() -> None:
    missed = next(s for s in SEQUENCES if s.name == "callback_missed_by_employee")
    summary_payload = missed.deliveries[-1][1]
    assert summary_payload["to"]["number"] == "79161234567"  # the employee's mobile
    update = update_for(CallSummary.model_validate(summary_payload))
    assert update is not None
    assert update.entry_id == summary_payload["entry_id"]  # found by the call first
    assert update.phone == "79005556677"  # and only ever the client's number
    only_employee = {**summary_payload, "from": {"extension": "219"}}
    update = update_for(CallSummary.model_validate(only_employee))
    assert update is not None and update.phone is None  # then by the call alone


def test_a_summary_alone_still_finds_the_client_by_direction() -> None:
    incoming = update_for(CallSummary.model_validate(summary(direction=1)))
    assert incoming is not None and incoming.phone == "79004443322"
    variables, callbacks = play([("events/summary", summary(direction=1))])
    assert (variables["call_direction"], callbacks) == ("incoming", ["answered"])
    internal = {**summary(direction=0), "from": {"extension": "1"}, "to": {"extension": "2"}}
    update = update_for(CallSummary.model_validate(internal))
    assert update is not None and update.phone is None
    unknown = {k: v for k, v in summary(direction=1).items() if k != "call_direction"}
    guessed, _ = play([("events/summary", unknown)])
    assert guessed["call_direction"] == "incoming"


# -- summaries ------------------------------------------------------------------------------


def test_an_answered_summary() -> None:
    variables, callbacks = play([("events/summary", summary(talk_seconds=95))])
    assert callbacks == ["answered"]
    assert variables == {
        "call_entry_id": "entry-1",
        "call_state": "Disconnected",
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
    variables, callbacks = play([("events/summary", claims_answered)])
    assert variables["call_answered"] is False
    assert callbacks == ["no_answer"]
    # without talk_time at all, entry_result is all there is
    no_talk_time = {k: v for k, v in summary().items() if k != "talk_time"}
    variables, _ = play([("events/summary", no_talk_time)])
    assert variables["call_answered"] is True
    assert variables["call_talk_seconds"] == 0


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
    variables, _ = play([("events/summary", summary(answered=False, reason="2219"))])
    assert variables["call_result"] == 2219
    assert variables["call_result_text"] == "Доступ ограничен периодом использования"


def test_leg_events_after_the_summary_only_update_the_legs() -> None:
    callback = next(s for s in SEQUENCES if s.name == "callback_answered")
    deliveries = callback.deliveries
    summary_at = next(i for i, (path, _) in enumerate(deliveries) if path == "events/summary")
    client_hangs_up = 7
    order = [i for i in range(len(deliveries)) if i != client_hangs_up] + [client_hangs_up]
    variables, callbacks = play(callback.picked(order))
    assert order.index(summary_at) < order.index(client_hangs_up)
    assert callbacks == ["answered"]
    assert variables["call_state"] == "Disconnected"
    assert variables["call_result"] == 1120
    client_leg = next(leg for leg in variables["call_legs"] if leg["role"] == "client")
    assert client_leg["state"] == "Disconnected"


# -- calls one after another ------------------------------------------------------------------


def _renamed(sequence: CallSequence, suffix: str, shift: int) -> list[tuple[str, dict[str, Any]]]:
    """The same call as another entry, ``shift`` seconds later (a second call)."""
    moved = []
    for path, payload in sequence.deliveries:
        copy = dict(payload)
        for key in ("entry_id", "call_id", "recording_id", "command_id"):
            if key in copy:
                copy[key] = f"{copy[key]}{suffix}"
        for key in ("timestamp", "create_time", "end_time", "talk_time", "forward_time"):
            if isinstance(copy.get(key), int) and copy[key]:
                copy[key] += shift
        source = copy.get("from")
        if isinstance(source, dict) and "taken_from_call_id" in source:
            copy["from"] = {**source, "taken_from_call_id": source["taken_from_call_id"] + suffix}
        moved.append((path, copy))
    return moved


def test_a_late_event_of_an_older_call_never_moves_the_variables_back() -> None:
    callback = next(s for s in SEQUENCES if s.name == "callback_answered")
    first = callback.deliveries
    second = _renamed(callback, "-2", 600)
    employee_leg_ends = 4
    early = [d for i, d in enumerate(first) if i != employee_leg_ends]
    # the first call is over; the second is in progress when a late first-call event comes
    variables, callbacks = play([*early, *second[:6]])
    assert callbacks == ["answered"]
    before = dict(variables)
    assert before["call_entry_id"] == second[1][1]["entry_id"]
    assert before["call_state"] == "Connected"
    assert before["call_history"][0]["entry_id"] == first[1][1]["entry_id"]
    after, callbacks = play([first[employee_leg_ends]], before)
    assert after == before and callbacks == []
    # a re-sent summary of the first call (another shape, so not a duplicate) neither
    resent = {**first[9][1], "disconnect_reason": 1110}
    after, callbacks = play([("events/summary", resent)], before)
    assert callbacks == []
    assert {k: v for k, v in after.items() if k != "call_history"} == {
        k: v for k, v in before.items() if k != "call_history"
    }


def test_an_unknown_older_call_is_told_apart_by_its_time() -> None:
    callback = next(s for s in SEQUENCES if s.name == "callback_answered")
    now, _ = play(_renamed(callback, "-2", 600)[:6])
    stray = call_event(3, "Disconnected", disconnect_reason=1100, entry_id="long-ago")
    stray["timestamp"] = 1_600_000_000
    after, _ = play([("events/call", stray)], now)
    assert after == now


def test_a_new_call_starts_from_a_clean_slate() -> None:
    answered = next(s for s in SEQUENCES if s.name == "callback_answered")
    variables, _ = play(answered.deliveries)
    assert variables["call_record_id"]
    second = _renamed(answered, "-2", 600)
    variables, _ = play(second[:2], variables)
    assert variables["call_state"] == "Appeared"
    for gone in ("call_record_id", "call_answered", "call_outcome", "call_result"):
        assert gone not in variables
    (line,) = variables["call_history"]
    assert line["outcome"] == "answered" and line["record_id"]


# -- commands, recordings, other notifications ------------------------------------------------


def test_a_failed_call_command_fails_the_call() -> None:
    variables, callbacks = play([("result/callback", {"command_id": "c", "result": "3200"})])
    assert callbacks == ["failed"]
    assert variables["call_command_id"] == "c"
    assert variables["call_result_text"] == "Неверно указан номер абонента"
    assert update_for(CommandResult(command_id="c", result=1000), "result/callback") is None
    assert update_for(CommandResult(command_id=None, result=3200), "result/callback") is None


@pytest.mark.parametrize("path", ["result/sms", "result/call/hangup", "result/recording/start"])
def test_a_failed_command_that_is_no_call_is_not_a_failed_call(path: str) -> None:
    variables, callbacks = play([(path, {"command_id": "c", "result": 4101})])
    assert (variables, callbacks) == ({}, [])


def test_a_finished_recording_is_shown_on_its_call() -> None:
    answered = next(s for s in SEQUENCES if s.name == "callback_answered")
    entry = answered.deliveries[1][1]["entry_id"]
    started, _ = play(answered.deliveries[:7])  # recording Started: not ready yet
    assert "call_record_id" not in started
    nested = {"entry_id": entry, "product_id": 400123456, "data": {"recording_id": "rec-9"}}
    variables, callbacks = play([("events/record/added", nested)], started)
    assert variables["call_record_id"] == "rec-9" and callbacks == []
    other_call = {"entry_id": "someone-else", "recording_id": "rec-10"}
    after, _ = play([("events/record/added", other_call)], variables)
    assert after == variables


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("events/record/tagged", {"entry_id": "e", "recording_id": "r", "tags": ["sale"]}),
        ("events/recognized/offline", {"entry_id": "e", "recording_id": "r", "result": []}),
        ("events/dtmf", {"entry_id": "e", "call_id": "c", "seq": 1, "dtmf": "1#"}),
        ("events/sms", {"command_id": "sms-1", "timestamp": 1700000000, "reason": "1000"}),
        ("events/recording", {"recording_id": "r", "recording_state": "Started", "seq": "1"}),
        ("events/something_new", {"anything": {"at": "all"}}),
    ],
)
def test_other_notifications_are_read_and_change_no_variables(
    path: str, payload: dict[str, Any]
) -> None:
    kind = classify(path)
    assert kind == path
    delivery = read_delivery(kind, encode_payload(payload))
    assert update_for(delivery.event, kind) is None


def test_every_variable_an_event_sets_is_a_declared_call_variable() -> None:
    """The checker and the docs rely on CALL_VARIABLES listing exactly what events set."""
    set_by_events: set[str] = set()
    for sequence in SEQUENCES:
        variables, _ = play(sequence.deliveries)
        set_by_events |= set(variables)
    second = _renamed(SEQUENCES[0], "-2", 600)
    variables, _ = play(SEQUENCES[0].deliveries)
    variables, _ = play(second[:3], variables)
    set_by_events |= set(variables)
    assert set_by_events == set(CALL_VARIABLES)


def test_the_docs_describe_every_call_variable() -> None:
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "telephony.md"
    table = docs.read_text(encoding="utf-8").split("### The variables", 1)[1]
    table = table.split("###", 1)[0]
    documented = set(re.findall(r"^\| `(call_[a-z_]+)`(?:, `(call_[a-z_]+)`)?", table, re.M))
    names = {name for pair in documented for name in pair if name}
    assert names == set(CALL_VARIABLES)


# -- properties ---------------------------------------------------------------------------------

_ANSWERED = next(s for s in SEQUENCES if s.name == "callback_answered")
_AFTER_THE_CALL = ("events/summary", "events/record/added")
_LEGS = [i for i, (path, _) in enumerate(_ANSWERED.deliveries) if path not in _AFTER_THE_CALL]


@settings(max_examples=60, deadline=None)
@given(st.permutations(_LEGS))
def test_any_arrival_order_of_the_legs_gives_the_same_call(order: list[int]) -> None:
    """Legs (and their recording events) in any order, then the summary and the stored
    recording: the client's variables are always the spec's."""
    tail = [i for i in range(len(_ANSWERED.deliveries)) if i not in _LEGS]
    variables, callbacks = play(_ANSWERED.picked([*order, *tail]))
    assert callbacks == ["answered"]
    check_variables(variables, _ANSWERED.expect["variables"])
    check_legs(variables.get("call_legs"), _ANSWERED.expect["legs"])


_ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(CALL_VARIABLES)), _ANYTHING),
    st.lists(st.sampled_from(range(len(_ANSWERED.deliveries))), max_size=6),
)
def test_whatever_a_flow_wrote_into_the_call_variables_events_still_apply(
    written: dict[str, Any], picks: list[int]
) -> None:
    """A flow can assign anything to client.call_legs (or any call variable): the model
    reads it back without failing."""
    variables, _ = play(_ANSWERED.picked([*picks, 1]), written)  # 1: a leg event
    legs = variables["call_legs"]
    assert isinstance(legs, list) and all(isinstance(leg, dict) for leg in legs)
    assert _ANSWERED.deliveries[1][1]["call_id"] in {leg["call_id"] for leg in legs}
