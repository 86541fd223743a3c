"""``botlang check``: each kind of mistake in a corpus of broken files, with exact positions."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from botlang.tools.checker import check_path, check_source, run_check

DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# file -> every finding as (line, column, severity, code)
EXPECTED: dict[str, list[tuple[int, int, str, str]]] = {
    "syntax.calc": [(2, 9, "error", "syntax")],
    "unknown_function.calc": [(2, 8, "error", "unknown-function")],
    "arity.calc": [(2, 5, "error", "arity")],
    "read_only.calc": [(1, 1, "error", "read-only")],
    "literal_text.calc": [(1, 12, "warning", "literal-text")],
    "flow_syntax.bot": [(3, 21, "error", "syntax")],
    "unknown_block.bot": [(3, 6, "error", "unknown-block"), (6, 7, "warning", "unreachable")],
    "unreachable.bot": [(4, 7, "warning", "unreachable")],
    "condition_arity.bot": [(4, 9, "error", "arity"), (6, 7, "warning", "unreachable")],
    "message_function.bot": [(2, 22, "error", "unknown-function")],
    "call_loop.bot": [(14, 3, "warning", "call-loop")],
    "unset_variable.bot": [(4, 27, "warning", "unset-variable")],
    "test_format.bottest": [(5, 3, "error", "test-format")],
    "test_block.bottest": [(4, 9, "error", "unknown-block")],
}


def findings(path: Path) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.column, d.severity, d.code) for d in check_path(str(path))]


def test_every_broken_file_has_its_expectation() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file(name: str) -> None:
    assert findings(BROKEN / name) == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("unknown_function.calc", "unknown function 'lenght'; did you mean len()?"),
        ("arity.calc", "round() takes 1 to 2 arguments, got 0 (missing 'x')"),
        ("read_only.calc", "'client_id' is a system variable and is read-only"),
        ("literal_text.calc", "stored as the text 'Первичное жилье'; put it in quotes"),
        ("unknown_block.bot", "'menue'; did you mean 'menu'?"),
        ("message_function.bot", "did you mean upper()?"),
        ("call_loop.bot", "block 'call' calls mango_group_call() and a callback arrow"),
        ("unset_variable.bot", "'client_name' is read but never set in this flow"),
        ("test_format.bottest", "unknown step 'expext'; did you mean 'expect'?"),
        ("test_block.bottest", "no block 'ophan'; did you mean 'orphan'?"),
    ],
)
def test_messages_say_what_is_wrong(name: str, words: str) -> None:
    first = check_path(str(BROKEN / name))[0]
    assert words in first.message


def test_text_output_shows_the_line_and_a_caret() -> None:
    shown = check_path(str(BROKEN / "unknown_function.calc"))[0].format()
    assert shown.splitlines() == [
        f"{BROKEN / 'unknown_function.calc'}:2:8: error: unknown function 'lenght'; "
        "did you mean len()?",
        "    size = lenght(word)",
        "           ^",
    ]


def test_json_output_for_editors_and_ci() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = run_check(
        [str(BROKEN / "call_loop.bot"), str(BROKEN / "arity.calc")], "json", out=out, err=err
    )
    assert status == 1
    items = json.loads(out.getvalue())
    assert [sorted(item) for item in items] == [
        ["code", "column", "file", "line", "message", "severity"]
    ] * 2
    assert [(i["code"], i["line"], i["column"]) for i in items] == [
        ("call-loop", 14, 3),
        ("arity", 2, 5),
    ]


def test_warnings_alone_exit_zero() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_check([str(BROKEN / "unreachable.bot")], out=out, err=err) == 0
    assert "unreachable" in out.getvalue()
    assert "0 error(s), 1 warning(s)" in err.getvalue()


def test_a_directory_is_searched_and_the_examples_are_clean() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_check([str(EXAMPLES)], out=out, err=err) == 0
    assert out.getvalue() == err.getvalue() == ""


def test_a_missing_file_is_one_error() -> None:
    found = check_path("no/such/file.bot")
    assert [(d.code, d.severity) for d in found] == [("io", "error")]


def check_flow_text(tmp_path: Path, text: str) -> list[tuple[str, int]]:
    path = tmp_path / "flow.bot"
    path.write_text(text, encoding="utf-8")
    return [(d.code, d.line) for d in check_path(str(path))]


CALL_BLOCK = """\
any -> start
  new_client: yes

block start
  message: Напишите «звонок»
  -> call
    contains: звонок

block call
  calculator:
    attempts = attempts + 1
    result = {call}
  message: Звоним
  -> call
    on: callback
    exact: busy
{guard}"""


def test_a_guarded_retry_is_not_a_call_loop(tmp_path: Path) -> None:
    text = CALL_BLOCK.format(
        call='mango_group_call("12345", "74992262961", phone)', guard="    if: attempts < 3\n"
    )
    assert check_flow_text(tmp_path, text) == []


def test_a_call_inside_if_is_guarded(tmp_path: Path) -> None:
    text = CALL_BLOCK.format(
        call='if(attempts < 3, mango_group_call("12345", "74992262961", phone), None)', guard=""
    )
    assert check_flow_text(tmp_path, text) == []


def test_a_loop_through_another_block_is_found(tmp_path: Path) -> None:
    text = """\
any -> start
  new_client: yes
block start
  message: Напишите «звонок»
  -> call
    contains: звонок

block call
  calculator:
    result = mango_employee_call("219", phone)
  -> retry
    on: callback
    exact: no_answer

block retry
  message: Пробуем ещё раз
  -> call
    delay: 0
"""
    path = tmp_path / "flow.bot"
    path.write_text(text, encoding="utf-8")
    (loop,) = check_path(str(path))
    assert (loop.code, loop.line, loop.column) == ("call-loop", 17, 3)
    assert "(call -> retry -> call)" in loop.message


def test_variables_set_by_set_client_var_or_constants_count_as_set(tmp_path: Path) -> None:
    text = """\
constants:
  greeting = "Привет"
any -> start
  new_client: yes

block start
  calculator:
    set_client_var(client_id, "seen", True)
  message: #{greeting}, #{seen} #{current_date}
"""
    assert check_flow_text(tmp_path, text) == []


def test_scripts_report_every_statement() -> None:
    found = check_source("a = lenght(1)\nb = 1 +\nc = 2\n", "s.calc")
    assert [(d.line, d.code) for d in found] == [(1, "unknown-function"), (2, "syntax")]


def test_variables_set_by_call_events_are_not_reported_unset(tmp_path: Path) -> None:
    flow = tmp_path / "calls.bot"
    flow.write_text(
        "block start\n  message: #{call_outcome} #{call_talk_seconds} #{client_name}\n"
        "any -> start\n  new_client: yes\n",
        encoding="utf-8",
    )
    unset = [d.message for d in check_path(str(flow)) if d.code == "unset-variable"]
    assert len(unset) == 1 and "'client_name'" in unset[0]
