"""botlang's own AST: small dataclasses, one per construct, each with its position."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Node:
    line: int
    column: int


# ---------------------------------------------------------------- expressions


@dataclass(slots=True)
class Literal(Node):
    """A number, string, True/False/None."""

    value: Any


@dataclass(slots=True)
class Name(Node):
    name: str


@dataclass(slots=True)
class ListDisplay(Node):
    items: list[Node]


@dataclass(slots=True)
class DictDisplay(Node):
    pairs: list[tuple[Node, Node]]


@dataclass(slots=True)
class Index(Node):
    target: Node
    key: Node


@dataclass(slots=True)
class Call(Node):
    name: str
    args: list[Node]


@dataclass(slots=True)
class IfCall(Node):
    """``if(cond, then, else)``: only the chosen branch is evaluated."""

    condition: Node
    then: Node
    otherwise: Node | None


@dataclass(slots=True)
class Unary(Node):
    op: str  # '-', '+', 'not'
    operand: Node


@dataclass(slots=True)
class Binary(Node):
    op: str  # + - * / % ** ^
    left: Node
    right: Node


@dataclass(slots=True)
class Compare(Node):
    """``a < b <= c``: chained like Python; each operator has its own position."""

    first: Node
    rest: list[tuple[str, Node, int, int]]  # (op, operand, line, column)


@dataclass(slots=True)
class Logical(Node):
    op: str  # 'and' | 'or'
    left: Node
    right: Node


# ---------------------------------------------------------------- statements


@dataclass(slots=True)
class Target:
    """The left of '=' or of ``del``: a scope, a variable and a path of keys."""

    scope: str  # deal | client | project
    name: str
    path: list[Node]
    line: int
    column: int


@dataclass(slots=True)
class Assign(Node):
    target: Target
    value: Node | None  # None: empty right-hand side, clears the variable
    literal_text: bool = False  # right-hand side kept as text (Salebot compatibility)


@dataclass(slots=True)
class Delete(Node):
    target: Target


@dataclass(slots=True)
class ExprStatement(Node):
    expr: Node


@dataclass(slots=True)
class Warning_:
    """A non-fatal finding of the parser (e.g. the literal-text fallback)."""

    line: int
    column: int
    message: str
    code: str


@dataclass(slots=True)
class Program:
    statements: list[Node]
    source: str
    filename: str
    warnings: list[Warning_] = field(default_factory=list)


# ---------------------------------------------------------------- templates


@dataclass(slots=True)
class TemplateText:
    text: str


@dataclass(slots=True)
class TemplateExpr:
    """``#{expr}`` with a fixed expression."""

    expr: Node
    source: str
    line: int
    column: int


@dataclass(slots=True)
class TemplateNested:
    """``#{q#{i}}``: the inner parts are rendered first; the result names the variable shown
    (and only ever a variable: it is never parsed as an expression)."""

    parts: list[TemplateText | TemplateExpr | TemplateNested]
    line: int
    column: int


TemplatePart = TemplateText | TemplateExpr | TemplateNested


def walk(node: Any):  # type: ignore[no-untyped-def]
    """Every AST node under ``node`` (iterative, so deep trees are safe)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        yield current
        if isinstance(current, (Literal, Name)):
            continue
        if isinstance(current, ListDisplay):
            stack.extend(current.items)
        elif isinstance(current, DictDisplay):
            for key, value in current.pairs:
                stack.extend((key, value))
        elif isinstance(current, Index):
            stack.extend((current.target, current.key))
        elif isinstance(current, Call):
            stack.extend(current.args)
        elif isinstance(current, IfCall):
            stack.extend((current.condition, current.then, current.otherwise))
        elif isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, (Binary, Logical)):
            stack.extend((current.left, current.right))
        elif isinstance(current, Compare):
            stack.append(current.first)
            stack.extend(operand for _, operand, _, _ in current.rest)
        elif isinstance(current, Assign):
            stack.extend(current.target.path)
            stack.append(current.value)
        elif isinstance(current, Delete):
            stack.extend(current.target.path)
        elif isinstance(current, ExprStatement):
            stack.append(current.expr)
        elif isinstance(current, Program):
            stack.extend(current.statements)
