"""Checks across the blocks of a flow that loads (``botlang check FILE.bot``), as warnings.

- ``call-loop``: a block that places a call can be re-entered with no message and no
  ``if:`` in between, so a failing call is followed by another, and another;
- ``unset-variable``: a variable read but never set anywhere in the flow;
- ``any-always``: a start condition without a condition: it fires on every message in
  every block, before the block's own arrows;
- ``shadowed``: an arrow that can never fire because an earlier one in Salebot's order
  always fires for the messages it matches;
- ``nostate-arrow``: an arrow of a «Не состояние» block (or a quick answer) that waits for
  a message: the client is never in that block, so it never fires;
- ``dead-button``: a button whose press no arrow, start condition or quick answer takes;
- flows written for botlang's first semantics, where an arrow without a text condition was
  taken at once and a new client entered the first block: ``silent-wait`` (a block that
  says nothing waits for a message), ``waits-for-message`` (an ``if:`` about variables is
  now checked on the next message), ``new-client`` (no start condition takes a new
  client's first message). Each names the line and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from botlang.core.errors import BotlangError
from botlang.core.syntax import ast
from botlang.core.syntax.parser import parse_expression
from botlang.core.syntax.template import parse_template
from botlang.flow.matching import Keywords, condition_matches
from botlang.flow.model import (
    FLOW_SYSTEM_VARIABLES,
    Arrow,
    Block,
    BlockKind,
    ButtonAction,
    Flow,
    MatchMode,
    Tier,
    Trigger,
)
from botlang.tools.checker import Diagnostic

CALL_FUNCTIONS = ("mango_group_call", "mango_employee_call")
# Set by the runtime for every block, besides the flow's system variables.
RUNTIME_VARIABLES = frozenset(FLOW_SYSTEM_VARIABLES) | {"none"}  # `#{none}`: say nothing
LOCATION_VARIABLES = ("latitude", "longitude")


def lint_flow(flow: Flow) -> list[Diagnostic]:
    """Every flow-wide warning of a flow that loads."""
    pieces = list(_flow_pieces(flow))
    return [
        *_call_loops(flow, pieces),
        *_unset_variables(flow, pieces),
        *_start_conditions(flow),
        *_shadowed(flow),
        *_not_state_arrows(flow),
        *_dead_buttons(flow),
        *_old_defaults(flow),
    ]


def _line_of(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _diagnostic(flow: Flow, line: int, column: int, message: str, code: str) -> Diagnostic:
    return Diagnostic(
        flow.filename, line, column, "warning", message, code, _line_of(flow.source, line)
    )


# -- the flow's expressions --------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A parsed expression or statement of a flow, and the block it belongs to."""

    block: str | None
    node: ast.Node


def _template_pieces(
    flow: Flow, block: str, text: str, line: int, column: int, indent: int
) -> Iterator[_Piece]:
    try:
        parts = parse_template(text, flow.filename, line=line, column=column, source=flow.source)
    except BotlangError:
        return
    stack: list[ast.TemplatePart] = list(parts)
    while stack:
        part = stack.pop()
        if isinstance(part, ast.TemplateExpr):
            node = part.expr
            if node.line > line and indent:
                _shift_columns(node, line, indent)
            yield _Piece(block, node)
        elif isinstance(part, ast.TemplateNested):
            stack.extend(part.parts)


def _flow_pieces(flow: Flow) -> Iterator[_Piece]:
    """Every statement, message, hint and label expression and arrow condition, as AST."""
    for block in flow.blocks.values():
        if block.calculator is not None:
            for statement in block.calculator.tree.statements:
                yield _Piece(block.id, statement)
        if block.message is not None:
            yield from _template_pieces(
                flow,
                block.id,
                block.message.text,
                block.message_line,
                block.message_column,
                block.message_indent,
            )
        if block.hint is not None:
            hint = block.hint
            yield from _template_pieces(
                flow, block.id, hint.text, hint.line, hint.column, hint.indent
            )
        for button in block.buttons:
            if button.arrow is None and "#{" in button.label_text:
                yield from _template_pieces(
                    flow, block.id, button.label_text, button.line, button.column, 0
                )
    lines = flow.source.splitlines()
    for arrow in flow.arrows():
        if arrow.comparison_text is None:
            continue
        line, column = _setting_position(lines, arrow.line, "if", arrow.comparison_text)
        try:
            node = parse_expression(
                arrow.comparison_text,
                flow.filename,
                line=line,
                column=column,
                full_source=flow.source,
            )
        except BotlangError:
            continue
        yield _Piece(arrow.source, node)


def _shift_columns(node: ast.Node, first_line: int, indent: int) -> None:
    for sub in ast.walk(node):
        if hasattr(sub, "line") and sub.line > first_line:
            sub.column += indent


def _setting_lines(lines: list[str], after: int) -> Iterator[tuple[int, str]]:
    """The lines of an arrow's settings (indented deeper than its header line)."""
    header = lines[after - 1] if 1 <= after <= len(lines) else ""
    depth = len(header) - len(header.lstrip())
    for number in range(after + 1, len(lines) + 1):
        text = lines[number - 1]
        stripped = text.lstrip()
        if not stripped or stripped.startswith("//"):
            continue
        if len(text) - len(stripped) <= depth:
            return
        yield number, text


def _setting_position(lines: list[str], after: int, key: str, value: str) -> tuple[int, int]:
    """Where an arrow setting's value starts (the lines under the arrow's header)."""
    for number, text in _setting_lines(lines, after):
        stripped = text.lstrip()
        if stripped.startswith(f"{key}:") or stripped.startswith(f"{key} :"):
            at = text.find(value, len(text) - len(stripped))
            if at >= 0:
                return number, at + 1
    return after, 1


def _has_setting(flow: Flow, arrow: Arrow, key: str) -> bool:
    lines = flow.source.splitlines()
    return any(
        text.lstrip().startswith((f"{key}:", f"{key} :"))
        for _, text in _setting_lines(lines, arrow.line)
    )


# -- calls and variables ----------------------------------------------------------------------


def _unguarded_calls(node: ast.Node) -> Iterator[ast.Call]:
    """Calls of the telephony functions that are not inside a branch of ``if(...)``."""
    stack: list[ast.Node | None] = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if isinstance(current, ast.IfCall):
            stack.append(current.condition)  # the branches are guarded by the condition
            continue
        if isinstance(current, ast.Call) and current.name in CALL_FUNCTIONS:
            yield current
        if isinstance(current, ast.Index):
            stack.extend((current.target, current.key))
        elif isinstance(current, ast.Call):
            stack.extend(current.args)
        elif isinstance(current, ast.Assign):
            stack.append(current.value)
        elif isinstance(current, ast.ExprStatement):
            stack.append(current.expr)
        elif isinstance(current, (ast.Binary, ast.Logical)):
            stack.extend((current.left, current.right))
        elif isinstance(current, ast.Unary):
            stack.append(current.operand)
        elif isinstance(current, ast.Compare):
            stack.append(current.first)
            stack.extend(operand for _, operand, _, _ in current.rest)
        elif isinstance(current, ast.ListDisplay):
            stack.extend(current.items)
        elif isinstance(current, ast.DictDisplay):
            for key, value in current.pairs:
                stack.extend((key, value))


def _call_loops(flow: Flow, pieces: list[_Piece]) -> list[Diagnostic]:
    """Warn when a block that places a call can be re-entered with no message and no
    ``if:`` in between: through arrows taken at once or on a callback (busy, no_answer,
    ...), a failing call would be followed by another, and another."""
    calling: dict[str, ast.Call] = {}
    for piece in pieces:
        if piece.block is None or piece.block in calling:
            continue
        for call in _unguarded_calls(piece.node):
            calling[piece.block] = call
            break
    edges: dict[str, list[tuple[str, Arrow]]] = {b: [] for b in flow.blocks}
    for arrow in flow.arrows():
        automatic = arrow.immediate or arrow.trigger is Trigger.CALLBACK
        if not automatic or arrow.comparison is not None:
            continue
        if arrow.target not in flow.blocks:
            continue
        sources = [arrow.source] if arrow.source is not None else list(flow.blocks)
        for source in sources:
            edges[source].append((arrow.target, arrow))
    found = []
    for block_id, call in calling.items():
        parent: dict[str, tuple[str, Arrow]] = {}
        todo = [block_id]
        closing = None
        while todo and closing is None:
            at = todo.pop(0)
            for target, arrow in edges[at]:
                if target == block_id:
                    closing = (at, arrow)
                    break
                if target not in parent:
                    parent[target] = (at, arrow)
                    todo.append(target)
        if closing is None:
            continue
        at, arrow = closing
        path_arrows = [arrow]
        route = [at]
        while at != block_id:
            at, previous = parent[at]
            path_arrows.append(previous)
            route.append(at)
        shown = " -> ".join([*reversed(route), block_id])
        last = path_arrows[0]
        by_callback = any(a.trigger is Trigger.CALLBACK for a in path_arrows)
        why = (
            "a callback arrow (a call's result such as busy or no_answer) leads back to it"
            if by_callback
            else "arrows taken at once lead back to it"
        )
        found.append(
            _diagnostic(
                flow,
                last.line,
                last.column,
                f"block '{block_id}' calls {call.name}() and {why} without an 'if:' guard "
                f"({shown}): a failed call is followed by another, over and over; add a "
                f"condition such as 'if: attempts < 3', or end the loop",
                "call-loop",
            )
        )
    return found


def _unset_variables(flow: Flow, pieces: list[_Piece]) -> list[Diagnostic]:
    """Warn once for each variable that is read but never assigned anywhere in the flow."""
    from botlang.core.builtins import load_stdlib
    from botlang.telephony import CALL_VARIABLES

    assigned = set(RUNTIME_VARIABLES) | set(CALL_VARIABLES) | set(flow.constants)
    assigned |= set(load_stdlib().constants)  # E, PI
    assigned.update(a.save_name for a in flow.arrows() if a.save_name is not None)
    if any(b.action is ButtonAction.LOCATION for blk in flow.blocks.values() for b in blk.buttons):
        assigned.update(LOCATION_VARIABLES)
    first_read: dict[str, ast.Name] = {}
    for piece in pieces:
        for node in ast.walk(piece.node):
            if isinstance(node, (ast.Assign, ast.Delete)):
                assigned.add(node.target.name)
            elif (
                isinstance(node, ast.Call) and node.name == "set_client_var" and len(node.args) > 1
            ):
                name = node.args[1]
                if isinstance(name, ast.Literal) and isinstance(name.value, str):
                    assigned.add(name.value)
            elif isinstance(node, ast.Name):
                known = first_read.get(node.name)
                if known is None or (node.line, node.column) < (known.line, known.column):
                    first_read[node.name] = node
    found = []
    for name, node in first_read.items():
        if name in assigned:
            continue
        found.append(
            _diagnostic(
                flow,
                node.line,
                node.column,
                f"'{name}' is read but never set in this flow (no assignment, constant or "
                "'save:'); it reads as None unless an event or the API sets it",
                "unset-variable",
            )
        )
    return found


# -- the order arrows are tried in ------------------------------------------------------------


def _always(arrow: Arrow) -> bool:
    """Whether the arrow fires on every message (or callback) it is tried on."""
    return (
        arrow.condition is None
        and arrow.comparison is None
        and arrow.minus is None
        and not arrow.once
        and not arrow.new_client
    )


def _start_conditions(flow: Flow) -> list[Diagnostic]:
    found = []
    for arrow in flow.starting_arrows:
        if not _always(arrow):
            continue
        what = "callback" if arrow.trigger is Trigger.CALLBACK else "message"
        found.append(
            _diagnostic(
                flow,
                arrow.line,
                arrow.column,
                f"a start condition without a condition fires on every {what} in every "
                "block, before the block's own arrows (start conditions come first, as in "
                "Salebot), so no question can be answered; give it a condition, add "
                "'new_client: yes' to take only the messages of a client in no block yet, "
                f"or make the answer a quick answer ('quick {arrow.target}', tried after the "
                "block's arrows)",
                "any-always",
            )
        )
    return found


def _plain_terms(keywords: Keywords) -> list[str] | None:
    if all(isinstance(term, str) for term in keywords.terms):
        return [str(term) for term in keywords.terms]
    return None


def _covers(first: Arrow, later: Arrow) -> bool:
    """Whether ``first`` fires on every message on which ``later``'s text condition holds
    (so ``later``, tried after it, never fires)."""
    if first.trigger is not later.trigger:
        return False
    if first.comparison is not None or first.minus is not None or first.once:
        return False
    if first.new_client and not later.new_client:
        return False
    if first.condition is None:
        return True
    a, b = first.condition, later.condition
    if b is None or later.compare_variable is not None:
        return False
    if b.mode is MatchMode.EXACT and a.mode is not MatchMode.REGEX:
        return all(condition_matches(a, alternative) for alternative in b.alternatives)
    if b.mode is MatchMode.CONTAINS and a.mode is MatchMode.CONTAINS:
        # Each keyword of an alternative of ``first`` is inside a keyword of ``later``.
        for keywords in b.patterns:
            later_terms = _plain_terms(keywords)
            if later_terms is None:
                return False
            if not any(
                (terms := _plain_terms(option)) is not None
                and all(any(t in u for u in later_terms) for t in terms)
                for option in a.patterns
            ):
                return False
        return True
    return False


def _shadowed(flow: Flow) -> list[Diagnostic]:
    reported: set[str] = set()
    found = []
    places: list[str | None] = [None, *(b.id for b in flow.blocks.values() if b.is_state)]
    for place in places:
        for trigger in Trigger:
            candidates = flow.candidates(place, trigger)
            for index, later in enumerate(candidates):
                if later.key in reported:
                    continue
                for first in candidates[:index]:
                    if first.tier is Tier.START and _always(first):
                        continue  # reported once as 'any-always'
                    local = first.tier is Tier.BLOCK or later.tier is Tier.BLOCK
                    if later.tier is not Tier.BLOCK and local:
                        continue  # a quick answer can still fire in another block
                    if not _covers(first, later):
                        continue
                    reported.add(later.key)
                    found.append(_shadow_warning(flow, first, later))
                    break
    return found


def _shadow_warning(flow: Flow, first: Arrow, later: Arrow) -> Diagnostic:
    if first.tier is Tier.START and later.tier is not Tier.START:
        why = (
            "start conditions are tried before a block's own arrows, whatever the priority "
            "(before, a block's own arrow of higher or equal priority came first)"
        )
    elif first.condition is None:
        why = "it takes any message, and it comes first by priority or file order"
    else:
        why = "it comes first by priority or file order and matches all these messages too"
    return _diagnostic(
        flow,
        later.line,
        later.column,
        f"this arrow never fires: the arrow on line {first.line} ({first.describe()}) fires "
        f"first — {why}; give one of them another condition or priority",
        "shadowed",
    )


def _not_state_arrows(flow: Flow) -> list[Diagnostic]:
    found = []
    for block in flow.blocks.values():
        if block.is_state:
            continue
        kind = "«Не состояние» block" if block.kind is BlockKind.NOT_STATE else "quick answer"
        for arrow in block.arrows:
            if arrow.waits:
                found.append(
                    _diagnostic(
                        flow,
                        arrow.line,
                        arrow.column,
                        f"this arrow waits for a message, but a client is never in the {kind} "
                        f"'{block.id}' (it answers and the client stays where it was), so it "
                        "never fires; only arrows taken at once ('delay: 0') leave it",
                        "nostate-arrow",
                    )
                )
    return found


def _dead_buttons(flow: Flow) -> list[Diagnostic]:
    found = []
    for block in flow.blocks.values():
        if not block.is_state:
            continue  # the client stays elsewhere: its presses go to that block
        for button in block.buttons:
            if button.arrow is not None:
                continue
            if button.action is ButtonAction.MESSAGE:
                text, trigger = button.label_text, Trigger.MESSAGE
            elif button.action is ButtonAction.CALLBACK and button.callback is not None:
                text, trigger = button.callback, Trigger.CALLBACK
            else:
                continue
            if "#{" in text or any(
                _may_take(arrow, text) for arrow in flow.candidates(block.id, trigger)
            ):
                continue
            what = (
                f"its callback '{text}' (only 'on: callback' arrows take callbacks)"
                if trigger is Trigger.CALLBACK
                else f"'{text}'"
            )
            found.append(
                _diagnostic(
                    flow,
                    button.line,
                    button.column,
                    f"pressing this button does nothing: no arrow of block '{block.id}', start "
                    f"condition or quick answer takes {what}",
                    "dead-button",
                )
            )
    return found


def _may_take(arrow: Arrow, text: str) -> bool:
    if arrow.new_client:
        return False  # a client in a block is not new
    try:
        if arrow.minus is not None and condition_matches(arrow.minus, text):
            return False
        if arrow.condition is None or arrow.compare_variable is not None:
            return True
        return condition_matches(arrow.condition, text)
    except BotlangError:
        return True


# -- flows written for the first semantics ----------------------------------------------------


def _silent(block: Block) -> bool:
    """Whether entering the block sends nothing (no message, no buttons)."""
    text = block.message_text
    return (text is None or not text.strip() or text.strip() == "#{none}") and not block.rows


def _reads_message(arrow: Arrow) -> bool:
    if arrow.comparison_text is None:
        return False
    try:
        node = parse_expression(arrow.comparison_text)
    except BotlangError:
        return True
    return any(isinstance(n, ast.Name) and n.name == "question" for n in ast.walk(node))


def _old_defaults(flow: Flow) -> list[Diagnostic]:
    found = []
    changed = (
        "before, an arrow without a text condition was taken at once; now it waits for the "
        "client's message, as in Salebot"
    )
    for block in flow.blocks.values():
        if not block.is_state:
            continue
        for arrow in block.arrows:
            if not arrow.waits or arrow.condition is not None or arrow.trigger is Trigger.CALLBACK:
                continue
            if _silent(block):
                found.append(
                    _diagnostic(
                        flow,
                        arrow.line,
                        arrow.column,
                        f"block '{block.id}' says nothing and this arrow waits for the "
                        f"client's next message, so the client is left in silence ({changed}); "
                        "write 'delay: 0' to take it at once",
                        "silent-wait",
                    )
                )
            elif (
                arrow.comparison is not None
                and arrow.save_name is None
                and not _reads_message(arrow)
                and not _has_setting(flow, arrow, "on")
            ):
                found.append(
                    _diagnostic(
                        flow,
                        arrow.line,
                        arrow.column,
                        f"this arrow's 'if:' is checked on the client's next message ({changed}); "
                        "write 'delay: 0' to check it at once on entering the block, or "
                        "'on: message' to say it waits",
                        "waits-for-message",
                    )
                )
    takes_any = [
        a
        for a in (*flow.starting_arrows, *flow.quick_arrows)
        if a.trigger is Trigger.MESSAGE and a.condition is None
    ]
    if not takes_any:
        entry = flow.entry_block
        found.append(
            _diagnostic(
                flow,
                entry.line,
                entry.column,
                "a new client's first message gets no answer unless it matches a start "
                "condition: a conversation starts only at a start condition, as in Salebot "
                f"(before, a new client entered the first block, '{entry.id}'); to greet any "
                f"first message add 'any -> {entry.id}' with 'new_client: yes'",
                "new-client",
            )
        )
    return found
