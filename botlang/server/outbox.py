"""Outgoing messages: what the bot says in the turns the service runs on its own.

An event's callback turn (an ``events/summary``, a failed ``result/<command>``) often says
something to the client ("Отдел продаж сейчас занят — вам перезвонит дежурный менеджер.").
botlang has no messenger integrations of its own, so it hands those messages to one:

- the worker writes them to the store's inbox as one item of kind ``outbox/message`` (the
  ``outbox`` queue) **in the turn's own transaction** — the turn, the event's "done" mark
  and its messages commit together or not at all. Each client's messages are one inbox
  group, so they go out one at a time, in order, retries included;
- :class:`OutboxSender`, a thread, claims outbox items (fenced, the claim renewed while the
  POST runs) and POSTs each to ``[server] outgoing_url`` as JSON (:func:`outgoing_message`
  builds it). A 2xx finishes the item; a 3xx or 4xx other than 408/429 fails it for good,
  status recorded; anything else (5xx, 408, 429, a timeout, no connection) is retried as
  the ``[outbox]`` policy says (:class:`OutboxPolicy`: first retry, backoff, the longest
  delay, the maximum age), then failed. Delivery is at least once: the receiver dedupes by
  the payload's ``id``, which is the same on every attempt. Failed messages can be sent
  again (``botlang outbox retry``).

Without an ``outgoing_url`` nothing is queued; each message is logged instead
(``event=message.out``). Messages of ``POST /message`` turns are never queued: the caller
gets them in the response.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from botlang.clients.matching import can_receive_messages
from botlang.server.logs import log
from botlang.server.turns import Renewals
from botlang.store.base import ClaimLost, ClientRecord, InboxItem, given_up

if TYPE_CHECKING:
    from botlang.flow.session import Turn
    from botlang.server.inbox import StoreGate

logger = logging.getLogger("botlang.server.outbox")

OUTBOX_KIND = "outbox/message"
LOGGED_TEXT_CHARS = 200  # of a message logged without an outgoing_url
ERROR_BODY_CHARS = 200  # of a refusing receiver's answer, kept with the failed item
RETRYABLE_4XX = (408, 429)
UNLIMITED_ATTEMPTS = 1_000_000  # outbox items give up by age, not by count


@dataclass(frozen=True)
class OutboxPolicy:
    """When failed deliveries are tried again (``[outbox]`` in botlang.toml)."""

    first_retry_seconds: float = 10.0
    backoff: float = 2.0
    max_retry_seconds: float = 3600.0
    max_age_seconds: float = 2 * 24 * 3600.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before attempt ``attempt + 1`` (never sooner than ``retry_after``)."""
        exponent = max(0, attempt - 1)
        delay = self.max_retry_seconds
        if exponent < 64:
            delay = min(self.first_retry_seconds * self.backoff**exponent, delay)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_seconds))
        return delay


def outbox_group(client_id: str) -> str:
    """The outbox group of a client's messages: delivered one at a time, in order."""
    return f"client:{client_id}"


def outgoing_message(
    event: InboxItem, client: ClientRecord, turn: Turn, created_at: float
) -> tuple[str, dict[str, Any]] | None:
    """The outbox item (inbox key, payload) for an event turn's messages (with their
    buttons) and the orders it closed, or None when there is nothing to send (no orders,
    and no messages or a telephony-only client).

    The ``id`` is derived from the event's dedupe key, so re-applying the same event (after
    a crash rolled the first attempt back) queues the same item, and the store keeps one.
    """
    messages = turn.messages if can_receive_messages(client) else []
    if not messages and not turn.orders:
        return None
    digest = hashlib.sha256(f"{OUTBOX_KIND}\0{event.key}".encode()).hexdigest()[:32]
    payload = {
        "id": digest,
        "client_id": client.client_id,
        "phone": client.phone,
        "messenger": client.messenger,
        "block": turn.block,
        "messages": [m.text for m in messages],
        "replies": [m.to_dict() for m in messages],
        "orders": [o.to_dict() for o in turn.orders],
        "event": event.kind,
        "created_at": round(created_at, 3),
    }
    return f"{OUTBOX_KIND}:{digest}", payload


def log_messages(turn: Turn) -> None:
    """Log what an event turn said (no ``outgoing_url``: this is where messages end up)."""
    for message in turn.messages:
        text = message.text
        if len(text) > LOGGED_TEXT_CHARS:
            text = text[:LOGGED_TEXT_CHARS] + "…"
        log(
            logger,
            logging.INFO,
            "message.out",
            client_id=turn.client_id,
            block=message.block,
            text=text,
        )


def describe_url(url: str) -> str:
    """``scheme://host:port`` of a URL, for logs (its path or query may hold a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _answer(response: httpx.Response) -> str:
    try:
        text = response.text.strip()
    except Exception:  # an undecodable body says nothing useful
        return ""
    return " ".join(text.split())[:ERROR_BODY_CHARS]


class OutboxSender:
    """A thread POSTing outbox items to ``url`` (see the module's docstring).

    ``token`` goes in ``Authorization: Bearer`` and is never logged; ``timeout`` bounds one
    POST; ``policy`` says when a failed delivery is tried again and when it is given up.
    """

    def __init__(
        self,
        gate: StoreGate,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        batch: int = 20,
        idle_seconds: float = 1.0,
        policy: OutboxPolicy | None = None,
        count_every_seconds: float = 5.0,
    ) -> None:
        self.gate = gate
        self.url = url
        self.timeout = timeout
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.policy = policy or OutboxPolicy()
        self.count_every_seconds = count_every_seconds
        self.renewals = Renewals(self.lease_seconds / 3)
        self._headers = {"Content-Type": "application/json; charset=utf-8"}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._http: httpx.Client | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_count = 0.0
        self.delivered = 0  # items this sender delivered
        self.failed = 0  # items this sender gave up on
        self.lost_claims = 0  # items another sender took over before this one finished
        self.counts: dict[str, int] = {}  # the outbox as last counted in the store

    def __repr__(self) -> str:
        return f"<OutboxSender to {describe_url(self.url)}>"

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="botlang-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Finish the delivery in hand, then stop (the rest stay queued in the store)."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None
        self.renewals.stop()
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (a later delivery opens new ones)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """New items are in the outbox."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                count = self.run_once()
                if count == 0:
                    self.count_now_and_then()
            except Exception as exc:  # the store is unreachable: wait, then try again
                log(logger, logging.ERROR, "outbox.store_failed", error=type(exc).__name__)
                count = 0
            if count == 0 and not self._stop.is_set():
                self._wake.wait(self.idle_seconds)
                self._wake.clear()

    def count_now_and_then(self) -> None:
        """Re-count the outbox in the store (for /health) if the count is old."""
        if time.monotonic() - self._last_count >= self.count_every_seconds:
            self.counts = self.gate.inbox_stats(queue="outbox")
            self._last_count = time.monotonic()

    # -- delivering ------------------------------------------------------------------------

    @property
    def lease_seconds(self) -> float:
        # Longer than one POST may take, so no other sender claims an item in flight.
        return max(float(self.gate.inbox_lease_seconds), self.timeout + 5.0)

    def retry_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before attempt ``attempt + 1``."""
        return self.policy.delay(attempt, retry_after)

    def run_once(self) -> int:
        """Claim one batch (the first pending message of each client) and deliver it; the
        number of items claimed."""
        items = self.gate.inbox_claim(
            self.batch,
            lease_seconds=self.lease_seconds,
            queue="outbox",
            max_attempts=UNLIMITED_ATTEMPTS,
        )
        for n, item in enumerate(items):
            if self._stop.is_set():
                for rest in items[n:]:  # hand them back for another sender
                    self._finish(rest, release=("stopping", 0.0), count_attempt=False)
                break
            self._deliver_held(item)
        return len(items)

    def _deliver_held(self, item: InboxItem) -> str:
        if item.token is None:
            return self.deliver(item)
        token = item.token

        def renew() -> bool:
            return self.gate.inbox_renew(item.item_id, token, self.lease_seconds)

        with self.renewals.hold(renew):
            return self.deliver(item)

    def _finish(
        self,
        item: InboxItem,
        error: str | None = None,
        *,
        release: tuple[str, float] | None = None,
        count_attempt: bool = True,
    ) -> bool:
        """Finish (or with ``release``, hand back) the item; False if the claim was lost."""
        try:
            if release is not None:
                self.gate.inbox_release(
                    item.item_id,
                    release[0],
                    delay_seconds=release[1],
                    token=item.token,
                    count_attempt=count_attempt,
                )
            else:
                self.gate.inbox_done(item.item_id, error, token=item.token)
        except ClaimLost:
            self.lost_claims += 1
            log(logger, logging.WARNING, "outbox.claim_lost", id=item.payload.get("id"))
            return False
        return True

    def deliver(self, item: InboxItem) -> str:
        """POST one item and record the outcome: ``delivered``, ``failed``, ``retry`` (or
        ``lost``: another sender holds it now)."""
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, follow_redirects=False)
        body = json.dumps(item.payload, ensure_ascii=False, separators=(",", ":")).encode()
        fields = {
            "id": item.payload.get("id"),
            "client_id": item.payload.get("client_id"),
            "attempt": item.attempts,
        }
        started = time.perf_counter()
        retry_after: float | None = None
        try:
            response = self._http.post(self.url, content=body, headers=self._headers)
        except httpx.TimeoutException:
            problem = "timeout"
        except Exception as exc:  # no connection, a protocol error...
            problem = type(exc).__name__
        else:
            status = response.status_code
            ms = (time.perf_counter() - started) * 1000
            if 200 <= status < 300:
                if not self._finish(item):
                    return "lost"
                self.delivered += 1
                messages = item.payload.get("messages") or []
                log(
                    logger,
                    logging.INFO,
                    "outbox.delivered",
                    **fields,
                    messages=len(messages),
                    status=status,
                    ms=ms,
                )
                return "delivered"
            problem = f"HTTP {status}"
            if status < 500 and status not in RETRYABLE_4XX:
                answer = _answer(response)
                if not self._finish(item, f"{problem}: {answer}" if answer else problem):
                    return "lost"
                self.failed += 1
                log(logger, logging.ERROR, "outbox.failed", **fields, status=status, ms=ms)
                return "failed"
            retry_after = _retry_after(response)
        delay = self.retry_delay(item.attempts, retry_after)
        age = self.gate.clock() - item.created_at
        if age + delay > self.policy.max_age_seconds:
            if not self._finish(item, given_up(item.attempts, problem)):
                return "lost"
            self.failed += 1
            log(logger, logging.ERROR, "outbox.failed", **fields, error=problem, gave_up=True)
            return "failed"
        if not self._finish(item, release=(problem, delay)):
            return "lost"
        log(logger, logging.WARNING, "outbox.retry_later", **fields, error=problem, retry_in=delay)
        return "retry"
