"""The botlang HTTP service: the bot and Mango Office webhooks (``botlang serve``).

>>> from botlang.config import load_config
>>> from botlang.server import create_app
>>> app = create_app(load_config("botlang.toml"))     # an ASGI app (Starlette)

See docs/server.md for the endpoints, statuses, the variables events set and crash safety.
"""

from botlang.server.app import Service, create_app
from botlang.server.events import OUTCOMES, CallUpdate, update_for
from botlang.server.serving import serve_in_thread

__all__ = ["OUTCOMES", "CallUpdate", "Service", "create_app", "serve_in_thread", "update_for"]
