"""The ``botlang`` command line. Each verb lives with the part of botlang it drives; this
module only assembles them.

Errors go to stderr as ``FILE:LINE:COL: message`` with the source line and a caret; the
exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botlang.core.errors import BotlangError
from botlang.core.runtime.values import display, to_json_ready

# Modules that add verbs with ``register(subparsers)``; each is optional only in the
# sense that it is imported when the CLI is built, keeping start-up light.
VERB_MODULES = (
    "botlang.cli.telephony",
    "botlang.tools.reference",
    "botlang.cli.chat",
    "botlang.tools.repl",
    "botlang.cli.test",
    "botlang.cli.serve",
    "botlang.cli.studio",
)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from ``--set``: JSON values are decoded, anything else is text."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def read_source(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def report(error: BotlangError) -> int:
    print(str(error), file=sys.stderr)
    return 1


def print_variables(variables: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(to_json_ready(variables), ensure_ascii=False, indent=2, sort_keys=True))
        return
    for name in sorted(variables):
        value = variables[name]
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else display(value)
        print(f"{name} = {shown}")


def cmd_run(args: argparse.Namespace) -> int:
    import botlang
    from botlang.flow import FLOW_SUFFIX
    from botlang.telephony import RecordingTelephony

    if args.file.endswith(FLOW_SUFFIX):
        from botlang.cli.chat import run_flow

        return run_flow(args.file, dict(args.set or []), args.json)

    try:
        source = read_source(args.file)
    except OSError as exc:
        print(f"botlang: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    telephony = RecordingTelephony()
    try:
        program = botlang.compile(source, args.file)
        result = program.run(dict(args.set or []), telephony=telephony)
    except BotlangError as err:
        return report(err)
    for call in telephony.calls:
        print(f"[telephony, not placed] {call}", file=sys.stderr)
    print_variables(result, args.json)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from botlang.core.compiler import compile_expression

    try:
        value = compile_expression(args.expr, "<eval>").evaluate(dict(args.set or []))
    except BotlangError as err:
        return report(err)
    print(json.dumps(to_json_ready(value), ensure_ascii=False) if args.json else display(value))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from botlang.tools.checker import run_check

    return run_check(args.files, args.format)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="botlang",
        description="The Salebot calculator language: run, check, test and serve bots.",
    )
    from botlang import __version__

    parser.add_argument("--version", action="version", version=f"botlang {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run a calculator script and print its variables")
    run.add_argument("file", help="script file ('-' for stdin)")
    run.add_argument("--set", action="append", type=parse_assignment, metavar="NAME=VALUE")
    run.add_argument("--json", action="store_true", help="print the variables as JSON")
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser("eval", help="print the value of one expression")
    ev.add_argument("expr")
    ev.add_argument("--set", action="append", type=parse_assignment, metavar="NAME=VALUE")
    ev.add_argument("--json", action="store_true", help="print the value as JSON")
    ev.set_defaults(func=cmd_eval)

    check = sub.add_parser(
        "check", help="parse and lint scripts (.calc), flows (.bot) and bot tests; exit 1 on errors"
    )
    check.add_argument("files", nargs="+", help="files or folders")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.set_defaults(func=cmd_check)

    for module_name in VERB_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``botlang`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
