"""System variables are read-only in every entry point; ``phone`` is the one writable one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import botlang
from botlang import ScriptError
from botlang.core.runtime.run import Run
from botlang.core.runtime.scopes import (
    READ_ONLY_VARIABLES,
    SYSTEM_VARIABLES,
    WRITABLE_SYSTEM_VARIABLES,
)
from botlang.tools.checker import check_source

from .support import located


def refused(source: str, **variables: object) -> ScriptError:
    error = located(lambda: botlang.run(source, variables), ScriptError)
    assert "system variable" in error.message
    return error


def test_client_id_cannot_be_assigned_through_botlang_run() -> None:
    refused("client_id = 5")


def test_question_cannot_be_assigned_through_botlang_run() -> None:
    refused("question = 'x'")


def test_client_client_id_cannot_be_assigned() -> None:
    refused("client.client_id = 5")


def test_project_scope_cannot_assign_a_system_variable() -> None:
    refused("project.current_date = '01.01.2000'")


def test_del_client_id_is_refused() -> None:
    refused("del client_id", client_id=7)


def test_del_client_scope_system_variable_is_refused() -> None:
    refused("del client.name", name="Ann")


def test_an_item_of_a_system_variable_cannot_be_assigned() -> None:
    refused("question[0] = 'x'", question="abc")


def test_a_system_variable_passed_in_is_readable_but_not_writable() -> None:
    assert botlang.run("x = client_id", {"client_id": 7}) == {"client_id": 7, "x": 7}
    refused("client_id = client_id + 1", client_id=7)


def test_every_read_only_system_variable_is_refused() -> None:
    for name in sorted(READ_ONLY_VARIABLES):
        refused(f"{name} = 1")


def test_phone_is_the_writable_service_variable() -> None:
    assert frozenset({"phone"}) == WRITABLE_SYSTEM_VARIABLES
    assert set(SYSTEM_VARIABLES) - READ_ONLY_VARIABLES == {"phone"}
    assert botlang.run("phone = '79001112233'") == {"phone": "79001112233"}


def test_an_assigned_phone_wins_over_the_runtimes() -> None:
    run = Run(system={"phone": "79000000000", "client_id": "1"})
    botlang.compile("phone = '79001112233'\nseen = phone").execute(run)
    assert run.lookup("seen") == "79001112233"
    with pytest.raises(ScriptError, match="system variable"):
        botlang.compile("client_id = 2").execute(run)


def test_a_host_system_variable_is_read_only_too() -> None:
    run = Run(system={"call_state": "Connected"})
    with pytest.raises(ScriptError, match="system variable"):
        botlang.compile("call_state = 'x'").execute(run)


def test_botlang_run_on_the_command_line_refuses_and_exits_1(tmp_path: Path) -> None:
    script = tmp_path / "s.calc"
    script.write_text("a = 1\nclient_id = 3\n")
    done = subprocess.run(
        [sys.executable, "-m", "botlang", "run", str(script)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert f"{script}:2:1:" in done.stderr and "system variable" in done.stderr


def test_check_and_run_agree_on_read_only_variables() -> None:
    source = "client_id = 3"
    assert [d.code for d in check_source(source)] == ["read-only"]
    refused(source)
    assert check_source("phone = '79001112233'") == []


def test_a_flow_calculator_cannot_assign_question() -> None:
    from botlang.flow import Bot
    from botlang.store import open_store

    source = (
        'bot "b"\n\nany -> start\n  new_client: yes\n\n'
        'block start "s"\n  calculator:\n    x = 1\n  message: #{question}\n'
    )
    store = open_store("memory://")
    client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
    bot = Bot.from_source(source, "b.bot")
    turn = bot.handle_message(store, client.client_id, "hello")
    assert turn.texts == ["hello"]
    run = Run({}, system={"question": "hello"})
    with pytest.raises(ScriptError, match="system variable"):
        botlang.compile("question = 'forged'").execute(run)
