"""What a Mango Office event does to a client: the variables it sets and the callback text.

Pure functions from a parsed event to a :class:`CallUpdate`; the worker
(:mod:`botlang.server.worker`) finds the client and applies it in one transaction.

Client variables set by call events (all in the client scope):

==================  ========================================================================
``call_entry_id``   the call's ``entry_id`` (the whole call, stable across transfers)
``call_id``         the leg's ``call_id`` (``events/call`` only)
``call_state``      the leg's last state: Appeared, Connected, OnHold, Disconnected
``call_direction``  ``incoming``, ``outgoing`` or ``internal``
``call_employee``   the employee's extension (or the group number) on the other side
``call_line_number`` the line (number) the call went through, when Mango says
``call_command_id`` the ``command_id`` of the command that started the call, when any
``call_answered``   true when there was a conversation (``talk_time`` > 0)
``call_talk_seconds`` seconds of conversation (``end_time - talk_time``; 0 if unanswered)
``call_result``     the Mango result code (``disconnect_reason``, or a command's result)
``call_result_text`` its text, by the class rule of :func:`botlang.telephony.codes.describe`
``call_outcome``    ``answered``, ``busy``, ``no_answer``, ``rejected`` or ``failed``
``call_started_at`` / ``call_ended_at``  Unix seconds (``events/summary``)
==================  ========================================================================

Callback texts delivered to the client's flow (what ``on: callback`` arrows match):

- ``events/summary``: the outcome — ``answered``, ``busy``, ``no_answer``, ``rejected``,
  ``failed``;
- ``result/<command>`` with a failure code: ``failed``.

``events/call`` (a leg's state changes) only updates the variables, without a callback:
the flow hears about a call once, when it has ended — as in Salebot, where a callback
arrow without a text condition fires once per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botlang.server.models import CallEvent, CallSummary, CommandResult, MangoModel, Party
from botlang.telephony import codes

DIRECTIONS = {0: "internal", 1: "incoming", 2: "outgoing"}

ANSWERED = "answered"
BUSY = "busy"
NO_ANSWER = "no_answer"
REJECTED = "rejected"
FAILED = "failed"
OUTCOMES = (ANSWERED, BUSY, NO_ANSWER, REJECTED, FAILED)


@dataclass(frozen=True)
class CallUpdate:
    """What to do for one event: whose client, which variables, which callback."""

    phone: str | None  # the external party's number, as Mango sent it
    variables: dict[str, Any]
    callback: str | None  # the text delivered to the flow, None for no callback
    order: tuple[str, int] | None = None  # (call id, seq): apply only if seq is newest
    command_id: str | None = None  # find the client by this command (result/...)
    notes: list[str] = field(default_factory=list)


def outcome_of(answered: bool, code: int | None) -> str:
    """``answered``, or why not, from the disconnect reason."""
    if answered:
        return ANSWERED
    if code == codes.BUSY:
        return BUSY
    if code in (codes.REJECTED, 1123):  # rejected, "do not disturb"
        return REJECTED
    if code is None or 1100 <= code <= 1129:  # normal ends and timeouts without a talk
        return NO_ANSWER
    return FAILED


def _result_variables(code: int | None) -> dict[str, Any]:
    if code is None:
        return {}
    return {"call_result": code, "call_result_text": codes.describe(code)}


def external_party(source: Party, target: Party) -> tuple[Party | None, str]:
    """The client's side of a call leg and the direction it implies."""
    if source.is_external:
        return source, "incoming"
    if target.is_external:
        return target, "outgoing"
    return None, "internal"


def _employee(source: Party, target: Party) -> str | None:
    return source.extension or target.extension or target.acd_group


def _common(source: Party, target: Party, line: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    employee = _employee(source, target)
    if employee is not None:
        found["call_employee"] = employee
    line = line or target.line_number
    if line is not None:
        found["call_line_number"] = line
    return found


def call_event_update(event: CallEvent) -> CallUpdate:
    """``events/call``: the leg's state, and the result code once it is disconnected (no
    callback: the summary brings the outcome)."""
    party, direction = external_party(event.from_, event.to)
    variables: dict[str, Any] = {
        "call_entry_id": event.entry_id,
        "call_id": event.call_id,
        "call_state": event.call_state,
        "call_direction": direction,
        **_common(event.from_, event.to, None),
    }
    if event.command_id:
        variables["call_command_id"] = event.command_id
    if event.disconnect_reason is not None:
        variables.update(_result_variables(event.disconnect_reason))
    return CallUpdate(
        phone=party.number if party else None,
        variables=variables,
        callback=None,
        order=(event.call_id, event.seq),
    )


def summary_update(summary: CallSummary) -> CallUpdate:
    """``events/summary``: answered or not, talk time, result; the outcome as callback."""
    source, target = summary.from_, summary.to
    code_direction = summary.call_direction
    direction = None if code_direction is None else DIRECTIONS.get(code_direction)
    if direction == "incoming":
        party: Party | None = source if source.number else None
    elif direction == "outgoing":
        party = target if target.number else None
    elif direction == "internal":
        party = None
    else:
        party, direction = external_party(source, target)
    # entry_result alone is not reliable: a talk happened only if talk_time is set.
    has_talk = summary.talk_time is not None
    answered = summary.talk_time > 0 if has_talk else summary.entry_result == 1
    talk = 0
    if answered and summary.talk_time and summary.end_time:
        talk = max(0, summary.end_time - summary.talk_time)
    code = summary.disconnect_reason
    variables: dict[str, Any] = {
        "call_entry_id": summary.entry_id,
        "call_direction": direction,
        "call_answered": answered,
        "call_talk_seconds": talk,
        "call_outcome": outcome_of(answered, code),
        **_common(source, target, summary.line_number),
        **_result_variables(code),
    }
    if summary.create_time is not None:
        variables["call_started_at"] = summary.create_time
    if summary.end_time is not None:
        variables["call_ended_at"] = summary.end_time
    return CallUpdate(
        phone=party.number if party else None,
        variables=variables,
        callback=variables["call_outcome"],
    )


def command_result_update(result: CommandResult) -> CallUpdate | None:
    """``result/<command>``: nothing for a success; a failed call for the client otherwise."""
    if codes.is_success(result.result) or not result.command_id:
        return None
    variables = {
        "call_command_id": result.command_id,
        "call_answered": False,
        "call_talk_seconds": 0,
        "call_outcome": FAILED,
        **_result_variables(result.result),
    }
    return CallUpdate(None, variables, FAILED, command_id=result.command_id)


def update_for(event: MangoModel) -> CallUpdate | None:
    """The update an event calls for, or None when it changes no client."""
    if isinstance(event, CallEvent):
        return call_event_update(event)
    if isinstance(event, CallSummary):
        return summary_update(event)
    if isinstance(event, CommandResult):
        return command_result_update(event)
    return None
