"""Variables of other clients: the only way a script reaches beyond its own client.

Both functions go through the run's client store (the bot's variable store), which checks
that the client exists and that the value fits the limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botlang.core.builtins import CallContext, ClientAccess, builtin
from botlang.core.errors import BotlangError, LimitExceeded, ScriptError
from botlang.core.runtime import values


def _clients(ctx: CallContext, name: str) -> ClientAccess:
    if ctx.clients is None:
        raise ScriptError(
            f"{name}(): no client store is attached to this run; other clients' variables "
            "are reachable only when the script runs in a bot (botlang serve, botlang repl)"
        )
    return ctx.clients


def _required(name: str, param: str, text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ScriptError(f"{name}(): parameter '{param}' is empty")
    return stripped


def _through_store(name: str, action: Callable[[], Any]) -> Any:
    """Run a store call; its errors (unknown client, value too large) name the function."""
    try:
        return action()
    except BotlangError as err:
        if err.message.startswith(f"{name}():"):
            raise
        kind = LimitExceeded if isinstance(err, LimitExceeded) else ScriptError
        raise kind(f"{name}(): {err.message}") from err


@builtin("get_client_var")
def get_client_var(ctx: CallContext, client_id: str, name: str) -> Any:
    """The client variable ``name`` of client ``client_id`` (None when it is not set)."""
    clients = _clients(ctx, "get_client_var")
    who = _required("get_client_var", "client_id", client_id)
    var = _required("get_client_var", "name", name)
    return _through_store("get_client_var", lambda: clients.get_client_var(who, var))


@builtin("set_client_var")
def set_client_var(ctx: CallContext, client_id: str, name: str, value: Any) -> None:
    """Set the client variable ``name`` of client ``client_id`` to the value; returns None."""
    clients = _clients(ctx, "set_client_var")
    who = _required("set_client_var", "client_id", client_id)
    var = _required("set_client_var", "name", name)
    _through_store("set_client_var", lambda: clients.set_client_var(who, var, value))


@builtin("get_client_vars")
def get_client_vars(ctx: CallContext, client_id: str, names: list) -> dict[str, Any]:
    """Several client variables of client ``client_id`` as a dict name → value (None when unset)."""
    clients = _clients(ctx, "get_client_vars")
    who = _required("get_client_vars", "client_id", client_id)
    wanted = [_required("get_client_vars", "names", values.to_text(n)) for n in names]
    return {
        name: _through_store("get_client_vars", lambda n=name: clients.get_client_var(who, n))
        for name in wanted
    }


@builtin("set_client_vars")
def set_client_vars(ctx: CallContext, client_id: str, variables: dict) -> None:
    """Set several client variables of client ``client_id`` from a dict (or its JSON text)."""
    clients = _clients(ctx, "set_client_vars")
    who = _required("set_client_vars", "client_id", client_id)
    for name, value in variables.items():
        var = _required("set_client_vars", "variables", name)
        _through_store("set_client_vars", lambda v=var, x=value: clients.set_client_var(who, v, x))
