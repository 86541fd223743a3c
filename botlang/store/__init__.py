"""Variable stores: in memory, SQLite (the default) and PostgreSQL (for scale-out).

``open_store(url)`` picks one by the URL's scheme:

- ``memory://`` — in this process only;
- ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` — one file, optionally
  ``?synchronous=NORMAL`` (faster; a power cut may lose the last commits, a crash does not)
  and ``?busy_timeout=SECONDS``;
- ``postgresql://user@host:port/db`` (or ``postgres://``), optionally ``?schema=NAME``.

``settings`` (:class:`StoreSettings`, from ``[store]`` in botlang.toml) bound each database
store's connection pool and set PostgreSQL's timeouts and TCP keepalive.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.store.base import (
    DEFAULT_STORE_SETTINGS,
    CallEntry,
    ClaimLost,
    ClientRecord,
    ClientState,
    InboxItem,
    Store,
    StoreError,
    StoreSettings,
    UnknownClient,
)

__all__ = [
    "CallEntry",
    "ClaimLost",
    "ClientRecord",
    "ClientState",
    "InboxItem",
    "Store",
    "StoreError",
    "StoreSettings",
    "UnknownClient",
    "open_store",
]

SUPPORTED = "memory://, sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE"


def open_store(
    url: str, *, limits: Limits = DEFAULT_LIMITS, settings: StoreSettings = DEFAULT_STORE_SETTINGS
) -> Store:
    """Open (creating tables or the file if needed) the store a URL names."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise StoreError(f"not a store URL: {_shown(url)!r}; use {SUPPORTED}")
    if scheme == "memory":
        from botlang.store.memory import MemoryStore

        return MemoryStore(limits=limits)
    if scheme == "sqlite":
        return _open_sqlite(url, rest, limits, settings)
    if scheme in ("postgresql", "postgres"):
        from botlang.store.postgres import PostgresStore

        return PostgresStore(url, limits=limits, settings=settings)
    raise StoreError(f"unsupported store URL scheme {scheme!r}; use {SUPPORTED}")


def _open_sqlite(url: str, rest: str, limits: Limits, settings: StoreSettings) -> Store:
    from botlang.store.sqlite import SqliteStore

    path, _, query = rest.partition("?")
    if not path.startswith("/") or path == "/":
        raise StoreError(
            f"a SQLite URL is sqlite:///relative.db or sqlite:////absolute/path.db, not {url!r}"
        )
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in ("synchronous", "busy_timeout"):
            raise StoreError(f"unknown SQLite store option {key!r} in {url!r}")
        options[key] = value
    try:
        busy_timeout = float(options.get("busy_timeout", "30"))
    except ValueError:
        raise StoreError(f"busy_timeout must be a number of seconds in {url!r}") from None
    return SqliteStore(
        path[1:],
        limits=limits,
        synchronous=options.get("synchronous", "FULL"),
        busy_timeout=busy_timeout,
        settings=settings,
    )


def _shown(url: str) -> str:
    # Never echo what could be a password.
    return url.split("@", 1)[-1] if "@" in url else url
