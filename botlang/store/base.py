"""The one interface every variable store implements, and the checks they all share.

A store keeps a project's clients, their variables (client scope, which survives deals,
and deal scope), the project scope, each client's runtime session, and two pieces of
webhook bookkeeping: a durable inbox of received events and the highest ``seq`` applied
per call.

The inbox holds queues told apart by the item's kind: ``outbox`` (kinds starting with
``outbox/``: messages the service sends out, see :mod:`botlang.server.outbox`), ``timers``
(kinds starting with ``timer/``: work due at a time) and ``events`` (everything else: what
webhooks received). They share one claim protocol, so every consumer gets the same
guarantees:

- **fenced claims**: a claim hands out each item with a fresh token; finishing, releasing or
  renewing the item checks that token (and that the item is still pending), so a worker
  whose claim ran out and was taken over cannot finish the item a second time. Call
  :meth:`Store.inbox_done` with the token inside the transaction holding the item's effects:
  a lost claim raises :class:`ClaimLost` there and the effects roll back with it;
- **groups**: an item added with a ``group`` (e.g. one client) is not handed out while an
  earlier item of the same group is pending, leased or not (the message-group rule), so a
  group's items are applied in the order they were added, retries included;
- ``not_before``: an item can be added to become due later (a timer).

Beside the inbox, three small tables serve the service's exactly-once rules: named leases
(one worker at a time per client, across processes), the call journal (every telephony
command a turn places: its intent, recorded before it is sent, and its result) and stored
answers (``POST /message`` replayed by idempotency key).

Per-client isolation is structural: :meth:`Store.transaction` hands out exactly one
client's scopes plus the project scope, and serialises work on that client across threads
and processes. The only cross-client access is :meth:`Store.get_client_var` /
:meth:`Store.set_client_var`.

Store operations called on a thread that has a :meth:`Store.transaction` or
:meth:`Store.exclusive` block open join that block: they commit or roll back with it.
"""

from __future__ import annotations

import json
import math
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits

INBOX_KEY_MAX_CHARS = 500
OUTBOX_PREFIX = "outbox/"  # the kinds of the outbox queue
TIMER_PREFIX = "timer/"  # the kinds of the timer queue
QUEUE_PREFIXES = {"outbox": OUTBOX_PREFIX, "timers": TIMER_PREFIX}  # "events": the rest
QUEUES = ("events", "outbox", "timers")
INBOX_STATUSES = ("pending", "done", "failed")
CALL_STATUSES = ("intent", "done", "unknown")


class StoreError(Exception):
    """A store cannot do what was asked (bad URL, misuse, unreachable database)."""


class ClaimLost(StoreError):
    """The item's claim is no longer this worker's (its lease ran out and another worker
    took it, or it was released or finished): its effects must not be committed."""


class UnknownClient(ScriptError, LookupError):
    """No client with the given id exists in this store."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"no client with id {client_id!r}")
        self.client_id = client_id


@dataclass(frozen=True)
class ClientRecord:
    """A client of the project: who they are, not what their variables hold."""

    client_id: str
    client_type: int
    phone: str | None
    created_at: float
    messenger: str | None = None


@dataclass
class ClientState:
    """Everything one transaction may touch: one client and the project scope.

    Mutate the dictionaries in place; the store writes back what changed when the
    transaction commits.
    """

    client: ClientRecord
    client_vars: dict[str, Any]
    deal_vars: dict[str, Any]
    project_vars: dict[str, Any]
    session: dict[str, Any]
    # The scopes as loaded (set by Store.load_state), to save only what changed.
    loaded: Snapshot | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class InboxItem:
    """One inbox item: a received webhook event (or an outgoing message) and its state."""

    item_id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int  # claims so far, this one included
    created_at: float
    status: str = "pending"  # pending (claimed included), done or failed
    error: str | None = None  # why it failed; for a pending item, why the last attempt did
    finished_at: float | None = None
    lease_until: float = 0.0  # a pending item is not handed out before this time
    token: str | None = None  # the claim's fencing token (set on claimed items)
    group: str | None = None  # items of one group are handed out one at a time, in order


@dataclass(frozen=True)
class CallEntry:
    """One telephony command in the call journal.

    ``status`` is ``intent`` from the moment before the command is sent until its result
    is recorded (``done``); an intent whose sender vanished is settled as ``unknown``:
    it may or may not have been sent, and it is never sent again.
    """

    call_key: str
    turn_key: str
    ordinal: int  # the position of the call in its turn (0, 1, ...)
    kind: str
    args: dict[str, Any]
    client_id: str | None
    owner: str  # who recorded the intent (a claim token, a request id)
    status: str
    result: dict[str, Any] | None
    created_at: float
    updated_at: float

    @property
    def command_id(self) -> str | None:
        value = (self.result or {}).get("command_id")
        return None if value is None else str(value)


@dataclass(frozen=True)
class StoredAnswer:
    """The answer given to an idempotent request, kept to be replayed."""

    key: str
    request_hash: str
    response: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class StoreSettings:
    """Connection settings of the database stores (``[store]`` in botlang.toml).

    ``pool_max`` bounds the connections one store object opens (waiting up to
    ``pool_timeout_seconds`` for a free one); PostgreSQL also gets timeouts for connecting,
    for each statement and for each lock wait, and TCP keepalive so a dead peer is noticed.
    """

    pool_min: int = 1
    pool_max: int = 10
    pool_timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 15.0
    lock_timeout_seconds: float = 10.0
    idle_in_transaction_timeout_seconds: float = 60.0
    keepalive_idle_seconds: int = 30
    keepalive_interval_seconds: int = 10
    keepalive_count: int = 3
    application_name: str = "botlang"  # how PostgreSQL lists the connections


DEFAULT_STORE_SETTINGS = StoreSettings()


@dataclass
class Snapshot:
    """JSON texts of a transaction's scopes as loaded, to write back only what changed."""

    client: dict[str, str] = field(default_factory=dict)
    deal: dict[str, str] = field(default_factory=dict)
    project: dict[str, str] = field(default_factory=dict)
    session: str = "{}"


@dataclass
class Changes:
    """What a transaction changed in one scope: names set (with JSON text) and removed."""

    updated: dict[str, tuple[str, str | None]]  # name -> (JSON text, text for value search)
    removed: list[str]

    def __bool__(self) -> bool:
        return bool(self.updated or self.removed)


class Store(ABC):
    """A project's clients, variables, session state, webhook inbox and call ordering."""

    limits: Limits = DEFAULT_LIMITS
    inbox_lease_seconds: float = 60.0  # how long a claimed event stays with its worker
    inbox_max_attempts: int = 5  # claims before an event is marked failed
    clock: Callable[[], float]  # seconds since the epoch (time.time); tests may replace it

    # -- clients and their variables ---------------------------------------------------

    @abstractmethod
    def transaction(self, client_id: str) -> AbstractContextManager[ClientState]:
        """Open one client's scopes exclusively (across threads and processes).

        Commits on normal exit after checking the limits (a :class:`LimitExceeded` names
        the variable and nothing is written); rolls back on an exception. Only changed
        variables are written, so two clients changing different project variables do not
        overwrite each other. Raises :class:`UnknownClient` for an unknown id.
        """

    @abstractmethod
    def load_state(self, client_id: str) -> ClientState:
        """Read one client's scopes without holding any lock (a read transaction).

        Change the state, then write it back with :meth:`save_state`; the caller makes sure
        nobody else works on the client meanwhile (a lease). UnknownClient for an unknown id.
        """

    @abstractmethod
    def save_state(self, state: ClientState) -> None:
        """Write what changed in a state from :meth:`load_state`, after checking the limits.

        Joins the transaction open on this thread (:meth:`exclusive`), so it commits
        together with the caller's bookkeeping.
        """

    @abstractmethod
    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """A named lock across threads and processes, for read-then-create sequences.

        Store calls inside the block join one transaction, committed when it ends.
        """

    @abstractmethod
    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client with this id, or None."""

    @abstractmethod
    def create_client(
        self,
        *,
        client_type: int,
        phone: str | None = None,
        messenger: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> ClientRecord:
        """Create a client, optionally with initial client variables."""

    @abstractmethod
    def find_client_by_phone(self, phone: str, *, client_type: int = 13) -> ClientRecord | None:
        """The first client (creation order) of this type with exactly this phone."""

    @abstractmethod
    def find_client_by_variable_value(self, value: str) -> ClientRecord | None:
        """The first client (creation order) with a variable equal to ``value``.

        Client and deal variables count, and so does the client's ``phone``. Values are
        compared as text: a string as is, a number as it is written in JSON.
        """

    @abstractmethod
    def read_variables(self, client_id: str) -> dict[str, dict[str, Any]]:
        """A read-only copy: ``{"client": ..., "deal": ..., "project": ..., "session": ...}``."""

    @abstractmethod
    def get_client_var(self, client_id: str, name: str) -> Any:
        """One client variable of any client (None if unset); UnknownClient if no client."""

    @abstractmethod
    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        """Set one client variable of any client, within the limits.

        Inside a transaction on that same client, change ``state.client_vars`` instead.
        """

    @abstractmethod
    def close_deal(self, client_id: str) -> None:
        """Close the client's deal: its deal variables are cleared."""

    # -- durable inbox of webhook events ---------------------------------------------------

    @abstractmethod
    def inbox_add(
        self,
        key: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        group: str | None = None,
        not_before: float | None = None,
    ) -> bool:
        """Store an item durably before returning; False if ``key`` was seen before.

        Items of one ``group`` are handed out one at a time, in the order added; an item is
        not handed out before ``not_before`` (seconds since the epoch), if given.
        """

    @abstractmethod
    def inbox_claim(
        self,
        limit: int = 100,
        *,
        lease_seconds: float | None = None,
        queue: str | None = None,
        max_attempts: int | None = None,
    ) -> list[InboxItem]:
        """Lease up to ``limit`` due items, oldest first (of ``queue`` only, if given:
        ``"events"``, ``"outbox"`` or ``"timers"``), each with a fresh ``token``.

        Safe with several worker processes. An item of a group is only handed out when no
        earlier item of its group is pending. A claimed item not finished within its lease
        is handed out again (with a new token); after ``max_attempts`` claims (default
        ``inbox_max_attempts``) it is marked failed.
        """

    @abstractmethod
    def inbox_done(
        self, item_id: int, error: str | None = None, *, token: str | None = None
    ) -> None:
        """Mark a pending item processed (or failed, with the error's text).

        With ``token`` (the claim's), :class:`ClaimLost` unless the claim is still this
        one; without, StoreError unless the item is pending.
        """

    @abstractmethod
    def inbox_release(
        self,
        item_id: int,
        error: str,
        *,
        delay_seconds: float,
        token: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        """Hand a claimed item back, to be claimed again no sooner than ``delay_seconds``
        from now, noting why this attempt failed (StoreError unless it is pending;
        :class:`ClaimLost` if ``token`` is no longer its claim). ``count_attempt=False``
        gives the attempt back (the item was not tried: it had to wait)."""

    @abstractmethod
    def inbox_renew(self, item_id: int, token: str, lease_seconds: float) -> bool:
        """Extend a claim's lease to ``lease_seconds`` from now; False if it is lost."""

    @abstractmethod
    def inbox_retry(self, *, queue: str, item_ids: Sequence[int] | None = None) -> int:
        """Put failed items of ``queue`` (all, or those ids) back as pending with no
        attempts; the number put back."""

    @abstractmethod
    def inbox_stats(self, *, queue: str | None = None) -> dict[str, int]:
        """Counts: ``pending`` (claimed included), ``claimed``, ``done``, ``failed``."""

    @abstractmethod
    def inbox_items(
        self, status: str, *, queue: str | None = None, limit: int = 100
    ) -> list[InboxItem]:
        """Up to ``limit`` items with this status: pending ones oldest first (the order
        they are handed out), finished ones newest first."""

    @abstractmethod
    def inbox_prune(self, older_than_seconds: float) -> int:
        """Forget events finished (and call orderings, journalled calls and expired leases
        untouched) that long ago; the number of inbox items removed.

        A pruned event's key is forgotten, so keep this well above the sender's retry window.
        """

    # -- leases ------------------------------------------------------------------------------

    @abstractmethod
    def lease_acquire(self, name: str, owner: str, seconds: float) -> bool:
        """Take (or extend) the named lease for ``seconds``, unless another owner holds it
        unexpired; whether ``owner`` holds it now."""

    @abstractmethod
    def lease_held(self, name: str, owner: str) -> bool:
        """Whether ``owner`` still holds the lease (expired but not taken over counts).

        Call it inside the transaction that commits the leased work: it joins it.
        """

    @abstractmethod
    def lease_release(self, name: str, owner: str) -> None:
        """Give the lease up (nothing happens if ``owner`` no longer holds it)."""

    # -- the call journal --------------------------------------------------------------------

    @abstractmethod
    def call_intent(
        self,
        call_key: str,
        *,
        turn_key: str,
        ordinal: int,
        kind: str,
        args: Mapping[str, Any],
        client_id: str | None,
        owner: str,
    ) -> CallEntry:
        """Record that a command is about to be sent (committed before returning), unless
        ``call_key`` is journalled already; the entry as it now stands."""

    @abstractmethod
    def call_record(self, call_key: str, result: Mapping[str, Any]) -> CallEntry:
        """Record a sent command's result (status ``done``)."""

    @abstractmethod
    def call_settle(self, call_key: str) -> CallEntry:
        """Settle an intent whose sender is gone as ``unknown`` (it may have been sent)."""

    @abstractmethod
    def call_entries(
        self, *, turn_key: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[CallEntry]:
        """Journalled calls, oldest first (of one turn, or with one status, if given)."""

    # -- stored answers (idempotent requests) -------------------------------------------------

    @abstractmethod
    def answer_get(self, key: str) -> StoredAnswer | None:
        """The answer stored under ``key``, or None."""

    @abstractmethod
    def answer_put(self, key: str, request_hash: str, response: Mapping[str, Any]) -> None:
        """Store an answer (joins an open transaction; a key already stored is kept)."""

    @abstractmethod
    def answer_prune(self, older_than_seconds: float) -> int:
        """Forget answers stored that long ago; the number removed."""

    # -- per-call ordering -----------------------------------------------------------------

    @abstractmethod
    def call_seq_advance(self, call_id: str, seq: int) -> bool:
        """Record ``seq`` for the call if it is higher than any before; False → ignore."""

    # -- lifetime --------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- shared checks and encoding ---------------------------------------------------------------


def encode(value: Any) -> str:
    """A value's JSON text (its stored form); TypeError for non-JSON values."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if not _is_utf8(text):
        # A lone surrogate cannot be stored as UTF-8 text; escaped, it still round-trips.
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode(text: str) -> Any:
    return json.loads(text)


def search_text(value: Any) -> str | None:
    """The text a value is found by in :meth:`Store.find_client_by_variable_value`."""
    if isinstance(value, str):
        # PostgreSQL text cannot hold NUL; such a value is kept, just not searchable
        return value if _is_utf8(value) and "\x00" not in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return encode(value)
    return None


def check_name(limits: Limits, scope: str, name: Any) -> None:
    if not isinstance(name, str):
        raise ScriptError(f"{scope} variable name must be a string, not {type(name).__name__}")
    if not _is_utf8(name) or "\x00" in name:
        raise ScriptError(f"{scope} variable name {name!r} is not valid Unicode text")
    if len(name) > limits.max_variable_name_chars:
        raise LimitExceeded(
            f"{scope} variable name {name[:40]!r}... is {len(name):,} characters long; "
            f"the limit is {limits.max_variable_name_chars:,}"
        )


def encode_checked(limits: Limits, scope: str, name: str, value: Any) -> str:
    """Check one variable against the limits and return its JSON text."""
    check_name(limits, scope, name)
    try:
        text = encode(value)
    except (TypeError, ValueError) as exc:
        raise ScriptError(
            f"{scope} variable {name!r} holds a value that is not JSON: {exc}"
        ) from None
    if len(text) > limits.max_value_chars:
        raise LimitExceeded(
            f"{scope} variable {name!r} is {len(text):,} characters as JSON; "
            f"the limit is {limits.max_value_chars:,}"
        )
    return text


def diff_scope(
    limits: Limits, scope: str, before: Mapping[str, str], after: Mapping[str, Any]
) -> Changes:
    """Check a scope against the limits and list what changed since ``before``."""
    texts = {name: encode_checked(limits, scope, name, value) for name, value in after.items()}
    if len(texts) > limits.max_variables_per_scope:
        added = [name for name in texts if name not in before]
        which = f" (setting {added[-1]!r})" if added else ""
        raise LimitExceeded(
            f"too many {scope} variables{which}: {len(texts):,}; "
            f"the limit is {limits.max_variables_per_scope:,} per {scope}"
        )
    changed = {
        name: (text, search_text(after[name]))
        for name, text in texts.items()
        if before.get(name) != text
    }
    removed = [name for name in before if name not in texts]
    return Changes(changed, removed)


def encode_session(session: Mapping[str, Any]) -> str:
    try:
        return encode(dict(session))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"the session is not JSON: {exc}") from None


def check_queue(queue: str | None) -> None:
    if queue is not None and queue not in QUEUES:
        raise StoreError(f"unknown inbox queue {queue!r}; known: {', '.join(QUEUES)}")


def check_call_status(status: str | None) -> None:
    if status is not None and status not in CALL_STATUSES:
        raise StoreError(f"unknown call status {status!r}; known: {', '.join(CALL_STATUSES)}")


def check_status(status: str) -> None:
    if status not in INBOX_STATUSES:
        raise StoreError(f"unknown inbox status {status!r}; known: {', '.join(INBOX_STATUSES)}")


def queue_of(kind: str) -> str:
    """The queue an item of this kind belongs to."""
    for queue, prefix in QUEUE_PREFIXES.items():
        if kind.startswith(prefix):
            return queue
    return "events"


def in_queue(kind: str, queue: str | None) -> bool:
    """Whether an item of this kind belongs to ``queue`` (None: any queue)."""
    return queue is None or queue_of(kind) == queue


def new_token() -> str:
    """A fresh claim token."""
    return uuid.uuid4().hex


def given_up(attempts: int, last_error: str | None) -> str:
    """The error recorded on an item claimed ``attempts`` times without finishing."""
    text = f"given up after {attempts} attempts"
    return f"{text}; last error: {last_error}" if last_error else text


def check_inbox_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise StoreError("an inbox key must be a non-empty string")
    if len(key) > INBOX_KEY_MAX_CHARS:
        raise StoreError(f"an inbox key is at most {INBOX_KEY_MAX_CHARS} characters")


def decoded(texts: Mapping[str, str]) -> dict[str, Any]:
    return {name: decode(text) for name, text in texts.items()}
