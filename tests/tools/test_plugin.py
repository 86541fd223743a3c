"""The pytest plugin: ``pytest`` collects ``.bottest`` files and offers ``bot``/``telephony``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"

PYTHON_TEST = """
def test_busy_group(bot, telephony):
    chat = bot("greeter.bot", phone="79004443322")
    chat.say("привет")
    telephony.set_result("busy")
    turn = chat.say("позвоните")
    assert turn.texts == ["Звоним вам."]
    assert telephony.group_calls[0].group == "12345"
    assert telephony.group_calls[0].result.result == 1121
    assert chat.event("busy").texts == ["Все заняты, перезвоним позже."]
    assert chat.block == "sorry"
    assert chat.get("visits", "client") == 1
"""


def run_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rN", str(folder)],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
    )


def test_pytest_runs_bot_tests_next_to_python_tests(tmp_path: Path) -> None:
    shutil.copy(DATA / "failing" / "greeter.bot", tmp_path)
    shutil.copy(DATA / "failing" / "greeter.bottest", tmp_path)
    (tmp_path / "test_greeter.py").write_text(PYTHON_TEST, encoding="utf-8")
    done = run_pytest(tmp_path)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert out.rstrip().splitlines()[-1].startswith("2 failed, 2 passed")
    assert "bot test: counts visits" in out
    assert "greeter.bottest:12: in test 'counts visits': the bot's answers differ" in out
    assert "    line 13 - | Это ваш визит №3.\n            + | Это ваш визит №2." in out


def test_a_malformed_bot_test_is_a_collection_error(tmp_path: Path) -> None:
    shutil.copy(DATA / "failing" / "greeter.bot", tmp_path)
    (tmp_path / "greeter.bottest").write_text("test: x\n  > hi\n  expext x = 1\n", encoding="utf-8")
    done = run_pytest(tmp_path)
    assert done.returncode != 0
    assert "greeter.bottest:3:3: unknown step 'expext'; did you mean 'expect'?" in done.stdout
