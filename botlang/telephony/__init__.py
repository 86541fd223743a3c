"""Telephony for botlang: the adapter contract, the recording fake, and the spam guard.

The language core talks to telephony only through :class:`Telephony`; this package never
imports httpx (the Mango Office client lives in :mod:`botlang.telephony.mango`).

Builtins obtain their adapter with :func:`guarded`, which wraps any adapter in
:class:`GuardedTelephony` once (normalising phone numbers, refusing invalid ones with 3200
and over-frequent calls with 4501) and keeps that wrapper, with its guard state, on the
adapter object so the limits hold across script runs.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.telephony import codes


@dataclass(frozen=True)
class CallResult:
    """What a call command did: ``ok``, a Mango ``result`` code, a message, the command id."""

    ok: bool
    result: int
    message: str
    command_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The dict the call builtins return: ``{"ok", "result", "message", "command_id"}``."""
        return {
            "ok": self.ok,
            "result": self.result,
            "message": self.message,
            "command_id": self.command_id,
        }

    @classmethod
    def from_code(
        cls, code: object, message: str | None = None, command_id: str | None = None
    ) -> CallResult:
        """A result for ``code`` (int or digit string); ok and message follow from the code."""
        number = codes.parse_code(code)
        text = message if message is not None else codes.describe(number)
        return cls(codes.is_success(number), number, text, command_id)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CallResult:
        """Read the dict form back (as produced by :meth:`as_dict`)."""
        number = codes.parse_code(data.get("result", codes.SERVER_ERROR))
        command_id = data.get("command_id")
        return cls(
            bool(data.get("ok", codes.is_success(number))),
            number,
            str(data.get("message") or codes.describe(number)),
            None if command_id is None else str(command_id),
        )


@runtime_checkable
class Telephony(Protocol):
    """The two calls every telephony adapter provides (phones arrive normalised)."""

    def employee_call(self, extension: str, phone: str) -> CallResult:
        """Ring employee ``extension`` first, then dial ``phone`` and bridge them."""
        ...

    def group_call(self, group: str, line_number: str, phone: str) -> CallResult:
        """Ring ``group`` first, then the client ``phone``, showing ``line_number``."""
        ...


@runtime_checkable
class CallControl(Protocol):
    """Optional: act on a call in progress."""

    def hangup(self, call_id: str) -> CallResult: ...


@runtime_checkable
class Messaging(Protocol):
    """Optional: send an SMS from an employee's number."""

    def send_sms(
        self, extension: str, phone: str, text: str, sender: str | None = None
    ) -> CallResult: ...


@runtime_checkable
class Directory(Protocol):
    """Optional: the employee and group directory (to check configured extensions/groups)."""

    def users(self) -> list[dict[str, Any]]: ...

    def groups(self) -> list[dict[str, Any]]: ...


Outcome = int | str | CallResult
"""What a fake call gives: a code (1121), a code string, an outcome name ("busy"), a result."""


@dataclass(frozen=True)
class CallRecord:
    """One call an adapter received: its kind, arguments, when, and what it answered."""

    kind: str  # "employee" | "group" | "hangup" | "sms"
    args: dict[str, str]
    time: float
    result: CallResult

    @property
    def phone(self) -> str | None:
        return self.args.get("phone")

    @property
    def extension(self) -> str | None:
        return self.args.get("extension")

    @property
    def group(self) -> str | None:
        return self.args.get("group")

    @property
    def line_number(self) -> str | None:
        return self.args.get("line_number")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.args, "time": self.time, **self.result.as_dict()}


class RecordingTelephony:
    """A fake adapter for tests and the REPL: records every call and answers as told.

    >>> tel = RecordingTelephony()             # every call succeeds (1000)
    >>> tel = RecordingTelephony(result=1121)  # every call is busy
    >>> tel.queue("busy", 1000)                # the next call is busy, the one after ok
    >>> tel.set_result("no-answer", phone="79004443322")  # this number never answers

    The answer for a call is the first queued outcome, else the one set for its phone
    number, else the default. ``.calls`` lists :class:`CallRecord` objects in order.
    """

    def __init__(
        self,
        result: Outcome = codes.SUCCESS,
        *,
        clock: Callable[[], float] = time.time,
        users: list[dict[str, Any]] | None = None,
        groups: list[dict[str, Any]] | None = None,
        forward: Telephony | None = None,
    ) -> None:
        # With ``forward``, calls are placed through that adapter and its real answers
        # recorded (the REPL with a configured Mango account); configured outcomes are unused.
        self.forward = forward
        self.calls: list[CallRecord] = []
        self._default = _to_result(result)
        self._by_phone: dict[str, CallResult] = {}
        self._queue: deque[CallResult] = deque()
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._users = list(users or [])
        self._groups = list(groups or [])

    def set_result(self, result: Outcome, *, phone: object = None) -> None:
        """Answer every later call with ``result``, or only calls to ``phone`` if given."""
        with self._lock:
            if phone is None:
                self._default = _to_result(result)
            else:
                self._by_phone[_phone_key(phone)] = _to_result(result)

    def queue(self, *results: Outcome) -> None:
        """The next calls answer with these outcomes, one each, in order."""
        with self._lock:
            self._queue.extend(_to_result(r) for r in results)

    def clear(self) -> None:
        """Forget recorded calls and queued outcomes (the default and per-phone stay)."""
        with self._lock:
            self.calls.clear()
            self._queue.clear()

    def employee_call(self, extension: str, phone: str) -> CallResult:
        """Record an employee callback and answer with the configured outcome."""
        placed = self.forward.employee_call(extension, phone) if self.forward else None
        args = {"extension": str(extension), "phone": str(phone)}
        return self._record("employee", args, placed=placed)

    def group_call(self, group: str, line_number: str, phone: str) -> CallResult:
        """Record a group callback and answer with the configured outcome."""
        placed = self.forward.group_call(group, line_number, phone) if self.forward else None
        args = {"group": str(group), "line_number": str(line_number), "phone": str(phone)}
        return self._record("group", args, placed=placed)

    def hangup(self, call_id: str) -> CallResult:
        """Record a hangup; always succeeds."""
        return self._record("hangup", {"call_id": str(call_id)}, CallResult.from_code(1000))

    def send_sms(
        self, extension: str, phone: str, text: str, sender: str | None = None
    ) -> CallResult:
        """Record an SMS and answer with the configured outcome."""
        args = {"extension": str(extension), "phone": str(phone), "text": str(text)}
        if sender is not None:
            args["sender"] = str(sender)
        return self._record("sms", args)

    def users(self) -> list[dict[str, Any]]:
        """The employee directory given at construction."""
        return list(self._users)

    def groups(self) -> list[dict[str, Any]]:
        """The group directory given at construction."""
        return list(self._groups)

    @property
    def employee_calls(self) -> list[CallRecord]:
        return [c for c in self.calls if c.kind == "employee"]

    @property
    def group_calls(self) -> list[CallRecord]:
        return [c for c in self.calls if c.kind == "group"]

    @property
    def last_call(self) -> CallRecord | None:
        return self.calls[-1] if self.calls else None

    def _record(
        self,
        kind: str,
        args: dict[str, str],
        fixed: CallResult | None = None,
        *,
        placed: CallResult | None = None,
    ) -> CallResult:
        if placed is not None:  # a real answer: recorded as it is, command_id included
            with self._lock:
                self.calls.append(CallRecord(kind, dict(args), self._clock(), placed))
            return placed
        with self._lock:
            if fixed is not None:
                answer = fixed
            elif self._queue:
                answer = self._queue.popleft()
            else:
                phone = args.get("phone")
                key = _phone_key(phone) if phone is not None else None
                answer = self._by_phone.get(key, self._default) if key else self._default
            command_id = answer.command_id or f"rec-{next(self._ids)}"
            result = CallResult(answer.ok, answer.result, answer.message, command_id)
            self.calls.append(CallRecord(kind, dict(args), self._clock(), result))
            return result

    def __repr__(self) -> str:
        return f"RecordingTelephony(calls={len(self.calls)}, default={self._default.result})"


def _to_result(outcome: Outcome) -> CallResult:
    if isinstance(outcome, CallResult):
        return outcome
    return CallResult.from_code(codes.outcome_code(outcome))


def _phone_key(phone: object) -> str:
    try:
        return normalize_phone(phone)
    except InvalidPhone:
        return str(phone)


# Imported last: guard.py uses CallResult and Telephony from this module.
from botlang.telephony.guard import (  # noqa: E402
    CallHistory,
    GuardedTelephony,
    GuardUnavailable,
    MemoryCallHistory,
    SpamGuard,
    SpamLimit,
    guard_from_config,
    guarded,
)

# Client variables Mango's events set (the webhook service writes them; flows read them).
# What each means, and the events that set it: docs/telephony.md.
CALL_VARIABLES: tuple[str, ...] = (
    "call_entry_id",
    "call_id",
    "call_state",
    "call_direction",
    "call_initiator",
    "call_employee",
    "call_group",
    "call_line_number",
    "call_command_id",
    "call_answered",
    "call_talk_seconds",
    "call_result",
    "call_result_text",
    "call_outcome",
    "call_missed_by",
    "call_started_at",
    "call_ended_at",
    "call_record_id",
    "call_legs",
    "call_history",
)

__all__ = [
    "CALL_VARIABLES",
    "CallControl",
    "CallHistory",
    "CallRecord",
    "CallResult",
    "Directory",
    "GuardUnavailable",
    "GuardedTelephony",
    "MemoryCallHistory",
    "Messaging",
    "Outcome",
    "RecordingTelephony",
    "SpamGuard",
    "SpamLimit",
    "Telephony",
    "guard_from_config",
    "guarded",
]
