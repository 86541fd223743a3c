"""The run: everything one execution of botlang code owns, in one place (starlark's Thread).

A run is one ``botlang.run``/``evaluate``/``render`` call, one ``Program.run``, one flow turn
or one REPL entry. It is created once, handed to every compiled piece that runs in it, and
holds:

- ``env``: the variables (deal, client, project, constants, system; see ``scopes``);
- ``limits``: the bounds every operator and builtin applies (never the module defaults);
- the budgets, shared by everything in the run: ``steps`` (statements and calls), a
  wall-clock ``deadline``, ``allocated`` (size units built, see ``sizes``) and ``output``
  (what ``print`` showed);
- what a builtin may see of the host: ``telephony``, ``clients`` (other clients' variables),
  ``clock``, ``rng`` and ``client_id``.

Builtins receive the run as their ``ctx`` parameter; ``botlang.CallContext`` is this class.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NoReturn, Protocol

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.scopes import Environment
from botlang.core.runtime.sizes import TooDeep, size_of

_monotonic = time.monotonic
_new = object.__new__


def fail(message: str, p: int | None = None, *, limit: bool = False) -> NoReturn:
    """Raise a ScriptError (or LimitExceeded) located at the node of position index ``p``.

    Compiled code maps ``p`` to the operator's line and column; without it the error is
    located at the statement that was running.
    """
    error = (LimitExceeded if limit else ScriptError)(message)
    if p is not None and p >= 0:
        error.node_index = p  # type: ignore[attr-defined]
    raise error


class ClientAccess(Protocol):
    """Explicit access to other clients' variables (``get_client_var``/``set_client_var``)."""

    def get_client_var(self, client_id: str, name: str) -> Any: ...

    def set_client_var(self, client_id: str, name: str, value: Any) -> None: ...


class Run(Environment):
    """One execution: its variables (it is their :class:`Environment`), limits, budgets and
    what builtins see of the host.

    ``Run(deal, client=..., project=..., constants=..., system=..., limits=...,
    telephony=..., clients=..., clock=..., rng=..., client_id=...)`` for a flow turn or the
    REPL; ``Run(limits=...)`` for an empty one; :meth:`over` for ``botlang.run``.

    Creating a run is part of every ``botlang.run``, so it sets only what differs from the
    class defaults below (budgets start at zero, no telephony, no other clients); what it
    always sets lives in slots, the rest in an instance dict made only when first needed.
    """

    __slots__ = ("deadline", "steps")

    telephony: Any = None  # a botlang.telephony.Telephony, or None
    clients: ClientAccess | None = None
    client_id: str | None = None
    clock: Callable[[], datetime] = staticmethod(datetime.now)
    _rng: random.Random | None = None
    _output: list[str] | None = None
    _borrowed = False  # the variables are a caller's mapping, read only (evaluate, render)
    allocated = 0
    output_chars = 0

    def __init__(
        self,
        deal: dict[str, Any] | None = None,
        *,
        client: dict[str, Any] | None = None,
        project: dict[str, Any] | None = None,
        constants: Mapping[str, Any] | None = None,
        system: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        telephony: Any = None,
        clients: ClientAccess | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] | None = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(
            deal, client=client, project=project, constants=constants, system=system, limits=limits
        )
        self.steps = 0
        if telephony is not None:
            self.telephony = telephony
        if clients is not None:
            self.clients = clients
        if rng is not None:
            self._rng = rng
        if clock is not None:
            self.clock = clock
        if client_id is not None:
            self.client_id = client_id
        self.deadline = _monotonic() + limits.max_run_seconds

    @classmethod
    def over(  # type: ignore[override]
        cls, deal: dict[str, Any], limits: Limits, telephony: Any = None, steps: int = 0
    ) -> Run:
        """A run whose only variables are ``deal`` (owned by the run from now on), with
        ``steps`` already counted.

        The path of ``botlang.run``/``Program.run``: one object, one dict read directly by
        the compiled code, no merged view and nothing else built.
        """
        run = _new(cls)
        run.deal = run.view = deal
        run.limits = limits
        if telephony is not None:
            run.telephony = telephony
        run.steps = steps
        run.deadline = _monotonic() + limits.max_run_seconds
        return run

    def use_deal(self, deal: dict[str, Any], *, borrowed: bool = False) -> None:
        """Make ``deal`` the run's only variables (a context handed to ``Program.run``);
        ``borrowed``: the caller's mapping, which the run only reads."""
        self.deal = self.view = deal
        self._scopes = None
        self._borrowed = borrowed
        self.__dict__.pop("constants", None)
        self.__dict__.pop("system", None)

    def borrow(self) -> Run:
        """Mark the variables as the caller's, read only; returns the run."""
        self._borrowed = True
        return self

    @property
    def env(self) -> Run | None:
        """The running script's variables, for builtins that set some (``unpack_list``):
        the run itself, an Environment; None when the run only reads a caller's mapping."""
        return None if self._borrowed else self

    @property
    def output(self) -> list[str]:
        """The lines ``print`` showed in this run."""
        if self._output is None:
            self._output = []
        return self._output

    @property
    def rng(self) -> random.Random:
        """The run's random generator (seedable: pass ``rng=random.Random(seed)``)."""
        if self._rng is None:
            self._rng = random.Random()
        return self._rng

    # -- budgets -----------------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        """Whether the step budget is spent or the deadline has passed."""
        return self.steps >= self.limits.max_steps or _monotonic() > self.deadline

    def check_deadline(self, p: int | None = None) -> None:
        """Raise LimitExceeded once the run's wall-clock deadline has passed."""
        if _monotonic() > self.deadline:
            fail(
                f"the run took longer than its {self.limits.max_run_seconds:g} s limit",
                p,
                limit=True,
            )

    def seconds_left(self) -> float:
        """Time left before the deadline (for searches that take a timeout)."""
        return self.deadline - _monotonic()

    def charge(self, units: int, p: int | None = None) -> None:
        """Count ``units`` of newly built values against the run's allocation budget.

        Also where long work notices the deadline: everything that builds something big
        passes here.
        """
        self.allocated += units
        if self.allocated > self.limits.max_run_allocation:
            fail(
                f"the run built more than {self.limits.max_run_allocation:,} characters and "
                "items in all; work on smaller values",
                p,
                limit=True,
            )
        if _monotonic() > self.deadline:
            self.check_deadline(p)

    def measure(self, value: Any, p: int | None = None, what: str = "value") -> int:
        """The size of a value being built (see ``sizes``), refused over the value limits."""
        limits = self.limits
        try:
            size = size_of(value, limits.max_value_size, limits.max_value_depth)
        except TooDeep:
            fail(
                f"{what} nests lists and dicts more than {limits.max_value_depth} levels deep",
                p,
                limit=True,
            )
        if size > limits.max_value_size:
            fail(
                f"{what} would be over {limits.max_value_size:,} characters as JSON "
                "(shared rows count every time they appear)",
                p,
                limit=True,
            )
        return size

    def built(self, value: Any, p: int | None = None, what: str = "value") -> Any:
        """Measure and charge a newly built list or dict; returns it."""
        self.charge(self.measure(value, p, what), p)
        return value

    def text_built(self, text: str, p: int | None = None, what: str = "text") -> str:
        """Check and charge a newly built text; returns it."""
        limit = self.limits.max_string_chars
        if len(text) > limit:
            fail(
                f"{what} too long ({len(text):,} characters; the limit is {limit:,})",
                p,
                limit=True,
            )
        self.charge(len(text), p)
        return text

    def show(self, text: str) -> None:
        """Add a line to what ``print`` showed in this run, within the output limit."""
        limit = self.limits.max_output_chars
        self.output_chars += len(text)
        if self.output_chars > limit:
            fail(f"print() showed more than {limit:,} characters in this run", limit=True)
        self.output.append(text)
