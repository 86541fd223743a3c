"""The library is reachable from the command line: ``botlang eval``, ``botlang run`` and
``botlang help``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from botlang import cli


def botlang(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "botlang", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        cwd=cwd,
    )


def test_eval_calls_library_functions() -> None:
    done = botlang("eval", 'addDays("10.10.2021", 5)')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "15.10.2021"


def test_eval_with_variables_and_json_output() -> None:
    done = botlang(
        "eval", "remove_duplicates(splitter(tags, ','))", "--set", "tags=a,b,a", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["a", "b"]


def test_run_a_script_using_several_modules(tmp_path: Path) -> None:
    script = tmp_path / "order.calc"
    script.write_text(
        "\n".join(
            [
                "phone = normalizePhone('8 (900) 444-33-22')",
                "prices = [100, '250.50', 99]",
                "total = round(sum_array(prices), 1)",
                "top = sort(prices, True)[0]",
                "due = addMonth('31.01.2021', 1)",
                "code = findall('\\\\d+', 'заказ №4521', 0)",
            ]
        ),
        encoding="utf-8",
    )
    done = botlang("run", str(script), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "phone": "79004443322",
        "prices": [100, "250.50", 99],
        "total": 449.5,
        "top": "250.50",
        "due": "28.02.2021",
        "code": "4521",
    }


def test_run_reports_a_library_error_with_its_location(tmp_path: Path) -> None:
    script = tmp_path / "bad.calc"
    script.write_text("a = 1\nb = addDays('2021-10-10', 1)\n", encoding="utf-8")
    done = botlang("run", str(script))
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"{script}:2:5: addDays(): parameter 'date' must be a date")


def test_help_verb_when_wired_into_the_command_line() -> None:
    if "botlang.tools.reference" not in cli.VERB_MODULES:
        pytest.skip("the help verb is not registered in botlang.cli.VERB_MODULES yet")
    done = botlang("help", "findall")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("findall(pattern: str, text: str, index: int = None)")
