"""Loading a ``.bot`` file: structure, then every calculator, message and condition compiled
with positions in the file, then the checks across blocks (unknown targets, duplicate ids,
unreachable blocks, immediate-arrow loops).

:func:`check_flow_source` reports every problem as a :class:`~botlang.tools.checker.Diagnostic`;
:func:`load_flow` returns a :class:`~botlang.flow.model.Flow` or raises :class:`FlowError`
listing every error.

Calculators are compiled from their lines exactly as they stand in the file, preceded by
as many empty lines as come before them, so the compiler's line and column numbers are
the file's own; message templates and ``if:`` conditions are compiled with their starting
position in the file.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from botlang.core.builtins import Registry
from botlang.core.compiler import Expression, Program, Template, default_registry
from botlang.core.errors import BotlangError, ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.syntax.parser import parse_expression, parse_program
from botlang.flow.matching import compile_regex
from botlang.flow.model import (
    FLOW_SYSTEM_VARIABLES,
    Arrow,
    Block,
    Flow,
    MatchMode,
    TextCondition,
    Trigger,
)
from botlang.flow.reader import RawArrow, RawBlock, RawField, RawFlow, read_flow
from botlang.tools.checker import Diagnostic, check_program_tree

FLOW_SUFFIX = ".bot"


class FlowError(ParseError):
    """A ``.bot`` file that cannot be loaded. ``str()`` shows every error, each with its
    source line and a caret; ``.diagnostics`` lists errors and warnings."""

    def __init__(self, diagnostics: list[Diagnostic], source: str, filename: str) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        first = errors[0]
        super().__init__(
            first.message, line=first.line, column=first.column, source=source, filename=filename
        )
        self.diagnostics = diagnostics
        self.errors = [
            ParseError(d.message, line=d.line, column=d.column, source=source, filename=filename)
            for d in errors
        ]

    def __str__(self) -> str:
        return "\n".join(BotlangError.__str__(err) for err in self.errors)


def _line_text(lines: list[str], number: int) -> str:
    return lines[number - 1] if 1 <= number <= len(lines) else ""


class _Loader:
    def __init__(self, raw: RawFlow, registry: Registry, limits: Limits) -> None:
        self.raw = raw
        self.source = raw.source
        self.filename = raw.filename
        self.registry = registry
        self.limits = limits
        self.texts = [line.text for line in raw.lines]
        self.diagnostics: list[Diagnostic] = []

    # -- reporting -------------------------------------------------------------------------

    def add(self, line: int, column: int, severity: str, message: str, code: str) -> None:
        self.diagnostics.append(
            Diagnostic(
                self.filename,
                line,
                column,
                severity,
                message,
                code,
                _line_text(self.texts, line),
            )
        )

    def add_error(self, err: BotlangError, code: str = "syntax") -> None:
        self.add(err.line, err.column, "error", err.message, code)

    def adopt(self, found: list[Diagnostic]) -> None:
        """Diagnostics from the script checker, shown with the file's own lines."""
        for d in found:
            self.diagnostics.append(
                replace(d, filename=self.filename, source_line=_line_text(self.texts, d.line))
            )

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    # -- the whole flow --------------------------------------------------------------------

    def load(self) -> Flow | None:
        for problem in self.raw.problems:
            self.add_error(problem)
        constants = self.constants()
        blocks: dict[str, Block] = {}
        first_line: dict[str, int] = {}
        order = 0
        for raw_block in self.raw.blocks:
            if raw_block.id in blocks:
                self.add(
                    raw_block.line,
                    raw_block.column,
                    "error",
                    f"block '{raw_block.id}' is already defined on line "
                    f"{first_line[raw_block.id]}; block ids must be unique",
                    "duplicate-block",
                )
                continue
            arrows = []
            for raw_arrow in raw_block.arrows:
                arrow = self.arrow(raw_arrow, order)
                order += 1
                if arrow is not None:
                    arrows.append(arrow)
            blocks[raw_block.id] = self.block(raw_block, tuple(arrows))
            first_line[raw_block.id] = raw_block.line
        starting = []
        for raw_arrow in self.raw.starting_arrows:
            arrow = self.arrow(raw_arrow, order)
            order += 1
            if arrow is not None:
                starting.append(arrow)
        if not self.raw.blocks and not self.raw.problems:
            self.add(1, 1, "error", "the flow has no blocks; add one with 'block ID'", "syntax")
        all_arrows = [a for b in blocks.values() for a in b.arrows] + starting
        self.targets(all_arrows, blocks)
        if blocks:
            entry = next(iter(blocks))
            self.reachability(blocks, entry, starting)
            self.immediate_loops(blocks)
        self.diagnostics.sort(key=lambda d: (d.line, d.column))
        if self.failed or not blocks:
            return None
        return Flow(
            source=self.source,
            filename=self.filename,
            title=self.raw.title,
            blocks=blocks,
            entry=next(iter(blocks)),
            starting_arrows=tuple(starting),
            constants=constants,
            warnings=[d for d in self.diagnostics if d.severity != "error"],
        )

    def constants(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        defined: dict[str, int] = {}
        for const in self.raw.constants:
            if const.name in FLOW_SYSTEM_VARIABLES:
                self.add(
                    const.line,
                    const.column,
                    "error",
                    f"'{const.name}' is a system variable and cannot be a constant",
                    "read-only",
                )
                continue
            if const.name in defined:
                self.add(
                    const.line,
                    const.column,
                    "error",
                    f"constant '{const.name}' is already defined on line {defined[const.name]}",
                    "duplicate-constant",
                )
                continue
            defined[const.name] = const.line
            expression = self.expression(const.expression, const.line, const.expression_column)
            if expression is None:
                continue
            try:
                values[const.name] = expression.evaluate(values)
            except BotlangError as err:
                self.add_error(err, "constant")
        return values

    # -- blocks ----------------------------------------------------------------------------

    def block(self, raw: RawBlock, arrows: tuple[Arrow, ...]) -> Block:
        calculator = None
        if "calculator" in raw.fields:
            calculator = self.calculator(raw.fields["calculator"])
        message = None
        line = column = indent = 0
        if "message" in raw.fields:
            message, line, column, indent = self.message(raw.fields["message"])
        return Block(
            id=raw.id,
            title=raw.title,
            line=raw.line,
            column=raw.column,
            calculator=calculator,
            message=message,
            message_line=line,
            message_column=column,
            message_indent=indent,
            arrows=arrows,
        )

    def calculator(self, raw: RawField) -> Program | None:
        if not raw.body:
            return None
        body = "\n".join(line.text for line in raw.body)
        if len(body) > self.limits.max_source_chars:
            self.add(
                raw.line,
                raw.column,
                "error",
                f"the calculator is {len(body):,} characters long; the limit is "
                f"{self.limits.max_source_chars:,}",
                "limit",
            )
            return None
        # Same line numbers as the file: the lines before the calculator become empty.
        first = raw.body[0].number
        numbered = {line.number: line.text for line in raw.body}
        padded = "\n" * (first - 1) + "\n".join(
            numbered.get(n, "") for n in range(first, raw.body[-1].number + 1)
        )
        limits = self.limits
        if len(padded) > limits.max_source_chars:
            limits = limits.with_changes(max_source_chars=len(padded))
        errors: list[ParseError] = []
        tree = parse_program(padded, self.filename, limits=limits, errors=errors)
        found = [Diagnostic.from_error(e) for e in errors]
        found.extend(check_program_tree(tree, self.registry, read_only=FLOW_SYSTEM_VARIABLES))
        self.adopt(found)
        if any(d.severity == "error" for d in found):
            return None
        try:
            return Program(tree, self.registry, self.limits)
        except BotlangError as err:
            self.add_error(err)
            return None

    def message(self, raw: RawField) -> tuple[Template | None, int, int, int]:
        if not raw.body:
            return None, raw.line, raw.column, 0
        indent = min(line.indent for line in raw.body if not line.blank)
        text = "\n".join(line.text[indent:] for line in raw.body)
        line, column = raw.body[0].number, indent + 1
        try:
            template = Template(
                text,
                self.filename,
                registry=self.registry,
                limits=self.limits,
                line=line,
                column=column,
                source=self.source,
            )
        except BotlangError as err:
            self.add_error(shift_message_error(err, line, indent))
            return None, line, column, indent
        return template, line, column, indent

    def expression(self, text: str, line: int, column: int) -> Expression | None:
        try:
            node = parse_expression(
                text,
                self.filename,
                limits=self.limits,
                line=line,
                column=column,
                full_source=self.source,
            )
            return Expression(node, self.registry, self.source, self.filename)
        except BotlangError as err:
            self.add_error(err)
            return None

    # -- arrows ----------------------------------------------------------------------------

    def arrow(self, raw: RawArrow, order: int) -> Arrow | None:
        ok = True
        condition = None
        if raw.condition is not None:
            mode = MatchMode(raw.condition.mode)
            alternatives = tuple(text for text, _ in raw.condition.alternatives)
            columns = tuple(col for _, col in raw.condition.alternatives)
            patterns: tuple[Any, ...] = ()
            if mode is MatchMode.REGEX:
                compiled = []
                for text, col in raw.condition.alternatives:
                    try:
                        compiled.append(compile_regex(text, self.limits))
                    except BotlangError as err:
                        self.add(raw.condition.line, col, "error", err.message, "regex")
                        ok = False
                patterns = tuple(compiled)
            condition = TextCondition(
                mode, alternatives, raw.condition.line, raw.condition.column, columns, patterns
            )
        comparison = None
        if raw.comparison is not None:
            comparison = self.expression(
                raw.comparison.value, raw.comparison.line, raw.comparison.value_column
            )
            ok = ok and comparison is not None
        if raw.trigger is not None:
            trigger = Trigger(raw.trigger)
        else:
            trigger = Trigger.MESSAGE if condition is not None else Trigger.NOW
        if trigger is Trigger.NOW and condition is not None:
            self.add(
                raw.condition.line if raw.condition else raw.line,
                raw.condition.column if raw.condition else raw.column,
                "error",
                "an arrow 'on: now' fires without waiting for a message, so it cannot have a "
                "text condition (use 'if:' for a condition on variables)",
                "syntax",
            )
            ok = False
        if not ok:
            return None
        return Arrow(
            source=raw.source,
            target=raw.target,
            trigger=trigger,
            condition=condition,
            comparison=comparison,
            comparison_text=None if raw.comparison is None else raw.comparison.value,
            priority=raw.priority,
            line=raw.line,
            column=raw.column,
            order=order,
            target_column=raw.target_column,
        )

    def targets(self, arrows: list[Arrow], blocks: dict[str, Block]) -> None:
        for arrow in arrows:
            if arrow.target in blocks:
                continue
            close = difflib.get_close_matches(arrow.target, list(blocks), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.add(
                arrow.line,
                arrow.target_column,
                "error",
                f"arrow to a block that does not exist: '{arrow.target}'{hint}",
                "unknown-block",
            )

    def reachability(self, blocks: dict[str, Block], entry: str, starting: list[Arrow]) -> None:
        reached = {entry}
        todo = [entry]
        for arrow in starting:
            if arrow.target in blocks and arrow.target not in reached:
                reached.add(arrow.target)
                todo.append(arrow.target)
        while todo:
            block = blocks[todo.pop()]
            for arrow in block.arrows:
                if arrow.target in blocks and arrow.target not in reached:
                    reached.add(arrow.target)
                    todo.append(arrow.target)
        for block_id, block in blocks.items():
            if block_id not in reached:
                self.add(
                    block.line,
                    block.column,
                    "warning",
                    f"block '{block_id}' is unreachable: no arrow from the first block "
                    f"('{entry}') or from a starting arrow leads to it",
                    "unreachable",
                )

    def immediate_loops(self, blocks: dict[str, Block]) -> None:
        """Warn about arrows that fire at once, without a condition, in a circle."""
        step: dict[str, Arrow] = {}
        for block_id, block in blocks.items():
            for arrow in sorted(block.arrows, key=lambda a: (-a.priority, a.order)):
                if arrow.trigger is Trigger.NOW:
                    if arrow.comparison is None and arrow.target in blocks:
                        step[block_id] = arrow
                    break
        reported: set[str] = set()
        for start in step:
            path: list[str] = []
            at: str | None = start
            while at is not None and at in step and at not in path:
                path.append(at)
                at = step[at].target
            if at is None or at not in path or at in reported:
                continue
            loop = path[path.index(at) :]
            reported.update(loop)
            arrow = step[loop[-1]]
            names = " -> ".join([*loop, loop[0]])
            self.add(
                arrow.line,
                arrow.column,
                "warning",
                f"arrows without conditions go round in a loop ({names}); a client who "
                f"enters it stops after {self.limits.max_blocks_per_turn} blocks with an error",
                "loop",
            )


def shift_message_error(err: BotlangError, first_line: int, indent: int) -> BotlangError:
    """Put an error from a message's second or later line at its column in the file.

    Message text is compiled without its indentation; on the first line the starting
    column accounts for it, on later lines the removed indentation is added back here.
    """
    if indent and err.line > first_line and not getattr(err, "_flow_shifted", False):
        err.column += indent
        err._flow_shifted = True  # type: ignore[attr-defined]
    return err


def _analyse(
    source: str, filename: str, registry: Registry | None, limits: Limits
) -> tuple[Flow | None, list[Diagnostic]]:
    if len(source) > limits.max_flow_source_chars:
        too_long = Diagnostic(
            filename,
            1,
            1,
            "error",
            f"the flow file is {len(source):,} characters long; the limit is "
            f"{limits.max_flow_source_chars:,}",
            "limit",
        )
        return None, [too_long]
    raw = read_flow(source, filename)
    loader = _Loader(raw, registry or default_registry(), limits)
    flow = loader.load()
    return flow, loader.diagnostics


def parse_flow(
    source: str,
    filename: str = "<flow>",
    *,
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Flow:
    """Compile the text of a ``.bot`` file; raises :class:`FlowError` listing every error."""
    flow, diagnostics = _analyse(source, filename, registry, limits)
    if flow is None:
        raise FlowError(diagnostics, source.removeprefix("\ufeff"), filename)
    return flow


def load_flow(
    path: str | os.PathLike[str],
    *,
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Flow:
    """Read and compile a ``.bot`` file; raises :class:`FlowError` (or OSError)."""
    return parse_flow(
        Path(path).read_text(encoding="utf-8"), str(path), registry=registry, limits=limits
    )


def check_flow_source(
    source: str,
    filename: str = "<flow>",
    *,
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Every error and warning in the text of a ``.bot`` file, sorted by position."""
    return _analyse(source, filename, registry, limits)[1]


def check_flow_file(
    path: str | os.PathLike[str],
    *,
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Diagnostic]:
    """Every error and warning in a ``.bot`` file (for ``botlang check``), sorted by position.

    A file that cannot be read gives one error diagnostic rather than an exception.
    """
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return [Diagnostic(str(path), 1, 1, "error", f"cannot read: {reason}", "io")]
    return check_flow_source(source, str(path), registry=registry, limits=limits)
