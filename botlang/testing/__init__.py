"""Testing bots: the ``.bottest`` format, its runner, and a conversation harness for Python.

>>> from botlang.testing import Conversation
>>> chat = Conversation.load("examples/callback/callback.bot")
>>> chat.say("Перезвоните мне").texts
[...]

``botlang test`` and the pytest plugin (:mod:`botlang.testing.plugin`) run ``*.bottest``
files; the guide is docs/testing.md.
"""

from botlang.testing.conversation import (
    DEFAULT_PHONE,
    DEFAULT_TEST_CLOCK,
    Conversation,
    ScriptOutcome,
    parse_clock,
)
from botlang.testing.format import TEST_SUFFIX, TestCase, TestFile, parse_test_file
from botlang.testing.runner import (
    BotTestFailure,
    TestResult,
    run_case,
    run_file,
    run_paths,
)

__all__ = [
    "DEFAULT_PHONE",
    "DEFAULT_TEST_CLOCK",
    "TEST_SUFFIX",
    "BotTestFailure",
    "Conversation",
    "ScriptOutcome",
    "TestCase",
    "TestFile",
    "TestResult",
    "parse_clock",
    "parse_test_file",
    "run_case",
    "run_file",
    "run_paths",
]
