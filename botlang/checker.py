"""The checker behind ``botlang check``: every error and warning of a script, with positions.

Unlike compiling, which stops at the first error, the checker reports every statement's
problem: parse errors, unknown functions and wrong argument counts, assignments to system
variables, and Salebot's literal-text fallback (a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

from botlang.builtins import Registry
from botlang.compiler import default_registry
from botlang.errors import BotlangError, ParseError
from botlang.limits import DEFAULT_LIMITS, Limits
from botlang.runtime.scopes import SYSTEM_VARIABLES
from botlang.syntax import ast
from botlang.syntax.parser import parse_program


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
    program: ast.Program, registry: Registry, *, read_only: tuple[str, ...] = SYSTEM_VARIABLES
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
