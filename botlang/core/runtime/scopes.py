"""Variable scopes: deal → client → project → constants, plus the system variables.

Reads never name a scope: a name is looked up in the deal, then the client, the project and
the constants. Assignments go to the deal unless prefixed with ``client.``/``клиент.`` or
``project.``/``проект.``. System variables (``client_id``, ``current_date``, ...) are set by
the runtime; every one but the writable service variables (``phone``) is read-only in every
entry point, whatever the scope prefix, and even when the host passed it in as an ordinary
variable (``botlang.run("client_id = 1", {"client_id": 7})`` is refused). Constants can be
shadowed by a deal variable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.sizes import TooDeep, size_of
from botlang.core.runtime.values import SCRIPT_TYPES, int_too_large, to_json_ready

SCOPES = ("deal", "client", "project")
SCOPE_WORDS = {"client": "client", "клиент": "client", "project": "project", "проект": "project"}

# The one list of system variables: set by the runtime (the flow session fills them in).
SYSTEM_VARIABLES = (
    "client_id",
    "platform_id",
    "client_type",
    "name",
    "question",
    "current_date",
    "current_time",
    "weekday",
    "timestamp",
    "message_id",
    "message_from_outside",
    "phone",
    "next_day",
)
# Service variables a script may assign (Salebot: a request-phone button or a data-entry
# arrow stores the client's phone); an assigned value wins over the runtime's.
WRITABLE_SYSTEM_VARIABLES = frozenset({"phone"})
READ_ONLY_VARIABLES = frozenset(SYSTEM_VARIABLES) - WRITABLE_SYSTEM_VARIABLES


def check_name(name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise LimitExceeded when a variable name is too long."""
    if len(name) > limits.max_variable_name_chars:
        raise LimitExceeded(
            f"variable name is {len(name)} characters long; the limit is "
            f"{limits.max_variable_name_chars}"
        )


def check_value(name: str, value: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise when a value is not a script value or is too large to store.

    The size is the value's JSON text as the store keeps it; it is measured on the
    structure first, so a value built of shared rows is refused before any text is made.
    """
    kind = type(value)
    if kind not in SCRIPT_TYPES:
        raise ScriptError(f"'{name}' cannot hold a value of type {kind.__name__}")
    cap = limits.max_value_chars
    if kind is str:
        size = len(value)
    elif kind is list or kind is dict:
        try:
            size = size_of(value, cap, limits.max_value_depth)
        except TooDeep:
            raise LimitExceeded(
                f"value of '{name}' nests lists and dicts more than "
                f"{limits.max_value_depth} levels deep"
            ) from None
        if size <= cap:
            size = len(json.dumps(to_json_ready(value), ensure_ascii=False, separators=(",", ":")))
    elif kind is int:
        if int_too_large(value, limits):
            raise LimitExceeded(f"'{name}' would hold a number over {limits.max_int_digits} digits")
        return
    else:
        return
    if size > cap:
        raise LimitExceeded(f"value of '{name}' is {size:,} characters long; the limit is {cap:,}")


def read_only_error(name: str, verb: str = "assigned") -> ScriptError:
    return ScriptError(f"'{name}' is a system variable and cannot be {verb}")


_NONE: Mapping[str, Any] = MappingProxyType({})


class Environment:
    """The variables one run sees.

    ``view`` is what compiled code reads names from: a merged dict kept in step on writes
    (constants, writable service variables, project, client, deal, then the read-only
    system variables, each winning over the ones before). A run made by ``Run.over`` has
    only deal variables (``botlang.run``, ``Program.run``): there the view *is* the deal
    dict, so nothing is merged and a write lands once. The view dict is never
    replaced during a run (compiled code holds its ``get``).
    """

    __slots__ = ("__dict__", "deal", "limits", "view")

    constants: Mapping[str, Any] = _NONE
    system: Mapping[str, Any] = _NONE
    _scopes: dict[str, dict[str, Any]] | None = None

    def __init__(
        self,
        deal: dict[str, Any] | None = None,
        *,
        client: dict[str, Any] | None = None,
        project: dict[str, Any] | None = None,
        constants: Mapping[str, Any] | None = None,
        system: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.deal = deal if deal is not None else {}
        self._scopes = {
            "deal": self.deal,
            "client": client if client is not None else {},
            "project": project if project is not None else {},
        }
        if constants:
            self.constants = constants
        if system:
            self.system = system
        self.limits = limits
        self.view = self._merged()

    @property
    def scopes(self) -> dict[str, dict[str, Any]]:
        """Scope name → its variables (made on first use: most runs only touch the deal)."""
        scopes = self._scopes
        if scopes is None:
            scopes = self._scopes = {"deal": self.deal, "client": {}, "project": {}}
        return scopes

    def _merged(self) -> dict[str, Any]:
        scopes, system = self.scopes, self.system
        view: dict[str, Any] = dict(self.constants)
        writable = [n for n in WRITABLE_SYSTEM_VARIABLES if n in system]
        for name in writable:
            view[name] = system[name]
        for layer in (scopes["project"], scopes["client"], self.deal):
            if layer:
                view.update(layer)
        if system:
            view.update(system)
            for name in writable:
                found, value = self._visible(name)
                if found:
                    view[name] = value
        return view

    def _detach_view(self) -> dict[str, Any]:
        """The view, made a dict of its own before a write outside the deal scope (the deal,
        owned by the environment, moves to a copy; the view object stays)."""
        if self.view is self.deal:
            self.deal = self.scopes["deal"] = dict(self.view)
        return self.view

    def lookup(self, name: str) -> Any:
        return self.view.get(name)

    def _visible(self, name: str) -> tuple[bool, Any]:
        for scope in SCOPES:
            values = self.scopes[scope]
            if name in values:
                return True, values[name]
        if name in WRITABLE_SYSTEM_VARIABLES and name in self.system:
            return True, self.system[name]
        if name in self.constants:
            return True, self.constants[name]
        return False, None

    def _shadowed(self, scope: str, name: str) -> bool:
        """True when a scope that wins the lookup over ``scope`` already holds ``name``."""
        order = SCOPES.index(scope)
        return any(name in self.scopes[s] for s in SCOPES[:order])

    def read_only(self, name: str) -> bool:
        """Whether scripts may not assign or delete ``name`` (a system variable)."""
        if name in READ_ONLY_VARIABLES:
            return True
        return name in self.system and name not in WRITABLE_SYSTEM_VARIABLES

    def assign(self, scope: str, name: str, value: Any) -> None:
        """Set ``name`` in ``scope`` ('deal', 'client' or 'project'), enforcing the limits."""
        if self.read_only(name):
            raise read_only_error(name)
        target = self.scopes[scope]
        if len(name) > self.limits.max_variable_name_chars:
            check_name(name, self.limits)
        if name not in target and len(target) >= self.limits.max_variables_per_scope:
            raise LimitExceeded(
                f"too many {scope} variables (the limit is "
                f"{self.limits.max_variables_per_scope:,}); cannot add '{name}'"
            )
        check_value(name, value, self.limits)
        view = self.view if scope == "deal" else self._detach_view()
        target[name] = value
        if not self._shadowed(scope, name):
            view[name] = value

    def assign_deal(self, name: str, value: Any) -> None:
        """``name = value``: :meth:`assign` to the deal scope, on the path every script takes.

        The deal scope wins every lookup, so the read view always shows the new value.
        """
        deal = self.deal
        limits = self.limits
        if (
            name in READ_ONLY_VARIABLES
            or name in self.system
            or len(name) > limits.max_variable_name_chars
            or (name not in deal and len(deal) >= limits.max_variables_per_scope)
        ):
            self.assign("deal", name, value)
            return
        kind = type(value)
        if kind is str:
            if len(value) > limits.max_value_chars:
                check_value(name, value, limits)
        elif kind is not int and kind is not float and kind is not bool and value is not None:
            check_value(name, value, limits)
        deal[name] = value
        view = self.view
        if view is not deal:
            view[name] = value

    def delete(self, scope: str, name: str) -> None:
        """Remove ``name`` from ``scope``; the next scope in lookup order shows through."""
        if self.read_only(name):
            raise read_only_error(name, "deleted")
        target = self.scopes[scope]
        if name not in target:
            raise ScriptError(f"variable '{name}' is not set")
        view = self.view if scope == "deal" else self._detach_view()
        del target[name]
        found, value = self._visible(name)
        if found:
            view[name] = value
        else:
            view.pop(name, None)

    def flattened(self) -> dict[str, Any]:
        """Every visible variable, scopes merged by lookup order (system variables left out)."""
        merged: dict[str, Any] = dict(self.constants)
        merged.update(self.scopes["project"])
        merged.update(self.scopes["client"])
        merged.update(self.scopes["deal"])
        return merged
