"""The Mango Office VPBX API client (httpx, synchronous).

Every request is a form-encoded POST of ``vpbx_api_key``, ``sign`` and ``json`` to
``base_url + path``, signed by :mod:`botlang.telephony.signing`. Safety rules, because a
call command rings a real person and Mango has no idempotency:

- a call command is never retried: after a timeout or a 5xx the result (5000) says the
  call may or may not have been placed;
- requests are spaced client-side to Mango's limits (10/s overall, 4/s for call commands,
  1 per 2 s for the directory); an HTTP 429 pauses sending for its Retry-After;
- after a 3xxx answer (an invalid request) or an HTTP 401, nothing is sent for the lockout
  window (2 minutes): Mango blocks the whole account after repeated invalid requests;
- the salt (and the key) never appear in logs, error messages or ``repr``.

A result whose ``command_id`` is None was never sent to Mango.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.telephony import CallResult, codes
from botlang.telephony.signing import signed_form

log = logging.getLogger("botlang.telephony.mango")

DEFAULT_BASE_URL = "https://app.mango-office.ru/vpbx/"
LOCKOUT_SECONDS = 120.0
MAX_RETRY_AFTER = 60.0

# Which client-side limit each path counts against (besides the general one).
_CALL_PATHS = frozenset(
    {
        "commands/callback",
        "commands/callback_group",
        "commands/call/hangup",
        "commands/recording/start",
    }
)
_DIRECTORY_PATHS = frozenset({"config/users/request", "stats/request"})


class MangoError(Exception):
    """A directory/data request failed; ``result`` is the Mango (or botlang) result code."""

    def __init__(self, result: int, message: str) -> None:
        super().__init__(f"Mango Office request failed with result {result}: {message}")
        self.result = result
        self.message = message


@dataclass(frozen=True)
class RateLimits:
    """Client-side limits as (requests, per seconds). ``max_wait`` is how long a request may
    wait for a free slot before it is refused with 4290 instead; directory requests (1 per
    2 s) may wait up to ``max_directory_wait``."""

    general: tuple[int, float] = (10, 1.0)
    calls: tuple[int, float] = (4, 1.0)
    directory: tuple[int, float] = (1, 2.0)
    max_wait: float = 1.0
    max_directory_wait: float = 2.5


class _Window:
    """At most ``limit`` events in any ``window`` seconds; slots may be reserved ahead."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.times: deque[float] = deque()

    def earliest(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        at = now
        if self.times:
            at = max(at, self.times[-1])
        if len(self.times) >= self.limit:
            at = max(at, self.times[-self.limit] + self.window)
        return at

    def take(self, at: float) -> None:
        self.times.append(at)


class _Secret:
    """A string that does not show itself in repr/str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


@dataclass(frozen=True)
class _Answer:
    result: int
    message: str
    data: dict[str, Any]
    sent: bool


class MangoOffice:
    """The Mango Office adapter; implements :class:`botlang.telephony.Telephony`.

    ``timeout`` bounds every request (``connect_timeout`` the connection part);
    ``rate_limits=None`` turns client-side spacing off; ``clock``/``sleep`` are injectable
    for tests; ``transport`` is passed to httpx (tests, proxies).
    """

    def __init__(
        self,
        api_key: str,
        api_salt: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        rate_limits: RateLimits | None = RateLimits(),
        lockout_seconds: float = LOCKOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key or not api_salt:
            raise ValueError("Mango Office needs both an api key and an api salt")
        self._key = _Secret(str(api_key))
        self._salt = _Secret(str(api_salt))
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.lockout_seconds = lockout_seconds
        self._rate = rate_limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        if rate_limits is not None:
            self._windows = {
                "general": _Window(*rate_limits.general),
                "calls": _Window(*rate_limits.calls),
                "directory": _Window(*rate_limits.directory),
            }
        self._paused_until = 0.0  # after HTTP 429
        self._locked_until = 0.0  # after a 3xxx answer or HTTP 401
        self._lock_reason = ""
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "botlang"},
        )

    # -- the Telephony contract -------------------------------------------------------

    def employee_call(
        self, extension: str, phone: str, *, line_number: str | None = None
    ) -> CallResult:
        """``commands/callback``: ring employee ``extension``, then dial ``phone``."""
        ext = str(extension).strip()
        if not ext:
            return CallResult(False, codes.MISSING_PARAMETER, "employee extension is missing")
        client = _phone_or_result(phone, "client phone", codes.INVALID_NUMBER)
        if isinstance(client, CallResult):
            return client
        payload: dict[str, Any] = {"from": {"extension": ext}, "to_number": client}
        if line_number:
            line = _phone_or_result(line_number, "line number", codes.BAD_FORMAT)
            if isinstance(line, CallResult):
                return line
            payload["line_number"] = line
        return self._command("commands/callback", payload)

    def group_call(self, group: str, line_number: str, phone: str) -> CallResult:
        """``commands/callback_group``: ring ``group`` first, then the client ``phone``."""
        grp = str(group).strip()
        if not grp:
            return CallResult(False, codes.MISSING_PARAMETER, "group number is missing")
        line = _phone_or_result(line_number, "line number", codes.BAD_FORMAT)
        if isinstance(line, CallResult):
            return line
        client = _phone_or_result(phone, "client phone", codes.INVALID_NUMBER)
        if isinstance(client, CallResult):
            return client
        payload = {"from": grp, "to": client, "line_number": line}
        return self._command("commands/callback_group", payload)

    # -- optional capabilities ------------------------------------------------------------

    def hangup(self, call_id: str) -> CallResult:
        """``commands/call/hangup`` for one call leg."""
        if not str(call_id).strip():
            return CallResult(False, codes.MISSING_PARAMETER, "call_id is missing")
        return self._command("commands/call/hangup", {"call_id": str(call_id).strip()})

    def send_sms(
        self, extension: str, phone: str, text: str, sender: str | None = None
    ) -> CallResult:
        """``commands/sms`` from employee ``extension`` to ``phone``."""
        client = _phone_or_result(phone, "client phone", codes.INVALID_NUMBER)
        if isinstance(client, CallResult):
            return client
        limit = 268 if any(ord(ch) > 0x7F for ch in text) else 612
        if not text or len(text) > limit:
            return CallResult(
                False, codes.BAD_FORMAT, f"SMS text must be 1 to {limit} characters long"
            )
        payload: dict[str, Any] = {
            "text": text,
            "from_extension": str(extension).strip(),
            "to_number": client,
        }
        if sender:
            payload["sms_sender"] = sender
        return self._command("commands/sms", payload)

    def users(self, extension: str | None = None) -> list[dict[str, Any]]:
        """``config/users/request``: the employee directory (or one extension's entry)."""
        payload = {} if extension is None else {"extension": str(extension)}
        answer = self._send("config/users/request", payload)
        if not codes.is_success(answer.result):
            raise MangoError(answer.result, answer.message)
        users = answer.data.get("users")
        return [u for u in users if isinstance(u, dict)] if isinstance(users, list) else []

    def groups(self) -> list[dict[str, Any]]:
        """``groups``: the VPBX's groups with their short numbers and operators."""
        answer = self._send("groups", {})
        if not codes.is_success(answer.result):
            raise MangoError(answer.result, answer.message)
        groups = answer.data.get("groups")
        return [g for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []

    def employee_exists(self, extension: str | int) -> bool:
        """Whether an employee has short number ``extension``."""
        wanted = str(extension).strip()
        return any(_user_extension(u) == wanted for u in self.users(wanted))

    def group_exists(self, group: str | int) -> bool:
        """Whether a group has short number (or id) ``group``."""
        wanted = str(group).strip()
        return any(
            str(g.get("extension", "")).strip() == wanted or str(g.get("id", "")).strip() == wanted
            for g in self.groups()
        )

    # -- state ---------------------------------------------------------------------------

    @property
    def locked_out_for(self) -> float:
        """Seconds left in the lockout pause (0 when requests may be sent)."""
        return max(0.0, self._locked_until - self._clock())

    def reset_lockout(self) -> None:
        """Allow requests again before the lockout window has passed (after a fix)."""
        with self._lock:
            self._locked_until = 0.0
            self._lock_reason = ""

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MangoOffice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MangoOffice(base_url={self.base_url!r}, api_key='***', api_salt='***')"

    def __reduce__(self) -> Any:
        raise TypeError("MangoOffice holds secrets and cannot be pickled")

    # -- the wire ------------------------------------------------------------------------

    def _command(self, path: str, payload: dict[str, Any]) -> CallResult:
        command_id = f"botlang-{uuid.uuid4().hex}"
        answer = self._send(path, {"command_id": command_id, **payload})
        return CallResult(
            codes.is_success(answer.result),
            answer.result,
            answer.message,
            command_id if answer.sent else None,
        )

    def _send(self, path: str, payload: dict[str, Any]) -> _Answer:
        refusal = self._admit(path)
        if refusal is not None:
            return refusal
        url = self.base_url + path
        form = signed_form(self._key.reveal(), self._salt.reveal(), payload)
        command_id = payload.get("command_id")
        is_call = path in _CALL_PATHS
        maybe = "the call may or may not have been placed; " if is_call else ""
        try:
            response = self._http.post(url, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("mango %s: cannot connect (%s)", path, type(exc).__name__)
            return _Answer(
                codes.SERVER_ERROR,
                f"cannot connect to Mango Office ({self._scrub(exc)}); nothing was sent",
                {},
                False,
            )
        except httpx.TimeoutException as exc:
            log.warning(
                "mango %s command_id=%s: timed out (%s)", path, command_id, type(exc).__name__
            )
            return _Answer(
                codes.SERVER_ERROR,
                f"no answer from Mango Office within {self.timeout:g} s; {maybe}"
                "not retried, because a retry could ring the client twice",
                {},
                True,
            )
        except httpx.HTTPError as exc:
            log.warning("mango %s command_id=%s: %s", path, command_id, type(exc).__name__)
            return _Answer(
                codes.SERVER_ERROR,
                f"request to Mango Office failed ({self._scrub(exc)}); {maybe}not retried",
                {},
                True,
            )
        answer = self._read(path, response, maybe)
        log.info(
            "mango %s command_id=%s: HTTP %s result %s",
            path,
            command_id,
            response.status_code,
            answer.result,
        )
        return answer

    def _admit(self, path: str) -> _Answer | None:
        """Refuse (lockout, long 429 pause, saturated limiter) or wait for a slot."""
        with self._lock:
            now = self._clock()
            if now < self._locked_until:
                left = math.ceil(self._locked_until - now)
                return _Answer(
                    codes.SECURITY_RESTRICTION,
                    f"Mango Office requests are paused for {left} s more after {self._lock_reason};"
                    " Mango blocks the account for 2 minutes after repeated invalid requests;"
                    " nothing was sent",
                    {},
                    False,
                )
            max_wait = 0.0
            if self._rate is not None:
                max_wait = self._rate.max_wait
                if path in _DIRECTORY_PATHS:
                    max_wait = max(max_wait, self._rate.max_directory_wait)
            at = max(now, self._paused_until)
            windows = [self._windows[name] for name in self._limits_for(path)]
            for window in windows:
                at = max(at, window.earliest(now))
            wait = at - now
            if wait > max_wait:
                why = (
                    "Mango Office asked to slow down (HTTP 429)"
                    if self._paused_until > now + max_wait
                    else "the client-side rate limit is reached"
                )
                return _Answer(
                    codes.RATE_LIMITED,
                    f"{why}; nothing was sent; try again in {math.ceil(wait)} s",
                    {},
                    False,
                )
            for window in windows:
                window.take(at)
        if wait > 0:
            self._sleep(wait)
        return None

    def _limits_for(self, path: str) -> Iterable[str]:
        if not self._windows:
            return ()
        if path in _CALL_PATHS:
            return ("general", "calls")
        if path in _DIRECTORY_PATHS:
            return ("general", "directory")
        return ("general",)

    def _read(self, path: str, response: httpx.Response, maybe: str) -> _Answer:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        data = body if isinstance(body, dict) else {}
        result = _result_code(data.get("result"))

        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            with self._lock:
                self._paused_until = max(self._paused_until, self._clock() + retry_after)
            return _Answer(
                codes.RATE_LIMITED,
                "Mango Office rate limit exceeded (HTTP 429); the request was not executed",
                data,
                True,
            )
        if status == 401:
            self._lock_out(f"HTTP 401 from Mango Office (result {result or 'none'})")
            return _Answer(
                result if result is not None and result >= 3000 else codes.SECURITY_RESTRICTION,
                "Mango Office refused the request (HTTP 401): the API key is wrong or the "
                "account is blocked after repeated invalid requests; requests are paused "
                f"for {self.lockout_seconds:g} s",
                data,
                True,
            )
        if status >= 500:
            code = result if result is not None and codes.is_server_error(result) else None
            return _Answer(
                code or codes.SERVER_ERROR,
                f"Mango Office answered HTTP {status}; {maybe}not retried",
                data,
                True,
            )
        if result is None:
            if status == 200 and path not in _CALL_PATHS and path != "commands/sms":
                return _Answer(codes.SUCCESS, codes.describe(codes.SUCCESS), data, True)
            return _Answer(
                codes.SERVER_ERROR,
                f"unexpected answer from Mango Office (HTTP {status}, no result code); "
                f"{maybe}not retried",
                data,
                True,
            )
        text = codes.describe(result)
        if codes.is_request_error(result):
            self._lock_out(f"result {result} ({text})")
            hint = " — check the api key and salt" if result in (3102, 3105) else ""
            text = (
                f"{text}{hint}; further requests are paused for {self.lockout_seconds:g} s "
                "to keep the account from being blocked"
            )
        return _Answer(result, text, data, True)

    def _lock_out(self, reason: str) -> None:
        with self._lock:
            self._locked_until = self._clock() + self.lockout_seconds
            self._lock_reason = reason
        log.warning("mango: pausing requests for %g s after %s", self.lockout_seconds, reason)

    def _scrub(self, exc: BaseException) -> str:
        """An exception's text with any secret blanked out."""
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        for secret in (self._salt.reveal(), self._key.reveal()):
            text = text.replace(secret, "***")
        return text[:200]


def _phone_or_result(value: object, what: str, code: int) -> str | CallResult:
    try:
        return normalize_phone(value)
    except InvalidPhone as exc:
        return CallResult(False, code, f"invalid {what}: {exc}")


def _result_code(value: object) -> int | None:
    try:
        return codes.parse_code(value)
    except ValueError:
        return None


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER) or 1.0


def _user_extension(user: dict[str, Any]) -> str:
    telephony = user.get("telephony")
    if isinstance(telephony, dict):
        return str(telephony.get("extension", "")).strip()
    return str(user.get("extension", "")).strip()
