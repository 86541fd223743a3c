"""The spam guard, and the wrapper that puts it (and phone validation) in front of any adapter.

A misconfigured flow, or a misconfigured Mango group, can ring one client again and again.
:class:`SpamGuard` limits calls to one client number per time window across both call kinds,
with a stricter limit for group calls; a refused call gives result 4501 and no request.

:class:`GuardedTelephony` wraps any :class:`~botlang.telephony.Telephony` (Mango Office or the
recording fake) so every call goes through the same steps: validate the extension/group,
normalise the phone (invalid → 3200, no request), ask the guard (refused → 4501), then call.
:func:`guarded` is how builtins get their adapter: it wraps once and reuses the wrapper, so
guard state survives across script runs for as long as the adapter object lives.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botlang.phones import InvalidPhone, normalize_phone
from botlang.telephony import CallResult, Telephony, codes

log = logging.getLogger("botlang.telephony")

MAX_SHORT_NUMBER_DIGITS = 20


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


class SpamGuard:
    """Per-client-number call limits; thread-safe; on by default.

    ``per_number`` counts employee and group calls together; ``group_per_number`` counts
    group calls only and should be the stricter one. ``clock`` (monotonic seconds) can be
    injected for tests.
    """

    def __init__(
        self,
        *,
        per_number: SpamLimit | None = DEFAULT_PER_NUMBER,
        group_per_number: SpamLimit | None = DEFAULT_GROUP_PER_NUMBER,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_number = per_number
        self.group_per_number = group_per_number
        self.enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._history: dict[str, deque[tuple[float, str]]] = {}
        self._horizon = max(
            (lim.window for lim in (per_number, group_per_number) if lim is not None),
            default=0.0,
        )

    @classmethod
    def disabled(cls) -> SpamGuard:
        """A guard that lets every call through."""
        return cls(enabled=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> SpamGuard:
        """Build from a config table; keys (all optional): ``enabled``, ``calls_per_number``,
        ``window_seconds``, ``group_calls_per_number``, ``group_window_seconds``."""
        cfg = dict(config or {})
        known = {
            "enabled",
            "calls_per_number",
            "window_seconds",
            "group_calls_per_number",
            "group_window_seconds",
        }
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f"unknown spam guard setting: {', '.join(unknown)}")
        per = SpamLimit(
            int(cfg.get("calls_per_number", DEFAULT_PER_NUMBER.calls)),
            float(cfg.get("window_seconds", DEFAULT_PER_NUMBER.window)),
        )
        group = SpamLimit(
            int(cfg.get("group_calls_per_number", DEFAULT_GROUP_PER_NUMBER.calls)),
            float(cfg.get("group_window_seconds", DEFAULT_GROUP_PER_NUMBER.window)),
        )
        return cls(per_number=per, group_per_number=group, enabled=bool(cfg.get("enabled", True)))

    def admit(self, kind: str, phone: str) -> str | None:
        """Record a call of ``kind`` ("employee"/"group") to ``phone`` if allowed.

        Returns None when the call may go ahead (and counts it), else the reason it may not.
        """
        if not self.enabled:
            return None
        with self._lock:
            now = self._clock()
            history = self._history.setdefault(phone, deque())
            while history and now - history[0][0] >= self._horizon:
                history.popleft()
            checks = [("group calls", self.group_per_number, "group")] if kind == "group" else []
            checks.append(("calls", self.per_number, None))
            for label, limit, only in checks:
                if limit is None:
                    continue
                times = [t for t, k in history if now - t < limit.window and only in (None, k)]
                if len(times) >= limit.calls:
                    wait = math.ceil(times[-limit.calls] + limit.window - now)
                    return (
                        f"call to {phone} refused by the spam guard: {label} to one number are "
                        f"limited to {limit.describe()}; next allowed in {_duration(wait)}"
                    )
            history.append((now, kind))
            if len(self._history) > 10_000:
                self._sweep(now)
            return None

    def refund(self, kind: str, phone: str) -> None:
        """Uncount the latest admitted call of ``kind`` to ``phone`` (it was never placed)."""
        with self._lock:
            history = self._history.get(phone)
            if not history:
                return
            for index in range(len(history) - 1, -1, -1):
                if history[index][1] == kind:
                    del history[index]
                    return

    def reset(self, phone: str | None = None) -> None:
        """Forget the history of one number, or of all."""
        with self._lock:
            if phone is None:
                self._history.clear()
            else:
                self._history.pop(phone, None)

    def _sweep(self, now: float) -> None:
        stale = [p for p, h in self._history.items() if not h or now - h[-1][0] >= self._horizon]
        for phone in stale:
            del self._history[phone]

    def __repr__(self) -> str:
        if not self.enabled:
            return "SpamGuard(enabled=False)"
        return f"SpamGuard(per_number={self.per_number}, group_per_number={self.group_per_number})"


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
        refused = self.guard.admit("employee", client)
        if refused:
            return CallResult(False, codes.CALL_FREQUENCY_LIMIT, refused)
        return self._counted("employee", client, self._call("employee_call", ext, client))

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
        refused = self.guard.admit("group", client)
        if refused:
            return CallResult(False, codes.CALL_FREQUENCY_LIMIT, refused)
        return self._counted("group", client, self._call("group_call", grp, line, client))

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

    def _counted(self, kind: str, phone: str, result: CallResult) -> CallResult:
        # A failed result without a command id was never sent: it rang nobody, so it does
        # not use up the number's allowance.
        if not result.ok and result.command_id is None:
            self.guard.refund(kind, phone)
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
