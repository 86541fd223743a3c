"""What a Mango Office event does to a client: the call model behind the ``call_*`` variables.

Mango plays a call as several *legs* (``call_id``) of one *call* (``entry_id``). A callback
(``commands/callback``) rings the employee first — a leg posted with the client's number in
``from`` and the employee in ``to`` — and, once the employee answers, starts a second leg
to the client (``from.taken_from_call_id`` = the first leg); the first leg then ends with
``disconnect_reason`` 1000. A group callback rings the group's operators first, one leg
each. Legs are posted in parallel, so their events arrive in any order across legs (and,
after a retry, within one).

The ``call_*`` client variables therefore describe the *client's conversation*, computed
from everything known about the call rather than from the last event that arrived:

- each leg is kept in ``call_legs`` with its highest ``seq``; a lower ``seq`` adds only
  what cannot go backwards (that the leg was answered, when it started);
- ``call_state``, ``call_id`` and ``call_result`` follow the client's leg; the legs that
  ring employees only say the call has ``Appeared`` until the client's leg exists, or that
  it ended when nobody answered — so a late ``Disconnected`` 1000 of the employee's leg
  never ends a conversation in progress;
- ``events/summary`` is the final word: after it, leg events only update ``call_legs``;
- a call that started earlier than the client's current one (its ``entry_id`` is in
  ``call_history``, or its time precedes ``call_started_at``) changes nothing but its own
  line in ``call_history``: a late event of an older call never moves the variables back.

The list of variables is :data:`botlang.telephony.CALL_VARIABLES`; docs/telephony.md
explains each, with every call's event sequence. The worker (:mod:`botlang.server.worker`)
finds the client from a :class:`CallUpdate` (the call's ``entry_id``, the ``command_id``
that placed it, or the client's phone) and applies :meth:`CallUpdate.apply` to the
client's variables inside the client's transaction.

Callback texts delivered to the flow (what ``on: callback`` arrows match): the summary's
outcome — ``answered``, ``busy``, ``no_answer``, ``rejected``, ``failed`` — and ``failed``
for a call command Mango could not carry out (``result/callback``,
``result/callback_group``). Leg events and recordings set variables only: the flow hears
about a call once, when it has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botlang.server.models import (
    CallEvent,
    CallSummary,
    CommandResult,
    MangoModel,
    Notification,
    Party,
    PartyKind,
    RecordAdded,
    RecordingEvent,
    phone_or_none,
)
from botlang.telephony import CALL_VARIABLES, codes

DIRECTIONS = {0: "internal", 1: "incoming", 2: "outgoing"}

ANSWERED = "answered"
BUSY = "busy"
NO_ANSWER = "no_answer"
REJECTED = "rejected"
FAILED = "failed"
OUTCOMES = (ANSWERED, BUSY, NO_ANSWER, REJECTED, FAILED)

APPEARED, CONNECTED, ON_HOLD, DISCONNECTED = "Appeared", "Connected", "OnHold", "Disconnected"
CLIENT_LEG = "client"  # the client is on this leg
EMPLOYEE_LEG = "employee"  # this leg rings an employee on the client's behalf
CALL_COMMANDS = frozenset({"result/callback", "result/callback_group"})
HISTORY_SIZE = 5  # earlier calls remembered in call_history
MAX_LEGS = 30  # legs kept per call (a big group rings many operators)
_LIVE_RANK = {CONNECTED: 3, ON_HOLD: 2, APPEARED: 1}
# Reset when another call becomes the client's current one (call_command_id stays: it is
# set when the flow places the call, before any of the call's events).
_PER_CALL = tuple(v for v in CALL_VARIABLES if v not in ("call_command_id", "call_history"))


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


# -- who is who on a leg ----------------------------------------------------------------------


def _kind(party: Party, lines: Iterable[str | None]) -> PartyKind:
    """The party's kind; the company's own line (``to.number`` = the line) is not a client."""
    kind = party.kind
    if kind is PartyKind.PHONE and party.phone in {phone_or_none(line) for line in lines}:
        return PartyKind.OTHER
    return kind


@dataclass(frozen=True)
class LegView:
    """One ``events/call`` read for the client: whose leg it is and who is on it."""

    role: str | None  # CLIENT_LEG, EMPLOYEE_LEG, or None when no client is on either side
    phone: str | None  # the client's number (normalised)
    employee: str | None  # the employee's extension on the leg
    group: str | None
    direction: str | None  # incoming / outgoing as the leg alone shows it
    line: str | None  # the line (a phone number), when the leg names one


def read_leg(event: CallEvent) -> LegView:
    """Classify a leg. A callback's first leg (``command_id`` or ``callback_initiator``,
    the client's number in ``from``, an employee in ``to``, not taken from another leg)
    rings the employee for the client; any other leg with a phone on one side is the
    client's. Extensions, groups and SIP URIs are never the client."""
    source, target = event.from_, event.to
    lines = (target.line_number, source.line_number)
    source_kind, target_kind = _kind(source, lines), _kind(target, lines)
    placed = bool(event.command_id or event.callback_initiator)
    group = target.acd_group or source.acd_group
    line = phone_or_none(target.line_number) or phone_or_none(source.line_number)
    if target_kind is PartyKind.PHONE:
        return LegView(CLIENT_LEG, target.phone, source.extension, group, "outgoing", line)
    if source_kind is PartyKind.PHONE:
        rings_employee = placed and source.taken_from_call_id is None
        role = EMPLOYEE_LEG if rings_employee else CLIENT_LEG
        direction = "outgoing" if placed else "incoming"
        return LegView(role, source.phone, target.extension, group, direction, line)
    return LegView(None, None, source.extension or target.extension, group, "internal", line)


def _summary_client(summary: CallSummary) -> Party | None:
    """The summary's client side: by ``call_direction`` when Mango gives it, else the one
    phone. For an unanswered call ``to`` is the first party that missed it — for a
    callback, the employee — so a side that is not a phone is never taken."""
    lines = (summary.line_number, summary.to.line_number)
    phones = [p for p in (summary.from_, summary.to) if _kind(p, lines) is PartyKind.PHONE]
    if summary.call_direction == 0 or not phones:
        return None
    if len(phones) == 2:
        return summary.from_ if summary.call_direction == 1 else summary.to
    return phones[0]


# -- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """What an event does to its client: variables to set (None clears one), the callback
    text for the flow (None: no callback) and a note for the log."""

    variables: dict[str, Any]
    callback: str | None = None
    note: str | None = None

    @property
    def assigned(self) -> dict[str, Any]:
        """The variables the event sets."""
        return {name: value for name, value in self.variables.items() if value is not None}

    @property
    def cleared(self) -> list[str]:
        """The variables the event removes (the previous call's, when another begins)."""
        return [name for name, value in self.variables.items() if value is None]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_leg_record(leg: Any) -> dict[str, Any] | None:
    """A ``call_legs`` entry as the model needs it, or None: a flow can write anything into
    a client variable, and the model must never fail on what it reads back."""
    if not isinstance(leg, dict) or not isinstance(leg.get("call_id"), str):
        return None
    if leg.get("role") not in (CLIENT_LEG, EMPLOYEE_LEG):
        return None

    def text(name: str) -> str | None:
        value = leg.get(name)
        return value if isinstance(value, str) else None

    return {
        "call_id": leg["call_id"],
        "role": leg["role"],
        "state": text("state"),
        "seq": _int_or_none(leg.get("seq")),
        "employee": text("employee"),
        "group": text("group"),
        "taken_from": text("taken_from"),
        "answered": leg.get("answered") is True,
        "result": _int_or_none(leg.get("result")),
        "started_at": _int_or_none(leg.get("started_at")),
        "ended_at": _int_or_none(leg.get("ended_at")),
    }


class CallModel:
    """The client's calls as their ``call_*`` variables hold them; events change it."""

    def __init__(self, current: Mapping[str, Any]) -> None:
        self.before = {name: current.get(name) for name in CALL_VARIABLES}
        self.vars = dict(self.before)
        legs = self.vars.get("call_legs")
        self.legs: dict[str, dict[str, Any]] = {}
        for leg in legs if isinstance(legs, list) else []:
            read = _read_leg_record(leg)
            if read is not None:
                self.legs[read["call_id"]] = read
        history = self.vars.get("call_history")
        self.history: list[dict[str, Any]] = [
            dict(h) for h in (history if isinstance(history, list) else []) if isinstance(h, dict)
        ]

    # -- which call an event belongs to --------------------------------------------------

    def place(self, entry_id: str, started: int | None) -> str:
        """``current``, ``older`` (an earlier call of the client's) or ``new``."""
        current = self.vars.get("call_entry_id")
        if entry_id == current:
            return "current"
        if any(h.get("entry_id") == entry_id for h in self.history):
            return "older"
        since = self.vars.get("call_started_at")
        if (
            current is not None
            and started is not None
            and isinstance(since, int)
            and started < since
        ):
            return "older"
        return "new"

    def start(self, entry_id: str | None) -> None:
        """Make another call the client's current one; the current one goes to history."""
        if self.vars.get("call_entry_id") is not None or self.vars.get("call_outcome"):
            self.history.insert(0, self._history_line())
            del self.history[HISTORY_SIZE:]
        for name in _PER_CALL:
            self.vars[name] = None
        self.legs = {}
        self.vars["call_entry_id"] = entry_id

    def _history_line(self) -> dict[str, Any]:
        v = self.vars
        names = ("entry_id", "started_at", "ended_at", "outcome", "employee", "record_id")
        return {name: v.get(f"call_{name}") for name in names}

    def older(self, entry_id: str) -> dict[str, Any] | None:
        return next((h for h in self.history if h.get("entry_id") == entry_id), None)

    @property
    def finished(self) -> bool:
        """The current call's outcome is known (a summary, or a failed command)."""
        return self.vars.get("call_outcome") is not None

    # -- events ------------------------------------------------------------------------

    def on_leg(self, event: CallEvent, view: LegView) -> str | None:
        place = self.place(event.entry_id, event.timestamp)
        if place == "older":
            return "older call"
        if place == "new":
            self.start(event.entry_id)
        self._merge_leg(event, view)
        v = self.vars
        if event.command_id:
            v["call_command_id"] = event.command_id
        if event.callback_initiator and not v.get("call_initiator"):
            v["call_initiator"] = event.callback_initiator
        placed = bool(event.command_id or event.callback_initiator)
        if placed:
            v["call_direction"] = "outgoing"  # botlang (or another system) placed the call
        elif v.get("call_direction") is None and view.role == CLIENT_LEG:
            v["call_direction"] = view.direction
        if view.group and not v.get("call_group"):
            v["call_group"] = view.group
        if view.line and not v.get("call_line_number"):
            v["call_line_number"] = view.line
        starts = [leg["started_at"] for leg in self.legs.values() if leg.get("started_at")]
        if starts and not self.finished:
            v["call_started_at"] = min(starts)
        if self.finished:
            return "after the summary"
        self._derive()
        return None

    def _merge_leg(self, event: CallEvent, view: LegView) -> None:
        leg = self.legs.get(event.call_id)
        if leg is None:
            if len(self.legs) >= MAX_LEGS:
                return
            leg = {
                "call_id": event.call_id,
                "role": view.role,
                "state": None,
                "seq": None,
                "employee": view.employee,
                "group": view.group,
                "taken_from": event.from_.taken_from_call_id,
                "answered": False,
                "result": None,
                "started_at": None,
                "ended_at": None,
            }
            self.legs[event.call_id] = leg
        if event.call_state in (CONNECTED, ON_HOLD):
            leg["answered"] = True  # true even when this event arrived late
        if leg["seq"] is not None and event.seq <= leg["seq"]:
            return  # older than what the leg already shows
        if leg["started_at"] is None:
            leg["started_at"] = event.timestamp
        leg["seq"] = event.seq
        leg["state"] = event.call_state
        if event.call_state == DISCONNECTED:
            leg["result"] = event.disconnect_reason
            leg["ended_at"] = event.timestamp
            if event.disconnect_reason == codes.SUCCESS and view.role == EMPLOYEE_LEG:
                leg["answered"] = True  # 1000: the employee answered, the call went on

    def _derive(self) -> None:
        """call_state, call_id, call_result and call_employee from the legs."""
        legs = list(self.legs.values())
        client = [leg for leg in legs if leg["role"] == CLIENT_LEG]
        company = [leg for leg in legs if leg["role"] == EMPLOYEE_LEG]
        answered = [leg for leg in company if leg["answered"]]
        v = self.vars
        if client:
            live = [leg for leg in client if leg["state"] != DISCONNECTED]
            if live:
                leg = max(live, key=lambda x: (_LIVE_RANK.get(x["state"], 0), x["seq"] or 0))
                state, result = leg["state"], None
            else:
                leg = max(client, key=lambda x: x["ended_at"] or 0)
                state, result = DISCONNECTED, leg["result"]
            employee = leg["employee"] or (answered[-1]["employee"] if answered else None)
        elif company:
            live = [leg for leg in company if leg["state"] != DISCONNECTED]
            ringing = bool(live or answered)
            if live:
                leg = max(live, key=lambda x: x["started_at"] or 0)
            elif answered:
                leg = answered[-1]
            else:
                leg = max(company, key=lambda x: x["ended_at"] or 0)
            state = APPEARED if ringing else DISCONNECTED
            result = None if ringing else leg["result"]
            rung = {x["employee"] for x in company}
            if answered:
                employee = answered[-1]["employee"]
            elif len(rung) == 1 and not v.get("call_group"):
                employee = next(iter(rung))
            else:
                employee = None
        else:
            return
        v["call_state"] = state
        v["call_id"] = leg["call_id"]
        v["call_employee"] = employee
        v["call_result"] = result
        v["call_result_text"] = None if result is None else codes.describe(result)

    def on_summary(self, summary: CallSummary) -> tuple[str | None, str | None]:
        """Apply the summary; (callback, note)."""
        has_talk = summary.talk_time is not None
        answered = summary.talk_time > 0 if has_talk else summary.entry_result == 1
        talk = 0
        if answered and summary.talk_time and summary.end_time:
            talk = max(0, summary.end_time - summary.talk_time)
        code = summary.disconnect_reason
        outcome = outcome_of(answered, code)
        place = self.place(summary.entry_id, summary.create_time)
        if place == "older":
            line = self.older(summary.entry_id)
            if line is not None:
                line.update(outcome=outcome, ended_at=summary.end_time)
            return None, "older call"
        if place == "new":
            self.start(summary.entry_id)
        v = self.vars
        source, target = summary.from_, summary.to
        if v.get("call_direction") is None:
            code_direction = summary.call_direction
            direction = None if code_direction is None else DIRECTIONS.get(code_direction)
            if direction is None:
                client = _summary_client(summary)
                direction = (
                    "internal"
                    if client is None
                    else ("incoming" if client is source else "outgoing")
                )
            v["call_direction"] = direction
        client_legs = [leg for leg in self.legs.values() if leg["role"] == CLIENT_LEG]
        if answered:
            v["call_missed_by"] = None
            if not v.get("call_employee"):
                v["call_employee"] = source.extension or target.extension
        else:
            reached_client = bool(client_legs) or target.kind is PartyKind.PHONE
            v["call_missed_by"] = "client" if reached_client else "employee"
            if not v.get("call_employee") and not v.get("call_group"):
                v["call_employee"] = target.extension or source.extension
        line = phone_or_none(summary.line_number) or phone_or_none(target.line_number)
        if line is not None:
            v["call_line_number"] = line
        v.update(
            call_state=DISCONNECTED,
            call_answered=answered,
            call_talk_seconds=talk,
            call_outcome=outcome,
            call_result=code,
            call_result_text=None if code is None else codes.describe(code),
        )
        if summary.create_time is not None:
            v["call_started_at"] = summary.create_time
        if summary.end_time is not None:
            v["call_ended_at"] = summary.end_time
        return outcome, None

    def on_record(self, entry_id: str, record_id: str) -> str | None:
        if self.vars.get("call_entry_id") == entry_id:
            self.vars["call_record_id"] = record_id
            return None
        line = self.older(entry_id)
        if line is not None:
            line["record_id"] = record_id
            return "older call"
        return "unknown call"

    def on_command_failed(self, result: CommandResult) -> None:
        self.start(None)
        self.vars.update(
            call_command_id=result.command_id,
            call_answered=False,
            call_talk_seconds=0,
            call_outcome=FAILED,
            call_result=result.result,
            call_result_text=codes.describe(result.result),
        )

    def changes(self) -> dict[str, Any]:
        """The variables that differ from what the client had (None clears one)."""
        self.vars["call_legs"] = list(self.legs.values()) or None
        self.vars["call_history"] = self.history or None
        return {name: value for name, value in self.vars.items() if self.before[name] != value}


# -- updates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallUpdate:
    """An event that concerns a client, and how to find that client: by the call it is
    about (``entry_id``: the client whose ``call_entry_id`` it is), by the command that
    placed it (``command_id``: the client whose ``call_command_id`` it is), else by the
    client's ``phone`` (the product's matching rule, which may create a client)."""

    event: MangoModel
    kind: str
    entry_id: str | None = None
    command_id: str | None = None
    phone: str | None = None

    def apply(self, current: Mapping[str, Any]) -> Effect:
        """What the event does to a client whose variables are ``current`` (not changed)."""
        model = CallModel(current)
        event, callback, note = self.event, None, None
        if isinstance(event, CallEvent):
            note = model.on_leg(event, read_leg(event))
        elif isinstance(event, CallSummary):
            callback, note = model.on_summary(event)
        elif isinstance(event, CommandResult):
            model.on_command_failed(event)
            callback = FAILED
        elif isinstance(event, Notification) and self.entry_id and event.recording_id:
            note = model.on_record(self.entry_id, event.recording_id)
        return Effect(model.changes(), callback, note)


def _record_ready(event: MangoModel) -> bool:
    if isinstance(event, RecordAdded):
        return True
    if isinstance(event, RecordingEvent):
        return (event.recording_state or "").lower() == "completed"
    return False


def update_for(event: MangoModel, kind: str = "") -> CallUpdate | None:
    """The update an event calls for, or None when it changes no client.

    ``kind`` is the delivery's path (``result/callback``...): only a failed *call*
    command is reported to the client, not a failed SMS or hangup.
    """
    if isinstance(event, CallEvent):
        view = read_leg(event)
        if view.role is None:
            return None  # an internal leg: no client on it
        return CallUpdate(event, kind, event.entry_id, event.command_id, view.phone)
    if isinstance(event, CallSummary):
        client = _summary_client(event)
        return CallUpdate(event, kind, event.entry_id, None, client.phone if client else None)
    if isinstance(event, CommandResult):
        if codes.is_success(event.result) or not event.command_id:
            return None
        if kind and kind not in CALL_COMMANDS:
            return None
        return CallUpdate(event, kind, None, event.command_id)
    ready = isinstance(event, Notification) and _record_ready(event)
    if ready and event.entry_id and event.recording_id:
        return CallUpdate(event, kind, event.entry_id)
    return None
