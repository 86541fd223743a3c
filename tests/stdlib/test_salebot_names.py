"""Salebot's function names: every one is catalogued by section, the calculator's own are all
provided, and a call to a platform function botlang lacks is explained, not taken for a typo."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from botlang.stdlib import salebot

from botlang import ParseError
from botlang.core.builtins import Registry, builtin, load_stdlib
from botlang.tools import reference
from botlang.tools.checker import check_source

from .support import error_of

REGISTRY = load_stdlib()
EDITOR_NAMES = Path(__file__).parent / "data" / "salebot-editor-function-names.txt"
NOT_PROVIDED = "a Salebot platform function botlang does not provide"


def editor_names() -> list[str]:
    lines = EDITOR_NAMES.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_name_of_salebots_editor_is_catalogued() -> None:
    catalogued = {name for section in salebot.SECTIONS for name in section.names}
    missing = [name for name in editor_names() if name not in catalogued]
    assert missing == []
    assert len(editor_names()) == 632


def test_every_calculator_function_salebot_documents_is_provided() -> None:
    calculator = [s for s in salebot.SECTIONS if s.kind == salebot.CALCULATOR]
    assert {s.title for s in calculator} >= {"Math", "Strings", "Dates and times", "Arrays"}
    for section in calculator:
        for name in section.names:
            assert salebot.is_provided(name, REGISTRY), name


@pytest.mark.parametrize(
    ("name", "where"),
    [
        (
            "proxy",
            "Links, https://docs.salebot.pro/chatbots/peremennye-i-funkcii/kalkulyator/"
            "dlya-raboty-so-ssylkami",
        ),
        ("create_task", "Clients and CRM, https://docs.salebot.pro/chatbots/"),
        ("inlist", "Client lists, https://docs.salebot.pro/"),
        ("requests_get", "API requests and callbacks, https://docs.salebot.pro/"),
        ("tg_send_message", "Telegram, named in Salebot's editor"),
        ("compareTime", "named in Salebot's editor but not documented"),
        ("uiscom_employee_call", "https://docs.salebot.pro/integration/telefoniya/uiscom"),
        ("qrcode_generate", "QR codes, https://docs.salebot.pro/"),
    ],
)
def test_a_salebot_platform_function_is_reported_at_compile_time(name: str, where: str) -> None:
    error = error_of(f"{name}(1)", kind=ParseError)
    assert error.message.startswith(f"unknown function '{name}': {NOT_PROVIDED} (Salebot: ")
    assert where in error.message
    assert "did you mean" not in error.message


def test_the_checker_reports_a_platform_function_with_its_page() -> None:
    [found] = check_source("a = 1\nb = send_email('x@y.ru', 'hi', 'text')\n", "bot.calc")
    assert (found.line, found.column, found.code) == (2, 5, "unknown-function")
    assert NOT_PROVIDED in found.message
    assert "dlya-raboty-s-email" in found.message


def test_a_typo_still_gets_a_suggestion() -> None:
    error = error_of("lenght('abc')", kind=ParseError)
    assert error.message == "unknown function 'lenght'; did you mean len()?"


def test_a_function_registered_later_wins_over_the_declaration() -> None:
    registry = Registry()
    salebot.declare(registry)
    assert registry.unprovided("proxy") is not None

    @builtin("proxy", registry=registry)
    def proxy(url: str) -> str:
        """A stand-in."""
        return url

    assert registry.unprovided("proxy") is None
    assert registry.call_problem("proxy", 1) is None


def test_help_explains_a_platform_function(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="botlang")
    reference.register(parser.add_subparsers())
    args = parser.parse_args(["help", "short"])
    assert args.func(args) == 1
    assert f"short is {NOT_PROVIDED} (Salebot: Links" in capsys.readouterr().err


def test_the_reference_shows_each_section_with_what_is_provided() -> None:
    text = reference.render_markdown()
    assert "## Salebot's functions: what botlang provides" in text
    assert "### [Client lists](https://docs.salebot.pro/" in text
    assert "1 of 14 provided." in text
    assert "- provided: `count_occurrences`" in text
    assert "- constant `PI` — " in text
