"""The pytest plugin: ``pytest`` collects ``*.bottest`` files, and offers two fixtures.

Installed with botlang (entry point ``pytest11``), so bot tests run next to Python tests:
each ``test:`` of a ``.bottest`` file is one pytest item, and a failure shows the same
diff as ``botlang test``.

Fixtures for tests written in Python:

- ``telephony``: a fresh :class:`~botlang.telephony.RecordingTelephony`;
- ``bot``: opens a conversation with a bot, ``bot("booking.bot")`` (a path relative to the
  test module), using that telephony; see :class:`~botlang.testing.Conversation`::

      def test_busy_manager(bot, telephony):
          chat = bot("callback.bot")
          telephony.set_result("busy")
          assert chat.say("Перезвоните мне").texts == ["Соединяю..."]
          assert telephony.group_calls[0].phone == chat.client.phone
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from botlang.telephony import RecordingTelephony
from botlang.testing.conversation import DEFAULT_TEST_CLOCK, Conversation
from botlang.testing.format import TEST_SUFFIX, TestCase, parse_test_file
from botlang.testing.runner import BotTestFailure, file_problems, load_bot_for, run_case


class BotTestFormatError(Exception):
    """A ``.bottest`` file that cannot be read as tests."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``*.bottest`` files."""
    if file_path.suffix == TEST_SUFFIX:
        return BotTestFile.from_parent(parent, path=file_path)
    return None


class BotTestFile(pytest.File):
    """A ``.bottest`` file: one item per ``test:``."""

    def collect(self) -> Iterator[pytest.Item]:
        parsed = parse_test_file(self.path)
        if parsed.errors:
            raise BotTestFormatError(file_problems(parsed))
        bot = load_bot_for(parsed)
        for case in parsed.tests:
            yield BotTestItem.from_parent(self, name=case.name, case=case, bot=bot)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, BotTestFormatError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class BotTestItem(pytest.Item):
    """One ``test:`` of a ``.bottest`` file."""

    def __init__(self, *, case: TestCase, bot: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.bot = bot

    def runtest(self) -> None:
        if isinstance(self.bot, str):
            raise BotTestFailure(self.bot, self.case.line)
        run_case(self.case, self.bot)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, BotTestFailure):
            return excinfo.value.message
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"bot test: {self.case.name}"


@pytest.fixture
def telephony() -> RecordingTelephony:
    """A fresh recording telephony adapter: calls are recorded, never placed."""
    return RecordingTelephony()


@pytest.fixture
def bot(
    request: pytest.FixtureRequest, telephony: RecordingTelephony
) -> Callable[..., Conversation]:
    """``bot(path, **options)`` → a :class:`Conversation` with the bot of a ``.bot`` file.

    A relative path is taken from the test module's folder. The clock is fixed at
    ``DEFAULT_TEST_CLOCK`` unless ``now=`` is given (``now=None``: the real time);
    other options are those of :class:`Conversation` (``phone``, ``client_type``, ...).
    """
    base = Path(request.path).parent

    def open_bot(path: str | Path, **options: Any) -> Conversation:
        flow_path = Path(path)
        if not flow_path.is_absolute():
            flow_path = base / flow_path
        now: datetime | None = options.pop("now", DEFAULT_TEST_CLOCK)
        return Conversation.load(flow_path, telephony=telephony, now=now, **options)

    return open_bot
