"""The studio without a browser: its session and its JSON API over real HTTP.

The strongest check of "save as test" replays every conversation of the examples' own
``.bottest`` files through the studio (messages, presses, events, entries, clock and call
outcome changes), saves each as a test and runs it: every saved test must pass.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from botlang.flow import Turn
from botlang.studio import PendingTimer, Studio
from botlang.testing import Conversation, run_file
from botlang.testing.format import TestCase, parse_test_file
from botlang.testing.runner import show_value

from .conftest import CLOCK, EXAMPLES

EXAMPLE_TESTS = sorted(EXAMPLES.glob("*/*.bottest"))
REPLAYABLE = {"say", "press", "event", "enter", "clock", "calls", "next_calls"}
CHECKS = {"answer", "answer_regex", "answer_more", "call", "expect", "expect_block"}
CHECKS |= {"expect_error"}


def _replayable(case: TestCase) -> bool:
    setup_clients = [s for s in case.steps if s.kind == "client"]
    if any(s.kind not in REPLAYABLE | CHECKS | {"client"} for s in case.steps):
        return False
    if len(setup_clients) > 1 or any(s.value != 6 for s in setup_clients):
        return False
    return all(s.value is not None for s in case.steps if s.kind == "clock")


def _replay(studio: Studio, case: TestCase) -> None:
    for step in case.steps:
        if step.kind == "say":
            studio.say(step.text)
        elif step.kind == "press":
            labels = [b.text for b in studio.conversation.offered]
            latitude, longitude = step.value or (None, None)
            studio.press(labels.index(step.name), latitude=latitude, longitude=longitude)
        elif step.kind == "event":
            values = "; ".join(f"{k} = {show_value(v)}" for k, v in (step.value or {}).items())
            studio.event(step.text, values)
        elif step.kind == "enter":
            studio.enter(step.name)
        elif step.kind == "clock":
            studio.set_clock(step.value)
        elif step.kind == "calls":
            studio.set_outcome(step.text)
        elif step.kind == "next_calls":
            for outcome in step.text.split(","):
                studio.set_outcome(outcome.strip(), next_only=True)


def _cases() -> list[Any]:
    found = []
    for path in EXAMPLE_TESTS:
        for case in parse_test_file(path).tests:
            if _replayable(case):
                found.append(pytest.param(path, case.name, id=f"{path.stem}: {case.name}"))
    return found


CASES = _cases()


def test_most_example_conversations_can_be_replayed() -> None:
    total = sum(len(parse_test_file(p).tests) for p in EXAMPLE_TESTS)
    assert len(CASES) >= total * 2 // 3, (len(CASES), total)


@pytest.mark.parametrize(("path", "name"), CASES)
def test_each_example_conversation_saved_from_the_studio_passes(
    path: Path, name: str, tmp_path: Path
) -> None:
    parsed = parse_test_file(path)
    case = next(c for c in parsed.tests if c.name == name)
    bot = parsed.bot_path()
    assert bot is not None
    flow = tmp_path / bot.name
    flow.write_text(bot.read_text(encoding="utf-8"), encoding="utf-8")
    clients = [s for s in case.steps if s.kind == "client"]
    studio = Studio(flow, clock=CLOCK, phone=clients[0].text if clients else None)
    _replay(studio, case)
    saved = studio.save("replayed")
    assert saved["passed"], saved["failure"] + "\n" + saved["text"]
    assert Path(saved["path"]).parent == tmp_path
    assert [r.passed for r in run_file(saved["path"])] == [True]


def test_save_writes_beside_the_flow_and_refuses_to_overwrite(flow_copy) -> None:
    flow = flow_copy("simple/simple.bot")
    studio = Studio(flow, clock=CLOCK)
    with pytest.raises(ValueError, match="nothing to save"):
        studio.save("empty")
    studio.say("привет")
    saved = studio.save("greeting")
    assert saved["file"] == "greeting.bottest" and saved["passed"]
    text = (flow.parent / "greeting.bottest").read_text(encoding="utf-8")
    assert text.startswith("bot: simple.bot\nclock: 2024-01-15 12:00\nclient: whatsapp ")
    with pytest.raises(ValueError, match="exists already"):
        studio.save("greeting")
    assert studio.save("greeting", overwrite=True)["passed"]
    with pytest.raises(ValueError, match="a test name is"):
        studio.save("../escape")


def test_a_test_that_fails_when_run_says_so(flow_copy) -> None:
    flow = flow_copy("simple/simple.bot")
    studio = Studio(flow, clock=CLOCK)
    studio.say("привет")
    flow.write_text(flow.read_text(encoding="utf-8").replace("Здравствуйте!", "Привет!"))
    saved = studio.save("changed")  # the flow changed after the conversation
    assert not saved["passed"]
    assert "the bot's answers differ from the test" in saved["failure"]


def test_calls_are_recorded_with_the_outcome_chosen(flow_copy) -> None:
    flow = flow_copy("callback/callback.bot")
    studio = Studio(flow, clock=CLOCK, phone="79004443322")
    studio.set_outcome("2110", next_only=True)
    studio.say("перезвоните")
    studio.say("+7 900 444-33-22")
    state = studio.state()
    assert [c["line"] for c in state["calls"]] == [
        "call group 12345 line 74992262961 phone 79004443322 -> 2110"
    ]
    assert not state["calls_placed"] and not state["calls"][0]["placed"]
    assert state["outcome"] == {"every": "accepted", "next": []}
    assert state["client"]["block"] == "call_failed"
    studio.advance(11 * 60)  # past the spam guard's window for this number
    studio.say("перезвоните")
    studio.say("да")
    studio.event("busy")
    state = studio.state()
    assert state["client"]["block"] == "duty_call"
    assert [c["line"] for c in state["calls"][1:]] == [
        "call group 12345 line 74992262961 phone 79004443322 -> accepted",
        "call employee 219 phone 79004443322 -> accepted",
    ]
    assert state["variables"]["client"]["callback_phone"] == '"79004443322"'
    assert studio.save("refused then busy")["passed"]


def test_an_event_brings_variables(flow_copy) -> None:
    studio = Studio(flow_copy("callback/callback.bot"), clock=CLOCK)
    studio.say("привет")
    studio.event("answered", 'call_duration = 42; note = "ok"')
    variables = studio.state()["variables"]["client"]
    assert variables["call_duration"] == "42" and variables["note"] == '"ok"'
    assert 'event answered with call_duration = 42; note = "ok"' in studio.transcript.lines
    with pytest.raises(ValueError, match="NAME = VALUE"):
        studio.event("answered", "just text")


def test_runtime_errors_are_located_and_saved(tmp_path: Path) -> None:
    flow = tmp_path / "errors.bot"
    flow.write_text(
        "block start\n  calculator:\n    x = 1 / 0\n  message: после ошибки\n"
        "any -> start\n  new_client: yes\n",
        encoding="utf-8",
    )
    studio = Studio(flow, clock=CLOCK)
    studio.say("hi")
    (error,) = studio.state()["errors"]
    assert (error["line"], error["column"], error["block"]) == (3, 11, "start")
    assert error["where"] == f"{flow}:3:11" and error["source_line"] == "    x = 1 / 0"
    assert studio.save("errs")["passed"]


def test_the_clock_moves_and_is_saved(flow_copy) -> None:
    studio = Studio(flow_copy("booking/booking.bot"), clock=CLOCK)
    studio.advance(3600)
    assert studio.state()["clock"]["text"] == "2024-01-15 13:00"
    assert studio.transcript.started == CLOCK + timedelta(hours=1)  # nothing said yet
    studio.say("привет")
    studio.set_clock_text("2024-01-16T18:30")
    assert studio.state()["variables"]["system"]["current_time"] == '"18:30"'
    assert studio.transcript.lines[-1] == "clock: 2024-01-16 18:30"
    with pytest.raises(ValueError, match="cannot read the time"):
        studio.set_clock_text("tomorrow")
    with pytest.raises(ValueError, match="positive"):
        studio.advance(0)


def test_the_flow_reloads_when_its_file_changes(flow_copy) -> None:
    flow = flow_copy("simple/simple.bot")
    studio = Studio(flow, clock=CLOCK)
    studio.say("привет")
    good = flow.read_text(encoding="utf-8")
    version = studio.version
    flow.write_text(good.replace("  -> ask_age\n", "  -> ask_agee\n"), encoding="utf-8")
    os.utime(flow, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert studio.refresh()
    state = studio.state()
    assert state["version"] == version + 1
    assert not state["flow"]["loads"] and state["flow"]["stale"]
    (error,) = [d for d in state["flow"]["diagnostics"] if d["severity"] == "error"]
    assert (
        "arrow to a block that does not exist: 'ask_agee'; did you mean 'ask_age'?"
        in (error["message"])
    )
    assert (error["line"], error["block"]) == (12, "start")
    assert error["text"].endswith("^")
    assert state["flow"]["diagram"] is not None  # the last good version stays
    assert state["chat"][-1] == {"kind": "note", "key": "reload_failed", "values": {"errors": 1}}
    studio.say("Иван")  # the last good bot still answers
    flow.write_text(good.replace("Сколько вам лет?", "Сколько вам полных лет?"))
    os.utime(flow, ns=(time.time_ns(), time.time_ns() + 2_000_000))
    assert studio.refresh() and not studio.refresh()
    state = studio.state()
    assert state["flow"]["loads"] and not state["flow"]["stale"]
    assert state["client"]["block"] == "ask_age"  # the conversation goes on
    studio.say("/start")
    studio.say("Пётр")
    assert state_texts(studio)[-1] == "Приятно познакомиться, Пётр! Сколько вам полных лет?"


def state_texts(studio: Studio) -> list[str]:
    return [e["text"] for e in studio.state()["chat"] if e["kind"] == "bot"]


def test_a_flow_that_never_loaded_shows_its_errors(tmp_path: Path) -> None:
    flow = tmp_path / "broken.bot"
    flow.write_text("block start\n  mesage: hi\n", encoding="utf-8")
    studio = Studio(flow, clock=CLOCK)
    state = studio.state()
    assert not state["flow"]["loads"] and not state["flow"]["stale"]
    assert state["flow"]["diagram"] is None
    assert state["flow"]["diagnostics"][0]["line"] == 2
    with pytest.raises(ValueError, match="does not load"):
        studio.say("hi")


class _OneTimer:
    """A stand-in for timers, which flows cannot have yet: one timer of block ``start``
    due ten minutes after the first message, that enters block ``bye``."""

    supported = True

    def __init__(self) -> None:
        self.due: datetime | None = None

    def pending(self, conversation: Conversation) -> list[PendingTimer]:
        if self.due is None:
            return []
        return [PendingTimer("start", "bye", self.due, 3, "start -> bye (after 10 minutes)")]

    def advance(self, conversation: Conversation, now: datetime) -> list[Turn]:
        if self.due is None or now < self.due:
            return []
        self.due = None
        return [conversation.enter("bye")]


def test_timers_fill_the_pane_and_fire_when_the_clock_moves(tmp_path: Path) -> None:
    flow = tmp_path / "t.bot"
    flow.write_text(
        "block start\n  message: hi\nblock bye\n  message: bye\nany -> start\n  new_client: yes\n",
        encoding="utf-8",
    )
    timers = _OneTimer()
    studio = Studio(flow, clock=CLOCK, timers=timers)
    assert studio.state()["timers"] == {"supported": True, "pending": []}
    studio.say("привет")
    timers.due = CLOCK + timedelta(minutes=10)
    (pending,) = studio.state()["timers"]["pending"]
    assert pending["due"] == "2024-01-15T12:10:00" and pending["target"] == "bye"
    studio.advance(600)
    state = studio.state()
    assert state["timers"]["pending"] == [] and state["client"]["block"] == "bye"
    assert (
        state["chat"][-2:]
        == [
            {"kind": "timer", "block": "start"},
            state["chat"][-1],
        ]
        and state["chat"][-1]["text"] == "bye"
    )


def test_without_timer_support_the_pane_says_so(flow_copy) -> None:
    state = Studio(flow_copy("simple/simple.bot"), clock=CLOCK).state()
    assert state["timers"] == {"supported": False, "pending": []}


# -- the JSON API over HTTP --------------------------------------------------------------------


def test_the_api_over_http(flow_copy, serve) -> None:
    _, url = serve(flow_copy("simple/simple.bot"))
    with httpx.Client(base_url=url, timeout=10) as http:
        page = http.get("/")
        assert page.status_code == 200 and "botlang studio" in page.text
        assert http.get("/static/vendor/mermaid.min.js").status_code == 200
        assert http.get("/favicon.ico").status_code == 204
        state = http.get("/api/state").json()
        assert state["client"]["block"] is None and state["flow"]["loads"]
        assert state["flow"]["diagram"]["keys"]["start"] == "b_start"
        state = http.post("/api/say", json={"text": "привет"}).json()
        assert state["client"]["block"] == "start"
        assert state["chat"][-1]["text"].startswith("Здравствуйте!")
        http.post("/api/say", json={"text": "Иван"})
        http.post("/api/say", json={"text": "30"})
        state = http.post("/api/press", json={"index": 0}).json()  # the phone button
        assert state["client"]["block"] == "finish"
        assert [b["text"] for b in state["offered"]] == ["Да", "Нет"]
        answer = http.post("/api/save", json={"name": "from http"}).json()
        assert answer["saved"]["passed"] and answer["saved"]["file"] == "from_http.bottest"
        assert http.get("/api/version").json() == {"version": state["version"]}


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/say", {"text": ""}, 400, "write a message"),
        ("/api/say", {"text": 5}, 400, "'text' must be text"),
        ("/api/press", {"index": 3}, 400, "no longer on offer"),
        ("/api/press", {"index": "0"}, 400, "'index' must be"),
        ("/api/enter", {"block": "nowhere"}, 400, "no block 'nowhere'"),
        ("/api/clock", {"to": "soon"}, 400, "cannot read the time"),
        ("/api/clock", {"advance": "x"}, 400, "'advance' must be a number"),
        ("/api/outcome", {"outcome": "maybe"}, 400, "unknown outcome"),
        ("/api/save", {"name": "x"}, 400, "nothing to save"),
    ],
)
def test_requests_the_studio_cannot_do_get_400_with_the_reason(
    flow_copy, serve, path: str, body: dict[str, Any], status: int, message: str
) -> None:
    _, url = serve(flow_copy("simple/simple.bot"))
    answer = httpx.post(url + path, json=body, timeout=10)
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_only_the_page_itself_can_post(flow_copy, serve) -> None:
    studio, url = serve(flow_copy("simple/simple.bot"))
    body = json.dumps({"text": "привет"})
    form = httpx.post(url + "/api/say", content=body, timeout=10)  # no JSON content type
    assert form.status_code == 415
    other = httpx.post(
        url + "/api/say",
        content=body,
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
        timeout=10,
    )
    assert other.status_code == 403
    assert studio.state()["chat"] == []
    same = httpx.post(
        url + "/api/say",
        content=body,
        headers={"Content-Type": "application/json", "Origin": url},
        timeout=10,
    )
    assert same.status_code == 200
    assert (
        httpx.post(
            url + "/api/say",
            content=b"[1]",
            headers={"Content-Type": "application/json"},
            timeout=10,
        ).status_code
        == 400
    )
    assert (
        httpx.post(
            url + "/api/say", content=b"{", headers={"Content-Type": "application/json"}, timeout=10
        ).status_code
        == 400
    )


def test_a_request_for_another_host_name_is_refused(flow_copy, serve) -> None:
    """A web site whose name is re-pointed at 127.0.0.1 cannot read the studio."""
    _, url = serve(flow_copy("simple/simple.bot"))
    rebound = httpx.get(url + "/api/state", headers={"Host": "evil.example"}, timeout=10)
    assert rebound.status_code == 421
    page = httpx.get(url + "/", headers={"Host": "evil.example:80"}, timeout=10)
    assert page.status_code == 421
    local = url.replace("127.0.0.1", "localhost")
    assert httpx.get(local + "/api/version", timeout=10).status_code == 200


# -- the command line --------------------------------------------------------------------------


def test_botlang_studio_serves_the_page_until_stopped(flow_copy) -> None:
    import re
    import signal
    import subprocess
    import sys

    flow = flow_copy("simple/simple.bot")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "botlang",
            "studio",
            str(flow),
            "--port",
            "0",
            "--no-browser",
            "--clock",
            "2024-01-15 12:00",
            "--lang",
            "ru",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.match(r"botlang studio: (http://127\.0\.0\.1:\d+)/\?lang=ru  \(", line)
        assert found, line
        url = found.group(1)
        state = httpx.post(url + "/api/say", json={"text": "привет"}, timeout=10).json()
        assert state["client"]["block"] == "start"
        assert state["clock"]["text"] == "2024-01-15 12:00"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert process.returncode == 0


def test_botlang_studio_without_a_flow_says_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "botlang", "studio", str(tmp_path / "none.bot"), "--no-browser"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"botlang studio: {tmp_path / 'none.bot'} does not exist" in done.stderr
