"""``botlang serve`` and ``botlang vars``.

``serve`` runs the bot and the Mango Office webhook (see docs/server.md); ``vars PHONE``
prints, as JSON, the variables of the client a phone number matches (the matching rule of
:mod:`botlang.clients.matching`, without creating a client), so an operator can see what an event
did.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

DEFAULT_CONFIG = "botlang.toml"


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``vars`` to the ``botlang`` command line."""
    serve = subparsers.add_parser(
        "serve",
        help="run the bot and Mango Office webhook HTTP service",
        description="Serve the project's bot: POST /mango_webhook/<api key>/<path> for Mango "
        "Office events, POST /message for incoming messages, GET /health.",
    )
    serve.add_argument("--config", default=DEFAULT_CONFIG, help="project file (botlang.toml)")
    serve.add_argument("--host", help="address to listen on (default: [server] host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: [server] port)")
    serve.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="receive and store events but do not process them; a botlang serve with a "
        "worker (another process, or this one restarted) processes them",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="log level (logs are key=value lines on stderr)",
    )
    serve.set_defaults(func=run_serve)

    show = subparsers.add_parser(
        "vars",
        help="print the variables of the client a phone number matches, as JSON",
        description="Print the variables (client, deal, project scopes and the session) of "
        "the client that PHONE matches, as JSON. No client is created.",
    )
    show.add_argument("phone", metavar="PHONE", help="the client's phone, e.g. 79004443322")
    show.add_argument("--config", default=DEFAULT_CONFIG, help="project file (botlang.toml)")
    show.set_defaults(func=run_vars)


def _fail(message: str) -> int:
    print(f"botlang: {message}", file=sys.stderr)
    return 1


def run_serve(args: argparse.Namespace) -> int:
    """Load the project and serve until interrupted."""
    import uvicorn

    from botlang.config import ConfigError, load_config
    from botlang.core.errors import BotlangError
    from botlang.core.limits import DEFAULT_LIMITS
    from botlang.server.app import create_app
    from botlang.server.logs import configure
    from botlang.store import StoreError

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    configure(args.log_level)
    try:
        app = create_app(config, worker=args.worker)
    except BotlangError as exc:  # the flow file does not load
        print(str(exc), file=sys.stderr)
        return 1
    except (StoreError, OSError) as exc:
        return _fail(f"cannot start: {exc}")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host or config.server.host,
            port=args.port if args.port is not None else config.server.port,
            lifespan="on",
            access_log=False,  # it would print webhook paths, which carry the API key
            log_config=None,
            limit_concurrency=DEFAULT_LIMITS.max_concurrent_requests,
            timeout_graceful_shutdown=5,
        )
    )
    server.run()
    return 0 if server.started else 1


def run_vars(args: argparse.Namespace) -> int:
    """Print the matched client's variables; exit 1 if no client matches."""
    from botlang.clients.matching import find_client
    from botlang.clients.phones import InvalidPhone, normalize_phone
    from botlang.config import ConfigError, load_config
    from botlang.core.runtime.values import to_json_ready
    from botlang.store import StoreError, open_store

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        number = normalize_phone(args.phone)
    except InvalidPhone as exc:
        return _fail(f"invalid phone {args.phone!r}: {exc}")
    try:
        store = open_store(config.store.url)
    except StoreError as exc:
        return _fail(str(exc))
    with store:
        client = find_client(store, number)
        if client is None:
            return _fail(f"no client matches phone {number}")
        scopes = store.read_variables(client.client_id)
    shown = {
        "client_id": client.client_id,
        "client_type": client.client_type,
        "phone": client.phone,
        "messenger": client.messenger,
        **scopes,
    }
    print(json.dumps(to_json_ready(shown), ensure_ascii=False, indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``serve`` or ``vars`` on their own (``python -m botlang.cli.serve``)."""
    parser = argparse.ArgumentParser(prog="botlang")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
