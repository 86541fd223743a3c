"""The grammar-driven fuzzer: valid scripts, expressions and templates (see grammar.py) run
against every kind of value; whatever they do, a run ends in a result that can be stored or
in a located BotlangError, and ``botlang check`` reads them without failing.

CI runs a fixed budget of examples per test and prints how many programs it ran. The longer
run is the same tests with a bigger budget::

    BOTLANG_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -p no:cacheprovider \\
        tests/security/test_fuzz.py

Every crash it finds becomes a named regression test in this folder.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings

import botlang
from botlang import BotlangError
from botlang.core.limits import DEFAULT_LIMITS
from botlang.core.runtime.scopes import check_value
from botlang.core.runtime.values import SCRIPT_TYPES, to_json_ready
from botlang.tools.checker import check_source

from .grammar import VARIABLES, expressions, programs, templates

BUDGET = int(os.environ.get("BOTLANG_FUZZ_EXAMPLES", "300"))
RAN: Counter[str] = Counter()  # reported at the end of the session (conftest.py)
FUZZ = settings(
    max_examples=BUDGET,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


def assert_located(error: BotlangError) -> None:
    assert error.line >= 1 and error.column >= 1, repr(error)
    assert error.source is not None or "characters long" in error.message, repr(error)
    str(error)  # the caret excerpt renders


def finished(action: Callable[[], Any]) -> tuple[bool, Any]:
    """(True, what ``action`` returned), or (False, None) after a located BotlangError."""
    try:
        return True, action()
    except BotlangError as error:
        assert_located(error)
        return False, None


def assert_storable(value: Any) -> None:
    assert type(value) in SCRIPT_TYPES, type(value)
    if type(value) is float:
        assert math.isfinite(value), value
    json.dumps(to_json_ready(value), allow_nan=False)


@FUZZ
@given(programs)
def test_any_generated_script_ends_in_a_storable_result_or_a_located_error(source: str) -> None:
    RAN["programs"] += 1
    _, result = finished(lambda: botlang.run(source, VARIABLES))
    for name, value in (result or {}).items():
        assert_storable(value)
        check_value(name, value, DEFAULT_LIMITS)


@FUZZ
@given(programs)
def test_the_checker_reads_any_generated_script(source: str) -> None:
    RAN["checked"] += 1
    for diagnostic in check_source(source):
        assert diagnostic.line >= 1 and diagnostic.column >= 1


@FUZZ
@given(expressions)
def test_any_generated_expression_gives_a_value_or_a_located_error(source: str) -> None:
    RAN["expressions"] += 1
    ok, value = finished(lambda: botlang.evaluate(source, VARIABLES))
    if ok:
        assert_storable(value)


@FUZZ
@given(templates)
def test_any_generated_template_renders_bounded_text_or_a_located_error(text: str) -> None:
    RAN["templates"] += 1
    ok, rendered = finished(lambda: botlang.render(text, VARIABLES))
    if ok:
        assert isinstance(rendered, str)
        assert len(rendered) <= DEFAULT_LIMITS.max_string_chars
