"""The parser facade: Lark (LALR, contextual lexer, built once) → botlang's own AST.

``parse_program`` parses a calculator script, ``parse_expression`` one expression.
Errors are ParseErrors with exact line and column, worded for bot authors.
"""

from __future__ import annotations

import ast as python_ast
import re
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from botlang.core.errors import ParseError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.scopes import SCOPE_WORDS
from botlang.core.syntax import ast
from botlang.core.syntax.splitter import Chunk, split_statements

RESERVED_NAMES = frozenset({"True", "False", "None", "true", "false", "print", "if", "del"})
# Words the grammar reads as something other than a variable name.
KEYWORDS = RESERVED_NAMES | {"and", "or", "not", "AND", "OR", "NOT"}


@cache
def _parser() -> Lark:
    grammar = resources.files("botlang.core").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start=["start", "expression"],
        propagate_positions=True,
        maybe_placeholders=False,
        cache=False,
    )


# ---------------------------------------------------------------- error wording

_TOKEN_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a text in quotes",
    "COMPARE": "a comparison (==, !=, <, >, <=, >=)",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "POW_OP": "'**' or '^'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "DOT": "'.'",
    "$END": "the end of the statement",
}

_VALUE_STARTS = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB", "LBRACE", "TRUE", "FALSE", "NONE"}


def _expected_words(expected: set[str]) -> str:
    if expected & _VALUE_STARTS:
        rest = sorted(
            _TOKEN_WORDS.get(t, f"'{t.lower()}'")
            for t in expected - _VALUE_STARTS
            if t in _TOKEN_WORDS and t not in ("ADD_OP",)
        )
        words = ["a value (a name, number, text, list or bracket)", *rest]
    else:
        words = sorted({_TOKEN_WORDS[t] for t in expected if t in _TOKEN_WORDS})
        if not words:
            words = sorted(t.lower() for t in expected)
    if len(words) > 4:
        words = [*words[:4], "..."]
    return " or ".join(words) if len(words) <= 2 else ", ".join(words)


def _token_words(token: Token) -> str:
    if token.type == "$END":
        return "the end of the statement"
    text = str(token)
    if len(text) > 30:
        text = text[:27] + "..."
    return f"'{text}'"


def _describe_lark_error(err: UnexpectedInput) -> str:
    if isinstance(err, UnexpectedCharacters):
        char = err.char
        if char == "#":
            return "'#' is not allowed here ('#{...}' substitution belongs in message text)"
        if char == "&" or char == "|":
            return f"unexpected '{char}'; write '{char}{char}' (or 'and'/'or')"
        return f"unexpected character '{char}'"
    if isinstance(err, UnexpectedToken):
        token = err.token
        expected = set(err.expected)
        if token.type == "EQUAL":
            return "'=' assigns a value; to compare, write '=='"
        if token.type == "$END":
            return f"the statement ends too early; expected {_expected_words(expected)}"
        if (
            token.type in ("NAME", "NUMBER", "STRING")
            and "RPAR" not in expected
            and ("$END" in expected or "COMPARE" in expected)
        ):
            return (
                f"unexpected {_token_words(token)}; two values stand side by side "
                "(an operator or ',' is missing)"
            )
        return f"unexpected {_token_words(token)}; expected {_expected_words(expected)}"
    if isinstance(err, UnexpectedEOF):
        return "the statement ends too early"
    return "invalid syntax"


# ---------------------------------------------------------------- literals

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


def unescape(body: str) -> str:
    """Decode a string literal's escapes. Unknown escapes keep their backslash (``\\d``)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n:
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "\n":
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


# ---------------------------------------------------------------- tree → AST


class _Builder:
    """Turns one statement's Lark tree into AST nodes, mapping positions to the source."""

    def __init__(self, chunk: Chunk, source: str, filename: str) -> None:
        self.chunk = chunk
        self.source = source
        self.filename = filename

    def pos(self, item: Tree | Token) -> tuple[int, int]:
        if isinstance(item, Token):
            return self.chunk.to_source(item.line or 1, item.column or 1)
        meta = item.meta
        if getattr(meta, "empty", True):
            for child in item.children:
                if isinstance(child, (Tree, Token)):
                    return self.pos(child)
            return self.chunk.line, self.chunk.column
        return self.chunk.to_source(meta.line, meta.column)

    def error(self, message: str, item: Tree | Token) -> ParseError:
        line, col = self.pos(item)
        return ParseError(
            message, line=line, column=col, source=self.source, filename=self.filename
        )

    def statement(self, tree: Tree) -> ast.Node:
        line, col = self.pos(tree)
        kind = tree.data
        if kind == "assign":
            target = self.target(tree.children[0])
            value = self.expr(tree.children[1]) if len(tree.children) > 1 else None
            return ast.Assign(line, col, target, value)
        if kind == "delete":
            return ast.Delete(line, col, self.target(tree.children[0], deleting=True))
        return ast.ExprStatement(line, col, self.expr(tree.children[0]))

    def target(self, tree: Tree, *, deleting: bool = False) -> ast.Target:
        path: list[ast.Node] = []
        node = tree
        while isinstance(node, Tree) and node.data == "index":
            path.append(self.expr(node.children[1]))
            node = node.children[0]
        path.reverse()
        scope = "deal"
        if isinstance(node, Tree) and node.data in ("true", "false", "none"):
            raise self.error("True, False and None are reserved and cannot be assigned", node)
        if isinstance(node, Tree) and node.data == "name":
            token = node.children[0]
        elif isinstance(node, Tree) and node.data == "dotted":
            prefix, token = node.children
            if str(prefix) not in SCOPE_WORDS:
                raise self.error(
                    f"unknown scope '{prefix}'; use client., клиент., project. or проект.",
                    prefix,
                )
            scope = SCOPE_WORDS[str(prefix)]
        else:
            verb = "delete" if deleting else "assign to"
            raise self.error(
                f"cannot {verb} this; the left side must be a variable like x, client.x or arr[0]",
                tree,
            )
        name = str(token)
        if name in RESERVED_NAMES:
            raise self.error(f"'{name}' is reserved and cannot be assigned", token)
        line, col = self.pos(token)
        return ast.Target(scope, name, path, line, col)

    def expr(self, tree: Tree | Token) -> ast.Node:
        line, col = self.pos(tree)
        assert isinstance(tree, Tree)
        kind = tree.data
        ch = tree.children
        if kind == "number":
            text = str(ch[0])
            if len(text) > 300:
                raise self.error(f"number is {len(text)} digits long; the limit is 300", tree)
            value = _number(text)
            if type(value) is float and value - value != 0:
                raise self.error(f"number {text} is too large", tree)
            return ast.Literal(line, col, value)
        if kind == "string":
            return ast.Literal(line, col, unescape(str(ch[0])[1:-1]))
        if kind == "true":
            return ast.Literal(line, col, True)
        if kind == "false":
            return ast.Literal(line, col, False)
        if kind == "none":
            return ast.Literal(line, col, None)
        if kind == "name":
            return ast.Name(line, col, str(ch[0]))
        if kind == "dotted":
            prefix, name = ch
            if str(prefix) in SCOPE_WORDS:
                raise self.error(
                    f"reads never use a scope prefix: write '{name}' instead of '{prefix}.{name}'",
                    tree,
                )
            raise self.error(f"unexpected '.' after '{prefix}'", tree)
        if kind in ("call", "del_call"):
            if kind == "call":
                fname, args_tree = str(ch[0]), ch[1:]
                name_token = ch[0]
            else:
                fname, args_tree, name_token = "del", ch, tree
            args = [self.expr(a) for a in args_tree[0].children] if args_tree else []
            if fname == "if":
                if len(args) not in (2, 3):
                    raise self.error(
                        f"if() takes 2 or 3 arguments (condition, value if true, value if "
                        f"false), got {len(args)}",
                        name_token,
                    )
                return ast.IfCall(line, col, args[0], args[1], args[2] if len(args) > 2 else None)
            return ast.Call(line, col, fname, args)
        if kind == "list":
            items = [self.expr(a) for a in ch[0].children] if ch else []
            return ast.ListDisplay(line, col, items)
        if kind == "dict":
            pairs = []
            for pair in ch[0].children if ch else []:
                pairs.append((self.expr(pair.children[0]), self.expr(pair.children[1])))
            return ast.DictDisplay(line, col, pairs)
        if kind == "index":
            return ast.Index(line, col, self.expr(ch[0]), self.expr(ch[1]))
        if kind == "binary":
            left, op, right = ch
            op_line, op_col = self.pos(op)
            return ast.Binary(op_line, op_col, str(op), self.expr(left), self.expr(right))
        if kind == "unary":
            op, operand = ch
            return ast.Unary(line, col, str(op), self.expr(operand))
        if kind == "not_":
            return ast.Unary(line, col, "not", self.expr(ch[0]))
        if kind in ("and_", "or_"):
            op = "and" if kind == "and_" else "or"
            return ast.Logical(line, col, op, self.expr(ch[0]), self.expr(ch[1]))
        if kind == "compare":
            first = self.expr(ch[0])
            rest = []
            for k in range(1, len(ch), 2):
                op_line, op_col = self.pos(ch[k])
                rest.append((str(ch[k]), self.expr(ch[k + 1]), op_line, op_col))
            return ast.Compare(line, col, first, rest)
        raise self.error(f"unsupported construct {kind}", tree)


def _tree_depth(tree: Tree) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


# Linear: the right-hand side is taken greedily (the text is stripped before matching).
_ASSIGN_RE = re.compile(
    r"(?:(client|клиент|project|проект)\s*\.\s*)?([^\W\d]\w*)\s*=(?!=)[ \t]*(.*)\Z", re.S
)
_OPERATOR_EDGE = set("+-*/%^=<>!&|,.:")


def _literal_text_fallback(chunk: Chunk) -> tuple[str | None, str, str] | None:
    """Salebot stores a right-hand side that is not an expression as text (``x = Первичное жилье``).

    Only plain text qualifies: one line, no brackets, quotes or operators other than '-',
    '.', ':' and ',' (as in dates, times and phrases), not starting or ending with one.
    Returns (scope word, name, text) or None.
    """
    text = chunk.text.strip()
    if "\n" in text:
        return None
    match = _ASSIGN_RE.match(text)
    if not match:
        return None
    prefix, name, rhs = match.groups()
    if not rhs or any(c in rhs for c in "()[]{}\"'#+*/%^=<>&|"):
        return None
    if rhs[0] in _OPERATOR_EDGE or rhs[-1] in _OPERATOR_EDGE:
        return None
    if name in RESERVED_NAMES:
        return None
    return prefix, name, rhs


def _parse_chunk(
    chunk: Chunk, source: str, filename: str, limits: Limits, start: str = "start"
) -> tuple[ast.Node, ast.Warning_ | None]:
    builder = _Builder(chunk, source, filename)
    try:
        tree = _parser().parse(chunk.text, start=start)
    except UnexpectedInput as err:
        if start == "start":
            fallback = _literal_text_fallback(chunk)
            if fallback is not None:
                prefix, name, rhs = fallback
                offset = chunk.text.index(rhs) if rhs in chunk.text else 0
                before = chunk.text[:offset]
                rel_line = before.count("\n") + 1
                rel_col = offset - (before.rfind("\n") + 1) + 1
                line, col = chunk.to_source(rel_line, rel_col)
                t_line, t_col = chunk.to_source(1, len(chunk.text) - len(chunk.text.lstrip()) + 1)
                scope = SCOPE_WORDS[prefix] if prefix else "deal"
                node = ast.Assign(
                    t_line,
                    t_col,
                    ast.Target(scope, name, [], t_line, t_col),
                    ast.Literal(line, col, rhs),
                    literal_text=True,
                )
                warning = ast.Warning_(
                    line,
                    col,
                    f"right-hand side is not an expression, so it is stored as the text "
                    f"{rhs!r}; put it in quotes to make that explicit",
                    "literal-text",
                )
                return node, warning
        line, col = chunk.to_source(getattr(err, "line", 1) or 1, getattr(err, "column", 1) or 1)
        if isinstance(err, UnexpectedToken) and err.token.type == "$END":
            stripped = chunk.text.rstrip()
            rel_line = stripped.count("\n") + 1
            rel_col = len(stripped) - (stripped.rfind("\n") + 1) + 1
            line, col = chunk.to_source(rel_line, rel_col)
        raise ParseError(
            _describe_lark_error(err), line=line, column=col, source=source, filename=filename
        ) from None
    if _tree_depth(tree) > limits.max_expression_depth:
        line, col = builder.pos(tree)
        raise ParseError(
            f"expression is nested too deeply (more than {limits.max_expression_depth} "
            "levels); split it into several statements",
            line=line,
            column=col,
            source=source,
            filename=filename,
        )
    if start == "expression":
        return builder.expr(tree), None
    return builder.statement(tree), None


def _check_size(source: str, filename: str, limits: Limits) -> None:
    if len(source) > limits.max_source_chars:
        raise ParseError(
            f"source is {len(source):,} characters long; the limit is {limits.max_source_chars:,}",
            source=None,
            filename=filename,
        )


def parse_program(
    source: str,
    filename: str = "<script>",
    *,
    limits: Limits = DEFAULT_LIMITS,
    errors: list[ParseError] | None = None,
) -> ast.Program:
    """Parse a calculator script.

    Raises the first ParseError, or, when ``errors`` is a list, appends every statement's
    error to it and parses on (for the checker).
    """
    _check_size(source, filename, limits)
    program = ast.Program([], source, filename)
    try:
        chunks = split_statements(source, limits=limits, filename=filename)
    except ParseError as err:
        if errors is None:
            raise
        errors.append(err)
        return program
    for chunk in chunks:
        try:
            node, warning = _parse_chunk(chunk, source, filename, limits)
        except ParseError as err:
            if errors is None:
                raise
            errors.append(err)
            continue
        program.statements.append(node)
        if warning is not None:
            program.warnings.append(warning)
    return program


def parse_expression(
    source: str,
    filename: str = "<expression>",
    *,
    limits: Limits = DEFAULT_LIMITS,
    line: int = 1,
    column: int = 1,
    full_source: str | None = None,
) -> ast.Node:
    """Parse one expression (used by ``evaluate``, arrow conditions and templates)."""
    _check_size(source, filename, limits)
    shown = full_source if full_source is not None else source
    chunks = split_statements(source, limits=limits, filename=filename)
    if not chunks:
        raise ParseError(
            "expected an expression, found nothing",
            line=line,
            column=column,
            source=shown,
            filename=filename,
        )
    if len(chunks) > 1:
        second = chunks[1]
        raise ParseError(
            "expected one expression, found more than one statement",
            line=second.line + line - 1,
            column=second.column,
            source=shown,
            filename=filename,
        )
    chunk = chunks[0]
    located = Chunk(chunk.text, *_shift(chunk.line, chunk.column, line, column))
    node, _ = _parse_chunk(located, shown, filename, limits, start="expression")
    return node


def _shift(rel_line: int, rel_col: int, line: int, column: int) -> tuple[int, int]:
    if rel_line == 1:
        return line, column + rel_col - 1
    return line + rel_line - 1, rel_col


def literal_value(text: str) -> Any:
    """Best-effort Python literal reading (used by the CLI's --set)."""
    try:
        return python_ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
