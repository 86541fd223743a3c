"""Helpers for the sandbox tests: located errors, peak memory, a time guard in a child."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from botlang import BotlangError


def located(action: Callable[[], Any], kind: type[BotlangError] = BotlangError) -> BotlangError:
    """The error ``action`` raises: a ``kind`` that knows its line, column and source."""
    with pytest.raises(kind) as caught:
        action()
    error = caught.value
    assert error.line >= 1 and error.column >= 1, error
    assert error.source is not None, f"not located: {error!r}"
    assert str(error).startswith(f"{error.filename}:{error.line}:{error.column}: ")
    return error


def peak_mb(action: Callable[[], Any]) -> float:
    """The peak of memory allocated while ``action`` runs (its errors are ignored)."""
    tracemalloc.start()
    try:
        action()
    except BotlangError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20


def finishes(code: str, seconds: float = 60.0) -> str:
    """Run Python ``code`` in a child (so a regression to quadratic time cannot hang the
    suite); its stdout. Fails when the child is still running after ``seconds``."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {seconds:g} s: {code[:80]}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
