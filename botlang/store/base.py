"""The one interface every variable store implements, and the checks they all share.

A store keeps a project's clients, their variables (client scope, which survives deals,
and deal scope), the project scope, each client's runtime session, and two pieces of
webhook bookkeeping: a durable inbox of received events and the highest ``seq`` applied
per call.

The inbox holds two queues, told apart by the item's kind: ``events`` (what webhooks
received) and ``outbox`` (kinds starting with ``outbox/``: messages the service sends out,
see :mod:`botlang.server.outbox`). Both have the same keys, leases, attempts and failures;
each consumer claims from its own queue.

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
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits

INBOX_KEY_MAX_CHARS = 500
OUTBOX_PREFIX = "outbox/"  # the kinds of the outbox queue
QUEUES = ("events", "outbox")
INBOX_STATUSES = ("pending", "done", "failed")


class StoreError(Exception):
    """A store cannot do what was asked (bad URL, misuse, unreachable database)."""


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
    def inbox_add(self, key: str, kind: str, payload: Mapping[str, Any]) -> bool:
        """Store an event durably before returning; False if ``key`` was seen before."""

    @abstractmethod
    def inbox_claim(
        self, limit: int = 100, *, lease_seconds: float | None = None, queue: str | None = None
    ) -> list[InboxItem]:
        """Lease up to ``limit`` pending items, oldest first (of ``queue`` only, if given:
        ``"events"`` or ``"outbox"``).

        Safe with several worker processes. A claimed item not marked done within the
        lease is handed out again; after ``inbox_max_attempts`` claims it is marked failed.
        """

    @abstractmethod
    def inbox_done(self, item_id: int, error: str | None = None) -> None:
        """Mark a claimed item processed (or failed, with the error's text)."""

    @abstractmethod
    def inbox_release(self, item_id: int, error: str, *, delay_seconds: float) -> None:
        """Hand a claimed item back, to be claimed again no sooner than ``delay_seconds``
        from now, noting why this attempt failed (StoreError unless it is pending)."""

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
        """Forget events finished (and call orderings untouched) that long ago; count removed.

        A pruned event's key is forgotten, so keep this well above the sender's retry window.
        """

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


def check_status(status: str) -> None:
    if status not in INBOX_STATUSES:
        raise StoreError(f"unknown inbox status {status!r}; known: {', '.join(INBOX_STATUSES)}")


def in_queue(kind: str, queue: str | None) -> bool:
    """Whether an item of this kind belongs to ``queue`` (None: any queue)."""
    if queue is None:
        return True
    return kind.startswith(OUTBOX_PREFIX) == (queue == "outbox")


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
