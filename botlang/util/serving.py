"""Serving an ASGI app with uvicorn in a background thread (tests, benchmarks, embedding).

One helper for every botlang HTTP server that runs beside other code in one process: the
webhook service and the Mango Office simulator.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn


@contextlib.contextmanager
def serve_app(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    lifespan: Literal["on", "off", "auto"] = "off",
    limit_concurrency: int | None = None,
    start_timeout: float = 20.0,
    graceful_shutdown: float = 1.0,
    stop_timeout: float = 5.0,
    name: str = "HTTP server",
) -> Iterator[str]:
    """Serve ``app`` in a daemon thread; yields ``http://host:port`` once it accepts.

    Port 0 picks a free port. On exit the server shuts down (gracefully, for up to
    ``graceful_shutdown`` seconds) and the thread is joined.
    """
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP; without it a keep-alive request can wait ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        access_log=False,
        log_config=None,
        log_level="warning",
        limit_concurrency=limit_concurrency,
        timeout_graceful_shutdown=int(graceful_shutdown) or 1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the {name} on {host}:{bound} did not start")
        time.sleep(0.005)
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=stop_timeout)
        sock.close()
