"""The examples, run from the command line as a user runs them (in a subprocess), against
the memory store and a SQLite file; ``botlang chat`` and ``botlang run`` on scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from botlang.flow import check_flow_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALLBACK = EXAMPLES / "callback" / "callback.bot"
BOOKING = EXAMPLES / "booking" / "booking.bot"
MONDAY_MORNING = "2024-05-06T10:30"


def botlang(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "botlang", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.bot")), ids=lambda p: p.name)
def test_example_flows_have_no_problems(path: Path) -> None:
    assert [d.format() for d in check_flow_file(path)] == []


def test_callback_bot_uses_both_call_functions_and_reacts_to_outcomes() -> None:
    done = botlang(
        "chat",
        "--now",
        MONDAY_MORNING,
        str(CALLBACK),
        "привет",
        "перезвоните мне",
        "8 (900) 444-33-22",
        "--event",
        "no_answer",
        "--event",
        "answered",
        "-m",
        "5",
        "--vars",
    )
    out = lines(done)
    assert out[out.index("> 8 (900) 444-33-22") + 2] == (
        "[telephony, not placed] group call group=12345 line_number=74992262961 "
        "phone=79004443322: ok (1000 Действие успешно выполнено)"
    )
    after_no_answer = out[out.index("> event: no_answer") :]
    assert after_no_answer[1] == "Отдел продаж сейчас занят — вам перезвонит дежурный менеджер."
    assert after_no_answer[2].startswith(
        "[telephony, not placed] employee call extension=219 phone=79004443322: ok"
    )
    after_answer = out[out.index("> event: answered") :]
    assert after_answer[1] == "Спасибо за разговор! Оцените, пожалуйста, звонок от 1 до 5."
    assert "Спасибо за высокую оценку!" in out
    assert "client.call_attempts = 2" in out
    assert "client.call_rating = 5" in out


def test_callback_bot_when_the_call_fails(tmp_path: Path) -> None:
    done = botlang(
        "chat",
        "--now",
        MONDAY_MORNING,
        "--call-result",
        "busy",
        "--json",
        str(CALLBACK),
        "позвоните",
        "+7 900 444 33 22",
    )
    assert done.returncode == 0, done.stderr
    turns = json.loads(done.stdout)["turns"]
    last = turns[-1]
    assert last["blocks"] == ["save_phone", "working_hours", "group_call", "call_failed"]
    assert last["calls"][0]["kind"] == "group" and last["calls"][0]["result"] == 1121
    assert last["messages"][-1]["text"].startswith("Не получилось позвонить")


def test_callback_bot_after_hours() -> None:
    done = botlang("chat", "--now", "2024-05-11T12:00", str(CALLBACK), "перезвоните", "79004443322")
    out = lines(done)
    assert out[-2].startswith("Сейчас мы не работаем")
    assert not any("telephony" in line for line in out)


def test_callback_bot_conversation_goes_on_across_runs_with_sqlite(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'bot.db'}"
    common = ["chat", "--now", MONDAY_MORNING, "--store", store, "--client", "79001112233"]
    lines(botlang(*common, str(CALLBACK), "перезвоните", "+7 (900) 111-22-33"))
    out = lines(botlang(*common, str(CALLBACK), "-e", "answered", "-m", "4", "--vars"))
    assert out[:2] == [
        "> event: answered",
        "Спасибо за разговор! Оцените, пожалуйста, звонок от 1 до 5.",
    ]
    assert 'client.callback_phone = "79001112233"' in out
    # a returning client is asked to confirm the number it gave before
    out = lines(botlang(*common, str(CALLBACK), "перезвоните"))
    assert out[1] == "Звоним на +79001112233? Ответьте «да» или пришлите другой номер."


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_booking_bot(tmp_path: Path, store_kind: str) -> None:
    store = "memory://" if store_kind == "memory" else f"sqlite:///{tmp_path / 'b.db'}"
    done = botlang(
        "chat",
        "--now",
        MONDAY_MORNING,
        "--store",
        store,
        "--json",
        str(BOOKING),
        "привет",
        "5",
        "3",
        "01.05.2024",
        "завтра",
        "21:00",
        "18:30",
        "даа",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    texts = [[m["text"] for m in t["messages"]] for t in result["turns"]]
    assert texts[0][0].startswith("Здравствуйте! Я запишу вас")
    assert texts[1][0] == "Не понял вас. Нужна цифра от 1 до 3."
    assert texts[2][0].startswith("Стрижка и борода — отличный выбор!")
    assert texts[3][0] == "01.05.2024 уже прошло. Выберите другой день."
    assert texts[4][0].startswith("07.05.2024, хорошо.")
    assert texts[5][0] == "В 21:00 мы закрыты: работаем с 10:00 до 20:00."
    assert texts[6] == [
        "Проверьте запись:\nСтрижка и борода, 07.05.2024 в 18:30, 2100 ₽.\n"
        "Всё верно? Ответьте «да» или «нет»."
    ]
    assert texts[7][0].startswith("Готово! Ждём вас 07.05.2024 в 18:30.")
    variables = result["variables"]
    assert variables["client"] == {
        "visits": 1,
        "bookings": 1,
        "last_booking": "Стрижка и борода, 07.05.2024 в 18:30",
    }
    assert variables["project"] == {"bookings_total": 1}
    assert variables["session"]["block"] == "booked"


def test_chat_reports_runtime_errors_with_their_place(tmp_path: Path) -> None:
    flow = tmp_path / "broken.bot"
    flow.write_text(
        "block a\n  calculator:\n    x = 1 / 0\n  message: still here\n"
        "any -> a\n  new_client: yes\n"
    )
    done = botlang("chat", str(flow), "hi")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["> hi", "still here"]
    assert done.stderr.splitlines() == [
        f"{flow}:3:11: division by zero",
        "        x = 1 / 0",
        "              ^",
    ]


def test_chat_refuses_a_flow_with_errors(tmp_path: Path) -> None:
    flow = tmp_path / "bad.bot"
    flow.write_text("block a\n  -> b\n  -> c\n")
    done = botlang("chat", str(flow), "hi")
    assert done.returncode == 1 and done.stdout == ""
    assert f"{flow}:2:6: arrow to a block that does not exist: 'b'" in done.stderr
    assert f"{flow}:3:6: arrow to a block that does not exist: 'c'" in done.stderr


def test_chat_to_a_telephony_only_client(tmp_path: Path) -> None:
    flow = tmp_path / "t.bot"
    flow.write_text("block a\n  message: hello\nany -> a\n  new_client: yes\n")
    done = botlang("chat", "--messenger", "none", str(flow), "hi")
    assert done.returncode == 1
    assert "[not sent: telephony-only client] hello" in done.stdout
    assert "telephony-only client (client_type 13)" in done.stderr


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("visits.calc", {"visits": 1, "greeting": "Здравствуйте!"}),
        ("order.calc", {"total": 730, "to_pay": 657, "discount": 10}),
        ("working_hours.calc", {"open": True, "minutes_to_close": 480}),
    ],
)
def test_script_examples_print_their_variables(script: str, expected: dict[str, object]) -> None:
    done = botlang("run", str(EXAMPLES / "scripts" / script), "--json")
    assert done.returncode == 0, done.stderr
    variables = json.loads(done.stdout)
    assert {k: variables[k] for k in expected} == expected


def test_script_example_with_input() -> None:
    done = botlang(
        "run",
        str(EXAMPLES / "scripts" / "working_hours.calc"),
        "--set",
        "now=13:15",
        "--set",
        "day=3",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "Сейчас мы закрыты."


def test_run_flow_enters_the_first_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from botlang.cli.chat import run_flow

    flow = tmp_path / "greet.bot"
    flow.write_text(
        "block a\n  calculator: client.visits = visits + 1\n  message: visit #{visits}\n"
    )
    assert run_flow(str(flow), {"visits": 4}, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == {
        "messages": ["visit 5"],
        "variables": {"visits": 5},
    }
    assert run_flow(str(flow)) == 0
    assert capsys.readouterr().out.splitlines() == ["visit 1", "visits = 1"]
    broken = tmp_path / "broken.bot"
    broken.write_text("block a\n  -> b\n")
    assert run_flow(str(broken)) == 1
    assert f"{broken}:2:6:" in capsys.readouterr().err
