"""Running the service in a background thread (tests, benchmarks, embedding)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botlang.core.limits import DEFAULT_LIMITS
from botlang.util.serving import serve_app


@contextlib.contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, start_timeout: float = 20.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn (lifespan on) in a thread; yields ``http://host:port``.

    Port 0 picks a free port. On exit the server shuts down gracefully: queued inbox
    writes are flushed and the worker stops.
    """
    with serve_app(
        app,
        host,
        port,
        lifespan="on",
        limit_concurrency=DEFAULT_LIMITS.max_concurrent_requests,
        start_timeout=start_timeout,
        graceful_shutdown=5,
        stop_timeout=15.0,
        name="botlang service",
    ) as url:
        yield url
