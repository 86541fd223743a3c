"""The botlang HTTP service: the bot and Mango Office webhooks (``botlang serve``).

>>> from botlang.config import load_config
>>> from botlang.server import create_app
>>> app = create_app(load_config("botlang.toml"))     # an ASGI app (Starlette)

See docs/server.md for the endpoints, statuses, the variables events set and crash safety.
Names are imported on first use, so importing a submodule does not load the web stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OUTCOMES": "botlang.server.events",
    "CallUpdate": "botlang.server.events",
    "update_for": "botlang.server.events",
    "Service": "botlang.server.app",
    "create_app": "botlang.server.app",
    "serve_in_thread": "botlang.server.serving",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'botlang.server' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
