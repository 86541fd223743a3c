"""The command line: run, eval, check (as a user runs them, in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def botlang(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "botlang", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_run_prints_variables_as_json(tmp_path: Path) -> None:
    script = tmp_path / "visits.calc"
    script.write_text("visits = visits + 1\nclient.city = 'Omsk'\ngreeting = 'Hi ' + city\n")
    done = botlang("run", str(script), "--set", "visits=41", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"visits": 42, "city": "Omsk", "greeting": "Hi Omsk"}


def test_run_plain_output(tmp_path: Path) -> None:
    script = tmp_path / "s.calc"
    script.write_text("a = 1\nb = 'x'\n")
    done = botlang("run", str(script))
    assert done.stdout.splitlines() == ["a = 1", 'b = "x"']


def test_run_reports_error_with_caret(tmp_path: Path) -> None:
    script = tmp_path / "bad.calc"
    script.write_text("a = 1\nb = a / 0\n")
    done = botlang("run", str(script))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{script}:2:7: division by zero",
        "    b = a / 0",
        "          ^",
    ]


def test_run_missing_file() -> None:
    done = botlang("run", "no/such/file.calc")
    assert done.returncode == 1
    assert "cannot read" in done.stderr


def test_eval() -> None:
    assert botlang("eval", "2 + 2").stdout.strip() == "4"
    assert botlang("eval", "x * 2", "--set", "x=21").stdout.strip() == "42"
    assert botlang("eval", "[1, 'a']", "--json").stdout.strip() == '[1, "a"]'
    done = botlang("eval", "1 +")
    assert done.returncode == 1
    assert done.stderr.startswith("<eval>:1:4:")


def test_check_broken_file_prints_location_and_exits_1(tmp_path: Path) -> None:
    script = tmp_path / "broken.calc"
    script.write_text("a = 1\nb = (a + \nc = lenn(a)\nclient_id = 3\nd = Первичное жилье\n")
    done = botlang("check", str(script))
    assert done.returncode == 1
    err = done.stderr
    assert f"{script}:2:5: error: '(' is never closed with ')'" in err
    assert "    b = (a + " in err


def test_check_reports_every_statement(tmp_path: Path) -> None:
    script = tmp_path / "many.calc"
    script.write_text("c = lenn(a)\nclient_id = 3\nd = Первичное жилье\ne = len(1, 2)\n")
    done = botlang("check", str(script), "--format", "json")
    assert done.returncode == 1
    found = [(d["line"], d["column"], d["severity"], d["code"]) for d in json.loads(done.stdout)]
    assert found == [
        (1, 5, "error", "unknown-function"),
        (2, 1, "error", "read-only"),
        (3, 5, "warning", "literal-text"),
        (4, 5, "error", "arity"),
    ]


def test_check_clean_file(tmp_path: Path) -> None:
    script = tmp_path / "ok.calc"
    script.write_text("a = 1\n")
    done = botlang("check", str(script))
    assert done.returncode == 0
    assert done.stderr == ""
