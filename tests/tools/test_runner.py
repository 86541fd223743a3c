"""``botlang test``: bot tests that pass, fail with a readable diff, fake calls, inject events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from botlang.testing import run_file, run_paths
from botlang.testing.format import parse_test_source

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CALLBACK_BOT = """\
constants:
  group = "12345"
  line = "74992262961"

block start
  message: Напишите «позвоните»
  -> call
    contains: позвоните

block call
  calculator:
    result = mango_group_call(group, line, phone)
  message: Звоним (#{result["result"]})
  -> sorry
    on: callback
    exact: busy; no_answer
  -> thanks
    on: callback
    exact: answered

block sorry
  calculator:
    client.missed = missed + 1
  message: Все заняты. Пропущено звонков: #{missed}.

block thanks
  message: Спасибо, #{caller}! Разговор #{seconds} с.
"""


def write(tmp_path: Path, test: str, bot: str = CALLBACK_BOT) -> Path:
    """A test beside its bot, whose new clients start in block ``start``."""
    greeted = f"{bot.rstrip()}\nany -> start\n  new_client: yes\n"
    (tmp_path / "bot.bot").write_text(greeted, encoding="utf-8")
    path = tmp_path / "bot.bottest"
    path.write_text(test, encoding="utf-8")
    return path


def failures(path: Path) -> list[str]:
    return [r.failure for r in run_file(path) if not r.passed]


def test_the_examples_pass() -> None:
    results = run_paths([EXAMPLES])
    assert len(results) >= 10
    assert [r.failure for r in results if not r.passed] == []


def test_a_faked_busy_call_and_the_busy_event(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
client: whatsapp 79004443322

test: busy
  > привет
  < Напишите «позвоните»
  next calls: busy
  > позвоните
  < Звоним (1121)
  call group 12345 line 74992262961 phone 79004443322 -> busy
  event busy
  < Все заняты. Пропущено звонков: 1.
  expect client.missed = 1
  expect block sorry
""",
    )
    assert failures(path) == []


def test_an_event_with_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
test: answered
  enter call
  < Звоним (1000)
  call group 12345 line 74992262961 phone 79000000001
  event answered with caller = "Анна"; seconds = 42
  < Спасибо, Анна! Разговор 42 с.
  expect client.seconds = 42
""",
    )
    assert failures(path) == []


def test_a_wrong_answer_shows_a_diff_with_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
test: greets
  > привет
  < Напишите «перезвоните»
""",
    )
    (failure,) = failures(path)
    assert failure.splitlines() == [
        f"{path}:3: in test 'greets': the bot's answers differ from the test",
        "  > привет  (line 2)",
        "     line 3 - < Напишите «перезвоните»",
        "            + < Напишите «позвоните»",
        "  (- as the test expects, + as the bot answered)",
    ]


def test_an_unexpected_call_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "test: calls\n  enter call\n  < ...\n")
    (failure,) = failures(path)
    assert "the bot asked for a call the test does not expect after 'enter call'" in failure
    assert "call group 12345 line 74992262961 phone 79000000001 -> accepted" in failure


def test_an_unexpected_runtime_error_fails_and_an_expected_one_passes(tmp_path: Path) -> None:
    bot = "block start\n  calculator:\n    x = 1 / 0\n  message: Готово\n"
    path = write(tmp_path, "test: boom\n  > привет\n  < Готово\n", bot)
    (failure,) = failures(path)
    assert "the bot had a runtime error after '> привет' (line 2)" in failure
    assert "bot.bot:3:11: division by zero" in failure
    path.write_text(
        "test: boom\n  > привет\n  < Готово\n  expect error division by zero\n", encoding="utf-8"
    )
    assert failures(path) == []


def test_a_variable_differs(tmp_path: Path) -> None:
    path = write(tmp_path, "test: var\n  > привет\n  < ...\n  expect client.missed = 1\n")
    (failure,) = failures(path)
    assert failure.splitlines()[1:] == [
        "  - client.missed = 1",
        "  + client.missed = None  (not set)",
    ]


def test_regex_answers_and_unchecked_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "test: loose\n  enter call\n  <~ Звоним \\(\\d+\\)\n  call group 12345\n"
        "  event busy\n  < ...\n",
    )
    assert failures(path) == []


def test_the_clock_is_fixed_and_can_be_moved(tmp_path: Path) -> None:
    bot = "block start\n  message: #{current_date} #{current_time} #{weekday}\n"
    path = write(
        tmp_path,
        "test: default clock\n  > a\n  < 15.01.2024 12:00 1\n"
        "test: set clock\n  clock: 2024-03-09 18:45\n  > a\n  < 09.03.2024 18:45 6\n",
        bot,
    )
    assert failures(path) == []


def test_each_test_starts_afresh(tmp_path: Path) -> None:
    bot = "block start\n  calculator:\n    client.n = n + 1\n  message: #{n}\n"
    path = write(tmp_path, "test: one\n  > a\n  < 1\n\ntest: two\n  > a\n  < 1\n", bot)
    assert failures(path) == []


def test_format_errors_are_reported_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "test: bad\n  set name = Анна\n  call taxi 5\n  expect x = [1,\n  calls: sometimes\n",
    )
    (failure,) = failures(path)
    lines = [line for line in failure.splitlines() if line.startswith(str(path))]
    assert lines == [
        f"{path}:2:14: 'Анна' is not a value: write text in quotes (\"Анна\")",
        f"{path}:3:8: write 'call group G line L phone P' or 'call employee E phone P', "
        "optionally followed by '-> OUTCOME'",
        f"{path}:4:14: '[' is never closed with ']'",
        f"{path}:5:10: unknown outcome 'sometimes': give a result code or one of "
        "accepted, answered, busy, " + lines[3].split("busy, ", 1)[1],
    ]


def test_setup_lines_apply_to_every_test() -> None:
    parsed = parse_test_source("client: telegram 79001112233\n> hi\n\ntest: a\n< x\n", "t.bottest")
    assert parsed.errors == []
    assert [s.kind for s in parsed.tests[0].steps] == ["client", "say", "answer"]


def test_a_missing_bot_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "lonely.bottest"
    path.write_text("test: a\n  > hi\n", encoding="utf-8")
    (result,) = run_file(path)
    assert "no bot to test" in result.failure


def botlang_test(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "botlang.testing", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_on_the_deliberately_broken_example() -> None:
    done = botlang_test(str(DATA / "failing"))
    assert done.returncode == 1
    out = done.stdout
    assert "  ok   greets\n  FAIL counts visits\n  FAIL calls the right group\n" in out
    assert (
        "    line 12   < Здравствуйте!\n"
        "    line 13 - | Это ваш визит №3.\n"
        "            + | Это ваш визит №2.\n"
    ) in out
    assert (
        "  - call group 54321 line 74992262961 phone 79004443322  (line 20)\n"
        "  + call group 12345 line 74992262961 phone 79004443322 -> accepted\n"
    ) in out
    assert out.rstrip().splitlines()[-1].startswith("1 passed, 2 failed in ")


def test_the_command_passes_on_the_examples_and_filters_by_name() -> None:
    done = botlang_test(str(EXAMPLES), "-k", "busy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("1 passed in ")


def test_the_command_without_tests_fails(tmp_path: Path) -> None:
    done = botlang_test(str(tmp_path))
    assert done.returncode == 1
    assert "no bot tests" in done.stderr


BUTTONS_BOT = """\
block start
  message: Звонок?
  buttons:
    - Сайт
      url: https://example.com
  -> call
    exact: Да
    button: yes
    line: 0
  -> start
    exact: Нет
    button: yes
    line: 0

block call
  message: Звоним
  buttons: [{"text": "Оплатить", "callback": "paid_1"}]
  -> paid
    on: callback
    exact: paid_1

block paid
  message: Оплачено
"""


def test_buttons_are_asserted_and_pressed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
test: presses
  > привет
  < Звонок?
  [Да] [Нет]
  [Сайт]
  press Да
  < Звоним
  [Оплатить]
  press Оплатить
  < Оплачено
""",
        BUTTONS_BOT,
    )
    assert failures(path) == []


def test_different_buttons_fail_with_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "test: rows\n  > привет\n  < Звонок?\n  [Да]\n", BUTTONS_BOT)
    (failure,) = failures(path)
    assert failure.splitlines() == [
        f"{path}:3: in test 'rows': the buttons of this answer differ from the test",
        "  > привет  (line 2)",
        "  - [Да]",
        "  + [Да] [Нет]",
        "  + [Сайт]",
        "  (- as the test expects, + as the bot showed)",
    ]


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("press Может быть", "no button 'Может быть' on offer; the last turn showed: [Да] [Нет]"),
        ("press Сайт", "'Сайт' opens a link (https://example.com); it sends nothing"),
    ],
)
def test_a_press_that_cannot_be_made_fails(tmp_path: Path, step: str, words: str) -> None:
    path = write(tmp_path, f"test: press\n  > привет\n  < ...\n  {step}\n", BUTTONS_BOT)
    (failure,) = failures(path)
    assert f"{path}:4: in test 'press': cannot press" in failure and words in failure


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("test: t\n  [Да]\n", "put them under a '< text' line"),
        ("test: t\n  > x\n  <\n", "'[..]' lines below it"),
        ("test: t\n  > x\n  < y\n  [Да] oops\n", "written '[label] [label]'"),
        ("test: t\n  press\n", "'press' needs a button's label"),
        ("test: t\n  press Где at north\n", "'press LABEL at LATITUDE LONGITUDE'"),
    ],
)
def test_button_lines_that_are_wrong(tmp_path: Path, text: str, words: str) -> None:
    from botlang.testing.format import parse_test_source

    parsed = parse_test_source(text, tmp_path / "t.bottest")
    assert parsed.errors and words in parsed.errors[0].message
