"""The studio's page in a real headless Chromium: load it, chat, press buttons, watch the
highlighted block move, inject call outcomes and events, move the clock, save a test,
see checker errors when the file breaks — in English and in Russian, by keyboard too.

Mermaid itself (the copy the page ships) parses the ``botlang graph`` text of every
example here. Screenshots of the main states are saved (see conftest.py for where).
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from botlang.flow import parse_flow
from botlang.testing import run_file
from botlang.tools.graph import build_graph, to_mermaid

from .conftest import EXAMPLES

ALL_EXAMPLES = sorted(EXAMPLES.glob("*/*.bot"))


def open_studio(page: Any, url: str, lang: str = "en") -> None:
    page.goto(f"{url}/?lang={lang}")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#diagram svg[data-rendered]")


def say(page: Any, text: str) -> None:
    before = page.locator("#log li").count()
    page.get_by_label(
        "Message" if page.evaluate("document.documentElement.lang") == "en" else "Сообщение"
    ).fill(text)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#log li').length > {before}")


def wait_current(page: Any, block: str) -> None:
    page.wait_for_selector(f'#diagram[data-current="{block}"]')
    page.wait_for_selector(f'#diagram g.node.is-current[data-block="{block}"]')


def shape_fill(page: Any, block: str) -> str:
    return str(
        page.evaluate(
            """(block) => {
                const node = document.querySelector(`#diagram g.node[data-block="${block}"]`);
                const shape = node.querySelector("rect, polygon, path");
                return getComputedStyle(shape).fill;
            }""",
            block,
        )
    )


def test_mermaid_parses_the_diagram_of_every_example(page, serve, flow_copy) -> None:
    _, url = serve(flow_copy("simple/simple.bot"))
    open_studio(page, url)
    for path in ALL_EXAMPLES:
        flow = parse_flow(path.read_text(encoding="utf-8"), str(path))
        graph = build_graph(flow)
        answer = page.evaluate(
            """async ([text, name]) => {
                try {
                    await window.mermaid.parse(text);
                    const { svg } = await window.mermaid.render(name, text);
                    return { ok: true, svg };
                } catch (error) {
                    return { ok: false, error: String(error.message || error) };
                }
            }""",
            [to_mermaid(graph), f"check{path.stem}"],
        )
        assert answer["ok"], f"{path}: {answer.get('error')}"
        for block, key in graph.keys.items():
            assert f"check{path.stem}-flowchart-{key}-" in answer["svg"], (path, block)


def test_chat_buttons_and_the_highlighted_block(page, serve, flow_copy, screenshots) -> None:
    studio, url = serve(flow_copy("simple/simple.bot"))
    open_studio(page, url)
    assert page.locator("#diagram").get_attribute("data-current") == ""
    assert "no block yet" in page.locator("#where").inner_text()
    say(page, "привет")
    wait_current(page, "start")
    assert shape_fill(page, "start") == "rgb(255, 232, 168)"
    say(page, "Анна")
    wait_current(page, "ask_age")
    assert shape_fill(page, "start") != "rgb(255, 232, 168)"  # the mark moved on
    assert "ask_age «Возраст»" in page.locator("#where").inner_text()
    say(page, "двадцать")  # not a number: a «Не состояние» hint, the client stays
    page.wait_for_selector("text=Напишите возраст числом, например 25.")
    wait_current(page, "ask_age")
    say(page, "30")
    wait_current(page, "ask_phone")
    page.get_by_role("button", name="Отправить номер").click()
    wait_current(page, "finish")
    assert page.locator("#offered button").all_inner_texts() == ["Да", "Нет"]
    assert page.locator("#variables").inner_text().count('"Анна"') == 1
    page.screenshot(path=str(screenshots / "studio-chat.png"))
    page.get_by_role("button", name="Да").click()
    wait_current(page, "about")
    assert studio.conversation.block == "about"
    chat = page.locator("#log").inner_text()
    assert "pressed [Да]" in chat and "Мы делаем чат-ботов" in chat


def test_save_as_test_writes_a_passing_test(page, serve, flow_copy, screenshots) -> None:
    studio, url = serve(flow_copy("realty/realty.bot"))
    open_studio(page, url)
    say(page, "здравствуйте")
    wait_current(page, "start")
    page.get_by_role("button", name="Снять").click()
    wait_current(page, "rent")
    say(page, "40000")
    wait_current(page, "rooms")
    page.get_by_role("button", name="2", exact=True).click()
    wait_current(page, "ask_phone")
    say(page, "+7 900 444-33-22")
    page.wait_for_selector("text=order 1-1")
    page.get_by_label("Test name").fill("rent two rooms")
    page.get_by_role("button", name="Save as test").click()
    page.wait_for_selector("#saved.ok")
    assert "rent_two_rooms.bottest" in page.locator("#saved").inner_text()
    assert page.locator("#saved a[download]").get_attribute("download") == "rent_two_rooms.bottest"
    saved = studio.path.parent / "rent_two_rooms.bottest"
    assert [r.passed for r in run_file(saved)] == [True]
    page.screenshot(path=str(screenshots / "studio-saved.png"))


def test_call_outcomes_events_and_the_clock(page, serve, flow_copy, screenshots) -> None:
    studio, url = serve(flow_copy("callback/callback.bot"), phone="79004443322")
    open_studio(page, url)
    page.get_by_label("Calls end").select_option("busy")
    page.get_by_label("the next call").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector("text=The next call ends: busy.")
    say(page, "перезвоните")
    say(page, "+7 900 444-33-22")
    page.wait_for_selector("#calls li")
    assert (
        page.locator("#calls")
        .inner_text()
        .startswith("call group 12345 line 74992262961 phone 79004443322 -> busy")
    )
    assert "recorded, not placed" in page.locator("#log").inner_text()
    wait_current(page, "call_failed")
    page.get_by_role("button", name="Advance the clock by +10 min").click()
    page.wait_for_selector("text=The clock now reads 2024-01-15 12:10.")
    page.get_by_role("button", name="Advance the clock by +1 min").click()
    page.wait_for_selector("text=The clock now reads 2024-01-15 12:11.")
    assert page.get_by_label("Virtual clock").input_value() == "2024-01-15T12:11"
    say(page, "перезвоните")
    say(page, "да")
    wait_current(page, "group_call")
    page.locator("#event-quick").get_by_role("button", name="busy").click()
    wait_current(page, "duty_call")
    page.get_by_label("Event (callback)").fill("answered")
    page.get_by_label("with variables").fill("call_duration = 42")
    page.get_by_role("button", name="Send event").click()
    wait_current(page, "talked")
    assert "call_duration" in page.locator("#variables").inner_text()
    assert "Arrows with a delay above 0 are not run yet" in page.locator("#timers").inner_text()
    page.screenshot(path=str(screenshots / "studio-calls.png"))
    saved = studio.save("calls and events")
    assert saved["passed"], saved["failure"]


def test_runtime_errors_show_where_they_happened(page, serve, tmp_path) -> None:
    flow = tmp_path / "errors.bot"
    flow.write_text(
        'bot: Errors\nblock start "Старт"\n  calculator:\n    x = 1 / 0\n'
        "  message: после ошибки\nany -> start\n  new_client: yes\n",
        encoding="utf-8",
    )
    _, url = serve(flow)
    open_studio(page, url)
    say(page, "hi")
    page.wait_for_selector("#errors li")
    errors = page.locator("#errors").inner_text()
    assert "errors.bot:4:11: division by zero" in errors
    assert "x = 1 / 0\n          ^" in errors
    page.wait_for_selector('#diagram g.node.has-error[data-block="start"]')


def test_a_broken_file_shows_located_checker_errors_and_a_fix_reloads(
    page, serve, flow_copy, screenshots
) -> None:
    flow = flow_copy("simple/simple.bot")
    _, url = serve(flow)
    open_studio(page, url)
    say(page, "привет")
    wait_current(page, "start")
    good = flow.read_text(encoding="utf-8")
    flow.write_text(good.replace("  -> ask_age\n", "  -> ask_agee\n"), encoding="utf-8")
    os.utime(flow, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    page.wait_for_selector("#problems-pane:not([hidden])")
    problems = page.locator("#problems").inner_text()
    assert "simple.bot:12:6: error: arrow to a block that does not exist: 'ask_agee'" in problems
    assert "-> ask_agee\n     ^" in problems
    assert page.locator("#stale").is_visible()
    assert page.locator("#flow-status").inner_text() == "flow has errors"
    page.screenshot(path=str(screenshots / "studio-checker.png"))
    page.get_by_role("button", name="show the block").first.click()
    page.wait_for_selector('#diagram g.node.is-focus[data-block="start"]')
    rendered = page.locator("#diagram svg").get_attribute("data-rendered")
    flow.write_text(good.replace("Приветствие", "Привет!"), encoding="utf-8")
    os.utime(flow, ns=(time.time_ns(), time.time_ns() + 2_000_000))
    page.wait_for_selector("#problems-pane[hidden]", state="attached")
    page.wait_for_function(
        "(before) => document.querySelector('#diagram svg').dataset.rendered !== before",
        arg=rendered,
    )
    assert "Привет!" in page.locator("#diagram").inner_text()
    assert not page.locator("#stale").is_visible()
    wait_current(page, "start")  # the conversation went on across the reload


def test_russian_texts_labels_and_the_keyboard(page, serve, flow_copy, screenshots) -> None:
    _, url = serve(flow_copy("simple/simple.bot"))
    open_studio(page, url, lang="ru")
    assert page.evaluate("document.documentElement.lang") == "ru"
    assert page.locator("#diagram-heading").inner_text() == "Схема"
    assert page.get_by_role("button", name="Сохранить как тест").is_visible()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select")]
            .filter((e) => e.type !== "hidden" && e.labels.length === 0 && !e.closest("label"))
            .map((e) => e.id)"""
    )
    assert unlabelled == []
    page.get_by_label("Сообщение").focus()
    for text in ("привет", "Анна", "30"):
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        page.wait_for_function(
            f"document.querySelector('#message').value === '' && "
            f"[...document.querySelectorAll('#log .from-client')].some("
            f"(e) => e.innerText.includes('{text}'))"
        )
    wait_current(page, "ask_phone")
    assert "Клиент в блоке ask_phone «Телефон»." in page.locator("#where").inner_text()
    page.keyboard.press("Shift+Tab")  # from the message box back to the bot's button
    assert page.evaluate("document.activeElement.textContent") == "Отправить номер"
    page.keyboard.press("Enter")
    wait_current(page, "finish")
    page.screenshot(path=str(screenshots / "studio-ru.png"))
    page.get_by_label("Язык").select_option("en")
    assert page.locator("#diagram-heading").inner_text() == "Diagram"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "The client is in block finish «Спасибо»." in page.locator("#where").inner_text()


@pytest.mark.parametrize("width", [1280, 1366])
def test_readable_on_a_laptop_screen(page, serve, flow_copy, width: int) -> None:
    """Nothing spills out sideways at laptop widths: the three panes fit side by side."""
    _, url = serve(flow_copy("booking/booking.bot"))
    page.set_viewport_size({"width": width, "height": 768})
    open_studio(page, url)
    widths = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            view: window.innerWidth,
            panes: [...document.querySelectorAll('.pane')]
                .map((p) => p.getBoundingClientRect().width),
            font: parseFloat(getComputedStyle(document.body).fontSize),
        })"""
    )
    assert widths["page"] <= widths["view"]
    assert len(widths["panes"]) == 3 and min(widths["panes"]) > 300
    assert widths["font"] >= 14
