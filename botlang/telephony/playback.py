"""How Mango Office plays a callback: the webhook deliveries of one call, in time order.

Pure (no I/O): :func:`plan_callback` and :func:`plan_group_callback` return the
:class:`Posting` list the simulator (:mod:`botlang.telephony.simulator`) sends. The shapes
follow the VPBX API's worked examples (see docs/telephony.md, "Event sequences"):

``commands/callback``
    ``result/callback``; leg 1 rings the employee — posted with the client's number in
    ``from`` and the employee in ``to`` (``extension`` and the number it rings: a SIP URI
    or a phone), ``command_id`` and ``callback_initiator: "API"``. When the employee
    answers, leg 2 dials the client (``from.taken_from_call_id`` = leg 1) and leg 1 ends
    with ``disconnect_reason`` ``"1000"``. Then ``events/summary`` — whose ``to`` is the
    first party that missed the call when nobody talked — and, for a conversation that was
    recorded, ``events/recording`` (Started, Completed) and ``events/record/added``.
``commands/callback_group`` (``from`` = the group)
    the same, except that the group's operators are rung first, a leg each
    (``to.acd_group``); the first to answer takes the call (the others' legs end with 1182),
    busy operators drop out at once (1121).
"""

from __future__ import annotations

import base64
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botlang.telephony import codes

SIP_DOMAIN = "vpbx400123456.mangosip.ru"
ANSWERED_CODES = frozenset({1100, 1110, 1120})
INITIATOR = "API"
RING_SECONDS = 5  # until an answer
TIMEOUT_SECONDS = 30  # until "no answer" (1111)
BUSY_SECONDS = 2  # until "busy" and other refusals
RECORD_READY_SECONDS = 3  # after the call: the record is stored
TAKEN_BY_ANOTHER = 1182  # a group operator's leg when another operator answered


@dataclass(frozen=True)
class Posting:
    """One webhook delivery: when (seconds after the command), where, what; ``stream``
    names the leg whose order it keeps (None: ordered against everything)."""

    at: int
    path: str
    payload: dict[str, Any]
    stream: str | None = None


def answered(code: int) -> bool:
    """Whether a party ending with ``code`` talked (1100, 1110, 1120)."""
    return code in ANSWERED_CODES


def employee_number(user: dict[str, Any] | None, extension: str) -> str:
    """The number Mango rings for an employee: the first of the user's numbers, else the
    employee's SIP address."""
    numbers = ((user or {}).get("telephony") or {}).get("numbers") or []
    for entry in numbers:
        number = entry.get("number") if isinstance(entry, dict) else entry
        if number:
            return str(number)
    return f"sip:{extension}@{SIP_DOMAIN}"


@dataclass
class Directory:
    """Who the VPBX knows: employees (``config/users/request`` shape) and groups."""

    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)

    def user(self, extension: str) -> dict[str, Any] | None:
        for user in self.users:
            if str((user.get("telephony") or {}).get("extension")) == str(extension):
                return user
        return None

    def outgoing_line(self, extension: str) -> str | None:
        line = ((self.user(extension) or {}).get("telephony") or {}).get("outgoingline")
        return None if line is None else str(line)

    def operators(self, group: str) -> list[str]:
        for entry in self.groups:
            if str(entry.get("extension")) == str(group):
                return [str(op.get("extension")) for op in entry.get("operators") or []]
        return []


def _ids(rng: random.Random) -> Iterator[str]:
    base = rng.randrange(10**9, 10**10)
    for n in itertools.count():
        yield base64.b64encode(f"1:{base}:{n}:{rng.randrange(10**9)}".encode()).decode()


@dataclass(frozen=True)
class Setup:
    """How a call plays: who the VPBX knows, how each side ends, how long they talk."""

    directory: Directory
    client_code: int  # how the client's side ends (1100: answered, 1121: busy...)
    employee_code: Callable[[str], int]  # how an employee's side ends, by extension
    talk_seconds: int = 30
    record: bool = True  # answered calls are recorded
    start: int = 0  # Unix time of the command
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class _Call:
    """One call being laid out on its timeline."""

    command_id: str | None
    client: str
    line: str | None
    setup: Setup
    postings: list[Posting] = field(default_factory=list)
    talk_time: int | None = None  # when the client answered
    record_added: tuple[int, str, str, str] | None = None  # (at, call_id, record, extension)

    def __post_init__(self) -> None:
        self.ids = _ids(self.setup.rng)
        self.start = self.setup.start
        self.entry_id = next(self.ids)
        self.seqs: dict[str, int] = {}

    def employee(self, extension: str, group: str | None = None) -> dict[str, Any]:
        party = {"extension": extension, "number": self.number_of(extension)}
        if group is not None:
            party["acd_group"] = group
        return party

    def number_of(self, extension: str) -> str:
        return employee_number(self.setup.directory.user(extension), extension)

    def post(self, at: int, path: str, payload: dict[str, Any], stream: str | None) -> None:
        self.postings.append(Posting(at, path, payload, stream))

    def leg(
        self,
        at: int,
        call_id: str,
        state: str,
        source: dict[str, Any],
        target: dict[str, Any],
        reason: int | str | None = None,
    ) -> None:
        seq = self.seqs.get(call_id, 0) + 1
        self.seqs[call_id] = seq
        event: dict[str, Any] = {
            "entry_id": self.entry_id,
            "call_id": call_id,
            "timestamp": self.start + at,
            "seq": seq,
            "call_state": state,
            "location": "abonent",
            "from": source,
            "to": target,
        }
        if reason is not None:
            event["disconnect_reason"] = reason
        if self.command_id is not None:
            event["command_id"] = self.command_id
        event["callback_initiator"] = INITIATOR
        self.post(at, "events/call", event, call_id)

    def dial_client(self, at: int, extension: str, taken_from: str, client_code: int) -> int:
        """Leg 2, from the employee who answered to the client; the time it ends."""
        call_id = next(self.ids)
        source = {**self.employee(extension), "taken_from_call_id": taken_from}
        target: dict[str, Any] = {"number": self.client}
        if self.line:
            target["line_number"] = self.line
        self.leg(at, call_id, "Appeared", source, target)
        if not answered(client_code):
            end = at + _ends_after(client_code)
            self.leg(end, call_id, "Disconnected", source, target, str(client_code))
            return end
        talk = at + RING_SECONDS
        self.talk_time = talk
        self.leg(talk, call_id, "Connected", source, target)
        end = talk + self.setup.talk_seconds
        recording = next(self.ids) if self.setup.record else None
        if recording is not None:
            self.recording(talk, call_id, recording, extension, "Started", 1)
        self.leg(end, call_id, "Disconnected", source, target, client_code)
        if recording is not None:
            self.recording(end, call_id, recording, extension, "Completed", 2)
            self.record_added = (end + RECORD_READY_SECONDS, call_id, recording, extension)
        return end

    def recording(
        self, at: int, call_id: str, recording_id: str, extension: str, state: str, seq: int
    ) -> None:
        event: dict[str, Any] = {
            "recording_id": recording_id,
            "recording_state": state,
            "seq": seq,
            "entry_id": self.entry_id,
            "call_id": call_id,
            "extension": extension,
            "timestamp": self.start + at,
        }
        if state == "Completed":
            event["completion_code"] = codes.SUCCESS
        self.post(at, "events/recording", event, call_id)

    def summary(
        self,
        end: int,
        source: dict[str, Any],
        target: dict[str, Any],
        code: int,
        forward: int | None,
    ) -> None:
        talk_time = self.talk_time
        summary: dict[str, Any] = {
            "entry_id": self.entry_id,
            "call_direction": 2,
            "from": source,
            "to": target,
            "line_number": self.line or "",
            "create_time": self.start + 1,
            "forward_time": self.start + forward if forward is not None and talk_time else 0,
            "talk_time": self.start + talk_time if talk_time else 0,
            "end_time": self.start + end,
            "entry_result": 1 if talk_time else 0,
            "disconnect_reason": code,
        }
        self.post(end, "events/summary", summary, None)
        if self.record_added is not None:
            at, call_id, recording_id, extension = self.record_added
            event = {
                "entry_id": self.entry_id,
                "call_id": call_id,
                "recording_id": recording_id,
                "extension": extension,
                "timestamp": self.start + at,
            }
            self.post(at, "events/record/added", event, None)

    def timeline(self) -> list[Posting]:
        return sorted(self.postings, key=lambda p: p.at)  # stable: same-time order kept


def _call(command_id: Any, client: Any, line: Any, setup: Setup) -> _Call:
    command = None if command_id is None else str(command_id)
    return _Call(command, str(client), None if line in (None, "") else str(line), setup)


def _ends_after(code: int) -> int:
    """Seconds of ringing before a leg ends unanswered with ``code``."""
    return TIMEOUT_SECONDS if code == codes.NO_ANSWER else BUSY_SECONDS


Parties = tuple[dict[str, Any], dict[str, Any]]


def _employee_answered(
    call: _Call, answer: int, extension: str, leg: str, parties: Parties
) -> list[Posting]:
    """An employee answered ``leg`` at ``answer``: leg 2 dials the client and the
    employee's leg ends with "1000"; then the summary."""
    client_code = call.setup.client_code
    end = call.dial_client(answer, extension, leg, client_code)
    call.leg(answer, leg, "Disconnected", *parties, str(codes.SUCCESS))
    employee = call.employee(extension)
    forward = answer if answered(client_code) else None
    call.summary(end, employee, {"number": call.client}, client_code, forward)
    return call.timeline()


def plan_callback(command: dict[str, Any], setup: Setup) -> list[Posting]:
    """The deliveries of a ``commands/callback``: the employee's leg, then the client's."""
    extension = str(command["from"]["extension"])
    line = command.get("line_number") or setup.directory.outgoing_line(extension)
    call = _call(command.get("command_id"), command["to_number"], line, setup)
    call.post(0, "result/callback", {"command_id": call.command_id, "result": 1000}, None)
    first = next(call.ids)
    parties = ({"number": call.client}, call.employee(extension))
    call.leg(1, first, "Appeared", *parties)
    code = setup.employee_code(extension)
    if not answered(code):
        end = 1 + _ends_after(code)
        call.leg(end, first, "Disconnected", *parties, str(code))
        call.summary(end, *parties, code, None)  # to: the employee, who missed it
        return call.timeline()
    answer = 1 + RING_SECONDS
    call.leg(answer, first, "Connected", *parties)
    return _employee_answered(call, answer, extension, first, parties)


def plan_group_callback(command: dict[str, Any], setup: Setup) -> list[Posting]:
    """The deliveries of a ``commands/callback_group`` with ``from`` = the group: the
    operators' legs, the one who answers, then the client's leg."""
    group = str(command["from"])
    call = _call(command.get("command_id"), command["to"], command.get("line_number"), setup)
    result = {"command_id": call.command_id, "result": 1000}
    call.post(0, "result/callback_group", result, None)
    client_side = {"number": call.client}
    legs = []
    for extension in setup.directory.operators(group):
        leg = next(call.ids)
        parties = (client_side, call.employee(extension, group))
        call.leg(1, leg, "Appeared", *parties)
        legs.append((extension, leg, parties, setup.employee_code(extension)))
    answering = next((leg for leg in legs if answered(leg[3])), None)
    answer = 1 + RING_SECONDS
    ended = []
    for _extension, leg, parties, code in legs:
        if not answered(code) and (answering is None or _ends_after(code) < RING_SECONDS):
            end = 1 + _ends_after(code)
            call.leg(end, leg, "Disconnected", *parties, code)
            ended.append((end, code))
    if answering is None:
        end = max((at for at, _ in ended), default=1)
        code = [c for at, c in ended if at == end][-1] if ended else 1160  # group failed
        call.summary(end, client_side, {"extension": group}, code, None)
        return call.timeline()
    extension, leg, parties, _code = answering
    call.leg(answer, leg, "Connected", *parties)
    for _other, other_leg, other_parties, code in legs:
        if other_leg != leg and (answered(code) or _ends_after(code) >= RING_SECONDS):
            call.leg(answer, other_leg, "Disconnected", *other_parties, TAKEN_BY_ANOTHER)
    return _employee_answered(call, answer, extension, leg, parties)


def plan(path: str, command: dict[str, Any], setup: Setup) -> list[Posting]:
    """The deliveries of a call command (``commands/callback`` or ``callback_group``)."""
    if path == "commands/callback_group":
        return plan_group_callback(command, setup)
    return plan_callback(command, setup)
