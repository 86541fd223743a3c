"""Loading a ``.bot`` file: structure, then every calculator, message, button and condition
compiled with positions in the file, then the checks across blocks (unknown targets,
duplicate ids, unreachable blocks, immediate-arrow loops).

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
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from botlang.core.builtins import Registry
from botlang.core.compiler import Expression, Program, Template, default_registry
from botlang.core.errors import BotlangError, ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.scopes import SCOPE_WORDS, WRITABLE_SYSTEM_VARIABLES
from botlang.core.syntax import ast
from botlang.core.syntax.parser import parse_expression, parse_program
from botlang.flow.analysis import immediate_loops, reachable_blocks
from botlang.flow.matching import compile_keywords, compile_regex
from botlang.flow.model import (
    FLOW_READ_ONLY_VARIABLES,
    FLOW_SYSTEM_VARIABLES,
    Arrow,
    Block,
    BlockKind,
    Button,
    ButtonAction,
    Delay,
    Flow,
    MatchMode,
    TextCondition,
    Tier,
    Trigger,
)
from botlang.flow.reader import (
    RawArrow,
    RawBlock,
    RawButton,
    RawCondition,
    RawField,
    RawFlow,
    RawSetting,
    parse_delay,
    parse_flag,
    read_flow,
)
from botlang.flow.text import MessageText, shift_message_error
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
        self.order = 0
        self.keys: dict[str, int] = {}
        self.raw_settings: dict[str, dict[str, RawSetting]] = {}  # by arrow key

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
        self.order = 0
        self.keys: dict[str, int] = {}
        quick: list[Arrow] = []
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
                arrow = self.arrow(raw_arrow)
                if arrow is not None:
                    arrows.append(arrow)
            condition = None
            if raw_block.condition is not None:
                condition = self.arrow(raw_block.condition)
                if condition is not None:
                    quick.append(condition)
            blocks[raw_block.id] = self.block(raw_block, tuple(arrows), condition)
            first_line[raw_block.id] = raw_block.line
        starting = []
        for raw_arrow in self.raw.starting_arrows:
            arrow = self.arrow(raw_arrow)
            if arrow is not None:
                starting.append(arrow)
        if not self.raw.blocks and not self.raw.problems:
            self.add(1, 1, "error", "the flow has no blocks; add one with 'block ID'", "syntax")
        all_arrows = [a for b in blocks.values() for a in b.arrows] + starting
        self.targets(all_arrows, blocks)
        if blocks:
            self.reachability(blocks, starting)
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
            quick_arrows=tuple(quick),
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

    def block(self, raw: RawBlock, arrows: tuple[Arrow, ...], condition: Arrow | None) -> Block:
        kind = BlockKind(raw.kind)
        calculator = None
        if "calculator" in raw.fields:
            calculator = self.calculator(raw.fields["calculator"])
        message = None
        line = column = indent = 0
        if "message" in raw.fields:
            message, line, column, indent = self.message(raw.fields["message"])
        hint = None
        if "hint" in raw.fields:
            hint = self.message(raw.fields["hint"])[0]
        keyboard = raw.settings["keyboard"].value if "keyboard" in raw.settings else "auto"
        show_arrows = True
        if "arrow_buttons" in raw.settings:
            show_arrows = bool(parse_flag(raw.settings["arrow_buttons"].value))
        buttons = [b for b in (self.button(rb) for rb in raw.buttons) if b is not None]
        if "buttons" in raw.fields:
            buttons.extend(self.button_code(raw.fields["buttons"]))
        if show_arrows:
            buttons.extend(b for b in (self.arrow_button(a) for a in arrows) if b is not None)
        keyboard = self.keyboard(raw, keyboard, buttons)
        rows = self.layout(buttons, keyboard)
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
            kind=kind,
            rows=rows,
            keyboard=keyboard,
            hint=hint,
            condition=condition,
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
        found.extend(check_program_tree(tree, self.registry, read_only=FLOW_READ_ONLY_VARIABLES))
        self.adopt(found)
        if any(d.severity == "error" for d in found):
            return None
        try:
            return Program(tree, self.registry, self.limits)
        except BotlangError as err:
            self.add_error(err)
            return None

    def message(self, raw: RawField) -> tuple[MessageText | None, int, int, int]:
        if not raw.body:
            return None, raw.line, raw.column, 0
        indent = min(line.indent for line in raw.body if not line.blank)
        text = "\n".join(line.text[indent:] for line in raw.body)
        line, column = raw.body[0].number, indent + 1
        try:
            message = MessageText(
                text,
                self.filename,
                registry=self.registry,
                limits=self.limits,
                line=line,
                column=column,
                indent=indent,
                source=self.source,
            )
        except BotlangError as err:
            self.add_error(shift_message_error(err, line, indent))
            return None, line, column, indent
        return message, line, column, indent

    def template(self, text: str, line: int, column: int) -> Template | None:
        try:
            return Template(
                text,
                self.filename,
                registry=self.registry,
                limits=self.limits,
                line=line,
                column=column,
                source=self.source,
            )
        except BotlangError as err:
            self.add_error(err)
            return None

    def expression(self, text: str, line: int, column: int) -> Expression | None:
        found = self.parsed_expression(text, line, column)
        return None if found is None else found[0]

    def parsed_expression(
        self, text: str, line: int, column: int
    ) -> tuple[Expression, ast.Node] | None:
        try:
            node = parse_expression(
                text,
                self.filename,
                limits=self.limits,
                line=line,
                column=column,
                full_source=self.source,
            )
            return Expression(node, self.registry, self.source, self.filename), node
        except BotlangError as err:
            self.add_error(err)
            return None

    # -- buttons ---------------------------------------------------------------------------

    def label(self, text: str, line: int, column: int) -> Template | None:
        """A button's label, checked against Salebot's limits when it is fixed text."""
        if "#{" not in text:
            if not text.strip():
                self.add(line, column, "error", "a button needs a label", "button")
                return None
            if '"' in text:
                at = column + text.index('"')
                self.add(line, at, "error", "a button label cannot hold '\"'", "button")
                return None
            limit = self.limits.max_button_label_chars
            if len(text) > limit:
                self.add(
                    line,
                    column,
                    "error",
                    f"the button label is {len(text)} characters long; the limit is {limit} "
                    f"(Telegram's)",
                    "button-label",
                )
                return None
        return self.template(text, line, column)

    def button(self, raw: RawButton) -> Button | None:
        settings = raw.settings
        label = self.label(raw.label, raw.line, raw.column)
        values = {key: setting.value for key, setting in settings.items()}
        numbers: dict[str, int | None] = {}
        for key in ("line", "position"):
            numbers[key] = None
            if key in settings:
                if not re.fullmatch(r"\d{1,3}", values[key]):
                    where = settings[key]
                    self.add(
                        where.line,
                        where.value_column,
                        "error",
                        f"'{key}:' is a whole number from 0, found '{values[key]}'",
                        "button",
                    )
                    return None
                numbers[key] = int(values[key])
        url = None
        if "url" in settings:
            where = settings["url"]
            url = self.template(values["url"], where.line, where.value_column)
        built = self.button_parts(
            values.get("type"),
            url,
            values.get("callback"),
            settings.get("type") or settings.get("url") or settings.get("callback"),
            raw,
        )
        if label is None or built is None:
            return None
        action, inline = built
        return Button(
            label=label,
            action=action,
            line=raw.line,
            column=raw.column,
            url=url,
            callback=values.get("callback"),
            color=values.get("color"),
            inline=inline,
            row=numbers["line"],
            position=numbers["position"],
        )

    def button_parts(
        self,
        kind: str | None,
        url: Template | None,
        callback: str | None,
        where: RawSetting | None,
        raw: RawButton | None,
        at: tuple[int, int] | None = None,
    ) -> tuple[ButtonAction, bool | None] | None:
        """The action and placement of a button from its type, url and callback text."""
        line, column = at or ((where.line, where.value_column) if where else (0, 0))
        if raw is not None and where is None:
            line, column = raw.line, raw.column

        def problem(message: str) -> None:
            self.add(line, column, "error", message, "button")

        kinds = ("reply", "inline", "phone", "location", "web_app")
        if kind is not None and kind not in kinds:
            close = difflib.get_close_matches(kind, kinds, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problem(f"a button's type is reply, inline, phone, location or web_app{hint}")
            return None
        if callback is not None:
            size = len(callback.encode("utf-8"))
            limit = self.limits.max_button_callback_bytes
            if size > limit:
                problem(f"the callback text is {size} bytes long; the limit is {limit}")
                return None
        inline = {"reply": False, "inline": True}.get(kind or "")
        if kind in ("phone", "location"):
            if url is not None or callback is not None:
                problem(f"a {kind} button asks for the client's {kind}; it has no url or callback")
                return None
            return ButtonAction(kind), False
        if kind == "web_app":
            if url is None:
                problem("a web_app button needs its 'url:'")
                return None
            return ButtonAction.WEB_APP, True
        if url is not None and callback is not None:
            problem("a button either opens a url or sends a callback, not both")
            return None
        if url is not None:
            return ButtonAction.URL, inline
        if callback is not None:
            return ButtonAction.CALLBACK, inline
        return ButtonAction.MESSAGE, inline

    def button_code(self, raw: RawField) -> list[Button]:
        """Salebot's "код кнопок": a JSON list of buttons."""
        text = "\n".join(line.text for line in raw.body)
        numbers = [line.number for line in raw.body]

        def where(offset: int) -> tuple[int, int]:
            before = text[:offset]
            index = before.count("\n")
            return numbers[min(index, len(numbers) - 1)], offset - (before.rfind("\n") + 1) + 1

        def problem(offset: int, message: str) -> None:
            line, column = where(offset)
            self.add(line, column, "error", message, "button")

        decoder = json.JSONDecoder()
        start = len(text) - len(text.lstrip())
        try:
            data, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            problem(exc.pos, f"the button code is not valid JSON: {exc.msg}")
            return []
        if not isinstance(data, list):
            problem(start, 'the button code is a JSON list of buttons: [{"text": ...}, ...]')
            return []
        # Where each element starts, for errors that point at it.
        offsets: list[int] = []
        index = start + 1
        for _ in data:
            while index < len(text) and (text[index].isspace() or text[index] == ","):
                index += 1
            offsets.append(index)
            try:
                index = decoder.raw_decode(text, index)[1]
            except json.JSONDecodeError:
                break
        found: list[Button] = []
        known = ("text", "type", "url", "color", "line", "index_in_line", "one_time", "callback")
        for number, item in enumerate(data):
            offset = offsets[number] if number < len(offsets) else start
            if not isinstance(item, dict):
                problem(offset, 'each button is a JSON object such as {"text": "Да"}')
                continue
            if "buttons" in item:
                problem(
                    offset,
                    "removing a stuck keyboard ('buttons': []) is not supported; a block "
                    "without buttons shows none",
                )
                continue
            unknown = [key for key in item if key not in known]
            if unknown:
                close = difflib.get_close_matches(str(unknown[0]), known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problem(offset, f"unknown button key '{unknown[0]}'{hint}")
                continue
            label_text = item.get("text")
            if not isinstance(label_text, str):
                problem(offset, 'a button needs "text", its label')
                continue
            layout: dict[str, int | None] = {}
            bad = False
            for key in ("line", "index_in_line"):
                value = item.get(key)
                if value is not None and (
                    not isinstance(value, int) or isinstance(value, bool) or value < 0
                ):
                    problem(offset, f'"{key}" is a whole number from 0')
                    bad = True
                layout[key] = value if isinstance(value, int) else None
            strings = {key: item.get(key) for key in ("type", "url", "color", "callback")}
            for key, value in strings.items():
                if value is not None and not isinstance(value, str):
                    problem(offset, f'"{key}" is a text')
                    bad = True
            if bad:
                continue
            line, column = where(offset)
            label = self.label(label_text, line, column)
            url = None if strings["url"] is None else self.template(strings["url"], line, column)
            built = self.button_parts(
                strings["type"], url, strings["callback"], None, None, at=(line, column)
            )
            if label is None or built is None:
                continue
            action, inline = built
            found.append(
                Button(
                    label=label,
                    action=action,
                    line=line,
                    column=column,
                    url=url,
                    callback=strings["callback"],
                    color=strings["color"],
                    inline=inline,
                    row=layout["line"],
                    position=layout["index_in_line"],
                )
            )
        return found

    def arrow_button(self, arrow: Arrow) -> Button | None:
        """An arrow shown as a button: its condition's first alternative is the label."""
        if not arrow.button:
            return None
        condition = arrow.condition
        if condition is None or condition.mode not in (
            MatchMode.EXACT,
            MatchMode.CONTAINS,
            MatchMode.FUZZY,
        ):
            self.add(
                arrow.line,
                arrow.column,
                "error",
                "an arrow shown as a button needs an exact:, contains: or fuzzy: condition; "
                "its first alternative is the button's label",
                "button",
            )
            return None
        label = self.label(condition.alternatives[0], condition.line, condition.columns[0])
        if label is None:
            return None
        raw = self.raw_settings.get(arrow.key, {})
        layout = {key: int(raw[key].value) if key in raw else None for key in ("line", "position")}
        return Button(
            label=label,
            action=ButtonAction.MESSAGE,
            line=arrow.line,
            column=arrow.column,
            inline=False,
            row=layout["line"],
            position=layout["position"],
            arrow=arrow,
        )

    def keyboard(self, raw: RawBlock, keyboard: str, buttons: list[Button]) -> str:
        """The block's keyboard kind; an error where inline and reply buttons are mixed
        (Salebot cannot send both with one message)."""
        inline = [b for b in buttons if b.inline is True]
        reply = [b for b in buttons if b.inline is False]
        if keyboard == "inline" and reply:
            first = reply[0]
            what = "an arrow shown as a button" if first.arrow else f"a {first.action} button"
            self.add(
                first.line,
                first.column,
                "error",
                f"{what} is a keyboard (reply) button, and this block's keyboard is inline; "
                "a message cannot mix them",
                "button",
            )
        elif keyboard == "reply" and inline:
            self.add(
                inline[0].line,
                inline[0].column,
                "error",
                "an inline button in a block whose keyboard is reply; a message cannot mix them",
                "button",
            )
        elif inline and reply:
            later = max(inline[0], reply[0], key=lambda b: (b.line, b.column))
            self.add(
                later.line,
                later.column,
                "error",
                "this block mixes inline buttons and keyboard (reply) buttons (arrows shown as "
                "buttons, phone and location buttons are reply buttons); a message cannot mix "
                "them",
                "button",
            )
        if keyboard != "auto" or not buttons:
            return keyboard
        return "inline" if inline else "reply" if reply else "auto"

    def layout(self, buttons: list[Button], keyboard: str) -> tuple[tuple[Button, ...], ...]:
        """Rows: buttons with a line number on that row (by position), then one row for each
        button without one, in order (Salebot: vertical by default)."""
        numbered: dict[int, list[tuple[int, int, Button]]] = {}
        loose: list[tuple[Button, ...]] = []
        for index, button in enumerate(buttons):
            if button.row is None:
                loose.append((button,))
                continue
            position = button.position if button.position is not None else 1_000
            numbered.setdefault(button.row, []).append((position, index, button))
        rows = [tuple(b for _, _, b in sorted(numbered[row])) for row in sorted(numbered)]
        rows.extend(loose)
        limit = (
            self.limits.max_inline_buttons_per_row
            if keyboard == "inline"
            else self.limits.max_reply_buttons_per_row
        )
        for row in rows:
            if len(row) > limit:
                extra = row[limit]
                self.add(
                    extra.line,
                    extra.column,
                    "error",
                    f"more than {limit} buttons on one row ({len(row)}); that is the limit for "
                    f"{'inline' if keyboard == 'inline' else 'keyboard'} buttons",
                    "button",
                )
        return tuple(rows)

    # -- arrows ----------------------------------------------------------------------------

    def text_condition(self, raw: RawCondition, mode: MatchMode) -> TextCondition | None:
        alternatives = tuple(text for text, _ in raw.alternatives)
        columns = tuple(col for _, col in raw.alternatives)
        patterns: list[Any] = []
        ok = True
        for text, col in raw.alternatives:
            try:
                if mode is MatchMode.REGEX:
                    patterns.append(compile_regex(text, self.limits))
                elif mode is MatchMode.CONTAINS:
                    patterns.append(compile_keywords(text))
            except ParseError as err:
                if mode is MatchMode.CONTAINS:
                    self.add(raw.line, col + err.column - 1, "error", err.message, "keywords")
                else:
                    self.add(raw.line, col, "error", err.message, "regex")
                ok = False
            except BotlangError as err:
                self.add(raw.line, col, "error", err.message, "regex")
                ok = False
        if not ok:
            return None
        return TextCondition(mode, alternatives, raw.line, raw.column, columns, tuple(patterns))

    def arrow(self, raw: RawArrow) -> Arrow | None:
        ok = True
        tier = {"block": Tier.BLOCK, "start": Tier.START, "quick": Tier.QUICK}[raw.tier]
        condition = None
        if raw.condition is not None:
            condition = self.text_condition(raw.condition, MatchMode(raw.condition.mode))
            ok = condition is not None
        minus = None
        if raw.minus is not None:
            mode = MatchMode(raw.condition.mode) if raw.condition else MatchMode.CONTAINS
            minus = self.text_condition(raw.minus, mode)
            ok = ok and minus is not None
        comparison = None
        compare_variable = None
        if raw.comparison is not None:
            parsed = self.parsed_expression(
                raw.comparison.value, raw.comparison.line, raw.comparison.value_column
            )
            ok = ok and parsed is not None
            if parsed is not None:
                comparison, node = parsed
                if raw.condition is not None and isinstance(node, ast.Name):
                    compare_variable = node.name
        delay = self.delay(raw)
        ok = ok and delay is not False
        save = self.save(raw, delay)
        ok = ok and save is not False
        for key in ("line", "position"):
            setting = raw.setting(key)
            if setting is not None and not raw.button:
                self.add(
                    setting.line,
                    setting.column,
                    "error",
                    f"'{key}:' places the button of an arrow shown as a button; add 'button: yes'",
                    "button",
                )
                ok = False
        if not ok:
            return None
        trigger = Trigger(raw.trigger) if raw.trigger is not None else Trigger.MESSAGE
        key = f"{raw.tier}:{raw.source or ''}->{raw.target}"
        self.keys[key] = self.keys.get(key, 0) + 1
        save_scope, save_name = save if isinstance(save, tuple) else (None, None)
        arrow = Arrow(
            source=raw.source,
            target=raw.target,
            trigger=trigger,
            condition=condition,
            comparison=comparison,
            comparison_text=None if raw.comparison is None else raw.comparison.value,
            priority=raw.priority,
            line=raw.line,
            column=raw.column,
            order=self.order,
            target_column=raw.target_column,
            tier=tier,
            compare_variable=compare_variable,
            minus=minus,
            delay=delay if isinstance(delay, Delay) else None,
            once=raw.once,
            new_client=raw.new_client,
            save_scope=save_scope,
            save_name=save_name,
            button=raw.button,
            key=f"{key}#{self.keys[key]}",
        )
        self.order += 1
        self.raw_settings[arrow.key] = raw.settings
        return arrow

    def delay(self, raw: RawArrow) -> Delay | bool | None:
        """The arrow's delay, None without one, False after reporting a problem."""
        setting = raw.setting("delay")
        if setting is None:
            return None
        parsed = parse_delay(setting.value)
        assert not isinstance(parsed, str)  # the reader checked it
        amount, unit = parsed
        if amount:
            self.add(
                setting.line,
                setting.value_column,
                "error",
                "timer arrows (a delay above 0) are not supported yet; 'delay: 0' takes the "
                "arrow at once",
                "timer",
            )
            return False
        return Delay(amount, unit)

    def save(self, raw: RawArrow, delay: Delay | bool | None) -> tuple[str, str] | bool | None:
        """Where a data-entry arrow stores the message: (scope, name); False on a problem."""
        setting = raw.setting("save")
        if setting is None:
            return None
        if delay is not None:
            where = raw.setting("delay")
            assert where is not None
            self.add(
                where.line,
                where.column,
                "error",
                "a data-entry arrow ('save:') takes the client's answer, so it cannot have a "
                "delay (Salebot: «Пользователь вводит данные» works without a timer)",
                "data-entry",
            )
            return False
        match = re.fullmatch(r"(?:([^\W\d]\w*)\.)?([^\W\d]\w*)", setting.value)
        if match is None:
            self.add(
                setting.line,
                setting.value_column,
                "error",
                f"'save:' takes one variable name (optionally client. or project.), found "
                f"'{setting.value}'",
                "data-entry",
            )
            return False
        prefix, name = match.groups()
        scope = "deal"
        if prefix is not None:
            if prefix not in SCOPE_WORDS:
                self.add(
                    setting.line,
                    setting.value_column,
                    "error",
                    f"unknown scope '{prefix}'; use client. or project. (or nothing for the deal)",
                    "data-entry",
                )
                return False
            scope = SCOPE_WORDS[prefix]
        if name in FLOW_SYSTEM_VARIABLES and name not in WRITABLE_SYSTEM_VARIABLES:
            self.add(
                setting.line,
                setting.value_column + (len(prefix) + 1 if prefix else 0),
                "error",
                f"'{name}' is a system variable and is read-only",
                "read-only",
            )
            return False
        return scope, name

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

    def reachability(self, blocks: dict[str, Block], starting: list[Arrow]) -> None:
        """Warn about blocks no conversation can reach: a conversation starts at a start
        condition or a quick answer, and goes on along arrows."""
        reached = reachable_blocks(blocks, starting)
        if reached is None:
            return  # nothing starts a conversation: the flow lint says so once
        for block_id, block in blocks.items():
            if block_id not in reached:
                self.add(
                    block.line,
                    block.column,
                    "warning",
                    f"block '{block_id}' is unreachable: no start condition ('any ->'), quick "
                    f"answer or arrow from those leads to it",
                    "unreachable",
                )

    def immediate_loops(self, blocks: dict[str, Block]) -> None:
        """Warn about arrows taken at once, without a condition, in a circle."""
        for loop in immediate_loops(blocks):
            arrow = loop[-1]
            names = " -> ".join([*(a.source or "" for a in loop), loop[0].source or ""])
            self.add(
                arrow.line,
                arrow.column,
                "warning",
                f"arrows taken at once without conditions go round in a loop ({names}); a "
                f"client who enters it stops after {self.limits.max_blocks_per_turn} blocks "
                "with an error",
                "loop",
            )


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
