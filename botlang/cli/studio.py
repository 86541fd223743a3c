"""``botlang graph FILE.bot`` (the flow as a diagram) and ``botlang studio FILE.bot`` (a
local web page to chat with the flow and watch where the client is).

    botlang graph FILE.bot [--format mermaid|dot|svg] [-o OUT]
    botlang studio FILE.bot [--host H] [--port N] [--no-browser] [--lang ru|en] ...

A flow that does not load is reported as ``botlang check`` does (``FILE:LINE:COL`` with
the source line and a caret) and makes the exit status 1; ``studio`` keeps running and
shows the errors on the page until the file is fixed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from botlang.core.errors import BotlangError

_SUFFIX_FORMATS = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}


def register(subparsers: Any) -> None:
    """Add the ``graph`` and ``studio`` verbs to the ``botlang`` command line."""
    from botlang.tools.graph import FORMATS

    graph = subparsers.add_parser(
        "graph",
        help="the flow as a diagram: Mermaid, Graphviz DOT or SVG",
        description="Draw a .bot flow: blocks with their kind and title, arrows with their "
        "conditions, priorities, timers and button form; unreachable blocks and loops "
        "without an exit are marked. SVG needs Graphviz's dot program.",
    )
    graph.add_argument("file", help="the flow (.bot file)")
    graph.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        help="mermaid (default), dot, or svg; taken from --output's suffix when not given",
    )
    graph.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    graph.set_defaults(func=cmd_graph)

    studio = subparsers.add_parser(
        "studio",
        help="a local web page: chat with a flow, see its diagram, variables and calls",
        description="Serve a local web page to try a .bot flow: its diagram with the "
        "client's block highlighted, a chat with the bot's buttons, call outcomes, events "
        "and a virtual clock, the client's variables, calls and errors, and 'save as test'. "
        "Calls are recorded, never placed, unless --place-calls is given with a --config "
        "that has a [mango] section. The page reloads the flow when the file changes.",
    )
    studio.add_argument("file", nargs="?", help="the flow (.bot file); default: --config's")
    studio.add_argument("--host", default="127.0.0.1", help="address to listen on (local only)")
    studio.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    studio.add_argument(
        "--no-browser", action="store_true", help="do not open the page in a web browser"
    )
    studio.add_argument("--lang", choices=["ru", "en"], help="the page's language")
    studio.add_argument("--client", metavar="PHONE", help="the client's phone number")
    studio.add_argument(
        "--clock", metavar="TIME", help="the virtual clock's start, e.g. '2024-01-15 12:00'"
    )
    studio.add_argument(
        "--config", metavar="FILE", help="botlang.toml: the project's flow and Mango account"
    )
    studio.add_argument(
        "--place-calls",
        action="store_true",
        help="place real Mango Office calls through --config's [mango] account",
    )
    studio.set_defaults(func=cmd_studio)


def _format_for(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix == ".svg":
            return "svg"
        return _SUFFIX_FORMATS.get(suffix, "mermaid")
    return "mermaid"


def cmd_graph(args: argparse.Namespace) -> int:
    """Handler of ``botlang graph``."""
    from botlang.flow import FlowError, load_flow
    from botlang.tools.graph import GraphvizFailed, GraphvizMissing, render

    try:
        flow = load_flow(args.file)
    except FlowError as err:
        print(str(err), file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"botlang graph: cannot read {args.file}: {reason}", file=sys.stderr)
        return 1
    try:
        text = render(flow, _format_for(args))
    except (GraphvizMissing, GraphvizFailed) as exc:
        print(f"botlang graph: {exc}", file=sys.stderr)
        return 1
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"botlang graph: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


def cmd_studio(args: argparse.Namespace) -> int:
    """Handler of ``botlang studio``."""
    from botlang.studio.server import run_studio

    try:
        return run_studio(args)
    except BotlangError as err:
        print(str(err), file=sys.stderr)
        return 1
