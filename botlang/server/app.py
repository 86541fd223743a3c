"""The HTTP service: Mango Office webhooks, the message endpoint, health and readiness.

``create_app(config)`` builds a Starlette app; its lifespan starts the inbox writer and
the worker threads and stops them (flushing queued writes) on shutdown. Statuses:

``POST /mango_webhook/<api key>/<mango path>``
    200 stored (or a duplicate of a stored event) / pinged; 404 wrong key or unknown path;
    403 bad ``sign`` (or a form ``vpbx_api_key`` that is not ours); 400 malformed; 413 body
    over the limit; 429 over the per-key rate; 503 overloaded or the store failing —
    nothing answered 503 is lost silently: it was either not stored, or stored and will be
    applied (a re-delivery is then recognised as a duplicate).
``POST /message``
    JSON ``{"phone" | "client_id", "text", "name"?, "message_id"?}`` → the bot's answers
    (200); with an ``Idempotency-Key`` header (or a ``message_id``) a retried request gets
    the stored answer again (``Idempotent-Replayed: true``) instead of a second turn; 401
    no or wrong ``Authorization: Bearer <token>`` when ``[server] message_token`` is set;
    400 malformed, 404 unknown client id, 409 the key is in use by a request still running,
    413 too large, 422 the key was used for another request (or a limit refused the turn),
    503 too many turns at once or the client busy.
``GET /outbox?status=pending|failed|done&limit=N``
    the outgoing messages queued for ``[server] outgoing_url`` and what became of them
    (same bearer token as ``/message``); 400 for a bad status or limit.
``GET /health``
    liveness: 200 while the service's threads run; 503 when one has died.
``GET /ready``
    readiness: 200 when the store answers within a short timeout, the spam guard is
    available and the event backlog is under ``[server] max_ready_backlog``; else 503 with
    the reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from botlang.clients.matching import match_client
from botlang.clients.phones import InvalidPhone
from botlang.config import Config
from botlang.core.errors import BotlangError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.flow.session import TurnRequest
from botlang.server.inbox import InboxWriter, Overloaded, StoreGate
from botlang.server.logs import log, redact_path, register_secret
from botlang.server.outbox import OutboxPolicy, OutboxSender, describe_url
from botlang.server.ratelimit import RateLimiter, retry_after
from botlang.server.turns import ClientBusy, Renewals, TurnAborted, TurnRunner
from botlang.server.webhook import PING, BadDelivery, classify, parse_form, read_delivery
from botlang.server.worker import Worker, note_command, order_group
from botlang.store import ClaimLost, Store, open_store
from botlang.store.base import INBOX_STATUSES, ClientState
from botlang.telephony import GuardedTelephony, Telephony
from botlang.telephony.guard import guard_from_config
from botlang.telephony.signing import verify_form

if TYPE_CHECKING:
    from botlang.flow import Bot

logger = logging.getLogger("botlang.server")

_ACCEPTED = b'{"result":1000,"status":"accepted"}'
_DUPLICATE = b'{"result":1000,"status":"duplicate"}'
_PONG = b'{"result":1000,"status":"ok"}'


class TooLarge(Exception):
    """The body is over the limit (HTTP 413)."""


class Service:
    """Everything the app runs on (``app.state.service``): the store behind its gate, the
    bot, the inbox writer, the worker and the outbox sender (None without an
    ``outgoing_url``), the limits, the webhook's secrets and the token ``POST /message``
    requires (None: none)."""

    def __init__(
        self,
        *,
        config: Config | None,
        store: Store,
        bot: Bot | None,
        telephony: Telephony | None,
        limits: Limits,
        api_key: str | None,
        api_salt: str | None,
        clock: Callable[[], float] = time.monotonic,
        run_worker: bool = True,
        owned: list[Callable[[], None]] | None = None,
        message_token: str | None = None,
        outgoing_url: str | None = None,
        outgoing_token: str | None = None,
        outbox_policy: OutboxPolicy | None = None,
        answers_retention_seconds: float = 24 * 3600.0,
        ready_backlog: int = 5_000,
        ready_timeout_seconds: float = 2.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self.config = config
        self.gate = StoreGate(store)
        self.bot = bot
        self.answers_retention_seconds = answers_retention_seconds
        self.ready_backlog = ready_backlog
        self.ready_timeout_seconds = ready_timeout_seconds
        self.renewals = Renewals(lease_seconds / 3)
        self.runner: TurnRunner | None = None
        if bot is not None:
            # An unrecorded call of an attempt that lost its lease is settled a lease later.
            self.runner = TurnRunner(
                self.gate,
                bot,
                lease_seconds=lease_seconds,
                settle_seconds=lease_seconds,
                renewals=self.renewals,
            )
        self.telephony = telephony
        self.limits = limits
        self.api_key = api_key
        self.api_salt = api_salt
        self.message_token = message_token
        self.run_worker = run_worker
        self.owned = list(owned or [])
        self.messengers: tuple[str, ...] = config.project.messengers if config else ()
        self.limiter = RateLimiter(limits.max_webhook_requests_per_second, clock=clock)
        self.message_slots = threading.BoundedSemaphore(limits.max_concurrent_messages)
        self.outgoing_url = outgoing_url
        self.sender: OutboxSender | None = None
        if outgoing_url is not None:
            self.sender = OutboxSender(
                self.gate,
                outgoing_url,
                token=outgoing_token,
                timeout=limits.http_timeout_seconds,
                policy=outbox_policy,
            )
        self.worker = Worker(
            self.gate,
            bot,
            messengers=self.messengers,
            runner=self.runner,
            lease_seconds=lease_seconds,
            retention_seconds=limits.inbox_retention_seconds,
            answers_retention_seconds=answers_retention_seconds,
            on_processed=self.processed,
            on_idle=self.refresh_backlog_now_and_then,
            outbox=self.sender is not None,
            on_outbox=self.sender.wake if self.sender is not None else None,
        )
        self.writer = InboxWriter(
            self.gate, max_pending=limits.max_pending_writes, on_added=self.added
        )
        self.backlog = 0  # events stored and not yet processed, as this process counts them
        self._backlog_lock = threading.Lock()
        self._last_count = 0.0

    def __repr__(self) -> str:
        return f"<botlang Service {self.store!r} worker={self.run_worker}>"

    @property
    def store(self) -> Store:
        return self.gate.inner

    def added(self, count: int) -> None:
        with self._backlog_lock:
            self.backlog += count
        self.worker.wake()

    def processed(self, count: int) -> None:
        with self._backlog_lock:
            self.backlog = max(0, self.backlog - count)

    def refresh_backlog(self) -> None:
        """Re-count pending events from the store (other processes add and take too)."""
        pending = self.gate.inbox_stats(queue="events")["pending"]
        with self._backlog_lock:
            self.backlog = pending
        self._last_count = time.monotonic()

    def count_is_stale(self, seconds: float = 1.0) -> bool:
        """Whether the backlog was last counted in the store over ``seconds`` ago."""
        return time.monotonic() - self._last_count >= seconds

    def refresh_backlog_now_and_then(self, every_seconds: float = 30.0) -> None:
        if self.count_is_stale(every_seconds):
            self.refresh_backlog()

    def start(self) -> None:
        """Start the inbox writer and (unless ``run_worker`` is off) the worker and the
        outbox sender."""
        self.refresh_backlog()
        self.writer.start()
        if self.run_worker:
            self.worker.start()
            if self.sender is not None:
                self.sender.start()
        guard = getattr(self.telephony, "guard", None)
        log(
            logger,
            logging.INFO,
            "server.started",
            store=type(self.store).__name__,
            worker=self.run_worker,
            backlog=self.backlog,
            webhook=self.api_key is not None,
            message_auth=self.message_token is not None,
            guard=_describe_guard(guard),
            outgoing=describe_url(self.outgoing_url) if self.outgoing_url else "off",
        )
        if self.message_token is None:
            log(
                logger,
                logging.WARNING,
                "message.unauthenticated",
                detail="POST /message and GET /outbox accept any caller; set [server] "
                "message_token_env (or keep [server] host on 127.0.0.1)",
            )
        if self.outgoing_url is None:
            log(
                logger,
                logging.INFO,
                "outbox.off",
                detail="no [server] outgoing_url: the messages of event turns are logged "
                "(event=message.out), not delivered",
            )
        if guard is not None and guard.enabled and not guard.available():
            log(
                logger,
                logging.WARNING,
                "guard.unavailable",
                history=repr(guard.history),
                detail="calls are refused (4501) until the spam guard's store answers",
            )
        elif guard is not None and guard.enabled:
            check_guard_persistence(guard)

    def stop(self) -> None:
        """Flush the inbox writer, stop the worker and the sender, close what the app
        opened."""
        self.writer.stop()
        self.worker.stop()
        if self.sender is not None:
            self.sender.stop()
        self.renewals.stop()
        self.close_owned()
        log(logger, logging.INFO, "server.stopped")

    def close_owned(self) -> None:
        for close in reversed(self.owned):
            with contextlib.suppress(Exception):
                close()
        self.owned.clear()


def create_app(
    config: Config | None,
    *,
    store: Store | None = None,
    telephony: Telephony | None = None,
    bot: Bot | None = None,
    clock: Callable[[], float] | None = None,
    limits: Limits | None = None,
    worker: bool = True,
) -> Starlette:
    """The botlang service for a project.

    ``store``, ``telephony`` and ``bot`` default to what ``config`` names (the store URL,
    a :class:`~botlang.telephony.mango.MangoOffice` client when ``[mango]`` is set, the
    flow file loaded with that telephony); what the app opens it also closes. The flow's
    telephony is put behind the spam guard ``[guard]`` describes, unless it is a
    :class:`~botlang.telephony.GuardedTelephony` already (which keeps its own). ``clock``
    (monotonic seconds) drives the rate limiter. ``worker=False`` receives and stores
    events without processing them (another process, or a later start, does that).
    """
    limits = limits or DEFAULT_LIMITS
    owned: list[Callable[[], None]] = []
    try:
        if store is None:
            if config is None:
                raise ValueError("create_app needs a config or a store")
            store = open_store(config.store.url, limits=limits, settings=config.store.settings())
            owned.append(store.close)
        api_key = api_salt = None
        if config is not None and config.mango is not None:
            api_key = config.mango.api_key.get_secret_value()
            api_salt = config.mango.api_salt.get_secret_value()
            register_secret(api_key)
            register_secret(api_salt)
            if telephony is None and bot is None:
                from botlang.telephony.mango import MangoOffice

                mango = MangoOffice(
                    api_key, api_salt, config.mango.base_url, timeout=limits.http_timeout_seconds
                )
                owned.append(mango.close)
                telephony = mango
        if (
            bot is None
            and config is not None
            and telephony is not None
            and not isinstance(telephony, GuardedTelephony)
        ):
            guard = guard_from_config(config.guard)
            owned.append(guard.close)
            telephony = GuardedTelephony(telephony, guard)
        if bot is None and config is not None:
            from botlang.flow import Bot

            bot = Bot.load(config.project.flow, telephony=telephony, limits=limits)
    except BaseException:
        for close in reversed(owned):
            with contextlib.suppress(Exception):
                close()
        raise
    service = Service(
        config=config,
        store=store,
        bot=bot,
        telephony=telephony,
        limits=limits,
        api_key=api_key,
        api_salt=api_salt,
        clock=clock or time.monotonic,
        run_worker=worker,
        owned=owned,
        message_token=_secret(config.server.message_token) if config is not None else None,
        outgoing_url=config.server.outgoing_url if config is not None else None,
        outgoing_token=_secret(config.server.outgoing_token) if config is not None else None,
        outbox_policy=outbox_policy(config),
        answers_retention_seconds=(
            config.server.idempotency_retention_seconds if config is not None else 24 * 3600.0
        ),
        ready_backlog=config.server.max_ready_backlog if config is not None else 5_000,
        lease_seconds=config.server.lease_seconds if config is not None else 30.0,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(service.stop)

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/message", message, methods=["POST"]),
            Route("/outbox", outbox, methods=["GET"]),
            Route("/mango_webhook/{key}/{path:path}", mango_webhook, methods=["POST"]),
            Route("/mango_webhook/{key}", mango_webhook, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def _secret(value: SecretStr | None) -> str | None:
    """A configured secret's text, registered so that no log line ever shows it."""
    text = None if value is None else value.get_secret_value()
    register_secret(text)
    return text


def outbox_policy(config: Config | None) -> OutboxPolicy:
    """The ``[outbox]`` retry policy (the defaults without a config)."""
    if config is None:
        return OutboxPolicy()
    section = config.outbox
    return OutboxPolicy(
        first_retry_seconds=section.first_retry_seconds,
        backoff=section.backoff,
        max_retry_seconds=section.max_retry_seconds,
        max_age_seconds=section.max_age_seconds,
    )


def check_guard_persistence(guard: Any) -> str | None:
    """Warn when the guard's Redis keeps nothing over a restart (the counted calls would be
    forgotten, and a client could be rung again at once); the persistence it has."""
    persistence = getattr(guard.history, "persistence", None)
    if persistence is None:
        return None
    try:
        kind = str(persistence())
    except Exception as exc:
        log(logger, logging.WARNING, "guard.unavailable", error=type(exc).__name__)
        return None
    if kind == "none":
        log(
            logger,
            logging.WARNING,
            "guard.no_persistence",
            history=repr(guard.history),
            detail="this Redis saves nothing (no AOF, no RDB snapshots): a Redis restart "
            "forgets every call the spam guard counted; turn on appendonly yes",
        )
    elif kind == "unknown":
        log(
            logger,
            logging.WARNING,
            "guard.persistence_unknown",
            history=repr(guard.history),
            detail="this Redis does not say whether it saves its data (CONFIG is disabled); "
            "make sure it uses AOF or RDB, or a restart forgets the calls counted",
        )
    return kind


def _describe_guard(guard: Any) -> str:
    if guard is None:
        return "none"
    if not guard.enabled:
        return "disabled"
    return type(guard.history).__name__


# -- the webhook ------------------------------------------------------------------------------


def _reject(
    request: Request,
    status: int,
    reason: str,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    log(
        logger,
        logging.WARNING,
        "webhook.rejected",
        status=status,
        reason=reason,
        kind=kind,
        path=redact_path(request.url.path),
        peer=request.client.host if request.client else None,
    )
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes by header or by count (TooLarge)."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise BadDelivery("bad Content-Length")
        if int(length) > limit:
            raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def mango_webhook(request: Request) -> Response:
    """One Mango Office delivery: verify, store durably, answer 200 (see the module doc)."""
    service: Service = request.app.state.service
    key = request.path_params["key"]
    path = request.path_params.get("path", "")
    if service.api_key is None or not hmac.compare_digest(
        key.encode("utf-8", "surrogateescape"), service.api_key.encode()
    ):
        return _reject(request, 404, "not found")
    kind = classify(path)
    if kind is None:
        return _reject(request, 404, "unknown path")
    wait = service.limiter.acquire(service.api_key)
    if wait:
        return _reject(
            request,
            429,
            "rate limit exceeded",
            kind=kind,
            headers={"Retry-After": retry_after(wait)},
        )
    if kind != PING and service.backlog >= service.limits.max_inbox_backlog:
        if service.count_is_stale():  # other processes may have drained the inbox
            await anyio.to_thread.run_sync(service.refresh_backlog)
        if service.backlog >= service.limits.max_inbox_backlog:
            headers = {"Retry-After": "5"}
            return _reject(request, 503, "event backlog full", kind=kind, headers=headers)
    try:
        body = await read_body(request, service.limits.max_request_body_bytes)
        form = parse_form(body, request.headers.get("content-type"))
    except TooLarge:
        return _reject(request, 413, "body too large", kind=kind, headers={"Connection": "close"})
    except BadDelivery as exc:
        return _reject(request, 400, str(exc), kind=kind)
    assert service.api_salt is not None
    if not verify_form(service.api_key, service.api_salt, form):
        return _reject(request, 403, "bad signature", kind=kind)
    if kind == PING:
        return Response(_PONG, media_type="application/json")
    try:
        delivery = read_delivery(kind, form["json"])
    except BadDelivery as exc:
        return _reject(request, 400, str(exc), kind=kind)
    try:
        future = service.writer.submit(
            delivery.key,
            delivery.kind,
            delivery.payload,
            group=order_group(delivery.kind, delivery.payload),
        )
    except Overloaded:
        return _reject(request, 503, "overloaded", kind=kind, headers={"Retry-After": "1"})
    try:
        added = await asyncio.wait_for(
            asyncio.wrap_future(future), service.limits.http_timeout_seconds
        )
    except TimeoutError:
        # It may still be stored; a re-delivery is then a recognised duplicate.
        return _reject(request, 503, "store too slow", kind=kind, headers={"Retry-After": "1"})
    except Exception as exc:
        log(logger, logging.ERROR, "webhook.store_failed", kind=kind, error=type(exc).__name__)
        return _reject(request, 503, "store unavailable", kind=kind, headers={"Retry-After": "5"})
    log(logger, logging.DEBUG, "webhook.accepted", kind=kind, duplicate=not added)
    return Response(_ACCEPTED if added else _DUPLICATE, media_type="application/json")


# -- messages ---------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Replay(Exception):
    """A stored answer for the request's idempotency key."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("replayed")
        self.answer = answer


IDEMPOTENCY_KEY_MAX_CHARS = 200


def idempotency_key(request: Request, data: dict[str, Any]) -> str | None:
    """The request's idempotency key: the ``Idempotency-Key`` header, or else the
    messenger's ``message_id`` (scoped by the client it names); None without either."""
    header = request.headers.get("idempotency-key")
    if header is not None:
        text = header.strip()
        if not text or len(text) > IDEMPOTENCY_KEY_MAX_CHARS or not text.isprintable():
            limit = IDEMPOTENCY_KEY_MAX_CHARS
            raise _Refused(400, f"Idempotency-Key must be 1 to {limit} printable characters")
        return f"key:{text}"
    message_id = data.get("message_id")
    if message_id is None:
        return None
    who = (
        f"client_id={data['client_id']}"
        if data.get("client_id") is not None
        else (f"phone={data.get('phone')}")
    )
    return f"message_id:{who}:{message_id}"


def request_fingerprint(data: dict[str, Any]) -> str:
    """What makes two requests the same request (to refuse a key reused for another)."""
    fields = {k: data.get(k) for k in ("phone", "client_id", "text", "name", "message_id")}
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_answer(service: Service, key: str, fingerprint: str) -> dict[str, Any] | None:
    stored = service.gate.answer_get(key)
    age = None if stored is None else service.gate.clock() - stored.created_at
    if stored is None or age is None or age > service.answers_retention_seconds:
        return None
    if stored.request_hash != fingerprint:
        raise _Refused(422, "this Idempotency-Key (or message_id) was used for another request")
    return stored.response


def _message_turn(
    service: Service, data: dict[str, Any], key: str | None
) -> tuple[dict[str, Any], bool]:
    """Find (or create) the client and run the message through the bot; blocking.

    With an idempotency ``key`` the answer is stored with the turn's commit, and a request
    with a key already answered gets that answer (the second value: replayed)."""
    gate = service.gate
    fingerprint = request_fingerprint(data)
    if key is not None:
        answer = _stored_answer(service, key, fingerprint)
        if answer is not None:
            return answer, True
    phone, client_id = data.get("phone"), data.get("client_id")
    created = False
    if client_id is not None:
        text = str(client_id)
        # ids are 64-bit numbers: anything else names no client (and must not reach the store)
        known = text.isascii() and text.isdigit() and int(text) < 2**63
        client = gate.get_client(text) if known else None
        if client is None:
            raise _Refused(404, f"no client with id {client_id!r}")
    else:
        messengers = service.config.project.messengers if service.config is not None else ()
        try:
            client, created = match_client(gate.store, phone, messengers=messengers)
        except InvalidPhone as exc:
            raise _Refused(400, f"phone: {exc}") from None
    if service.bot is None or service.runner is None:
        raise _Refused(503, "no bot is loaded")
    answer: dict[str, Any] = {}

    def taken() -> None:
        if key is not None:  # under the client's lease: a twin request has finished
            stored = _stored_answer(service, key, fingerprint)
            if stored is not None:
                raise _Replay(stored)

    def bookkeeping(state: ClientState, turn: Any) -> None:
        note_command(state, turn)
        answer.update(
            client_id=client.client_id,
            created=created,
            messages=turn.texts,
            replies=[m.to_dict() for m in turn.messages],  # each with its buttons
            undelivered=[m.text for m in turn.undelivered],
            orders=[o.to_dict() for o in turn.orders],
            block=turn.block,
            calls=[c.to_dict() for c in turn.calls],
            errors=[str(e) for e in turn.errors],
        )
        if key is not None:
            gate.answer_put(key, fingerprint, answer)

    request = TurnRequest.message(data["text"], name=data.get("name"))
    try:
        service.runner.run(
            client.client_id,
            request,
            turn_key=f"message:{key}" if key is not None else f"message:{uuid.uuid4().hex}",
            on_taken=taken,
            before_commit=bookkeeping,
            wait_seconds=service.limits.http_timeout_seconds,
        )
    except _Replay as replay:
        return replay.answer, True
    return answer, False


def _check_message(data: Any, limits: Limits) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Refused(400, "the body must be a JSON object")
    has_phone, has_id = data.get("phone") is not None, data.get("client_id") is not None
    if has_phone == has_id:
        raise _Refused(400, "give exactly one of 'phone' and 'client_id'")
    if has_id and not isinstance(data["client_id"], str | int):
        raise _Refused(400, "'client_id' must be text or a number")
    if has_phone and not isinstance(data["phone"], str | int):
        raise _Refused(400, "'phone' must be text or a number")
    message_id = data.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str | int)
        or isinstance(message_id, bool)
        or not str(message_id).strip()
        or len(str(message_id)) > IDEMPOTENCY_KEY_MAX_CHARS
    ):
        raise _Refused(400, "'message_id' must be non-empty text or a number")
    text = data.get("text")
    if not isinstance(text, str):
        raise _Refused(400, "'text' must be text")
    if len(text) > limits.max_message_chars:
        raise _Refused(413, f"'text' is over {limits.max_message_chars:,} characters")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise _Refused(400, "'name' must be text")
    return data


def _authorized(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant time)."""
    scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Header values arrive decoded as latin-1: encoding back gives the bytes as sent.
    return hmac.compare_digest(given.strip().encode("latin-1"), token.encode("utf-8"))


def _unauthorized(request: Request, service: Service, event: str) -> Response | None:
    """401 (logged as ``event``) unless the request carries the bearer token, when one is
    set; None when it may go on."""
    if service.message_token is None or _authorized(request, service.message_token):
        return None
    log(
        logger,
        logging.WARNING,
        event,
        status=401,
        reason="missing or wrong bearer token",
        peer=request.client.host if request.client else None,
    )
    return JSONResponse(
        {"error": "unauthorized: send Authorization: Bearer <token>"},
        401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def message(request: Request) -> Response:
    """``POST /message``: a client's incoming text → what the bot answers."""
    service: Service = request.app.state.service
    refused = _unauthorized(request, service, "message.rejected")
    if refused is not None:
        return refused
    try:
        body = await read_body(request, service.limits.max_request_body_bytes)
    except TooLarge:
        return JSONResponse({"error": "body too large"}, 413, headers={"Connection": "close"})
    except BadDelivery as exc:
        return JSONResponse({"error": str(exc)}, 400)
    try:
        data = _check_message(json.loads(body or b"null"), service.limits)
        key = idempotency_key(request, data)
    except (ValueError, RecursionError):
        return JSONResponse({"error": "the body must be JSON"}, 400)
    except _Refused as exc:
        return JSONResponse({"error": exc.reason}, exc.status)
    if not service.message_slots.acquire(blocking=False):
        return JSONResponse(
            {"error": "too many messages at once"}, 503, headers={"Retry-After": "1"}
        )
    started = time.perf_counter()
    try:
        answer, replayed = await anyio.to_thread.run_sync(_message_turn, service, data, key)
    except _Refused as exc:
        return JSONResponse({"error": exc.reason}, exc.status)
    except BotlangError as exc:
        return JSONResponse({"error": str(exc)}, 422)
    except (ClientBusy, TurnAborted, ClaimLost) as exc:
        # Nothing was committed; with the same Idempotency-Key a retry never calls twice.
        log(logger, logging.WARNING, "message.deferred", reason=str(exc)[:200])
        status, reason = 503, "the client is busy with another turn; try again"
        if isinstance(exc, ClientBusy) and key is not None:
            status, reason = 409, "a request with this Idempotency-Key is still running"
        return JSONResponse({"error": reason}, status, headers={"Retry-After": "1"})
    except Exception as exc:
        log(logger, logging.ERROR, "message.failed", error=type(exc).__name__)
        return JSONResponse({"error": "the message could not be handled"}, 503)
    finally:
        service.message_slots.release()
    log(
        logger,
        logging.INFO,
        "message.handled",
        client=answer.get("client_id"),
        block=answer.get("block"),
        messages=len(answer.get("messages") or []),
        errors=len(answer.get("errors") or []),
        replayed=replayed,
        ms=(time.perf_counter() - started) * 1000,
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, headers=headers)


# -- the outbox -------------------------------------------------------------------------------

OUTBOX_LISTED_DEFAULT = 50
OUTBOX_LISTED_MAX = 500


def _outbox_listing(service: Service, status: str, limit: int) -> dict[str, Any]:
    gate = service.gate
    now = gate.clock()
    items = gate.inbox_items(status, queue="outbox", limit=limit)
    return {
        "outgoing": "on" if service.outgoing_url else "off",
        "counts": gate.inbox_stats(queue="outbox"),
        "items": [
            {
                "id": item.payload.get("id"),
                "status": item.status,
                "attempts": item.attempts,
                "error": item.error,
                "created_at": item.created_at,
                "finished_at": item.finished_at,
                "next_attempt_at": (
                    item.lease_until
                    if item.status == "pending" and item.lease_until > now
                    else None
                ),
                "message": item.payload,
            }
            for item in items
        ],
    }


async def outbox(request: Request) -> Response:
    """``GET /outbox?status=pending|failed|done&limit=N``: outgoing messages and their fate."""
    service: Service = request.app.state.service
    refused = _unauthorized(request, service, "outbox.rejected")
    if refused is not None:
        return refused
    status = request.query_params.get("status", "pending")
    if status not in INBOX_STATUSES:
        return JSONResponse({"error": f"status must be one of {', '.join(INBOX_STATUSES)}"}, 400)
    limit = request.query_params.get("limit", str(OUTBOX_LISTED_DEFAULT))
    if not limit.isdigit() or not 1 <= int(limit) <= OUTBOX_LISTED_MAX:
        return JSONResponse({"error": f"limit must be 1 to {OUTBOX_LISTED_MAX}"}, 400)
    try:
        listing = await anyio.to_thread.run_sync(_outbox_listing, service, status, int(limit))
    except Exception as exc:
        log(logger, logging.ERROR, "outbox.list_failed", error=type(exc).__name__)
        return JSONResponse({"error": "the store is unavailable"}, 503)
    return JSONResponse(listing)


# -- health -----------------------------------------------------------------------------------


def _threads(service: Service) -> tuple[bool, dict[str, Any]]:
    """Whether the service's threads run, and their states."""
    writer_ok = service.writer.alive
    worker_state = "running" if service.worker.alive else "stopped"
    if not service.run_worker:
        worker_state = "off"
    sender = service.sender
    sender_state = "off"
    if sender is not None and service.run_worker:
        sender_state = "running" if sender.alive else "stopped"
    ok = writer_ok and worker_state != "stopped" and sender_state != "stopped"
    body: dict[str, Any] = {
        "inbox_writer": "running" if writer_ok else "stopped",
        "worker": worker_state,
        "backlog": service.backlog,
        "pending_writes": service.writer.pending,
        "processed": service.worker.processed,
        "outbox": {"sender": sender_state},
    }
    if sender is not None and sender_state != "off":
        body["outbox"].update(
            pending=sender.counts.get("pending"),
            failed=sender.counts.get("failed"),
            delivered=sender.delivered,
        )
    return ok, body


async def health(request: Request) -> Response:
    """Liveness: 200 while the writer, the worker and the sender run; 503 when one died.

    It does not look at the store or the guard (that is ``/ready``): a restart does not
    bring a database back."""
    service: Service = request.app.state.service
    ok, body = _threads(service)
    return JSONResponse({"status": "ok" if ok else "degraded", **body}, 200 if ok else 503)


def _probe_store(service: Service) -> int:
    """The number of pending events, read from the store (raises if it cannot answer)."""
    pending = service.gate.inbox_stats(queue="events")["pending"]
    with service._backlog_lock:
        service.backlog = pending
    service._last_count = time.monotonic()
    return pending


async def _within(seconds: float, fn: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``fn`` in a thread; (True, its value), or (False, why) after ``seconds`` or on
    an error (a hung call is left to finish in its thread)."""
    try:
        with anyio.fail_after(seconds):
            return True, await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
    except TimeoutError:
        return False, f"no answer within {seconds:g} s"
    except Exception as exc:
        return False, type(exc).__name__


async def ready(request: Request) -> Response:
    """Readiness: the store answers, the guard is available, the backlog is under its
    limit, the threads run; 503 with the reasons otherwise."""
    service: Service = request.app.state.service
    timeout = service.ready_timeout_seconds
    reasons: list[str] = []
    checks: dict[str, Any] = {}
    ok, body = _threads(service)
    checks["threads"] = "ok" if ok else "stopped"
    if not ok:
        stopped = [name for name in ("inbox_writer", "worker") if body[name] == "stopped"]
        if body["outbox"]["sender"] == "stopped":
            stopped.append("outbox sender")
        reasons.append(f"not running: {', '.join(stopped)}")
    answered, pending = await _within(timeout, lambda: _probe_store(service))
    if answered:
        checks["store"] = "ok"
        checks["backlog"] = pending
        if pending >= service.ready_backlog:
            reasons.append(f"event backlog {pending} is at its limit ({service.ready_backlog})")
    else:
        checks["store"] = f"unavailable: {pending}"
        reasons.append(f"store unavailable ({pending})")
    guard = getattr(service.telephony, "guard", None)
    if guard is None or not guard.enabled:
        checks["guard"] = "off"
    else:
        answered, available = await _within(timeout, guard.available)
        if answered and available:
            checks["guard"] = "ok"
        else:
            why = available if not answered else "its store does not answer"
            checks["guard"] = f"unavailable: {why}"
            reasons.append(f"spam guard unavailable ({why}): calls would be refused")
    status = 503 if reasons else 200
    return JSONResponse(
        {"status": "not ready" if reasons else "ready", "reasons": reasons, "checks": checks},
        status,
    )
