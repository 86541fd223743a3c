"""The builtin function registry: the only way a script reaches host functionality.

A builtin is a plain Python function registered with :func:`builtin`. Its type hints
declare how arguments are checked and converted (one helper, :meth:`Builtin.bind`, unpacks
the arguments of every builtin), its docstring's first line is its one-line doc, and its
defaults make parameters optional. A builtin that needs the run's context (telephony,
other clients, the clock, the random generator) takes ``ctx: CallContext`` as its first
parameter.

Argument kinds (from the annotation): ``Any`` (as is), ``str``, ``int``, ``float``
(``Number``), ``bool``, ``list``, ``dict``; ``X | None`` accepts None too.
"""

from __future__ import annotations

import inspect
import random
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botlang.core.errors import ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime import values

Number = float  # annotation for "int or float, numeric strings accepted"

REQUIRED = inspect.Parameter.empty


class ClientAccess(Protocol):
    """Explicit access to other clients' variables (``get_client_var``/``set_client_var``)."""

    def get_client_var(self, client_id: str, name: str) -> Any: ...

    def set_client_var(self, client_id: str, name: str, value: Any) -> None: ...


class CallContext:
    """What a builtin may see of the current run. Nothing else of the host is reachable.

    ``steps`` counts statements and calls against ``limits.max_steps``; ``output`` collects
    what ``print`` shows; ``env`` is the running script's variables (an ``Environment``, set
    while a script or expression runs against one; None for a plain mapping).
    """

    __slots__ = (
        "_rng",
        "client_id",
        "clients",
        "clock",
        "env",
        "limits",
        "output",
        "steps",
        "telephony",
    )

    def __init__(
        self,
        *,
        telephony: Any = None,
        clients: ClientAccess | None = None,
        limits: Limits = DEFAULT_LIMITS,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = datetime.now,
        client_id: str | None = None,
    ) -> None:
        self.telephony = telephony  # a botlang.telephony.Telephony, or None
        self.clients = clients
        self.limits = limits
        self._rng = rng
        self.clock = clock
        self.client_id = client_id
        self.steps = 0
        self.output: list[str] = []
        self.env: Any = None

    @property
    def rng(self) -> random.Random:
        """The run's random generator (seedable: pass ``rng=random.Random(seed)``)."""
        if self._rng is None:
            self._rng = random.Random()
        return self._rng


@dataclass(frozen=True)
class Param:
    """One declared parameter of a builtin."""

    name: str
    kind: str  # any | str | int | number | bool | list | dict
    nullable: bool
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        text = self.name if self.kind == "any" else f"{self.name}: {self.kind}"
        return (
            text if self.required else f"{text} = {values.to_text(self.default, repr_strings=True)}"
        )


@dataclass(frozen=True)
class Builtin:
    """A registered function: its names, parameters, doc and implementation."""

    name: str
    aliases: tuple[str, ...]
    params: tuple[Param, ...]
    variadic: Param | None
    doc: str
    module: str
    func: Callable[..., Any]
    takes_context: bool
    lazy: bool = False  # receives unevaluated argument thunks (used by the compiler only)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def signature(self) -> str:
        parts = [p.describe() for p in self.params]
        if self.variadic is not None:
            parts.append(f"*{self.variadic.name}")
        return f"{self.name}({', '.join(parts)})"

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if p.required)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic is not None else len(self.params)

    def arity_error(self, count: int) -> str | None:
        """Why ``count`` arguments do not fit, or None when they do."""
        low, high = self.min_args, self.max_args
        if count >= low and (high is None or count <= high):
            return None
        if high is None:
            expected = f"at least {low}"
        elif low == high:
            expected = f"{low}"
        else:
            expected = f"{low} to {high}"
        plural = "" if expected == "1" else "s"
        if count < low:
            missing = ", ".join(f"'{p.name}'" for p in self.params[count:low])
            detail = f"missing {missing}"
        else:
            extra = count - len(self.params)
            detail = f"{extra} too many"
        return f"{self.name}() takes {expected} argument{plural}, got {count} ({detail})"

    def bind(self, args: list[Any]) -> list[Any]:
        """Check and convert positional arguments; raises ScriptError naming the parameter."""
        problem = self.arity_error(len(args))
        if problem:
            raise ScriptError(problem)
        bound: list[Any] = []
        for index, value in enumerate(args):
            param = self.params[index] if index < len(self.params) else self.variadic
            assert param is not None
            bound.append(_convert(self, param, value))
        return bound

    def __call__(self, ctx: CallContext, args: list[Any]) -> Any:
        bound = self.bind(args)
        if self.takes_context:
            return self.func(ctx, *bound)
        return self.func(*bound)


def _convert(fn: Builtin, param: Param, value: Any) -> Any:
    if value is None and (param.nullable or param.kind == "any"):
        return None
    kind = param.kind
    try:
        if kind == "any":
            return value
        if kind == "str":
            return values.to_text(value)
        if kind == "number":
            return values.to_number(value)
        if kind == "int":
            return values.to_int(value)
        if kind == "bool":
            return values.truthy(value)
        if kind == "list":
            return values.to_list(value)
        if kind == "dict":
            return values.to_dict(value)
    except (TypeError, ValueError) as exc:
        raise ScriptError(
            f"{fn.name}(): parameter '{param.name}' must be {_KIND_WORDS[kind]}, "
            f"got {values.describe_value(value)}"
        ) from exc
    raise AssertionError(f"unknown parameter kind {kind}")


_KIND_WORDS = {
    "str": "a string",
    "number": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a dict",
}


def _kind_of(annotation: Any) -> tuple[str, bool]:
    """Map a type hint to (kind, nullable)."""
    if annotation is REQUIRED or annotation is Any:
        return "any", True
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) != 1:
            return "any", True
        annotation = members[0]
        origin = typing.get_origin(annotation)
    base = origin or annotation
    kinds = {str: "str", int: "int", float: "number", bool: "bool", list: "list", dict: "dict"}
    if base in kinds:
        return kinds[base], nullable
    return "any", True


@dataclass(frozen=True)
class Constant:
    """A named value every script can read (``E``, ``PI``); a variable of that name wins."""

    name: str
    value: Any
    doc: str
    module: str  # the defining Python module (botlang.stdlib.math)


class Registry:
    """Name → Builtin. The compiler resolves calls against one registry.

    It also holds the named constants and the names of functions other platforms provide
    that botlang does not (so a call to one is explained, not taken for a typo).
    """

    def __init__(self) -> None:
        self._by_name: dict[str, Builtin] = {}
        self._primary: dict[str, Builtin] = {}
        self.constants: dict[str, Constant] = {}
        self._unprovided: dict[str, str] = {}

    def add(self, fn: Builtin) -> Builtin:
        for name in fn.names:
            if name in self._by_name:
                raise ValueError(f"builtin {name!r} is registered twice")
        for name in fn.names:
            self._by_name[name] = fn
        self._primary[fn.name] = fn
        return fn

    def get(self, name: str) -> Builtin | None:
        return self._by_name.get(name)

    def add_constant(self, constant: Constant) -> Constant:
        if constant.name in self.constants:
            raise ValueError(f"constant {constant.name!r} is registered twice")
        self.constants[constant.name] = constant
        return constant

    def declare_unprovided(self, name: str, reason: str) -> None:
        """Explain calls to ``name``, a function known elsewhere that botlang does not have."""
        self._unprovided[name] = reason

    def unprovided(self, name: str) -> str | None:
        """Why ``name`` is not available, when it is a declared unprovided function."""
        return None if name in self._by_name else self._unprovided.get(name)

    def call_problem(self, name: str, argc: int) -> str | None:
        """Why ``name(...)`` with ``argc`` arguments cannot be called, or None when it can."""
        fn = self._by_name.get(name)
        if fn is None:
            reason = self._unprovided.get(name)
            if reason is not None:
                return f"unknown function '{name}': {reason}"
            import difflib

            hint = difflib.get_close_matches(name, self.names(), n=1)
            extra = f"; did you mean {hint[0]}()?" if hint else ""
            return f"unknown function '{name}'{extra}"
        return fn.arity_error(argc)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        """Every callable name, aliases included, sorted."""
        return sorted(self._by_name)

    def functions(self) -> list[Builtin]:
        """Each builtin once, sorted by module then name."""
        return sorted(self._primary.values(), key=lambda f: (f.module, f.name.lower()))

    def __iter__(self) -> Iterator[Builtin]:
        return iter(self.functions())


REGISTRY = Registry()


def make_builtin(
    func: Callable[..., Any],
    names: tuple[str, ...],
    *,
    module: str | None = None,
    lazy: bool = False,
) -> Builtin:
    """Describe ``func`` as a Builtin from its signature, type hints and docstring."""
    hints = typing.get_type_hints(func)
    sig = inspect.signature(func)
    params: list[Param] = []
    variadic: Param | None = None
    takes_context = False
    for index, p in enumerate(sig.parameters.values()):
        if index == 0 and (p.name == "ctx" or hints.get(p.name) is CallContext):
            takes_context = True
            continue
        kind, nullable = _kind_of(hints.get(p.name, REQUIRED))
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = Param(p.name, kind, nullable)
        else:
            if p.default is not REQUIRED and p.default is None:
                nullable = True
            params.append(Param(p.name, kind, nullable, p.default))
    doc = (inspect.getdoc(func) or "").strip().splitlines()
    mod = module or func.__module__.rsplit(".", 1)[-1]
    return Builtin(
        name=names[0] if names else func.__name__,
        aliases=tuple(names[1:]),
        params=tuple(params),
        variadic=variadic,
        doc=doc[0] if doc else "",
        module=mod,
        func=func,
        takes_context=takes_context,
        lazy=lazy,
    )


def builtin(
    *names: str, registry: Registry | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a builtin under ``names`` (first is primary, rest aliases).

    >>> @builtin("addDays", "add_days")
    ... def add_days(date: str, days: int) -> str:
    ...     '''The date ``days`` days after ``date`` (dd.mm.yyyy).'''
    """

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        (registry or REGISTRY).add(make_builtin(func, names or (func.__name__,)))
        return func

    return register


def constant(
    name: str, value: Any, doc: str, *, module: str, registry: Registry | None = None
) -> None:
    """Register a named constant: ``constant("PI", math.pi, "π.", module=__name__)``."""
    (registry or REGISTRY).add_constant(Constant(name, value, doc, module))


def load_stdlib() -> Registry:
    """Import every stdlib module (each registers its functions) and return the registry."""
    import botlang.stdlib  # noqa: F401  (registration happens on import)

    return REGISTRY


def snapshot(registry: Registry | None = None) -> Mapping[str, Builtin]:
    """A read-only view name → Builtin (aliases included)."""
    reg = registry or REGISTRY
    return types.MappingProxyType({n: reg.get(n) for n in reg.names()})  # type: ignore[misc]
