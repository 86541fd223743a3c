"""The HTTP service: Mango Office webhooks, the message endpoint, health.

``create_app(config)`` builds a Starlette app; its lifespan starts the inbox writer and
the worker threads and stops them (flushing queued writes) on shutdown. Statuses:

``POST /mango_webhook/<api key>/<mango path>``
    200 stored (or a duplicate of a stored event) / pinged; 404 wrong key or unknown path;
    403 bad ``sign`` (or a form ``vpbx_api_key`` that is not ours); 400 malformed; 413 body
    over the limit; 429 over the per-key rate; 503 overloaded or the store failing —
    nothing answered 503 is lost silently: it was either not stored, or stored and will be
    applied (a re-delivery is then recognised as a duplicate).
``POST /message``
    JSON ``{"phone" | "client_id", "text", "name"?}`` → the bot's answers (200); 401 no or
    wrong ``Authorization: Bearer <token>`` when ``[server] message_token`` is set; 400
    malformed, 404 unknown client id, 413 too large, 503 too many turns at once.
``GET /outbox?status=pending|failed|done&limit=N``
    the outgoing messages queued for ``[server] outgoing_url`` and what became of them
    (same bearer token as ``/message``); 400 for a bad status or limit.
``GET /health``
    200 with the worker's state and the backlog; 503 when a thread has died.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import threading
import time
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
from botlang.server.inbox import InboxWriter, Overloaded, StoreGate
from botlang.server.logs import log, redact_path, register_secret
from botlang.server.outbox import OutboxSender, describe_url
from botlang.server.ratelimit import RateLimiter, retry_after
from botlang.server.webhook import PING, BadDelivery, classify, parse_form, read_delivery
from botlang.server.worker import Worker, note_command
from botlang.store import Store, open_store
from botlang.store.base import INBOX_STATUSES
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
    ) -> None:
        self.config = config
        self.gate = StoreGate(store)
        self.bot = bot
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
                self.gate, outgoing_url, token=outgoing_token, timeout=limits.http_timeout_seconds
            )
        self.worker = Worker(
            self.gate,
            bot,
            messengers=self.messengers,
            retention_seconds=limits.inbox_retention_seconds,
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

    def stop(self) -> None:
        """Flush the inbox writer, stop the worker and the sender, close what the app
        opened."""
        self.writer.stop()
        self.worker.stop()
        if self.sender is not None:
            self.sender.stop()
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
            store = open_store(config.store.url, limits=limits)
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
        future = service.writer.submit(delivery.key, delivery.kind, delivery.payload)
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


def _message_turn(service: Service, data: dict[str, Any]) -> dict[str, Any]:
    """Find (or create) the client and run the message through the bot; blocking."""
    gate = service.gate
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
    if service.bot is None:
        raise _Refused(503, "no bot is loaded")
    turn = service.bot.handle_message(
        gate.store, client.client_id, data["text"], name=data.get("name")
    )
    note_command(gate, client.client_id, turn)
    return {
        "client_id": client.client_id,
        "created": created,
        "messages": turn.texts,
        "replies": [m.to_dict() for m in turn.messages],  # each with its buttons
        "undelivered": [m.text for m in turn.undelivered],
        "orders": [o.to_dict() for o in turn.orders],
        "block": turn.block,
        "calls": [c.to_dict() for c in turn.calls],
        "errors": [str(e) for e in turn.errors],
    }


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
        answer = await anyio.to_thread.run_sync(_message_turn, service, data)
    except _Refused as exc:
        return JSONResponse({"error": exc.reason}, exc.status)
    except BotlangError as exc:
        return JSONResponse({"error": str(exc)}, 422)
    except Exception as exc:
        log(logger, logging.ERROR, "message.failed", error=type(exc).__name__)
        return JSONResponse({"error": "the message could not be handled"}, 503)
    finally:
        service.message_slots.release()
    log(
        logger,
        logging.INFO,
        "message.handled",
        client=answer["client_id"],
        block=answer["block"],
        messages=len(answer["messages"]),
        errors=len(answer["errors"]),
        ms=(time.perf_counter() - started) * 1000,
    )
    return JSONResponse(answer)


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


async def health(request: Request) -> Response:
    """Liveness and the worker's state; 503 when the writer or the worker has died."""
    service: Service = request.app.state.service
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
        "status": "ok" if ok else "degraded",
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
    return JSONResponse(body, 200 if ok else 503)
