"""The spam guard, and the wrapper that puts it (and phone validation) in front of any adapter.

A misconfigured flow, or a misconfigured Mango group, can ring one client again and again.
:class:`SpamGuard` limits calls to one client number per time window across both call kinds,
with a stricter limit for group calls; a refused call gives result 4501 and no request.

The guard keeps its call history in a :class:`CallHistory`: :class:`MemoryCallHistory` (the
default) holds within one process; ``RedisCallHistory`` (:mod:`botlang.telephony.redis_guard`)
holds across every process and host that shares one Redis. :func:`guard_from_config` builds
a guard from the ``[guard]`` section of ``botlang.toml``. When the history cannot be reached
the guard refuses the call (4501, "spam guard unavailable"): it never lets an uncounted call
through.

:class:`GuardedTelephony` wraps any :class:`~botlang.telephony.Telephony` (Mango Office or the
recording fake) so every call goes through the same steps: validate the extension/group,
normalise the phone (invalid → 3200, no request), ask the guard (refused → 4501), then call.
:func:`guarded` is how builtins get their adapter: it wraps once and reuses the wrapper, so
guard state survives across script runs for as long as the adapter object lives.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.telephony import CallResult, Telephony, codes

if TYPE_CHECKING:
    from botlang.config import GuardConfig

log = logging.getLogger("botlang.telephony")

MAX_SHORT_NUMBER_DIGITS = 20
OUTAGE_LOG_INTERVAL = 60.0  # seconds between "spam guard unavailable" log lines


@dataclass(frozen=True)
class SpamLimit:
    """At most ``calls`` calls to one client number in any ``window`` seconds."""

    calls: int
    window: float

    def __post_init__(self) -> None:
        if self.calls < 1 or not self.window > 0:
            raise ValueError("a spam limit needs calls >= 1 and window > 0 seconds")

    def describe(self) -> str:
        return f"{self.calls} per {_duration(self.window)}"


DEFAULT_PER_NUMBER = SpamLimit(calls=3, window=600.0)
DEFAULT_GROUP_PER_NUMBER = SpamLimit(calls=1, window=600.0)

# One limit as a history applies it: (calls, window seconds, the only call kind it counts
# or None for every kind).
LimitCheck = tuple[int, float, str | None]


class GuardUnavailable(Exception):
    """The call history cannot be read or written (e.g. Redis is down); no secrets inside."""


@dataclass(frozen=True)
class Verdict:
    """A history's answer to one admit: the ticket of the counted call, or which limit
    refused it (an index into the checks) and the seconds until it has room."""

    ticket: str | None = None
    refused_by: int | None = None
    wait: float = 0.0


@dataclass(frozen=True)
class Admission:
    """The guard's answer to one call: ``refused`` (why not) or the ``ticket`` that
    :meth:`SpamGuard.refund` takes to uncount exactly this call."""

    refused: str | None = None
    ticket: str | None = None


class CallHistory(Protocol):
    """Where a :class:`SpamGuard` keeps the calls it counted, per client number.

    ``admit`` must check every limit and record the call as one atomic step for all users
    of the same history. ``now`` is None when the guard has no clock of its own: the
    history then uses its own time source. Failures raise :class:`GuardUnavailable`.
    """

    def admit(
        self,
        phone: str,
        kind: str,
        now: float | None,
        checks: Sequence[LimitCheck],
        horizon: float,
    ) -> Verdict:
        """Count a call of ``kind`` to ``phone`` unless one of ``checks`` is full; entries
        older than ``horizon`` seconds may be dropped."""
        ...

    def refund(self, phone: str, kind: str, ticket: str | None) -> None:
        """Uncount the call with ``ticket`` (None: the latest of ``kind``)."""
        ...

    def reset(self, phone: str | None) -> None:
        """Forget one number's calls, or every number's."""
        ...

    def ping(self) -> bool:
        """Whether the history can be reached now."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MemoryCallHistory:
    """The history in this process's memory: thread-safe, shared by nothing else."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, deque[tuple[float, str, str]]] = {}
        self._tickets = itertools.count(1)

    def admit(
        self,
        phone: str,
        kind: str,
        now: float | None,
        checks: Sequence[LimitCheck],
        horizon: float,
    ) -> Verdict:
        """See :meth:`CallHistory.admit`."""
        with self._lock:
            if now is None:
                now = self._clock()
            history = self._calls.setdefault(phone, deque())
            while history and now - history[0][0] >= horizon:
                history.popleft()
            for index, (calls, window, only) in enumerate(checks):
                times = [t for t, k, _ in history if now - t < window and only in (None, k)]
                if len(times) >= calls:
                    return Verdict(refused_by=index, wait=times[-calls] + window - now)
            ticket = str(next(self._tickets))
            history.append((now, kind, ticket))
            if len(self._calls) > 10_000:
                self._sweep(now, horizon)
            return Verdict(ticket=ticket)

    def refund(self, phone: str, kind: str, ticket: str | None) -> None:
        """See :meth:`CallHistory.refund`."""
        with self._lock:
            history = self._calls.get(phone)
            if not history:
                return
            for index in range(len(history) - 1, -1, -1):
                _, k, t = history[index]
                if (t == ticket) if ticket is not None else (k == kind):
                    del history[index]
                    return

    def reset(self, phone: str | None) -> None:
        """See :meth:`CallHistory.reset`."""
        with self._lock:
            if phone is None:
                self._calls.clear()
            else:
                self._calls.pop(phone, None)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def _sweep(self, now: float, horizon: float) -> None:
        stale = [p for p, h in self._calls.items() if not h or now - h[-1][0] >= horizon]
        for phone in stale:
            del self._calls[phone]

    def __repr__(self) -> str:
        return "MemoryCallHistory()"


class SpamGuard:
    """Per-client-number call limits; thread-safe; on by default.

    ``per_number`` counts employee and group calls together; ``group_per_number`` counts
    group calls only and should be the stricter one. ``history`` is where the counted calls
    live (default: this process's memory). ``clock`` (seconds) can be injected for tests;
    without one the history keeps time itself (memory: monotonic; Redis: the server's
    clock, one clock for every host).
    """

    def __init__(
        self,
        *,
        per_number: SpamLimit | None = DEFAULT_PER_NUMBER,
        group_per_number: SpamLimit | None = DEFAULT_GROUP_PER_NUMBER,
        enabled: bool = True,
        clock: Callable[[], float] | None = None,
        history: CallHistory | None = None,
    ) -> None:
        self.per_number = per_number
        self.group_per_number = group_per_number
        self.enabled = enabled
        self.history: CallHistory = history if history is not None else MemoryCallHistory()
        self._clock = clock
        self._horizon = max(
            (lim.window for lim in (per_number, group_per_number) if lim is not None),
            default=0.0,
        )
        self._outage_lock = threading.Lock()
        self._outage_logged_at: float | None = None
        self._outage_refusals = 0

    @classmethod
    def disabled(cls) -> SpamGuard:
        """A guard that lets every call through."""
        return cls(enabled=False)

    @classmethod
    def from_config(
        cls,
        config: GuardConfig | Mapping[str, Any] | None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> SpamGuard:
        """Build from a ``[guard]`` table; same as :func:`guard_from_config`."""
        return guard_from_config(config, clock=clock)

    def admit(self, kind: str, phone: str) -> str | None:
        """Record a call of ``kind`` ("employee"/"group") to ``phone`` if allowed.

        Returns None when the call may go ahead (and counts it), else the reason it may not.
        """
        return self.admit_call(kind, phone).refused

    def admit_call(self, kind: str, phone: str) -> Admission:
        """Like :meth:`admit`, with the ticket that uncounts exactly this call."""
        if not self.enabled:
            return Admission()
        labelled = [("group calls", self.group_per_number, "group")] if kind == "group" else []
        labelled.append(("calls", self.per_number, None))
        active = [(label, lim, only) for label, lim, only in labelled if lim is not None]
        checks = [(lim.calls, lim.window, only) for _, lim, only in active]
        now = self._clock() if self._clock is not None else None
        try:
            verdict = self.history.admit(phone, kind, now, checks, self._horizon)
        except GuardUnavailable as exc:
            self._note_outage(exc)
            return Admission(
                refused=f"call to {phone} refused: spam guard unavailable; no call was placed"
            )
        if verdict.refused_by is None:
            return Admission(ticket=verdict.ticket)
        label, limit, _ = active[verdict.refused_by]
        return Admission(
            refused=f"call to {phone} refused by the spam guard: {label} to one number are "
            f"limited to {limit.describe()}; next allowed in {_duration(verdict.wait)}"
        )

    def refund(self, kind: str, phone: str, ticket: str | None = None) -> None:
        """Uncount an admitted call that was never placed: the one with ``ticket``, or
        else the latest of ``kind`` to ``phone``."""
        if not self.enabled:
            return
        try:
            self.history.refund(phone, kind, ticket)
        except GuardUnavailable as exc:
            # The call stays counted: stricter than intended, never looser.
            log.warning("spam guard could not uncount a call that was not placed: %s", exc)

    def reset(self, phone: str | None = None) -> None:
        """Forget the history of one number, or of all (GuardUnavailable if unreachable)."""
        self.history.reset(phone)

    def available(self) -> bool:
        """Whether the call history can be reached now (calls are refused while not)."""
        return self.history.ping()

    def close(self) -> None:
        """Release the history's connections."""
        self.history.close()

    def _note_outage(self, exc: GuardUnavailable) -> None:
        # One line per interval, however many calls are refused meanwhile.
        now = time.monotonic()
        with self._outage_lock:
            self._outage_refusals += 1
            last = self._outage_logged_at
            if last is not None and now - last < OUTAGE_LOG_INTERVAL:
                return
            refused, self._outage_refusals = self._outage_refusals, 0
            self._outage_logged_at = now
        log.error(
            "spam guard unavailable (%s): calls are refused; %d refused since the last report",
            exc,
            refused,
        )

    def __repr__(self) -> str:
        if not self.enabled:
            return "SpamGuard(enabled=False)"
        return (
            f"SpamGuard(per_number={self.per_number}, group_per_number={self.group_per_number}, "
            f"history={self.history!r})"
        )


def guard_from_config(
    config: GuardConfig | Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> SpamGuard:
    """The :class:`SpamGuard` a ``[guard]`` section describes (None: the defaults).

    A plain mapping is validated as the section would be (ValueError naming the key, e.g.
    ``guard.calls_per_number: must be at least 1``). A ``redis://`` URL gives a guard whose
    history is shared through Redis; ``memory://`` one that holds in this process only.
    """
    from botlang.config import GuardConfig, parse_guard

    if config is None:
        config = GuardConfig()
    elif not isinstance(config, GuardConfig):
        config = parse_guard(config)
    if not config.enabled:
        return SpamGuard(enabled=False, clock=clock)
    url = config.url.get_secret_value()
    history: CallHistory | None = None
    if not url.startswith("memory:"):
        from botlang.telephony.redis_guard import RedisCallHistory

        history = RedisCallHistory(url)
    return SpamGuard(
        per_number=SpamLimit(config.calls_per_number, config.window_seconds),
        group_per_number=SpamLimit(config.group_calls_per_number, config.group_window_seconds),
        clock=clock,
        history=history,
    )


class GuardedTelephony:
    """Any adapter behind validation and the spam guard; itself a Telephony.

    Invalid client phone → 3200, bad extension/group → 3103/3104, refused by the guard →
    4501; none of these reach the inner adapter. An exception from the inner adapter
    becomes result 5000 rather than escaping into the script. A failed result with no
    ``command_id`` (the adapter sent nothing) is not counted by the guard.
    """

    def __init__(self, inner: Telephony, guard: SpamGuard | None = None) -> None:
        if isinstance(inner, GuardedTelephony):
            inner = inner.inner
        self.inner = inner
        self.guard = guard if guard is not None else SpamGuard()

    def employee_call(self, extension: object, phone: object) -> CallResult:
        """Validate, check the guard, then ring ``extension`` and bridge to ``phone``."""
        ext = _short_number(extension, "employee extension")
        if isinstance(ext, CallResult):
            return ext
        client = _client_phone(phone)
        if isinstance(client, CallResult):
            return client
        admission = self.guard.admit_call("employee", client)
        if admission.refused:
            return CallResult(False, codes.CALL_FREQUENCY_LIMIT, admission.refused)
        result = self._call("employee_call", ext, client)
        return self._counted("employee", client, result, admission.ticket)

    def group_call(self, group: object, line_number: object, phone: object) -> CallResult:
        """Validate, check the (stricter) group guard, then ring ``group`` and then ``phone``."""
        grp = _short_number(group, "group number")
        if isinstance(grp, CallResult):
            return grp
        try:
            line = normalize_phone(line_number)
        except InvalidPhone as exc:
            return CallResult(False, codes.BAD_FORMAT, f"invalid line number: {exc}")
        client = _client_phone(phone)
        if isinstance(client, CallResult):
            return client
        admission = self.guard.admit_call("group", client)
        if admission.refused:
            return CallResult(False, codes.CALL_FREQUENCY_LIMIT, admission.refused)
        result = self._call("group_call", grp, line, client)
        return self._counted("group", client, result, admission.ticket)

    def hangup(self, call_id: object) -> CallResult:
        """End a call, if the inner adapter can."""
        if not str(call_id or "").strip():
            return CallResult(False, codes.MISSING_PARAMETER, "call_id is empty")
        return self._call("hangup", str(call_id).strip())

    def send_sms(
        self, extension: object, phone: object, text: str, sender: str | None = None
    ) -> CallResult:
        """Send an SMS, if the inner adapter can (phone validated first)."""
        ext = _short_number(extension, "employee extension")
        if isinstance(ext, CallResult):
            return ext
        client = _client_phone(phone)
        if isinstance(client, CallResult):
            return client
        return self._call("send_sms", ext, client, str(text), sender)

    def users(self) -> list[dict[str, Any]]:
        """The inner adapter's employee directory ([] if it has none)."""
        method = getattr(self.inner, "users", None)
        return list(method()) if callable(method) else []

    def groups(self) -> list[dict[str, Any]]:
        """The inner adapter's group directory ([] if it has none)."""
        method = getattr(self.inner, "groups", None)
        return list(method()) if callable(method) else []

    def _counted(self, kind: str, phone: str, result: CallResult, ticket: str | None) -> CallResult:
        # A failed result without a command id was never sent: it rang nobody, so it does
        # not use up the number's allowance.
        if not result.ok and result.command_id is None:
            self.guard.refund(kind, phone, ticket)
        return result

    def _call(self, name: str, *args: Any) -> CallResult:
        method = getattr(self.inner, name, None)
        if not callable(method):
            return CallResult(
                False, 4001, f"{name} is not supported by {type(self.inner).__name__}"
            )
        try:
            answer = method(*args)
        except Exception as exc:
            # Only the type: an adapter's exception text is not ours to vet for secrets.
            log.warning(
                "telephony adapter %s.%s failed: %s",
                type(self.inner).__name__,
                name,
                type(exc).__name__,
            )
            return CallResult(
                False,
                codes.SERVER_ERROR,
                f"telephony adapter failed ({type(exc).__name__}); "
                "the call may or may not have been placed",
            )
        if isinstance(answer, CallResult):
            return answer
        if isinstance(answer, Mapping):
            return CallResult.from_mapping(answer)
        return CallResult(False, codes.SERVER_ERROR, f"telephony adapter returned {answer!r}")

    def __repr__(self) -> str:
        return f"GuardedTelephony({self.inner!r}, guard={self.guard!r})"


_ATTR = "_botlang_guarded"
_wrappers: weakref.WeakKeyDictionary[Any, GuardedTelephony] = weakref.WeakKeyDictionary()
_wrappers_lock = threading.Lock()


def guarded(telephony: Any, guard: SpamGuard | None = None) -> GuardedTelephony | None:
    """The guarded form of ``telephony`` (None stays None); builtins call this.

    A GuardedTelephony is returned as is. Any other adapter is wrapped once; the wrapper is
    kept on the adapter, so later calls (later script runs) share its guard state. ``guard``
    only applies when the wrapper is first made.
    """
    if telephony is None or isinstance(telephony, GuardedTelephony):
        return telephony
    with _wrappers_lock:
        attrs = getattr(telephony, "__dict__", None)
        if isinstance(attrs, dict):
            found = attrs.get(_ATTR)
            if isinstance(found, GuardedTelephony):
                return found
            wrapper = GuardedTelephony(telephony, guard)
            attrs[_ATTR] = wrapper  # bypasses __setattr__, so frozen dataclasses work too
            return wrapper
        try:
            found = _wrappers.get(telephony)
            if found is None:
                found = _wrappers[telephony] = GuardedTelephony(telephony, guard)
            return found
        except TypeError:
            log.warning(
                "%s keeps no state: the spam guard only holds within one call",
                type(telephony).__name__,
            )
            return GuardedTelephony(telephony, guard)


def _short_number(value: object, what: str) -> str | CallResult:
    """An extension or group number as digits, or the failed result."""
    if isinstance(value, bool):
        return CallResult(False, codes.BAD_FORMAT, f"{what} must be digits, not true/false")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "" if value is None else str(value).strip()
    if not text:
        return CallResult(False, codes.MISSING_PARAMETER, f"{what} is missing")
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_SHORT_NUMBER_DIGITS:
        return CallResult(False, codes.BAD_FORMAT, f"{what} must be digits, got {text!r}")
    return text


def _client_phone(value: object) -> str | CallResult:
    try:
        return normalize_phone(value)
    except InvalidPhone as exc:
        return CallResult(False, codes.INVALID_NUMBER, f"invalid client phone: {exc}")


def _duration(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
