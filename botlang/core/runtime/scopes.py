"""Variable scopes: deal → client → project → constants, plus read-only system variables.

Reads never name a scope: a name is looked up in the deal, then the client, the project and
the constants. Assignments go to the deal unless prefixed with ``client.``/``клиент.`` or
``project.``/``проект.``. System variables (``client_id``, ``current_date``, ...) are set by
the runtime and cannot be assigned; constants can be shadowed by a deal variable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botlang.core.errors import LimitExceeded, ScriptError
from botlang.core.limits import DEFAULT_LIMITS, Limits
from botlang.core.runtime.values import SCRIPT_TYPES

SCOPES = ("deal", "client", "project")
SCOPE_WORDS = {"client": "client", "клиент": "client", "project": "project", "проект": "project"}

# Set by the runtime, read-only for scripts (the flow session fills them in).
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
# System variables a script may also assign (Salebot's writable service variables).
WRITABLE_SYSTEM_VARIABLES = frozenset({"phone"})


def check_name(name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise LimitExceeded when a variable name is too long."""
    if len(name) > limits.max_variable_name_chars:
        raise LimitExceeded(
            f"variable name is {len(name)} characters long; the limit is "
            f"{limits.max_variable_name_chars}"
        )


def check_value(name: str, value: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise when a value is not a script value or is too large to store."""
    kind = type(value)
    if kind not in SCRIPT_TYPES:
        raise ScriptError(f"'{name}' cannot hold a value of type {kind.__name__}")
    if kind is str:
        size = len(value)
    elif kind is list or kind is dict:
        if len(value) > limits.max_collection_items:
            size = limits.max_value_chars + 1
        else:
            size = len(json.dumps(value, ensure_ascii=False, default=str))
    else:
        return
    if size > limits.max_value_chars:
        raise LimitExceeded(
            f"value of '{name}' is {size:,} characters long; the limit is "
            f"{limits.max_value_chars:,}"
        )


class Environment:
    """The variables one run sees. ``view`` is the merged read view, kept in step on writes."""

    __slots__ = ("constants", "deal", "limits", "scopes", "system", "view")

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
        self.scopes: dict[str, dict[str, Any]] = {
            "deal": deal if deal is not None else {},
            "client": client if client is not None else {},
            "project": project if project is not None else {},
        }
        self.deal = self.scopes["deal"]
        self.constants: Mapping[str, Any] = constants or {}
        self.system: Mapping[str, Any] = system or {}
        self.limits = limits
        view: dict[str, Any] = dict(self.constants)
        for layer in (self.scopes["project"], self.scopes["client"], self.deal, self.system):
            if layer:
                view.update(layer)
        self.view = view

    def lookup(self, name: str) -> Any:
        return self.view.get(name)

    def _visible(self, name: str) -> Any:
        for scope in ("deal", "client", "project"):
            values = self.scopes[scope]
            if name in values:
                return True, values[name]
        if name in self.constants:
            return True, self.constants[name]
        return False, None

    def _shadowed(self, scope: str, name: str) -> bool:
        """True when a scope that wins the lookup over ``scope`` already holds ``name``."""
        order = SCOPES.index(scope)
        return any(name in self.scopes[s] for s in SCOPES[:order])

    def assign(self, scope: str, name: str, value: Any) -> None:
        """Set ``name`` in ``scope`` ('deal', 'client' or 'project'), enforcing the limits."""
        if name in self.system and name not in WRITABLE_SYSTEM_VARIABLES:
            raise ScriptError(f"'{name}' is a system variable and cannot be assigned")
        target = self.scopes[scope]
        if len(name) > self.limits.max_variable_name_chars:
            check_name(name, self.limits)
        if name not in target and len(target) >= self.limits.max_variables_per_scope:
            raise LimitExceeded(
                f"too many {scope} variables (the limit is "
                f"{self.limits.max_variables_per_scope:,}); cannot add '{name}'"
            )
        check_value(name, value, self.limits)
        target[name] = value
        if not self._shadowed(scope, name):
            self.view[name] = value

    def assign_deal(self, name: str, value: Any) -> None:
        """``name = value``: :meth:`assign` to the deal scope, on the path every script takes.

        The deal scope wins every lookup, so the read view always shows the new value.
        """
        deal = self.deal
        limits = self.limits
        if name in self.system or len(name) > limits.max_variable_name_chars:
            self.assign("deal", name, value)
            return
        if name not in deal and len(deal) >= limits.max_variables_per_scope:
            self.assign("deal", name, value)
            return
        kind = type(value)
        if kind is str:
            if len(value) > limits.max_value_chars:
                check_value(name, value, limits)
        elif kind is not int and kind is not float and kind is not bool and value is not None:
            check_value(name, value, limits)
        deal[name] = value
        self.view[name] = value

    def delete(self, scope: str, name: str) -> None:
        """Remove ``name`` from ``scope``; the next scope in lookup order shows through."""
        if name in self.system:
            raise ScriptError(f"'{name}' is a system variable and cannot be deleted")
        target = self.scopes[scope]
        if name not in target:
            raise ScriptError(f"variable '{name}' is not set")
        del target[name]
        found, value = self._visible(name)
        if found:
            self.view[name] = value
        else:
            self.view.pop(name, None)

    def flattened(self) -> dict[str, Any]:
        """Every visible variable, scopes merged by lookup order (system variables left out)."""
        merged: dict[str, Any] = dict(self.constants)
        merged.update(self.scopes["project"])
        merged.update(self.scopes["client"])
        merged.update(self.scopes["deal"])
        return merged
