"""The checker behind ``botlang check``: every error and warning of a file, with positions.

Unlike compiling, which stops at the first error, the checker reports every problem:

- scripts (``.calc`` and any other file): parse errors, unknown functions (with "did you
  mean"), wrong argument counts, assignments to system variables, and Salebot's
  literal-text fallback (a warning);
- flows (``.bot``): all of the above in every calculator, message, button and condition,
  plus what the flow loader finds (unknown and unreachable blocks, loops of immediate
  arrows, buttons over Salebot's limits), and, once the flow loads, the checks across
  blocks of :mod:`botlang.flow.lint`;
- bot tests (``.bottest``): format errors, a missing bot, unknown blocks.

Each finding has a ``code`` (``syntax``, ``unknown-function``, ``arity``, ``read-only``,
``literal-text``, ``unknown-block``, ``unreachable``, ``loop``, ``call-loop``,
``unset-variable``, ``shadowed``, ``test-format``, ``io``, ...) for editors and CI.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from botlang.core.builtins import Registry
from botlang.core.compiler import default_registry
from botlang.core.errors import BotlangError, ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.scopes import SYSTEM_VARIABLES, WRITABLE_SYSTEM_VARIABLES
from botlang.core.syntax import ast
from botlang.core.syntax.parser import parse_program

# The system variables a script cannot assign.
READ_ONLY_VARIABLES: tuple[str, ...] = tuple(
    name for name in SYSTEM_VARIABLES if name not in WRITABLE_SYSTEM_VARIABLES
)


@dataclass(frozen=True)
class Diagnostic:
    """One finding: where, how serious, what."""

    filename: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    message: str
    code: str
    source_line: str = ""

    def format(self) -> str:
        head = f"{self.filename}:{self.line}:{self.column}: {self.severity}: {self.message}"
        if not self.source_line.strip():
            return head
        prefix = "".join("\t" if c == "\t" else " " for c in self.source_line[: self.column - 1])
        return f"{head}\n    {self.source_line}\n    {prefix}^"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.filename,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "code": self.code,
        }

    @classmethod
    def from_error(cls, err: BotlangError, code: str = "syntax") -> Diagnostic:
        return cls(err.filename, err.line, err.column, "error", err.message, code, err.source_line)


def _line_of(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def check_program_tree(
    program: ast.Program, registry: Registry, *, read_only: tuple[str, ...] = READ_ONLY_VARIABLES
) -> list[Diagnostic]:
    """Semantic checks of a parsed script: calls, read-only names, literal-text fallback."""
    found: list[Diagnostic] = []
    source, filename = program.source, program.filename

    def add(line: int, column: int, severity: str, message: str, code: str) -> None:
        found.append(
            Diagnostic(filename, line, column, severity, message, code, _line_of(source, line))
        )

    for node in ast.walk(program):
        if isinstance(node, ast.Call):
            problem = registry.call_problem(node.name, len(node.args))
            if problem:
                code = "unknown-function" if problem.startswith("unknown") else "arity"
                add(node.line, node.column, "error", problem, code)
        elif isinstance(node, (ast.Assign, ast.Delete)):
            target = node.target
            if target.name in read_only:
                add(
                    target.line,
                    target.column,
                    "error",
                    f"'{target.name}' is a system variable and is read-only",
                    "read-only",
                )
    for warning in program.warnings:
        add(warning.line, warning.column, "warning", warning.message, warning.code)
    return found


def check_source(
    source: str,
    filename: str = "<script>",
    *,
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Every problem in a calculator script, sorted by position."""
    registry = registry or default_registry()
    errors: list[ParseError] = []
    program = parse_program(source, filename, limits=limits, errors=errors)
    found = [Diagnostic.from_error(e) for e in errors]
    found.extend(check_program_tree(program, registry))
    return sorted(found, key=lambda d: (d.line, d.column))


# -- files of every kind -----------------------------------------------------------------------

FLOW_SUFFIX = ".bot"
TEST_SUFFIX = ".bottest"
SCRIPT_SUFFIX = ".calc"
CHECKED_SUFFIXES = (FLOW_SUFFIX, TEST_SUFFIX, SCRIPT_SUFFIX)

_ARITY = re.compile(r"\w+\(\) takes .* arguments?, got \d+")


def _io_error(path: str, exc: Exception) -> Diagnostic:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return Diagnostic(path, 1, 1, "error", f"cannot read: {reason}", "io")


def _recode(found: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Give calls' problems found while compiling conditions and messages their own codes."""
    result = []
    for d in found:
        if d.code == "syntax" and d.message.startswith("unknown function '"):
            d = replace(d, code="unknown-function")
        elif d.code == "syntax" and _ARITY.match(d.message):
            d = replace(d, code="arity")
        result.append(d)
    return result


def _sorted(found: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda d: (d.line, d.column, d.code))


def check_path(path: str, *, registry: Registry | None = None) -> list[Diagnostic]:
    """Every problem in one file, by its kind: ``.bot`` flow, ``.bottest`` test, else script.

    ``-`` reads a script from standard input. A file that cannot be read gives one ``io``
    error.
    """
    if path == "-":
        return check_source(sys.stdin.read(), "<stdin>", registry=registry)
    suffix = Path(path).suffix
    if suffix == FLOW_SUFFIX:
        return check_flow_path(path, registry=registry)
    if suffix == TEST_SUFFIX:
        return check_test_path(path, registry=registry)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [_io_error(path, exc)]
    return check_source(source, path, registry=registry)


def check_flow_path(path: str, *, registry: Registry | None = None) -> list[Diagnostic]:
    """Every problem in a ``.bot`` file: the loader's findings, then the flow-wide lints."""
    from botlang.flow import FlowError, parse_flow
    from botlang.flow.lint import lint_flow

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [_io_error(path, exc)]
    try:
        flow = parse_flow(source, path, registry=registry)
    except FlowError as err:
        return _sorted(_recode(err.diagnostics))
    return _sorted([*_recode(flow.warnings), *lint_flow(flow)])


def check_test_path(path: str, *, registry: Registry | None = None) -> list[Diagnostic]:
    """Problems in a ``.bottest`` file: its format, its bot, the blocks it names."""
    from botlang.testing.format import parse_test_source

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [_io_error(path, exc)]
    parsed = parse_test_source(source, path)
    found = [Diagnostic.from_error(err, "test-format") for err in parsed.errors]
    if found:
        return _sorted(found)
    bot_path = parsed.bot_path()
    bot_line = parsed.bot_line or 1
    if bot_path is None or not bot_path.exists():
        message = (
            f"the bot file {bot_path} does not exist"
            if bot_path is not None
            else "no bot to test: add 'bot: FILE.bot'"
        )
        return [
            Diagnostic(
                path, bot_line, 1, "error", message, "test-format", _line_of(source, bot_line)
            )
        ]
    from botlang.flow import FlowError, load_flow

    try:
        flow = load_flow(bot_path, registry=registry)
    except (FlowError, OSError, UnicodeDecodeError):
        return []  # the flow's own problems are reported when the flow is checked
    import difflib

    steps = {id(s): s for t in parsed.tests for s in t.steps}.values()
    for step in steps:
        if step.kind in ("enter", "expect_block") and step.name not in flow.blocks:
            close = difflib.get_close_matches(step.name, list(flow.blocks), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            column = step.column + step.source.index(step.name)
            found.append(
                Diagnostic(
                    path,
                    step.line,
                    column,
                    "error",
                    f"the bot has no block '{step.name}'{hint}",
                    "unknown-block",
                    _line_of(source, step.line),
                )
            )
    return _sorted(found)


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files as given; directories searched for ``.bot``, ``.bottest`` and ``.calc`` files."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if raw != "-" and path.is_dir():
            found.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.suffix in CHECKED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.append(raw)
    return found


def run_check(
    paths: Sequence[str],
    fmt: str = "text",
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``botlang check``: print the findings (text or JSON); 1 if any is an error."""
    out = out or sys.stdout
    err = err or sys.stderr
    every: list[Diagnostic] = []
    for path in expand_paths(paths):
        every.extend(check_path(path))
    failed = any(d.severity == "error" for d in every)
    if fmt == "json":
        print(json.dumps([d.to_dict() for d in every], ensure_ascii=False, indent=2), file=out)
        return 1 if failed else 0
    for diagnostic in every:
        print(diagnostic.format(), file=err if diagnostic.severity == "error" else out)
    errors = sum(d.severity == "error" for d in every)
    if every:
        print(f"{errors} error(s), {len(every) - errors} warning(s)", file=err)
    return 1 if failed else 0
