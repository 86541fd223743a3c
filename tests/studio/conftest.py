"""Fixtures for the studio: its page served over real HTTP, and a real headless Chromium.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or ``BOTLANG_CHROMIUM``)
driven by Playwright's Python package. Without either, the browser tests skip with the
reason; with ``BOTLANG_REQUIRE_BROWSER=1`` (set by CI, which installs both) they fail
instead. Screenshots go to ``BOTLANG_STUDIO_SCREENSHOTS`` when it is set (docs/studio.md
shows those of ``docs/images/studio``), else to the test run's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from botlang.studio import Studio, create_app
from botlang.util.serving import serve_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CLOCK = datetime(2024, 1, 15, 12, 0)
# Chromium in a closed network stalls without these (and needs a fresh profile).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_missing(reason: str) -> None:
    """Skip (or fail, when the browser is required) because the browser cannot run."""
    if os.environ.get("BOTLANG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and BOTLANG_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


def chromium_path() -> str | None:
    wanted = os.environ.get("BOTLANG_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def flow_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example's flow (``"simple/simple.bot"``) into a fresh folder."""

    def copy(name: str) -> Path:
        source = EXAMPLES / name
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        return target

    return copy


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Studio, str]]]:
    """Start a studio on a flow file: ``studio, url = serve(path)``."""
    with_stack: list[Any] = []

    def start(path: Path, **options: Any) -> tuple[Studio, str]:
        options.setdefault("clock", CLOCK)
        studio = Studio(path, **options)
        context = serve_app(create_app(studio), name="botlang studio")
        url = context.__enter__()
        with_stack.append(context)
        return studio, url

    yield start
    for context in reversed(with_stack):
        context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots."""
    wanted = os.environ.get("BOTLANG_STUDIO_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("studio-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by Playwright (one per run)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("Playwright's Python package is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        browser_missing("Chromium is not installed (apt install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1440, "height": 900},
            locale="en-US",
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(chromium: Any, serve: Any) -> Iterator[Any]:
    """A fresh tab; the test fails on any JavaScript error the page raises or logs. (It
    closes before the studios the test served stop, so its polling never sees them go.)"""
    tab = chromium.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))

    def console(message: Any) -> None:
        # a 400 is the studio refusing a request on purpose; the page shows it
        if message.type == "error" and "status of 400" not in message.text:
            problems.append(message.text)

    tab.on("console", console)
    yield tab
    tab.close()
    assert problems == []
