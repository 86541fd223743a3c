"""The compiler: AST → one Python function per script, built once and cached.

Generated code only ever contains calls to the operator helpers in
``botlang.core.runtime.ops``, variable reads through the environment's read view, literals
(``repr`` of numbers, short strings, True/False/None) and references to registered
builtins. Script text never becomes Python source: names and strings are emitted with
``repr`` and nothing else from the script is spliced in.

Each operator that can fail receives the index of its source position, so a runtime error
points at the exact operator, call or index that failed; anything else is located at the
statement. Every operator and call also receives the run (``_run``), whose limits and
budgets it applies.

The generated code never nests deeper than Python can compile: a sub-expression deeper than
``_INLINE_DEPTH`` syntax levels becomes a helper function of its own, called in its place
(same order of evaluation, same short-circuits).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botlang.core.builtins import REGISTRY, Builtin, Registry, load_stdlib
from botlang.core.errors import ArgumentError, BotlangError, LimitExceeded, ParseError, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime import ops
from botlang.core.runtime.run import Run, fail
from botlang.core.runtime.scopes import READ_ONLY_VARIABLES, read_only_error
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


_monotonic = time.monotonic
_over = Run.over


_CHUNK = 200  # statements per generated function


def _in_turn(chunks: tuple[Callable[..., Any], ...]) -> Callable[..., Any]:
    """One function that runs a long script's functions one after the other."""

    def program(get: Any, run: Run) -> None:
        for chunk in chunks:
            chunk(get, run)

    return program


def _fresh(get: Any, limits: Limits) -> Run:
    """The run of an expression evaluated on its own, made when first needed."""
    return _over(get.__self__, limits).borrow()


_SMALL_TEXT = 256
_SMALL_INT = 1 << 62


def _call_builtin(fn: Builtin, run: Run, args: list[Any], p: int) -> Any:
    run.steps += 1
    if run.steps > run.limits.max_steps:
        fail(f"step budget of {run.limits.max_steps:,} exhausted", p, limit=True)
    if _monotonic() > run.deadline:
        run.check_deadline(p)
    started = _monotonic() if fn.waits else 0.0
    try:
        result = fn(run, args)
    except BotlangError as err:
        if getattr(err, "node_index", None) is None:
            err.node_index = p  # type: ignore[attr-defined]
        raise
    except RecursionError:
        fail(f"{fn.name}(): value nested too deeply", p, limit=True)
    except MemoryError:
        fail(f"{fn.name}(): out of memory", p, limit=True)
    except Exception as exc:  # a builtin's own failure becomes a located ScriptError
        fail(f"{fn.name}(): {exc}", p)
    finally:
        if started:
            run.deadline += _monotonic() - started  # waiting on the host is not run time
    kind = type(result)
    if kind is str:
        if len(result) > _SMALL_TEXT:
            run.text_built(result, p, f"{fn.name}()'s result is")
        return result
    if kind is list or kind is dict:
        return run.built(result, p, f"{fn.name}()'s result")
    if kind is float:
        if result - result != 0:
            fail(f"{fn.name}(): the result is too large", p)
        return result
    if kind is int:
        if not -_SMALL_INT < result < _SMALL_INT and result.bit_length() > run.limits.max_int_bits:
            fail(
                f"{fn.name}(): the result has over {run.limits.max_int_digits} digits",
                p,
                limit=True,
            )
        return result
    if kind not in SCRIPT_TYPES:
        if kind is tuple:
            return run.built(list(result), p, f"{fn.name}()'s result")
        fail(f"{fn.name}() returned an unsupported value", p)
    return result


def _set_path(base: Any, keys: list[Any], value: Any, p: int, run: Run) -> Any:
    if len(keys) == 1:
        return ops.with_item(base, keys[0], value, p, run)
    child = None
    if type(base) is dict or (type(base) is list and base):
        child = (
            ops.index_value(base, keys[0], p, run)
            if type(base) is list
            else base.get(to_text(keys[0]))
        )
    return ops.with_item(base, keys[0], _set_path(child, keys[1:], value, p, run), p, run)


def _delete_path(base: Any, keys: list[Any], p: int, run: Run) -> Any:
    if len(keys) == 1:
        return ops.without_item(base, keys[0], p, run)
    child = ops.index_value(base, keys[0], p, run)
    return ops.with_item(base, keys[0], _delete_path(child, keys[1:], p, run), p, run)


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
    "_float": float,
    "_bool": bool,
    "_list_type": list,
    "_dict_type": dict,
    "len": len,
    "_call": _call_builtin,
    "_read_only": read_only_error,
    "_fresh": _fresh,
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


# Locals of a program function for the inline store of plain deal values (see statement_lines).
# Only a run made by Run.over has its deal as its view (no other scope, no system variable);
# the program's own limits are then written into the code as numbers.
_PLAIN_DEAL = "_deal = _run.deal; _plain = _run.view is _deal and _run.limits is _L"

# Syntax levels emitted inline before a sub-expression moves to a helper function: each level
# opens at most three brackets, and CPython refuses code nested 200 brackets deep.
_INLINE_DEPTH = 40
_ARGS = "_get, _run"


class _CodeGen:
    """Emits Python source for one script or expression."""

    def __init__(
        self, registry: Registry, source: str, filename: str, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.registry = registry
        self.limits = limits
        self.source = source
        self.filename = filename
        self.positions: list[tuple[int, int]] = []
        self.globals: dict[str, Any] = {}
        self.helpers: list[str] = []
        self._temps = itertools.count()
        self._builtin_names: dict[str, str] = {}
        self._level = 0
        self._built_helpers = 0
        self.namespace: dict[str, Any] = {**_RUNTIME_GLOBALS, "_locate": self.locator}
        # how expression code names its run: "_run", or for an expression evaluated on its
        # own, the run made the first time something needs one
        self.run = "_run"

    def lazy_run(self) -> None:
        """Make the run on first need (``Expression.evaluate``: most never need one)."""
        self.run = "(_run or (_run := _fresh(_get, _L)))"
        self.globals["_L"] = self.limits

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
        """The code of one expression node, moved to a helper when nested too deeply."""
        if self._level < _INLINE_DEPTH:
            self._level += 1
            try:
                return self.node(node)
            finally:
                self._level -= 1
        saved, self._level = self._level, 0
        try:
            code = self.node(node)
        finally:
            self._level = saved
        name = f"_h{len(self.helpers)}"
        self.helpers.append(f"def {name}({_ARGS}):\n    return {code}")
        return f"{name}(_get, {self.run})"

    def node(self, node: ast.Node) -> str:
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
            fast = self.fast_path(node.op, helper, node.left, node.right, f", {p}, {self.run}")
            if fast is None and node.op == "+":
                fast = self.fast_concat(node.left, node.right, p)
            if fast:
                return fast
            return f"{helper}({self.expr(node.left)}, {self.expr(node.right)}, {p}, {self.run})"
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
            return f"{'_neg' if node.op == '-' else '_pos'}({operand}, {p}, {self.run})"
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
            return f"_call({ref}, {self.run}, [{args}], {p})"
        if isinstance(node, ast.Index):
            p = self.position(node.key.line, node.key.column)
            key = node.key
            if isinstance(key, ast.Literal) and (
                (type(key.value) is int and 0 <= key.value < 2**31)
                or (type(key.value) is str and len(key.value) <= 200)
            ):
                # items[0] and order['total']: read in place when the value is a list / dict
                temp, lit = self.temp(), self.constant(key.value)
                target = self.expr(node.target)
                if type(key.value) is int:
                    test, read = f"_list_type and len({temp}) > {lit}", f"{temp}[{lit}]"
                else:
                    test, read = "_dict_type", f"{temp}.get({lit})"
                return (
                    f"({read} if ({temp} := {target}).__class__ is {test} "
                    f"else _index({temp}, {lit}, {p}, {self.run}))"
                )
            return f"_index({self.expr(node.target)}, {self.expr(key)}, {p}, {self.run})"
        if isinstance(node, ast.ListDisplay):
            p = self.position(node.line, node.column)
            return f"_list([{', '.join(self.expr(i) for i in node.items)}], {p}, {self.run})"
        if isinstance(node, ast.DictDisplay):
            p = self.position(node.line, node.column)
            pairs = ", ".join(f"({self.expr(k)}, {self.expr(v)})" for k, v in node.pairs)
            return f"_dict([{pairs}], {p}, {self.run})"
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

    def fast_concat(self, left: ast.Node, right: ast.Node, p: int) -> str | None:
        """Inline code for ``'Hello, ' + name``: a text literal that cannot start a number
        joined to a short text is plain concatenation (what ``ops.add`` does, uncharged)."""
        for literal, other, on_left in ((left, right, True), (right, left, False)):
            if not isinstance(literal, ast.Literal) or type(literal.value) is not str:
                continue
            text = literal.value
            if text[:1] in ops.NUMBER_START or len(text) > 200:
                continue
            temp, lit = self.temp(), self.constant(text)
            joined = f"{lit} + {temp}" if on_left else f"{temp} + {lit}"
            args = f"{lit}, {temp}" if on_left else f"{temp}, {lit}"
            room = _SMALL_TEXT - len(text)
            return (
                f"({joined} if ({temp} := {self.expr(other)}).__class__ is _str and "
                f"len({temp}) <= {room} else _add({args}, {p}, {self.run}))"
            )
        return None

    # ------------------------------------------------------------ statements

    def base_value(self, target: ast.Target) -> str:
        if target.scope == "deal":
            return f"_get({target.name!r})"
        return f"_run.scopes[{target.scope!r}].get({target.name!r})"

    def statement_lines(self, node: ast.Node) -> list[str]:
        """The code of one statement, as lines of the program function."""
        if isinstance(node, (ast.Assign, ast.Delete)) and node.target.name in READ_ONLY_VARIABLES:
            # refused before anything on the right runs
            verb = "assigned" if isinstance(node, ast.Assign) else "deleted"
            return [f"raise _read_only({node.target.name!r}, {verb!r})"]
        if isinstance(node, ast.Assign) and node.target.scope == "deal":
            target = node.target
            value = self.assigned_value(node)
            # A plain value into the deal of a run with deal variables only (botlang.run)
            # is stored right here; anything else goes through the scope rules.
            name = repr(target.name)
            limits = self.limits
            if len(target.name) > limits.max_variable_name_chars:
                return [f"_run.assign_deal({name}, {value})"]
            return [
                f"_v = {value}",
                "if _plain and ((_c := _v.__class__) is _int or _c is _float or _c is _bool"
                f" or _v is None or (_c is _str and len(_v) <= {limits.max_value_chars}))"
                f" and ({name} in _deal or len(_deal) < {limits.max_variables_per_scope}):"
                f" _deal[{name}] = _v",
                f"else: _run.assign_deal({name}, _v)",
            ]
        line = self.statement(node)
        if isinstance(node, (ast.Assign, ast.Delete)) and node.target.scope != "deal":
            return [line, _PLAIN_DEAL]  # the deal may have moved
        return [line]

    def assigned_value(self, node: ast.Assign) -> str:
        target = node.target
        value = '""' if node.value is None else self.expr(node.value)
        if target.path:
            keys = ", ".join(self.expr(k) for k in target.path)
            p = self.position(target.path[-1].line, target.path[-1].column)
            value = f"_set_path({self.base_value(target)}, [{keys}], {value}, {p}, _run)"
        return value

    def statement(self, node: ast.Node) -> str:
        if isinstance(node, ast.Assign):
            target = node.target
            value = self.assigned_value(node)
            if target.scope == "deal":
                return f"_run.assign_deal({target.name!r}, {value})"
            return f"_run.assign({target.scope!r}, {target.name!r}, {value})"
        if isinstance(node, ast.Delete):
            target = node.target
            if not target.path:
                return f"_run.delete({target.scope!r}, {target.name!r})"
            keys = ", ".join(self.expr(k) for k in target.path)
            p = self.position(target.path[-1].line, target.path[-1].column)
            value = f"_delete_path({self.base_value(target)}, [{keys}], {p}, _run)"
            return f"_run.assign({target.scope!r}, {target.name!r}, {value})"
        if isinstance(node, ast.ExprStatement):
            return self.expr(node.expr)
        raise self.parse_error(f"cannot compile {type(node).__name__}", node)

    def build(self, body: list[str], name: str) -> Callable[..., Any]:
        """Compile ``body`` as the function ``name`` (with the helpers made since the last
        build); every function built by one generator shares one namespace."""
        lines = [*self.helpers[self._built_helpers :], f"def {name}({_ARGS}):"]
        self._built_helpers = len(self.helpers)
        if not any(line.startswith("_s = ") for line in body[:2]):  # (a line before cannot fail)
            lines.append("    _s = 0")
        lines.append("    try:")
        lines.extend(f"        {line}" for line in body or ["pass"])
        lines.append("    except Exception as _e:")
        lines.append("        raise _locate(_e, _s) from None")
        code = "\n".join(lines)
        namespace = self.namespace
        namespace.update(self.globals)
        # the file name only labels the code; a NUL or newline in it must not reach compile()
        label = "<botlang " + re.sub(r"[\x00-\x1f]", "?", self.filename) + ">"
        try:
            exec(compile(code, label, "exec"), namespace)
        except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
            line, column = self.statement_positions[0] if self.statement_positions else (1, 1)
            raise ParseError(
                f"the script is too complex to compile ({type(exc).__name__}); split it into "
                "smaller statements",
                line=line,
                column=column,
                source=self.source,
                filename=self.filename,
            ) from None
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
        gen = _CodeGen(registry, tree.source, tree.filename, limits)
        gen.statement_positions = [(s.line, s.column) for s in tree.statements]
        plain = any(isinstance(s, ast.Assign) and s.target.scope == "deal" for s in tree.statements)
        if plain:
            gen.globals["_L"] = limits
        # Python's compiler needs memory out of proportion to one huge function: a long
        # script becomes functions of _CHUNK statements each, run one after the other.
        chunks = []
        for first in range(0, max(len(tree.statements), 1), _CHUNK):
            body = [_PLAIN_DEAL] if plain else []
            for index in range(first, min(first + _CHUNK, len(tree.statements))):
                body.append(f"_s = {index}")
                body.extend(gen.statement_lines(tree.statements[index]))
            chunks.append(gen.build(body, f"_program{first // _CHUNK}"))
        self._gen = gen
        self._function = chunks[0] if len(chunks) == 1 else _in_turn(tuple(chunks))
        self.statement_count = len(tree.statements)
        self._too_many_steps = self.statement_count > limits.max_steps

    def execute(self, run: Run) -> None:
        """Run in ``run`` (its variables, budgets and host access); assignments before an
        error stand."""
        run.steps += self.statement_count
        limits = run.limits
        if run.steps > limits.max_steps:
            over = min(run.steps - limits.max_steps, self.statement_count)
            run.steps -= over
            line, column = self._gen.statement_positions[self.statement_count - over]
            raise LimitExceeded(
                f"step budget of {limits.max_steps:,} exhausted",
                line=line,
                column=column,
                source=self.source,
                filename=self.filename,
            )
        if _monotonic() > run.deadline:
            try:
                run.check_deadline()
            except BotlangError as err:
                raise self._gen.locator(err, 0) from None
        self._function(run.view.get, run)

    def run(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        telephony: Any = None,
        context: Run | None = None,
    ) -> dict[str, Any]:
        """Run with ``variables`` as the deal scope; return the variables after the script.

        The input mapping is not mutated (it is copied once). ``context`` is a run set up
        by the caller (clock, random generator, telephony, clients); ``variables`` become
        its deal scope.
        """
        deal = dict(variables) if variables is not None else {}
        if context is not None:
            context.use_deal(deal)
            self.execute(context)
            return context.flattened()
        if self._too_many_steps:
            self.execute(_over(deal, self.limits))  # refuses it, located
        # a new run: its budget and deadline are untouched, so the function starts at once
        run = _over(deal, self.limits, telephony, self.statement_count)
        self._function(deal.get, run)
        # the run's own copy is the result; merged only when other scopes were set
        return run.deal if run.view is run.deal else run.flattened()

    def __repr__(self) -> str:
        return f"<botlang.Program {self.filename} ({self.statement_count} statements)>"


class Expression:
    """A compiled expression: ``evaluate`` it against variables."""

    def __init__(
        self,
        node: ast.Node,
        registry: Registry,
        source: str,
        filename: str,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.source = source
        self.filename = filename
        self.limits = limits
        gen = _CodeGen(registry, source, filename, limits)
        gen.statement_positions = [(node.line, node.column)]
        self._function = gen.build([f"return {gen.expr(node)}"], "_expression")
        self._node, self._registry = node, registry
        self._alone: Callable[..., Any] | None = None

    def _build_alone(self) -> Callable[..., Any]:
        """The code that makes its run only when something needs one (``evaluate``)."""
        gen = _CodeGen(self._registry, self.source, self.filename, self.limits)
        gen.statement_positions = [(self._node.line, self._node.column)]
        gen.lazy_run()
        self._alone = gen.build([f"return {gen.expr(self._node)}"], "_expression")
        return self._alone

    def evaluate_in(self, run: Run) -> Any:
        """The value in ``run`` (a flow's arrow condition, the REPL)."""
        return self._function(run.view.get, run)

    def evaluate_with(self, get: Callable[..., Any], run: Run) -> Any:
        """The value in ``run``, reading names through ``get`` (a template's holes)."""
        return self._function(get, run)

    def evaluate(
        self, variables: Mapping[str, Any] | None = None, *, context: Run | None = None
    ) -> Any:
        """The value against ``variables`` (read, never copied or changed)."""
        deal = _readable(variables)
        if context is None:
            alone = self._alone or self._build_alone()
            return alone(deal.get, None)
        context.use_deal(deal, borrowed=True)
        return self._function(deal.get, context)


def _readable(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    """Variables as a dict to read from: the caller's own dict when it is one (expressions
    and templates never write)."""
    if variables is None:
        return {}
    return variables if type(variables) is dict else dict(variables)


# What a nested '#{...}' may build: a variable name, nothing else (client text is never code).
_NAME = re.compile(r"[^\W\d]\w*\Z")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class _Hole:
    """A nested ``#{...}`` inside an author's expression (see :class:`Template`)."""

    name: str  # "#0": what the expression reads it by, a name no script can write
    pieces: tuple[_PreparedPart, ...]
    builds_name: bool  # its text completes a variable's name (price_#{q}); else a value


@dataclass(frozen=True)
class _Shaped:
    """An outer ``#{...}`` compiled with its nested parts as holes: ``floor(#{Y})``."""

    expression: Expression
    holes: tuple[_Hole, ...]


@dataclass(frozen=True)
class _PreparedPart:
    """One part of a compiled template: plain ``text`` (not None), or a substitution."""

    text: str | None = None
    name: str | None = None  # #{name}: a lookup, nothing compiled
    default: Any = None  # what the name reads when no variable has it (a named constant)
    expression: Expression | None = None
    nested: tuple[_PreparedPart, ...] | None = None
    shaped: _Shaped | None = None
    line: int = 1
    column: int = 1


class Template:
    """A compiled message template.

    ``#{expression}`` parts are compiled with the template. A nested part renders its
    inside first, and what the inside makes is never compiled or run:

    - where it completes a name (``#{price_#{item}}``, ``#{q#{i}}``) its text is only ever
      a variable *name*, checked against the identifier rule and then looked up; anything
      else — such as text a client typed — names no variable and renders as the empty text,
      like a variable that is not set;
    - where it stands alone as an operand of the author's expression (``#{floor(#{Y})}``,
      as in Salebot's documentation) it is a *value*: the expression around it is compiled
      with the template, and the nested part fills its place as data.
    """

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
        if isinstance(part, ast.TemplateExpr) and isinstance(part.expr, ast.Name):
            name = part.expr.name
            return _PreparedPart(
                name=name, default=self._constant(name), line=part.line, column=part.column
            )
        if isinstance(part, ast.TemplateExpr):
            return _PreparedPart(
                expression=Expression(
                    part.expr, self.registry, self.source, self.filename, self.limits
                ),
                line=part.line,
                column=part.column,
            )
        pieces = tuple(self._prepare(p) for p in part.parts)
        return _PreparedPart(
            nested=pieces,
            shaped=self._shape(part, pieces),
            line=part.line,
            column=part.column,
        )

    def _shape(self, part: ast.TemplateNested, pieces: tuple[_PreparedPart, ...]) -> _Shaped | None:
        """The outer expression of a nested part, its nested parts as holes; None when the
        whole part builds one name (or is no expression botlang can read)."""
        tokens: list[str | int] = []  # characters of the author's text, or hole numbers
        for index, raw in enumerate(part.parts):
            if isinstance(raw, ast.TemplateText):
                tokens.extend(raw.text)
            else:
                tokens.append(index)
        if all(type(t) is int or _WORD.match(t) for t in tokens):  # type: ignore[arg-type]
            return None
        taken = "".join(t for t in tokens if type(t) is str)
        prefix = "_hole"
        while prefix in taken:
            prefix += "_"
        source: list[str] = []
        holes: list[_Hole] = []
        run: list[str | int] = []

        def flush() -> None:
            if not any(type(t) is int for t in run):
                source.extend(str(t) for t in run)
            else:
                builds_name = len(run) > 1
                group: list[_PreparedPart] = []
                for t in run:
                    if type(t) is int:
                        group.append(pieces[t])
                    elif group and group[-1].text is not None:
                        group[-1] = _PreparedPart(text=(group[-1].text or "") + str(t))
                    else:
                        group.append(_PreparedPart(text=str(t)))
                holes.append(_Hole(f"#{len(holes)}", tuple(group), builds_name))
                source.append(f"{prefix}{len(holes) - 1}")
            run.clear()

        for token in tokens:
            if type(token) is int or _WORD.match(token):  # type: ignore[arg-type]
                run.append(token)
            else:
                flush()
                source.append(str(token))
        flush()
        try:
            node = parse_expression(
                "".join(source),
                self.filename,
                limits=self.limits,
                line=part.line,
                column=part.column,
                full_source=self.source,
            )
        except ParseError:
            return None
        placeholders = {f"{prefix}{k}": hole.name for k, hole in enumerate(holes)}
        found = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.name in placeholders]
        if len(found) != len(holes):  # a hole inside quotes, say: no expression of holes
            return None
        for name_node in found:
            name_node.name = placeholders[name_node.name]
        expression = Expression(node, self.registry, self.source, self.filename, self.limits)
        return _Shaped(expression, tuple(holes))

    def _constant(self, name: str) -> Any:
        known = self.registry.constants.get(name)
        return None if known is None else known.value

    def render_in(self, run: Run) -> str:
        """Render in ``run`` (flows, the REPL); the text is bounded by ``max_string_chars``."""
        first = self.parts[0] if self.parts else None
        try:
            if _monotonic() > run.deadline:
                run.check_deadline()
            pieces: list[str] = []
            self._render(self.parts, run, pieces)
            text = "".join(pieces)
            if len(text) > _SMALL_TEXT:
                run.charge(len(text))
        except BotlangError as err:
            raise self._locate(err, first) from None
        return text

    def _locate(self, err: BotlangError, part: _PreparedPart | None) -> BotlangError:
        if err.source is None:
            line, column = (part.line, part.column) if part is not None else (1, 1)
            err.with_location(line, column, self.source, self.filename)
        return err

    def _render(self, parts: tuple[_PreparedPart, ...], run: Run, pieces: list[str]) -> None:
        limits = run.limits
        size = 0
        for part in parts:
            if part.text is not None:
                piece = part.text
            else:
                try:
                    piece = self._substitute(part, run)
                except BotlangError as err:
                    raise self._locate(err, part) from None
            size += len(piece)
            if size > limits.max_string_chars:
                raise LimitExceeded(
                    f"the message would be over {limits.max_string_chars:,} characters long",
                    line=part.line,
                    column=part.column,
                    source=self.source,
                    filename=self.filename,
                )
            pieces.append(piece)

    def _substitute(self, part: _PreparedPart, run: Run) -> str:
        run.steps += 1
        if run.steps > run.limits.max_steps:
            raise LimitExceeded(f"step budget of {run.limits.max_steps:,} exhausted")
        if part.name is not None:
            return ops.text_of(run.view.get(part.name, part.default), -1, run)
        if part.expression is not None:
            return ops.text_of(part.expression.evaluate_in(run), -1, run)
        assert part.nested is not None
        if part.shaped is not None:
            return ops.text_of(self._shaped_value(part.shaped, run), -1, run)
        return ops.text_of(self._named(part.nested, run), -1, run)

    def _named(self, pieces: tuple[_PreparedPart, ...], run: Run) -> Any:
        """The value of the variable the pieces' text names; None when it names none (the
        text is never compiled)."""
        inner: list[str] = []
        self._render(pieces, run, inner)
        name = "".join(inner)
        if len(name) > run.limits.max_variable_name_chars or not _NAME.match(name):
            return None
        return run.view.get(name, self._constant(name))

    def _shaped_value(self, shaped: _Shaped, run: Run) -> Any:
        bound: dict[str, Any] = {}
        for hole in shaped.holes:
            if hole.builds_name:
                bound[hole.name] = self._named(hole.pieces, run)
                continue
            (piece,) = hole.pieces
            if piece.name is not None:
                bound[hole.name] = run.view.get(piece.name, piece.default)
            elif piece.expression is not None:
                bound[hole.name] = piece.expression.evaluate_in(run)
            else:
                bound[hole.name] = self._substitute(piece, run)
        read = run.view.get

        def get(name: str, default: Any = None) -> Any:
            return bound[name] if name in bound else read(name, default)

        return shaped.expression.evaluate_with(get, run)

    def render(
        self, variables: Mapping[str, Any] | None = None, *, context: Run | None = None
    ) -> str:
        """The text against ``variables`` (read, never copied or changed)."""
        deal = _readable(variables)
        if context is None:
            return self.render_in(_over(deal, self.limits).borrow())
        context.use_deal(deal, borrowed=True)
        return self.render_in(context)


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
    return Expression(node, registry, source, filename, limits)


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
