"""Fixtures for the service tests (building blocks are in server_testkit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_testkit import Receiver, Running, make_config

from botlang.config import Config
from botlang.server import create_app, serve_in_thread
from botlang.telephony import RecordingTelephony


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """``serve(**create_app options, config=...)`` starts a service; all stop at the end."""
    stack: list[Any] = []

    def start(*, config: Config | None = None, **options: Any) -> Running:
        if config is None:
            config = make_config(tmp_path)
        options.setdefault("telephony", RecordingTelephony())
        app = create_app(config, **options)
        context = serve_in_thread(app)
        url = context.__enter__()
        http = httpx.Client(timeout=30.0)
        stack.append((context, http))
        return Running(url, app, http)

    yield start
    for context, http in reversed(stack):
        http.close()
        context.__exit__(None, None, None)


@pytest.fixture
def outgoing() -> Iterator[tuple[Receiver, str]]:
    """A receiver for ``[server] outgoing_url`` on 127.0.0.1, and that URL."""
    receiver = Receiver()
    with receiver.serve() as url:
        yield receiver, url
