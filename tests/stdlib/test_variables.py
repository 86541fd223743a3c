"""get_client_var / set_client_var: the only cross-client access, through the client store."""

from __future__ import annotations

from typing import Any

import pytest

from botlang import LimitExceeded, ScriptError

from .support import error_of, run


class UnknownClient(ScriptError):
    pass


class FakeClients:
    """A client store with two clients, recording every access."""

    def __init__(self) -> None:
        self.vars: dict[str, dict[str, Any]] = {"101": {"balance": 500}, "202": {}}
        self.calls: list[tuple[Any, ...]] = []

    def get_client_var(self, client_id: str, name: str) -> Any:
        self.calls.append(("get", client_id, name))
        if client_id not in self.vars:
            raise UnknownClient(f"no client with id {client_id!r}")
        return self.vars[client_id].get(name)

    def set_client_var(self, client_id: str, name: str, value: Any) -> None:
        self.calls.append(("set", client_id, name, value))
        if client_id not in self.vars:
            raise UnknownClient(f"no client with id {client_id!r}")
        if isinstance(value, str) and len(value) > 10:
            raise LimitExceeded(f"value of '{name}' is {len(value)} characters long")
        self.vars[client_id][name] = value


def test_reading_and_writing_another_clients_variables() -> None:
    clients = FakeClients()
    source = "\n".join(
        [
            "b = get_client_var(101, 'balance')",
            "set_client_var('202', 'bonus', b + 100)",
            "missing = get_client_var(101, 'nothing')",
        ]
    )
    result = run(source, clients=clients)
    assert result["b"] == 500
    assert result["missing"] is None
    assert clients.vars["202"] == {"bonus": 600}
    assert clients.calls[0] == ("get", "101", "balance")


def test_set_client_var_returns_none() -> None:
    assert run("r = set_client_var(101, 'x', 1)", clients=FakeClients())["r"] is None


def test_without_a_client_store_the_error_says_so() -> None:
    for expr in ("get_client_var(101, 'a')", "set_client_var(101, 'a', 1)"):
        error = error_of(expr)
        name = expr.split("(")[0]
        assert error.message.startswith(f"{name}(): no client store is attached to this run")


@pytest.mark.parametrize(
    ("expr", "fragment", "kind"),
    [
        ("get_client_var(999, 'a')", "get_client_var(): no client with id '999'", ScriptError),
        ("set_client_var(999, 'a', 1)", "set_client_var(): no client with id '999'", ScriptError),
        (
            "get_client_var('', 'a')",
            "get_client_var(): parameter 'client_id' is empty",
            ScriptError,
        ),
        ("set_client_var(101, ' ', 1)", "set_client_var(): parameter 'name' is empty", ScriptError),
        (
            "set_client_var(101, 'a', 'far too long a value')",
            "set_client_var(): value of 'a' is 20 characters long",
            LimitExceeded,
        ),
    ],
)
def test_store_errors_name_the_function(expr: str, fragment: str, kind: type) -> None:
    error = error_of(expr, clients=FakeClients(), kind=kind)
    assert fragment in error.message


def test_works_with_the_memory_store() -> None:
    memory = pytest.importorskip("botlang.store.memory")
    store = memory.MemoryStore()
    try:
        client = store.create_client(client_type=1, phone="79004443322")
    except TypeError:
        pytest.skip("the memory store's create_client has another signature")
    run(f"set_client_var('{client.client_id}', 'city', 'Казань')", clients=store)
    result = run(f"c = get_client_var('{client.client_id}', 'city')", clients=store)
    assert result["c"] == "Казань"
    error = error_of("get_client_var('no-such-client', 'city')", clients=store)
    assert error.message.startswith("get_client_var(): ")
