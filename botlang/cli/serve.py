"""``botlang serve``, ``botlang vars`` and ``botlang outbox``.

``serve`` runs the bot and the Mango Office webhook (see docs/server.md); ``vars PHONE``
prints, as JSON, the variables of the client a phone number matches (the matching rule of
:mod:`botlang.clients.matching`, without creating a client), so an operator can see what an event
did; ``outbox failed`` lists the outgoing messages given up on and ``outbox retry`` sends
them again.
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

    outbox = subparsers.add_parser(
        "outbox",
        help="list failed outgoing messages, or send them again",
        description="Outgoing messages that were given up on (refused by the receiver, or "
        "older than [outbox] max_age_seconds) stay in the store. 'failed' lists them as JSON; "
        "'retry ID...' (or 'retry --all') puts them back in the queue: a running botlang "
        "serve sends them again, each client's in order.",
    )
    verbs = outbox.add_subparsers(dest="outbox_command", required=True)
    failed = verbs.add_parser("failed", help="list failed outgoing messages as JSON")
    failed.add_argument("--config", default=DEFAULT_CONFIG, help="project file (botlang.toml)")
    failed.add_argument("--limit", type=int, default=100, help="at most this many (newest first)")
    failed.set_defaults(func=run_outbox_failed)
    retry = verbs.add_parser("retry", help="send failed outgoing messages again")
    retry.add_argument("ids", nargs="*", metavar="ID", help="message ids (as GET /outbox shows)")
    retry.add_argument("--all", action="store_true", help="every failed message")
    retry.add_argument("--config", default=DEFAULT_CONFIG, help="project file (botlang.toml)")
    retry.set_defaults(func=run_outbox_retry)


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
        store = open_store(config.store.url, settings=config.store.settings())
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


FAILED_LISTED_MAX = 100_000


def _open_project_store(config_path: str) -> Any:
    """The store ``config_path`` names, or an exit status after saying why not."""
    from botlang.config import ConfigError, load_config
    from botlang.store import StoreError, open_store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        return open_store(config.store.url, settings=config.store.settings())
    except StoreError as exc:
        return _fail(str(exc))


def run_outbox_failed(args: argparse.Namespace) -> int:
    """Print the failed outgoing messages as JSON (newest first)."""
    store = _open_project_store(args.config)
    if isinstance(store, int):
        return store
    with store:
        items = store.inbox_items("failed", queue="outbox", limit=max(1, args.limit))
    shown = [
        {
            "id": item.payload.get("id"),
            "client_id": item.payload.get("client_id"),
            "attempts": item.attempts,
            "error": item.error,
            "created_at": item.created_at,
            "finished_at": item.finished_at,
            "messages": item.payload.get("messages"),
        }
        for item in items
    ]
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0


def run_outbox_retry(args: argparse.Namespace) -> int:
    """Put failed outgoing messages back in the queue; exit 1 for an id not failed."""
    if bool(args.ids) == bool(args.all):
        return _fail("give the ids of the messages to send again, or --all")
    store = _open_project_store(args.config)
    if isinstance(store, int):
        return store
    with store:
        if args.all:
            count = store.inbox_retry(queue="outbox")
        else:
            failed = store.inbox_items("failed", queue="outbox", limit=FAILED_LISTED_MAX)
            by_id = {str(item.payload.get("id")): item.item_id for item in failed}
            unknown = [i for i in args.ids if i not in by_id]
            if unknown:
                return _fail(f"no failed outgoing message with id {', '.join(unknown)}")
            count = store.inbox_retry(queue="outbox", item_ids=[by_id[i] for i in args.ids])
    print(f"{count} message{'' if count == 1 else 's'} queued to be sent again")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``serve`` or ``vars`` on their own (``python -m botlang.cli.serve``)."""
    parser = argparse.ArgumentParser(prog="botlang")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
