"""The compiler: AST → one Python function per script, built once and cached.

Generated code only ever contains calls to the operator helpers in
``botlang.core.runtime.ops``, variable reads through the environment's read view, literals
(``repr`` of numbers, short strings, True/False/None) and references to registered
builtins. Script text never becomes Python source: names and strings are emitted with
``repr`` and nothing else from the script is spliced in.

Each operator that can fail receives the index of its source position, so a runtime error
points at the exact operator, call or index that failed; anything else is located at the
statement.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botlang.core.builtins import REGISTRY, Builtin, CallContext, Registry, load_stdlib
from botlang.core.errors import ArgumentError, BotlangError, LimitExceeded, ParseError, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime import ops
from botlang.core.runtime.scopes import Environment
from botlang.core.runtime.values import SCRIPT_TYPES, to_text, truthy
from botlang.core.syntax import ast
from botlang.core.syntax.parser import parse_expression, parse_program
from botlang.core.syntax.template import parse_template

_BINARY_HELPERS = {
    "+": "_add",
    "-": "_sub",
    "*": "_mul",
    "/": "_div",
    "%": "_mod",
    "**": "_pow",
    "^": "_pow",
}
_INLINE_INT_OPS = frozenset({"+", "-", "==", "!=", "<", "<=", ">", ">="})
_COMPARE_HELPERS = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}


def _call_builtin(fn: Builtin, ctx: CallContext, args: list[Any], p: int) -> Any:
    ctx.steps += 1
    if ctx.steps > ctx.limits.max_steps:
        ops.fail(f"step budget of {ctx.limits.max_steps:,} exhausted", p, limit=True)
    try:
        result = fn(ctx, args)
    except BotlangError as err:
        if getattr(err, "node_index", None) is None:
            err.node_index = p  # type: ignore[attr-defined]
        raise
    except RecursionError:
        ops.fail(f"{fn.name}(): value nested too deeply", p, limit=True)
    except Exception as exc:  # a builtin's own failure becomes a located ScriptError
        ops.fail(f"{fn.name}(): {exc}", p)
    if type(result) not in SCRIPT_TYPES:
        if isinstance(result, tuple):
            return list(result)
        ops.fail(f"{fn.name}() returned an unsupported value", p)
    return result


def _set_path(base: Any, keys: list[Any], value: Any, p: int) -> Any:
    if len(keys) == 1:
        return ops.with_item(base, keys[0], value, p)
    child = None
    if type(base) is dict or (type(base) is list and base):
        child = (
            ops.index_value(base, keys[0], p) if type(base) is list else base.get(to_text(keys[0]))
        )
    return ops.with_item(base, keys[0], _set_path(child, keys[1:], value, p), p)


def _delete_path(base: Any, keys: list[Any], p: int) -> Any:
    if len(keys) == 1:
        return ops.without_item(base, keys[0], p)
    child = ops.index_value(base, keys[0], p)
    return ops.with_item(base, keys[0], _delete_path(child, keys[1:], p), p)


_RUNTIME_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "Exception": Exception,
    "_add": ops.add,
    "_sub": ops.sub,
    "_mul": ops.mul,
    "_div": ops.div,
    "_mod": ops.mod,
    "_pow": ops.power,
    "_neg": ops.neg,
    "_pos": ops.pos,
    "_eq": ops.eq,
    "_ne": ops.ne,
    "_lt": ops.lt,
    "_le": ops.le,
    "_gt": ops.gt,
    "_ge": ops.ge,
    "_index": ops.index_value,
    "_list": ops.make_list,
    "_dict": ops.make_dict,
    "_truthy": truthy,
    "_int": int,
    "_str": str,
    "_call": _call_builtin,
    "_set_path": _set_path,
    "_delete_path": _delete_path,
}


def _is_boolean(node: ast.Node) -> bool:
    """True when the node always yields True or False (so Python's own and/or/if apply)."""
    if isinstance(node, (ast.Compare,)):
        return True
    if isinstance(node, ast.Unary) and node.op == "not":
        return True
    if isinstance(node, ast.Literal):
        return type(node.value) is bool
    if isinstance(node, ast.Logical):
        return _is_boolean(node.left) and _is_boolean(node.right)
    return False


class _CodeGen:
    """Emits Python source for one script or expression."""

    def __init__(self, registry: Registry, source: str, filename: str) -> None:
        self.registry = registry
        self.source = source
        self.filename = filename
        self.positions: list[tuple[int, int]] = []
        self.globals: dict[str, Any] = {}
        self._temps = itertools.count()
        self._builtin_names: dict[str, str] = {}

    def position(self, line: int, column: int) -> int:
        self.positions.append((line, column))
        return len(self.positions) - 1

    def temp(self) -> str:
        return f"_t{next(self._temps)}"

    def constant(self, value: Any) -> str:
        kind = type(value)
        if value is None or kind is bool:
            return repr(value)
        if kind is int and abs(value) < 10**18:
            return repr(value)
        if kind is float:
            return repr(value)
        if kind is str and len(value) <= 200:
            return repr(value)
        name = f"_k{len(self.globals)}"
        self.globals[name] = value
        return name

    def builtin(self, node: ast.Call) -> str:
        problem = self.registry.call_problem(node.name, len(node.args))
        fn = self.registry.get(node.name)
        if problem and fn is not None:
            raise ArgumentError(
                problem,
                line=node.line,
                column=node.column,
                source=self.source,
                filename=self.filename,
            )
        if problem:
            raise self.parse_error(problem, node)
        if node.name not in self._builtin_names:
            ref = f"_f{len(self._builtin_names)}"
            self._builtin_names[node.name] = ref
            self.globals[ref] = fn
        return self._builtin_names[node.name]

    def parse_error(self, message: str, node: ast.Node) -> ParseError:
        return ParseError(
            message,
            line=node.line,
            column=node.column,
            source=self.source,
            filename=self.filename,
        )

    # ------------------------------------------------------------ expressions

    def expr(self, node: ast.Node) -> str:
        if isinstance(node, ast.Literal):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            known = self.registry.constants.get(node.name)
            if known is not None:  # a variable of the same name wins, as in Salebot
                return f"_get({node.name!r}, {self.constant(known.value)})"
            return f"_get({node.name!r})"
        if isinstance(node, ast.Binary):
            p = self.position(node.line, node.column)
            helper = _BINARY_HELPERS[node.op]
            fast = self.fast_path(node.op, helper, node.left, node.right, f", {p}")
            if fast:
                return fast
            return f"{helper}({self.expr(node.left)}, {self.expr(node.right)}, {p})"
        if isinstance(node, ast.Compare):
            if len(node.rest) == 1:
                op, right, _, _ = node.rest[0]
                helper = _COMPARE_HELPERS[op]
                fast = self.fast_path(op, helper, node.first, right, "")
                if fast:
                    return fast
                return f"{helper}({self.expr(node.first)}, {self.expr(right)})"
            left = self.expr(node.first)
            checks = []
            for k, (op, right, _, _) in enumerate(node.rest):
                right_code = self.expr(right)
                if k < len(node.rest) - 1:
                    temp = self.temp()
                    checks.append(f"{_COMPARE_HELPERS[op]}({left}, ({temp} := {right_code}))")
                    left = temp
                else:
                    checks.append(f"{_COMPARE_HELPERS[op]}({left}, {right_code})")
            return "(" + " and ".join(checks) + ")"
        if isinstance(node, ast.Logical):
            left, right = self.expr(node.left), self.expr(node.right)
            if _is_boolean(node.left):
                # Python's own and/or agree with Salebot truthiness on True/False
                return f"({left} {node.op} {right})"
            temp = self.temp()
            if node.op == "and":
                return f"({right} if _truthy({temp} := {left}) else {temp})"
            return f"({temp} if _truthy({temp} := {left}) else {right})"
        if isinstance(node, ast.Unary):
            operand = self.expr(node.operand)
            if node.op == "not":
                return f"(not _truthy({operand}))"
            p = self.position(node.line, node.column)
            return f"{'_neg' if node.op == '-' else '_pos'}({operand}, {p})"
        if isinstance(node, ast.IfCall):
            otherwise = "None" if node.otherwise is None else self.expr(node.otherwise)
            condition = self.expr(node.condition)
            if not _is_boolean(node.condition):
                condition = f"_truthy({condition})"
            return f"({self.expr(node.then)} if {condition} else {otherwise})"
        if isinstance(node, ast.Call):
            ref = self.builtin(node)
            p = self.position(node.line, node.column)
            args = ", ".join(self.expr(a) for a in node.args)
            return f"_call({ref}, _ctx, [{args}], {p})"
        if isinstance(node, ast.Index):
            p = self.position(node.key.line, node.key.column)
            return f"_index({self.expr(node.target)}, {self.expr(node.key)}, {p})"
        if isinstance(node, ast.ListDisplay):
            p = self.position(node.line, node.column)
            return f"_list([{', '.join(self.expr(i) for i in node.items)}], {p})"
        if isinstance(node, ast.DictDisplay):
            p = self.position(node.line, node.column)
            pairs = ", ".join(f"({self.expr(k)}, {self.expr(v)})" for k, v in node.pairs)
            return f"_dict([{pairs}], {p})"
        raise self.parse_error(f"cannot compile {type(node).__name__}", node)

    def fast_path(
        self, op: str, helper: str, left: ast.Node, right: ast.Node, extra: str
    ) -> str | None:
        """Inline code for the commonest case: an int (or plain text) against a literal.

        ``visits + 1`` becomes ``(_t + 1 if (_t := visits).__class__ is _int else
        _add(_t, 1, p))``: Python's own operator when the variable holds an int, the
        Salebot-semantics helper otherwise. Only operators whose Python meaning on that
        type is exactly botlang's are inlined.
        """
        if op not in _INLINE_INT_OPS:
            return None
        for literal, other, literal_on_left in ((right, left, False), (left, right, True)):
            if not isinstance(literal, ast.Literal):
                continue
            value = literal.value
            if type(value) is int and abs(value) < 2**62:
                kind = "_int"
            elif (
                type(value) is str
                and op in ("==", "!=")
                and value[:1] not in ops.NUMBER_START
                and len(value) <= 200
            ):
                kind = "_str"
            else:
                continue
            temp = self.temp()
            lit = self.constant(value)
            native = f"{lit} {op} {temp}" if literal_on_left else f"{temp} {op} {lit}"
            args = f"{lit}, {temp}" if literal_on_left else f"{temp}, {lit}"
            return (
                f"({native} if ({temp} := {self.expr(other)}).__class__ is {kind} "
                f"else {helper}({args}{extra}))"
            )
        return None

    # ------------------------------------------------------------ statements

    def base_value(self, target: ast.Target) -> str:
        if target.scope == "deal":
            return f"_get({target.name!r})"
        return f"_env.scopes[{target.scope!r}].get({target.name!r})"

    def statement(self, node: ast.Node) -> str:
        if isinstance(node, ast.Assign):
            target = node.target
            value = '""' if node.value is None else self.expr(node.value)
            if target.path:
                keys = ", ".join(self.expr(k) for k in target.path)
                p = self.position(target.path[-1].line, target.path[-1].column)
                value = f"_set_path({self.base_value(target)}, [{keys}], {value}, {p})"
            if target.scope == "deal":
                return f"_env.assign_deal({target.name!r}, {value})"
            return f"_env.assign({target.scope!r}, {target.name!r}, {value})"
        if isinstance(node, ast.Delete):
            target = node.target
            if not target.path:
                return f"_env.delete({target.scope!r}, {target.name!r})"
            keys = ", ".join(self.expr(k) for k in target.path)
            p = self.position(target.path[-1].line, target.path[-1].column)
            value = f"_delete_path({self.base_value(target)}, [{keys}], {p})"
            return f"_env.assign({target.scope!r}, {target.name!r}, {value})"
        if isinstance(node, ast.ExprStatement):
            return self.expr(node.expr)
        raise self.parse_error(f"cannot compile {type(node).__name__}", node)

    def build(self, body: list[str], name: str) -> Callable[..., Any]:
        lines = [f"def {name}(_get, _env, _ctx):", "    _s = 0", "    try:"]
        lines.extend(f"        {line}" for line in body or ["pass"])
        lines.append("    except Exception as _e:")
        lines.append("        raise _locate(_e, _s) from None")
        code = "\n".join(lines)
        namespace = dict(_RUNTIME_GLOBALS)
        namespace.update(self.globals)
        namespace["_locate"] = self.locator
        exec(compile(code, f"<botlang {self.filename}>", "exec"), namespace)
        return namespace[name]  # type: ignore[no-any-return]

    def locator(self, error: Exception, statement_index: int) -> BotlangError:
        """Turn any exception raised while running into a located BotlangError."""
        node_index = getattr(error, "node_index", None)
        if node_index is not None:
            line, column = self.positions[node_index]
        else:
            line, column = self.statement_positions[statement_index]
        if isinstance(error, BotlangError):
            located = error
        elif isinstance(error, RecursionError):
            located = LimitExceeded("value nested too deeply")
        elif isinstance(error, MemoryError):
            located = LimitExceeded("out of memory")
        else:
            located = ScriptError(f"internal error: {type(error).__name__}: {error}")
        return located.with_location(line, column, self.source, self.filename)

    statement_positions: list[tuple[int, int]]


class Program:
    """A compiled calculator script. Compile once with :func:`compile_program`, run many times."""

    def __init__(self, tree: ast.Program, registry: Registry, limits: Limits) -> None:
        self.source = tree.source
        self.filename = tree.filename
        self.warnings = tree.warnings
        self.tree = tree
        self.limits = limits
        gen = _CodeGen(registry, tree.source, tree.filename)
        gen.statement_positions = [(s.line, s.column) for s in tree.statements]
        body = []
        for index, statement in enumerate(tree.statements):
            body.append(f"_s = {index}")
            body.append(gen.statement(statement))
        self._gen = gen
        self._function = gen.build(body, "_program")
        self.statement_count = len(tree.statements)

    def execute(self, env: Environment, ctx: CallContext) -> None:
        """Run against an environment; assignments before an error stand."""
        ctx.steps += self.statement_count
        if ctx.steps > ctx.limits.max_steps:
            over = ctx.steps - ctx.limits.max_steps
            ctx.steps -= over
            line, column = self._gen.statement_positions[self.statement_count - over]
            raise LimitExceeded(
                f"step budget of {ctx.limits.max_steps:,} exhausted",
                line=line,
                column=column,
                source=self.source,
                filename=self.filename,
            )
        ctx.env = env
        self._function(env.view.get, env, ctx)

    def run(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        telephony: Any = None,
        context: CallContext | None = None,
    ) -> dict[str, Any]:
        """Run with ``variables`` as the deal scope; return the variables after the script.

        The input mapping is not mutated.
        """
        env = Environment(_copy_variables(variables), limits=self.limits)
        ctx = context or CallContext(telephony=telephony, limits=self.limits)
        self.execute(env, ctx)
        return env.flattened()

    def __repr__(self) -> str:
        return f"<botlang.Program {self.filename} ({self.statement_count} statements)>"


class Expression:
    """A compiled expression: ``evaluate`` it against variables."""

    def __init__(self, node: ast.Node, registry: Registry, source: str, filename: str) -> None:
        self.source = source
        self.filename = filename
        gen = _CodeGen(registry, source, filename)
        gen.statement_positions = [(node.line, node.column)]
        self._function = gen.build([f"return {gen.expr(node)}"], "_expression")
        # Only calls look at the context; plain expressions skip creating one.
        self.needs_context = any(isinstance(n, ast.Call) for n in ast.walk(node))

    def evaluate_in(self, env: Environment, ctx: CallContext) -> Any:
        ctx.env = env
        return self._function(env.view.get, env, ctx)

    def evaluate(
        self, variables: Mapping[str, Any] | None = None, *, context: CallContext | None = None
    ) -> Any:
        if context is None and self.needs_context:
            context = CallContext()
        elif context is not None:
            context.env = None  # a plain mapping: no script variables to reach
        return self._function(variables.get if variables is not None else _EMPTY.get, None, context)


_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True)
class _PreparedPart:
    text: str | None = None
    expression: Expression | None = None
    nested: tuple[_PreparedPart, ...] | None = None
    line: int = 1
    column: int = 1


class Template:
    """A compiled message template."""

    def __init__(
        self,
        text: str,
        filename: str = "<message>",
        *,
        registry: Registry,
        limits: Limits = DEFAULT_LIMITS,
        line: int = 1,
        column: int = 1,
        source: str | None = None,
    ) -> None:
        self.text = text
        self.filename = filename
        self.registry = registry
        self.limits = limits
        self.source = source if source is not None else text
        parts = parse_template(
            text, filename, line=line, column=column, source=self.source, limits=limits
        )
        self.parts = tuple(self._prepare(p) for p in parts)

    def _prepare(self, part: ast.TemplatePart) -> _PreparedPart:
        if isinstance(part, ast.TemplateText):
            return _PreparedPart(text=part.text)
        if isinstance(part, ast.TemplateExpr):
            return _PreparedPart(
                expression=Expression(part.expr, self.registry, self.source, self.filename),
                line=part.line,
                column=part.column,
            )
        return _PreparedPart(
            nested=tuple(self._prepare(p) for p in part.parts),
            line=part.line,
            column=part.column,
        )

    def render_in(self, env: Environment, ctx: CallContext) -> str:
        """Render against an environment (flows)."""
        return "".join(self._render(part, env, ctx) for part in self.parts)

    def _render(self, part: _PreparedPart, env: Environment, ctx: CallContext) -> str:
        if part.text is not None:
            return part.text
        ctx.steps += 1
        if ctx.steps > ctx.limits.max_steps:
            raise LimitExceeded(
                f"step budget of {ctx.limits.max_steps:,} exhausted",
                line=part.line,
                column=part.column,
                source=self.source,
                filename=self.filename,
            )
        if part.expression is not None:
            return to_text(part.expression.evaluate_in(env, ctx))
        assert part.nested is not None
        inner = "".join(self._render(p, env, ctx) for p in part.nested)
        try:
            expression = compile_expression(inner, self.filename, self.registry, self.limits)
        except ParseError as err:
            raise ScriptError(
                f"'#{{{inner}}}' (built from a nested '#{{}}') is not a valid expression: "
                f"{err.message}",
                line=part.line,
                column=part.column,
                source=self.source,
                filename=self.filename,
            ) from None
        try:
            return to_text(expression.evaluate_in(env, ctx))
        except BotlangError as err:
            err.line, err.column = part.line, part.column
            err.source, err.filename = self.source, self.filename
            raise

    def render(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        context: CallContext | None = None,
    ) -> str:
        env = Environment(_copy_variables(variables), limits=self.limits)
        return self.render_in(env, context or CallContext(limits=self.limits))


def _copy_variables(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(variables) if variables is not None else {}


def default_registry() -> Registry:
    """The registry with the standard library loaded."""
    return load_stdlib()


@lru_cache(maxsize=1024)
def _compile_program_cached(
    source: str, filename: str, registry: Registry, limits: Limits
) -> Program:
    return Program(parse_program(source, filename, limits=limits), registry, limits)


@lru_cache(maxsize=4096)
def _compile_expression_cached(
    source: str, filename: str, registry: Registry, limits: Limits
) -> Expression:
    node = parse_expression(source, filename, limits=limits)
    return Expression(node, registry, source, filename)


@lru_cache(maxsize=2048)
def _compile_template_cached(
    text: str, filename: str, registry: Registry, limits: Limits
) -> Template:
    return Template(text, filename, registry=registry, limits=limits)


def compile_program(
    source: str,
    filename: str = "<script>",
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Program:
    """Parse and compile a script once; the same text gives the same cached Program."""
    return _compile_program_cached(source, filename, registry or default_registry(), limits)


def compile_expression(
    source: str,
    filename: str = "<expression>",
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Expression:
    """Parse and compile one expression (cached)."""
    return _compile_expression_cached(source, filename, registry or default_registry(), limits)


def compile_template(
    text: str,
    filename: str = "<message>",
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Template:
    """Parse and compile a message template (cached)."""
    return _compile_template_cached(text, filename, registry or default_registry(), limits)


__all__ = [
    "REGISTRY",
    "Expression",
    "Program",
    "Template",
    "compile_expression",
    "compile_program",
    "compile_template",
]
