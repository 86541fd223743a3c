"""``botlang test [PATH...]``: run bot tests (``*.bottest``) and report failures as diffs.

``register(subparsers)`` adds the verb to a CLI; ``python -m botlang.testing`` runs it alone.
Exit status: 0 when every test passes, 1 when one fails (or none is found), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from botlang.testing.runner import TestResult, display_path, run_paths


def register(subparsers: Any) -> None:
    """Add ``test`` to ``subparsers`` (an argparse subparsers action)."""
    parser = subparsers.add_parser(
        "test",
        help="run bot tests (*.bottest files)",
        description="Run the bot tests in the files and directories given (default: the "
        "working directory, searched recursively for *.bottest).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help=".bottest files or directories")
    parser.add_argument("-k", dest="keyword", metavar="TEXT", help="only tests whose name has TEXT")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print failures and summary only"
    )
    parser.set_defaults(func=run_tests)


def report(
    results: list[TestResult], seconds: float, *, quiet: bool = False, out: TextIO | None = None
) -> None:
    """Print each test's outcome, then every failure in full, then a summary line."""
    out = out or sys.stdout
    current = None
    if not quiet:
        for result in results:
            if result.path != current:
                current = result.path
                print(display_path(result.path), file=out)
            mark = "ok  " if result.passed else "FAIL"
            print(f"  {mark} {result.name}", file=out)
    failures = [r for r in results if not r.passed]
    for result in failures:
        print(file=out)
        print(f"FAIL {display_path(result.path)}: {result.name}", file=out)
        print(result.failure, file=out)
    passed = len(results) - len(failures)
    parts = [f"{passed} passed"]
    if failures:
        parts.append(f"{len(failures)} failed")
    print(file=out)
    print(f"{', '.join(parts)} in {seconds:.2f}s", file=out)


def run_tests(args: argparse.Namespace) -> int:
    """Handler of ``botlang test``."""
    started = time.perf_counter()
    results = run_paths(args.paths, keyword=args.keyword)
    if not results:
        where = " ".join(args.paths) or "."
        print(f"botlang test: no bot tests (*.bottest) found in {where}", file=sys.stderr)
        return 1
    report(results, time.perf_counter() - started, quiet=args.quiet)
    return 0 if all(r.passed for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``botlang test`` on its own."""
    parser = argparse.ArgumentParser(prog="botlang")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(["test", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
