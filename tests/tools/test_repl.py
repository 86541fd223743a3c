"""The REPL driven as a user drives it: lines piped in, and a real terminal (a pty)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from botlang.testing import run_file
from botlang.tools.repl import Repl, highlight, history_path, needs_more, scripted

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALLBACK = EXAMPLES / "callback" / "callback.bot"


def session(*lines: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    status = scripted(Repl(out=out, err=err), [f"{line}\n" for line in lines])
    return out.getvalue(), err.getvalue(), status


def test_statements_values_and_an_error_that_leaves_the_session_alive() -> None:
    out, err, status = session("x = 40", "x + 2", "y = x / 0", "y", "x * 10")
    assert out.splitlines() == ["42", "None", "400"]
    assert err.splitlines() == ["<repl>:1:7: division by zero", "    y = x / 0", "          ^"]
    assert status == 1


def test_a_statement_continues_while_a_bracket_is_open() -> None:
    out, err, status = session(
        "items = [1,", "  2,", "  3]", "arr_len(items)", 'd = {"a":', "1}", 'd["a"]'
    )
    assert (out.splitlines(), err, status) == (["3", "1"], "", 0)


def test_text_values_are_quoted_and_print_shows_once() -> None:
    out, _, _ = session('n = "5"', "n", 'print("n is", n)')
    assert out.splitlines() == ['"5"', "n is 5"]


def test_say_renders_message_text() -> None:
    out, _, _ = session("name_of_pet = 'Барсик'", ":say Привет, #{name_of_pet}! #{2 + 2}")
    assert out.splitlines() == ["Привет, Барсик! 4"]


def test_each_client_has_its_own_variables() -> None:
    out, _, _ = session(
        "client.city = 'Казань'",
        ":client 79001112233",
        "city",
        ":client 79000000001",
        "city",
        ":vars",
    )
    lines = out.splitlines()
    assert lines[:5] == [
        "client 2: phone 79001112233, client_type 6",
        "None",
        "client 1: phone 79000000001, client_type 6",
        '"Казань"',
        "client:",
    ]
    assert '  city = "Казань"' in lines


def test_reset_forgets_the_client() -> None:
    out, _, _ = session("a = 1", ":reset", "a")
    assert out.splitlines()[-1] == "None"


def test_the_literal_text_fallback_warns() -> None:
    out, err, status = session("interest = Первичное жилье", "interest")
    assert out.splitlines() == ['"Первичное жилье"']
    assert err.startswith("warning: right-hand side is not an expression")
    assert status == 0


def test_unknown_commands_suggest() -> None:
    _, err, status = session(":varz")
    assert err.strip() == "unknown command ':varz'; did you mean :vars? (:help lists them)"
    assert status == 1


def test_talking_to_a_bot_with_calls_and_events(tmp_path: Path) -> None:
    out, err, status = session(
        f":load {CALLBACK}",
        ":clock 2024-01-15 12:00",
        "привет",
        "перезвоните",
        "+7 900 444-33-22",
        ":event busy",
        ":calls",
        ":vars callback_phone",
        ":mode calc",
        "call_attempts * 10",
        f":save {tmp_path / 'recorded.bottest'}",
    )
    assert (err, status) == ("", 0)
    lines = out.splitlines()
    assert lines[0].startswith(f"loaded {CALLBACK} (14 blocks)")
    assert "< Здравствуйте! Я бот компании «Окна Плюс»." in lines
    assert (
        "call group 12345 line 74992262961 phone 79004443322 -> accepted  (recorded, not placed)"
        in lines
    )
    assert "< Отдел продаж сейчас занят — вам перезвонит дежурный менеджер." in lines
    assert lines[-5:] == [
        "call group 12345 line 74992262961 phone 79004443322 -> accepted",
        "call employee 219 phone 79004443322 -> accepted",
        'callback_phone = "79004443322"',
        "20",
        f"saved 11 lines to {tmp_path / 'recorded.bottest'}",
    ]
    # the saved conversation is a passing bot test
    saved = tmp_path / "recorded.bottest"
    assert saved.read_text(encoding="utf-8").startswith(
        f"bot: {os.path.relpath(CALLBACK, tmp_path)}"
    )
    assert [r.failure for r in run_file(saved)] == [""]


def test_needs_more() -> None:
    assert needs_more("x = (1 +")
    assert needs_more("s = 'open")
    assert needs_more("/* comment")
    assert not needs_more("x = 1 +")  # complete as far as brackets go: an error, not more
    assert not needs_more("x = [1, 2]")


def test_highlighting_pieces() -> None:
    pieces = list(highlight('client.n = len("ab") + 1 /* c */', frozenset({"len"})))
    styles = {text: style for style, text in pieces if text.strip()}
    assert styles["client"] == "class:scope"
    assert styles["len"] == "class:function"
    assert styles['"ab"'] == "class:string"
    assert styles["1"] == "class:number"
    assert styles["/* c */"] == "class:comment"


def test_completion_of_builtins_variables_commands_and_blocks() -> None:
    from prompt_toolkit.document import Document

    from botlang.tools.repl import _completer

    repl = Repl(out=io.StringIO(), err=io.StringIO())
    repl.handle("client.visits_total = 1")
    repl.handle(f":load {CALLBACK}")
    completer = _completer(repl)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert "addDays" in complete(":calc x = addD")
    assert "visits_total" in complete(":calc visits_t")
    assert complete(":cl") == ["client", "clients", "clock"]
    assert complete(":enter group_") == ["group_call"]
    assert "перезвон" in complete("пере")  # what the bot understands now


def test_history_lives_in_the_state_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTLANG_HISTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", "/somewhere")
    assert history_path() == Path("/somewhere/botlang/history")
    monkeypatch.setenv("BOTLANG_HISTORY", "/elsewhere/h")
    assert history_path() == Path("/elsewhere/h")


def test_piped_into_the_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "botlang.tools.repl"],
        input="a = 2\na ** 10\nb = nosuch(a)\na + 1\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == ["1024", "3"]
    assert "<repl>:1:5: unknown function 'nosuch'" in done.stderr
    assert done.returncode == 1


# -- a real terminal -------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>()][0-9A-Za-z]?|[\r\x07]")


class Terminal:
    """The REPL on a pseudo-terminal, read and typed into as a person would."""

    def __init__(self, history: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = dict(os.environ, TERM="xterm", BOTLANG_HISTORY=str(history))
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "botlang.tools.repl"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.seen = ""

    def read_until(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = _ANSI.sub("", self.seen)
            if re.search(pattern, text):
                self.seen = ""
                return text
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError(f"{pattern!r} not seen; the screen had:\n{_ANSI.sub('', self.seen)}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=20)
        finally:
            os.close(self.master)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_terminal_session_with_an_error_recovery_and_history(tmp_path: Path) -> None:
    history = tmp_path / "history"
    term = Terminal(history)
    term.read_until(r"calc>")
    # Each line is typed once the prompt is back: between prompts the terminal is in
    # line mode, where control keys mean something else.
    term.type('"ab" + "cd"\r')
    term.read_until(r'"abcd"[\s\S]*calc>')
    term.type("x = [1,\r")  # the bracket is open: Enter continues the statement
    term.read_until(r"\.\.\.")
    term.type("2]\r")
    term.read_until(r"calc>")
    term.type("arr_len(x) * 100\r")
    term.read_until(r"200[\s\S]*calc>")
    term.type("x[5] / 0\r")
    screen = term.read_until(r"\^[\s\S]*calc>")
    assert "<repl>:1:" in screen
    term.type("x[1] * 1000\r")  # the session goes on, variables intact
    term.read_until(r"2000[\s\S]*calc>")
    term.type('"hist" + "ory"\r')
    term.read_until(r'"history"[\s\S]*calc>')
    term.type(":quit\r")
    assert term.close() == 0
    assert '"hist" + "ory"' in history.read_text(encoding="utf-8")

    again = Terminal(history)  # a new run recalls the last run's lines
    again.read_until(r"calc>")
    again.type("\x1b[A\x1b[A\r")  # Up twice: past ':quit' to the line before it
    again.read_until(r'"history"[\s\S]*calc>')  # typed before the prompt, keys may be lost
    again.type("\x04")  # Ctrl-D leaves
    assert again.close() == 0


def test_place_calls_forwards_to_mango_through_the_config(tmp_path: Path) -> None:
    """With --config and --place-calls the REPL places real calls (here: the simulator)."""
    from botlang.telephony.simulator import MangoSimulator

    sim = MangoSimulator("repl-key", "repl-salt")
    with sim.serve() as base_url:
        flow = tmp_path / "bot.bot"
        flow.write_text(
            "block start\n"
            "  calculator:\n"
            "    r = mango_employee_call('219', '+7 900 444-33-22')\n"
            "  message: #{r['result']} #{r['command_id'] != None}\n"
            "any -> start\n  new_client: yes\n",
            encoding="utf-8",
        )
        config = tmp_path / "botlang.toml"
        config.write_text(
            f'[project]\nflow = "bot.bot"\n'
            f'[mango]\napi_key = "repl-key"\napi_salt = "repl-salt"\nbase_url = "{base_url}"\n',
            encoding="utf-8",
        )
        done = subprocess.run(
            [sys.executable, "-m", "botlang", "repl", "--config", str(config), "--place-calls"],
            input="hello\n:calls\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "PLACED" in done.stdout
    assert "1000 True" in done.stdout
    assert [c.payload["to_number"] for c in sim.commands if c.payload] == ["79004443322"]


def test_place_calls_needs_a_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "botlang", "repl", "--place-calls"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--place-calls needs --config" in done.stderr


VARIANTS_BOT = """\
block start
  calculator:
    client.n = n + 1
  message: {Привет|Здравствуйте|Добрый день}! Визит #{n}.
  -> call
    exact: звонок

block call
  calculator:
    r = mango_employee_call("219", phone)
  message: Звоню в #{current_time}.

block broken
  calculator:
    x = 1 / 0
  message: после ошибки

any -> start
  new_client: yes
any -> start
  exact: привет
any -> broken
  exact: сломай
"""


def test_a_saved_conversation_passes_whatever_variant_the_bot_drew(tmp_path: Path) -> None:
    """Random variants, runtime errors, call outcomes and clock changes are all written
    down, so the saved test passes when run (each used to make it fail)."""
    flow = tmp_path / "variants.bot"
    flow.write_text(VARIANTS_BOT, encoding="utf-8")
    lines = [f":load {flow}", ":clock 2024-03-01 09:30"]
    lines += ["привет"] * 6  # with three variants, six draws differ from a replay's
    lines += [":outcome busy", ":clock 2024-03-01 18:45", "звонок", "сломай"]
    out, err, status = session(*lines, f":save {tmp_path / 'v.bottest'}")
    assert "division by zero" in err and "saved " in out
    assert status == 1  # the division by zero is reported
    saved = (tmp_path / "v.bottest").read_text(encoding="utf-8")
    assert "clock: 2024-03-01 09:30\n" in saved
    assert "  calls: busy\n" in saved
    assert "  clock: 2024-03-01 18:45\n" in saved
    assert "  call employee 219 phone 79000000001 -> busy\n" in saved
    assert "  expect error division by zero\n" in saved
    assert "<~ \\A(?:Привет|Здравствуйте|Добрый\\ день)!\\ Визит\\ .*?\\.\\Z" in saved
    for _ in range(3):
        assert [r.failure for r in run_file(tmp_path / "v.bottest")] == [""]
