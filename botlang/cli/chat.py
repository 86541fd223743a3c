"""``botlang chat``: talk to a ``.bot`` flow from the command line.

    botlang chat FILE.bot [MESSAGE...] [-m TEXT] [-e TEXT] [-p LABEL] [--store URL]
                 [--client PHONE] [--messenger NAME|none] [--now ISO]
                 [--call-result OUTCOME] [--vars] [--json]

MESSAGE arguments are sent first, in order; then every ``-m/--message TEXT``,
``-e/--event TEXT`` and ``-p/--press LABEL`` in the order given (events are callbacks such
as ``answered``; a press is of a button the previous turn showed, as the messenger would
send it). Buttons are shown under their message, a row a line: ``[Да] [Нет]``.
Telephony calls are recorded, never placed. With a SQLite or PostgreSQL ``--store`` the
conversation goes on across runs. Runtime errors go to stderr as ``FILE:LINE:COL: message``
with the source line and a caret, and make the exit status 1.

:func:`run_flow` is what ``botlang run FILE.bot`` does: a new client enters the first block.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from botlang.core.errors import BotlangError
from botlang.core.runtime.values import display, to_json_ready

DEFAULT_PHONE = "79000000000"


class _Step(argparse.Action):
    """Collects messages and events in the order they are given on the command line."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        steps = list(getattr(namespace, "steps", None) or [])
        steps.append((self.const, values))
        namespace.steps = steps


def register(subparsers: Any) -> None:
    """Add the ``chat`` verb to the ``botlang`` command line."""
    chat = subparsers.add_parser(
        "chat",
        help="send messages and events through a .bot flow and print the bot's answers",
        description="Send messages (and events such as a finished call) through a .bot flow "
        "and print what the bot answers. Telephony calls are recorded, never placed.",
    )
    chat.add_argument("file", help="the flow (.bot file)")
    chat.add_argument("messages", nargs="*", metavar="MESSAGE", help="messages, sent first")
    chat.add_argument(
        "-m",
        "--message",
        action=_Step,
        const="message",
        metavar="TEXT",
        help="a message (in order with --event)",
    )
    chat.add_argument(
        "-e",
        "--event",
        action=_Step,
        const="event",
        metavar="TEXT",
        help="a callback event, e.g. answered, busy, no_answer",
    )
    chat.add_argument(
        "-p",
        "--press",
        action=_Step,
        const="press",
        metavar="LABEL",
        help="press a button the previous turn showed (in order with --message)",
    )
    chat.add_argument("--store", default="memory://", help="store URL (default: memory://)")
    chat.add_argument(
        "--client", default=DEFAULT_PHONE, metavar="PHONE", help="the client's phone number"
    )
    chat.add_argument("--client-id", metavar="ID", help="an existing client's id instead")
    chat.add_argument(
        "--messenger",
        default="whatsapp",
        help="the messenger a new client comes from, or 'none' for a telephony-only client",
    )
    chat.add_argument("--name", help="the client's name (the 'name' variable)")
    chat.add_argument("--now", metavar="ISO", help="the flow's clock, e.g. 2024-05-06T10:30")
    chat.add_argument(
        "--call-result",
        default="1000",
        metavar="OUTCOME",
        help="what recorded calls answer: a Mango code or answered, busy, no_answer ...",
    )
    chat.add_argument("--vars", action="store_true", help="print the variables at the end")
    chat.add_argument("--json", action="store_true", help="print the turns as JSON")
    chat.set_defaults(func=cmd_chat, steps=None)


def _error(text: str) -> int:
    print(f"botlang: {text}", file=sys.stderr)
    return 1


def cmd_chat(args: argparse.Namespace) -> int:
    """Run ``botlang chat``."""
    from botlang.clients.matching import match_client
    from botlang.flow import Bot, FlowError
    from botlang.store import StoreError, open_store
    from botlang.telephony import RecordingTelephony

    steps = [("message", text) for text in args.messages] + list(args.steps or [])
    try:
        telephony = RecordingTelephony(result=args.call_result)
    except (ValueError, KeyError) as exc:
        return _error(f"--call-result: {exc}")
    options: dict[str, Any] = {"telephony": telephony}
    if args.now:
        try:
            moment = datetime.fromisoformat(args.now)
        except ValueError:
            return _error(f"--now expects a date and time like 2024-05-06T10:30, not {args.now!r}")
        options["clock"] = lambda: moment
    try:
        bot = Bot.load(args.file, **options)
    except FlowError as err:
        print(str(err), file=sys.stderr)
        return 1
    except OSError as exc:
        return _error(f"cannot read {args.file}: {exc.strerror}")
    try:
        store = open_store(args.store)
    except StoreError as exc:
        return _error(str(exc))
    try:
        if args.client_id:
            client_id = str(args.client_id)
            if store.get_client(client_id) is None:
                return _error(f"no client with id {client_id!r} in {args.store}")
        else:
            messengers = [] if args.messenger.lower() == "none" else [args.messenger]
            try:
                client, _ = match_client(store, args.client, messengers=messengers)
            except BotlangError as err:
                return _error(f"--client: {err.message}")
            client_id = client.client_id
        turns = []
        failed = False
        offered: list[Any] = []
        for kind, text in steps:
            if kind == "event":
                turn = bot.handle_event(store, client_id, text)
            elif kind == "press":
                request = _press(offered, text, store, client_id)
                if isinstance(request, str):
                    return _error(request)
                turn = bot.handle(store, client_id, request)
            else:
                turn = bot.handle_message(store, client_id, text, name=args.name)
            offered = turn.buttons
            turns.append(turn)
            failed = failed or not turn.ok
            if not args.json:
                _print_turn(turn)
        variables = store.read_variables(client_id)
    except BotlangError as err:
        print(str(err), file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        document = {
            "client_id": client_id,
            "turns": [t.to_dict() for t in turns],
            "variables": to_json_ready(variables),
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif args.vars:
        _print_variables(variables)
    return 1 if failed else 0


def _press(offered: list[Any], label: str, store: Any, client_id: str) -> Any:
    """The request a press of the button ``label`` sends, or why it cannot be pressed."""
    wanted = " ".join(label.split())
    found = next((b for b in offered if b.text == wanted), None)
    if found is None:
        shown = " ".join(b.describe() for b in offered) or "none"
        return f"--press: no button '{wanted}' on offer; the last turn showed: {shown}"
    client = store.get_client(client_id)
    try:
        request = found.press(phone=client.phone if client else None)
    except ValueError as exc:
        return f"--press: {exc}"
    if request is None:
        return f"--press: '{found.text}' opens a link ({found.url}); it sends nothing to the bot"
    return request


def _print_turn(turn: Any) -> None:
    prefix = "> event: " if turn.kind == "event" else "> "
    print(f"{prefix}{turn.text}")
    for message in turn.messages:
        if message.text:
            print(message.text)
        for row in message.buttons:
            print(" ".join(b.describe() for b in row))
        if message.hint:
            print(f"(without buttons: {message.hint})")
    for message in turn.undelivered:
        print(f"[not sent: telephony-only client] {message.text}")
    for order in turn.orders:
        print(f"[order {order.order_id}] " + "; ".join(order.text.splitlines()))
    for call in turn.calls:
        result = call.result
        args = " ".join(f"{k}={v}" for k, v in call.args.items())
        status = "ok" if result.ok else "failed"
        print(
            f"[telephony, not placed] {call.kind} call {args}: {status} "
            f"({result.result} {result.message})"
        )
    for line in turn.output:
        print(f"[print] {line}")
    for err in turn.errors:
        print(str(err), file=sys.stderr)


def _print_variables(variables: Mapping[str, Mapping[str, Any]]) -> None:
    for scope in ("client", "deal", "project"):
        for name in sorted(variables.get(scope, {})):
            value = variables[scope][name]
            shown = (
                json.dumps(value, ensure_ascii=False) if isinstance(value, str) else display(value)
            )
            print(f"{scope}.{name} = {shown}" if scope != "deal" else f"{name} = {shown}")


def run_flow(path: str, variables: Mapping[str, Any] | None = None, as_json: bool = False) -> int:
    """``botlang run FILE.bot``: a new client (``variables`` preset as its client variables)
    enters the first block; print the bot's messages, then the variables."""
    from botlang.flow import Bot, FlowError
    from botlang.store import open_store
    from botlang.telephony import RecordingTelephony

    try:
        bot = Bot.load(path, telephony=RecordingTelephony())
    except FlowError as err:
        print(str(err), file=sys.stderr)
        return 1
    except OSError as exc:
        return _error(f"cannot read {path}: {exc.strerror}")
    store = open_store("memory://")
    try:
        client = store.create_client(
            client_type=6, phone=DEFAULT_PHONE, messenger="whatsapp", variables=variables
        )
        turn = bot.enter(store, client.client_id, bot.flow.entry)
        found = store.read_variables(client.client_id)
    except BotlangError as err:
        print(str(err), file=sys.stderr)
        return 1
    finally:
        store.close()
    merged = {**found["project"], **found["client"], **found["deal"]}
    if as_json:
        document = {"messages": turn.texts, "variables": to_json_ready(merged)}
        print(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for text in turn.texts:
            print(text)
        for name in sorted(merged):
            value = merged[name]
            shown = (
                json.dumps(value, ensure_ascii=False) if isinstance(value, str) else display(value)
            )
            print(f"{name} = {shown}")
    for err in turn.errors:
        print(str(err), file=sys.stderr)
    return 0 if turn.ok else 1
