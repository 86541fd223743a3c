"""Command-line glue for telephony: ``botlang codes`` and ``botlang mango-sim``.

``register(subparsers)`` adds both subcommands to a CLI; each sets ``func`` to a handler
``(args) -> int``. The simulator (uvicorn, starlette) is imported only when ``mango-sim``
runs, so building the CLI stays light. ``python -m botlang.cli.telephony codes 2219``
also works.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from botlang.telephony import codes


def register(subparsers: Any) -> None:
    """Add ``codes`` and ``mango-sim`` to ``subparsers`` (an argparse subparsers action)."""
    parser = subparsers.add_parser(
        "codes",
        help="describe Mango Office result codes",
        description="Describe Mango Office result codes; codes missing from the table are "
        "read by their class (2219 -> 2210, 1090 -> 1000).",
    )
    parser.add_argument("code", nargs="+", metavar="CODE", help="a result code, e.g. 2219")
    parser.add_argument("--lang", choices=("ru", "en"), default="ru", help="text language")
    parser.set_defaults(func=run_codes)
    register_mango_sim(subparsers)


def register_mango_sim(subparsers: Any) -> None:
    """Add ``mango-sim`` to ``subparsers``."""
    parser = subparsers.add_parser(
        "mango-sim",
        help="run a local Mango Office API simulator",
        description="A local Mango Office VPBX API simulator (for development and tests). "
        "The api key and salt come from --api-key/--api-salt, else $MANGO_API_KEY/"
        "$MANGO_API_SALT, else fixed test values.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--webhook", metavar="URL", help="base address to post call events to")
    parser.add_argument("--api-key", help="default: $MANGO_API_KEY, else a fixed test key")
    parser.add_argument("--api-salt", help="default: $MANGO_API_SALT, else a fixed test salt")
    parser.add_argument(
        "--outcome",
        default="answered",
        help="how the client's side of calls ends: a result code or one of "
        f"{', '.join(codes.OUTCOMES)}",
    )
    parser.add_argument(
        "--employee-outcome",
        default="answered",
        help="how the employee's side ends (the leg rung before the client is dialled); "
        "anything but answered and the client is never dialled",
    )
    parser.add_argument(
        "--delivery",
        default="ordered",
        choices=("ordered", "parallel", "shuffled"),
        help="post events one at a time in order, each leg in order but the legs at once "
        "(as Mango does), or every leg event at once in random order",
    )
    parser.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="do not record answered calls (no events/recording, events/record/added)",
    )
    parser.add_argument("--talk-seconds", type=int, default=30, help="length of answered calls")
    parser.add_argument(
        "--event-delay", type=float, default=0.5, help="seconds between played-out events"
    )
    parser.set_defaults(func=run_mango_sim)


def run_codes(args: argparse.Namespace) -> int:
    """Print each code with its description; exit 1 if any argument is not a number."""
    status = 0
    lang = getattr(args, "lang", "ru")
    for raw in args.code:
        try:
            info = codes.lookup(raw)
        except ValueError:
            message = f"codes: {raw!r} is not a result code (expected a number such as 2219)"
            print(message, file=sys.stderr)
            status = 1
            continue
        text = info.text_en if lang == "en" else info.text
        if info.matched is None or info.exact:
            print(f"{info.code}  {text}")
        else:
            print(f"{info.code}  {text}  (class {info.matched})")
    return status


def run_mango_sim(args: argparse.Namespace) -> int:
    """Serve the simulator in the foreground until interrupted."""
    from botlang.telephony.simulator import run_cli

    return run_cli(args)


def main(argv: list[str] | None = None) -> int:
    """Run the telephony subcommands on their own."""
    parser = argparse.ArgumentParser(prog="botlang")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
