"""A Mango Office VPBX API simulator: a real HTTP server for tests and local development.

It checks requests the way Mango does (3101 not POST, 3103 missing field, 3105 bad key,
3102 bad sign, 3104 malformed), answers like Mango (``{"result":1000}``), enforces rate
limits (HTTP 429 with Mango's body) and the lockout after repeated invalid requests (HTTP
401), can be told to fail (a 5xx) or to answer slowly, and records what it received.

Given a webhook base address it plays each call out asynchronously, posting signed form
bodies the way Mango does (:mod:`botlang.telephony.playback`): a callback is two legs —
the employee's (with the client's number in ``from``, ``callback_initiator: "API"``), then,
once the employee answers, the client's (``taken_from_call_id``) — and a group callback
rings the group's operators first; then ``events/summary`` (its ``to`` is the first party
that missed the call) and the recording's notifications. How each side ends is set per
client number (:meth:`MangoSimulator.set_outcome`) and per employee
(:meth:`MangoSimulator.set_employee_outcome`): answered, busy, no answer... Deliveries are
``ordered`` (one at a time, in time order), ``parallel`` (each leg's events in order, the
legs concurrently, as Mango posts them) or ``shuffled`` (every leg event at once, in random
order); the summary always follows the legs.

    sim = MangoSimulator(webhook_url="http://127.0.0.1:8080/mango_webhook/KEY")
    with sim.serve() as base_url:                    # "http://127.0.0.1:<port>/vpbx/"
        MangoOffice(sim.api_key, "...", base_url).employee_call("219", "79004443322")
        sim.wait_idle()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from botlang.telephony import codes
from botlang.telephony.playback import Directory, Posting, Setup, plan
from botlang.telephony.signing import signed_form, verify
from botlang.util.serving import serve_app

TEST_API_KEY = "botlang-test-key"
TEST_API_SALT = "botlang-test-salt"
RATE_LIMIT_BODY = {
    "name": "Service Unavailable",
    "message": "Rate limit exceeded.",
    "code": 0,
    "status": 429,
}
DELIVERIES = ("ordered", "parallel", "shuffled")
_LIMITED_COMMANDS = frozenset(
    {
        "commands/callback",
        "commands/callback_group",
        "commands/call/hangup",
        "commands/recording/start",
    }
)

DEFAULT_USERS: list[dict[str, Any]] = [
    {
        "general": {"name": "Иван", "email": "", "department": ""},
        "telephony": {"extension": "219", "outgoingline": "74992262961", "numbers": []},
    },
    {
        "general": {"name": "Мария", "email": "", "department": ""},
        "telephony": {"extension": "101", "outgoingline": "74992262961", "numbers": []},
    },
]
DEFAULT_GROUPS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Продажи",
        "extension": "12345",
        "operators": [{"extension": "219"}, {"extension": "101"}],
    },
]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the simulator received and how it answered."""

    method: str
    path: str  # without the base prefix, e.g. "commands/callback"
    form: dict[str, str]
    payload: dict[str, Any] | None
    status: int
    result: int | None
    time: float


@dataclass(frozen=True)
class Delivery:
    """One webhook POST the simulator made."""

    path: str  # "events/call", "events/summary", "result/callback", ...
    payload: dict[str, Any]
    status: int | None  # None when the delivery failed
    error: str | None = None


@dataclass
class _Injection:
    status: int | None = None
    delay: float = 0.0
    body: Any = None


@dataclass
class _State:
    requests: list[ReceivedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    injections: deque[_Injection] = field(default_factory=deque)
    arrivals: deque[float] = field(default_factory=deque)
    call_arrivals: deque[float] = field(default_factory=deque)
    invalid: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    employee_outcomes: dict[str, int] = field(default_factory=dict)
    pending: int = 0


class MangoSimulator:
    """The simulated VPBX. Thread-safe to inspect while it is being served."""

    def __init__(
        self,
        api_key: str = TEST_API_KEY,
        api_salt: str = TEST_API_SALT,
        *,
        webhook_url: str | None = None,
        outcome: object = "answered",
        employee_outcome: object = "answered",
        talk_seconds: int = 30,
        event_delay: float = 0.0,
        rate_limit: tuple[int, float] | None = (10, 1.0),
        call_rate_limit: tuple[int, float] | None = (4, 1.0),
        lockout: bool = True,
        lockout_seconds: float = 120.0,
        result_as_string: bool = False,
        delivery: str = "ordered",
        record_calls: bool = True,
        users: list[dict[str, Any]] | None = None,
        groups: list[dict[str, Any]] | None = None,
    ) -> None:
        self.api_key = api_key
        self._salt = api_salt
        self.webhook_url = webhook_url
        self.default_outcome = codes.outcome_code(outcome)
        self.default_employee_outcome = codes.outcome_code(employee_outcome)
        self.talk_seconds = talk_seconds
        self.event_delay = event_delay
        self.rate_limit = rate_limit
        self.call_rate_limit = call_rate_limit
        self.lockout = lockout
        self.lockout_seconds = lockout_seconds
        self.result_as_string = result_as_string
        if delivery not in DELIVERIES:
            raise ValueError(f"delivery must be one of {', '.join(DELIVERIES)}, not {delivery!r}")
        self.delivery = delivery
        self.record_calls = record_calls
        # Copies: a test changing one simulator's directory must not change the defaults.
        self.users = copy.deepcopy(DEFAULT_USERS if users is None else users)
        self.groups = copy.deepcopy(DEFAULT_GROUPS if groups is None else groups)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._state = _State()
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
                )
            ]
        )

    # -- configuration and inspection ----------------------------------------------------

    def set_outcome(self, outcome: object, phone: str | None = None) -> None:
        """How the client's side ends (answered, busy, no-answer...): for every call, or
        only for calls to client ``phone``."""
        code = codes.outcome_code(outcome)
        with self._lock:
            if phone is None:
                self.default_outcome = code
            else:
                self._state.outcomes[str(phone)] = code

    def set_employee_outcome(self, outcome: object, extension: str | None = None) -> None:
        """How the employee's side ends — the leg that rings the employee (or a group's
        operator) before the client is dialled: for every employee, or only ``extension``.
        Anything but answered means the client is never dialled."""
        code = codes.outcome_code(outcome)
        with self._lock:
            if extension is None:
                self.default_employee_outcome = code
            else:
                self._state.employee_outcomes[str(extension)] = code

    def fail_next(self, status: int = 503, count: int = 1, body: Any = None) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` without executing them."""
        with self._lock:
            for _ in range(count):
                self._state.injections.append(_Injection(status=status, body=body))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Answer the next ``count`` requests only after ``seconds`` (they still execute)."""
        with self._lock:
            for _ in range(count):
                self._state.injections.append(_Injection(delay=seconds))

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received, in arrival order."""
        with self._lock:
            return list(self._state.requests)

    @property
    def commands(self) -> list[ReceivedRequest]:
        """The call/other commands that were accepted (result 1000)."""
        return [r for r in self.requests if r.path.startswith("commands/") and r.result == 1000]

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook POST made, in order of completion."""
        with self._lock:
            return list(self._state.deliveries)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every call has been played out; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._state.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def reset(self) -> None:
        """Forget received requests, deliveries, injections, rate and lockout state."""
        with self._lock:
            pending = self._state.pending
            self._state = _State(pending=pending)

    def serve(
        self, host: str = "127.0.0.1", port: int = 0
    ) -> contextlib.AbstractContextManager[str]:
        """Serve in a background thread; the context yields the API base URL (…/vpbx/)."""
        return _serve_with_suffix(self.app, host, port, "/vpbx/")

    def __repr__(self) -> str:
        return f"MangoSimulator(api_key={self.api_key!r}, webhook_url={self.webhook_url!r})"

    # -- the API -------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        path = request.path_params.get("path", "").strip("/")
        if path.startswith("vpbx/"):
            path = path[len("vpbx/") :]
        raw = await request.body()
        form: dict[str, str] = {}
        form_ok = True
        try:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            form_ok = False

        with self._lock:
            injection = self._state.injections.popleft() if self._state.injections else None
        if injection is not None and injection.delay:
            await asyncio.sleep(injection.delay)
        now = time.monotonic()
        if injection is not None and injection.status is not None:
            body = injection.body
            if body is None:
                body = RATE_LIMIT_BODY if injection.status == 429 else {"result": 5000}
            return self._answer(request, path, form, None, injection.status, body)

        with self._lock:
            limited = self._over_limit(self._state.arrivals, self.rate_limit, now) or (
                path in _LIMITED_COMMANDS
                and self._over_limit(self._state.call_arrivals, self.call_rate_limit, now)
            )
            locked = self.lockout and now < self._state.locked_until
        if limited:
            return self._answer(request, path, form, None, 429, RATE_LIMIT_BODY)
        if locked:
            body = {"name": "Unauthorized", "message": "API access is blocked.", "status": 401}
            return self._answer(request, path, form, None, 401, body)

        if request.method != "POST":
            return self._result(request, path, form, None, 3101)
        if not form_ok:
            return self._result(request, path, form, None, 3104)
        for name in ("vpbx_api_key", "sign", "json"):
            if not form.get(name):
                return self._result(request, path, form, None, 3103)
        if form["vpbx_api_key"] != self.api_key:
            return self._result(request, path, form, None, 3105)
        if not verify(self.api_key, form["json"], self._salt, form["sign"]):
            return self._result(request, path, form, None, 3102)
        try:
            payload = json.loads(form["json"])
        except ValueError:
            return self._result(request, path, form, None, 3104)
        if not isinstance(payload, dict):
            return self._result(request, path, form, None, 3104)
        return self._command(request, path, form, payload)

    def _command(
        self, request: Request, path: str, form: dict[str, str], payload: dict[str, Any]
    ) -> Response:
        if path == "commands/callback":
            sender = payload.get("from")
            if not isinstance(sender, dict) and sender is not None:
                return self._result(request, path, form, payload, 3104)
            extension = (sender or {}).get("extension")
            if not _present(extension) or not _present(payload.get("to_number")):
                return self._result(request, path, form, payload, 3103)
            if not _is_number(payload["to_number"]):
                return self._result(request, path, form, payload, 3200)
            return self._accept_call(request, path, form, payload)
        if path == "commands/callback_group":
            if not all(_present(payload.get(k)) for k in ("from", "to", "line_number")):
                return self._result(request, path, form, payload, 3103)
            if not all(isinstance(payload[k], str | int) for k in ("from", "to", "line_number")):
                return self._result(request, path, form, payload, 3104)
            if not _is_number(payload["to"]) or not _is_number(payload["line_number"]):
                return self._result(request, path, form, payload, 3200)
            return self._accept_call(request, path, form, payload)
        if path == "commands/call/hangup":
            if not _present(payload.get("call_id")):
                return self._result(request, path, form, payload, 3103)
            return self._result(request, path, form, payload, 1000)
        if path == "commands/sms":
            if not all(_present(payload.get(k)) for k in ("text", "from_extension", "to_number")):
                return self._result(request, path, form, payload, 3103)
            return self._result(request, path, form, payload, 1000)
        if path == "config/users/request":
            wanted = payload.get("extension")
            users = [
                u
                for u in self.users
                if wanted is None or str(u.get("telephony", {}).get("extension")) == str(wanted)
            ]
            return self._answer(request, path, form, payload, 200, {"users": users}, 1000)
        if path == "groups":
            body = {"result": self._code(1000), "groups": self.groups}
            return self._answer(request, path, form, payload, 200, body, 1000)
        return self._answer(request, path, form, payload, 404, {"result": self._code(4001)}, 4001)

    def _accept_call(
        self, request: Request, path: str, form: dict[str, str], payload: dict[str, Any]
    ) -> Response:
        response = self._result(request, path, form, payload, 1000)
        if self.webhook_url:
            with self._lock:
                self._state.pending += 1
            task = asyncio.get_running_loop().create_task(self._play(path, payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return response

    def _result(
        self,
        request: Request,
        path: str,
        form: dict[str, str],
        payload: dict[str, Any] | None,
        code: int,
    ) -> Response:
        return self._answer(request, path, form, payload, 200, {"result": self._code(code)}, code)

    def _answer(
        self,
        request: Request,
        path: str,
        form: dict[str, str],
        payload: dict[str, Any] | None,
        status: int,
        body: Any,
        code: int | None = None,
    ) -> Response:
        now = time.monotonic()
        with self._lock:
            self._state.requests.append(
                ReceivedRequest(request.method, path, form, payload, status, code, time.time())
            )
            if code is not None and codes.is_request_error(code) and self.lockout:
                invalid = self._state.invalid
                invalid.append(now)
                while invalid and invalid[0] <= now - self.lockout_seconds:
                    invalid.popleft()
                if len(invalid) > 1:
                    self._state.locked_until = now + self.lockout_seconds
        return JSONResponse(body, status_code=status)

    def _over_limit(
        self, arrivals: deque[float], limit: tuple[int, float] | None, now: float
    ) -> bool:
        """Count this arrival; True when it exceeds ``limit`` (caller holds the lock)."""
        if limit is None:
            return False
        count, window = limit
        while arrivals and arrivals[0] <= now - window:
            arrivals.popleft()
        if len(arrivals) >= count:
            return True
        arrivals.append(now)
        return False

    def _code(self, code: int) -> int | str:
        return str(code) if self.result_as_string else code

    # -- call playback -------------------------------------------------------------------

    async def _play(self, path: str, payload: dict[str, Any]) -> None:
        try:
            await self._play_call(path, payload)
        finally:
            with self._idle:
                self._state.pending -= 1
                self._idle.notify_all()

    def plan(self, path: str, payload: dict[str, Any]) -> list[Posting]:
        """The deliveries a call command plays out, in time order (nothing is sent)."""
        with self._lock:
            client = str(
                payload["to"] if path == "commands/callback_group" else payload["to_number"]
            )
            client_code = self._state.outcomes.get(client, self.default_outcome)
            employees = dict(self._state.employee_outcomes)
        setup = Setup(
            Directory(self.users, self.groups),
            client_code,
            lambda extension: employees.get(extension, self.default_employee_outcome),
            talk_seconds=self.talk_seconds,
            record=self.record_calls,
            start=int(time.time()),
        )
        return plan(path, payload, setup)

    async def _play_call(self, path: str, payload: dict[str, Any]) -> None:
        postings = self.plan(path, payload)
        first = [p for p in postings if p.path.startswith("result/")]
        legs = [p for p in postings if p.stream is not None]
        last = [p for p in postings if p not in first and p not in legs]
        async with httpx.AsyncClient(timeout=5.0) as http:
            for posting in first:
                await self._deliver(http, posting.path, posting.payload)
            if self.delivery == "ordered":
                for posting in legs:
                    await self._pause()
                    await self._deliver(http, posting.path, posting.payload)
            elif self.delivery == "shuffled":
                random.shuffle(legs)
                await asyncio.gather(*(self._deliver(http, p.path, p.payload) for p in legs))
            else:  # parallel: each leg's events in order, the legs at the same time
                streams: dict[str, list[Posting]] = {}
                for posting in legs:
                    streams.setdefault(str(posting.stream), []).append(posting)
                await asyncio.gather(*(self._stream(http, s) for s in streams.values()))
            for posting in last:  # the summary, then what follows it
                await self._pause()
                await self._deliver(http, posting.path, posting.payload)

    async def _stream(self, http: httpx.AsyncClient, postings: list[Posting]) -> None:
        for posting in postings:
            await asyncio.sleep(random.uniform(0, max(self.event_delay, 0.005) * 2))
            await self._deliver(http, posting.path, posting.payload)

    async def _pause(self) -> None:
        if self.event_delay:
            await asyncio.sleep(self.event_delay)

    async def _deliver(self, http: httpx.AsyncClient, path: str, payload: dict[str, Any]) -> None:
        assert self.webhook_url is not None
        url = self.webhook_url.rstrip("/") + "/" + path
        form = signed_form(self.api_key, self._salt, payload)
        status: int | None = None
        error: str | None = None
        try:
            response = await http.post(url, data=form)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        with self._lock:
            self._state.deliveries.append(Delivery(path, payload, status, error))


def _present(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def _is_number(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 11 <= len(text) <= 15


# -- running it ------------------------------------------------------------------------------


@contextlib.contextmanager
def _serve_with_suffix(app: Any, host: str, port: int, suffix: str) -> Iterator[str]:
    with serve_app(app, host, port) as url:
        yield url + suffix


def register(subparsers: Any) -> None:
    """Add ``mango-sim`` to a CLI's subparsers (the same as the ``commands`` module does)."""
    from botlang.cli.telephony import register_mango_sim

    register_mango_sim(subparsers)


def run_cli(args: argparse.Namespace) -> int:
    """The ``mango-sim`` command: serve in the foreground until interrupted."""
    # The key is shown only when it is not a real one from the environment; the salt never.
    if args.api_key:
        api_key, key_shown = args.api_key, args.api_key
    elif os.environ.get("MANGO_API_KEY"):
        api_key, key_shown = os.environ["MANGO_API_KEY"], "from $MANGO_API_KEY"
    else:
        api_key, key_shown = TEST_API_KEY, TEST_API_KEY
    if args.api_salt:
        api_salt, salt_from = args.api_salt, "--api-salt"
    elif os.environ.get("MANGO_API_SALT"):
        api_salt, salt_from = os.environ["MANGO_API_SALT"], "$MANGO_API_SALT"
    else:
        api_salt, salt_from = TEST_API_SALT, "botlang.telephony.simulator.TEST_API_SALT"
    try:
        outcome = codes.outcome_code(args.outcome)
        employee_outcome = codes.outcome_code(getattr(args, "employee_outcome", "answered"))
    except ValueError as exc:
        print(f"mango-sim: {exc}", file=sys.stderr)
        return 2
    sim = MangoSimulator(
        api_key,
        api_salt,
        webhook_url=args.webhook,
        outcome=outcome,
        employee_outcome=employee_outcome,
        talk_seconds=args.talk_seconds,
        event_delay=args.event_delay,
        delivery=getattr(args, "delivery", "ordered"),
        record_calls=getattr(args, "record", True),
    )
    print(f"Mango Office simulator on http://{args.host}:{args.port}/vpbx/")
    print(f"  api key: {key_shown}   (salt: from {salt_from})")
    print(f"  employees answer with {employee_outcome}: {codes.describe(employee_outcome)}")
    print(f"  clients end with {outcome}: {codes.describe(outcome)}")
    print(f"  events: {sim.delivery}, calls {'recorded' if sim.record_calls else 'not recorded'}")
    print(f"  webhook: {args.webhook or 'none (calls are not played out)'}", flush=True)
    config = uvicorn.Config(sim.app, host=args.host, port=args.port, log_level="info")
    uvicorn.Server(config).run()
    return 0
