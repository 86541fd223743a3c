"""The generated function reference: docs/functions.md and ``botlang help`` agree with the
registry, so the reference is never kept by hand."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from botlang.core.builtins import load_stdlib
from botlang.tools import reference

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "functions.md"
REGENERATE = "regenerate it with: python -m botlang.tools.reference > docs/functions.md"


def test_docs_functions_md_is_the_generated_reference() -> None:
    assert DOCS.read_text(encoding="utf-8") == reference.render_markdown(), REGENERATE


def test_the_generator_writes_the_same_text() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "botlang.tools.reference"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
    )
    assert done.stdout.decode("utf-8") == DOCS.read_text(encoding="utf-8")


def test_every_stdlib_function_and_alias_is_in_the_reference() -> None:
    text = reference.render_markdown()
    for fn in load_stdlib().functions():
        if fn.func.__module__.startswith("botlang.stdlib."):
            assert f"- `{fn.signature()}` — " in text
            for alias in fn.aliases:
                assert f"`{alias}`" in text


def test_modules_appear_in_the_documented_order() -> None:
    text = reference.render_markdown()
    positions = [text.index(f"\n## {module}\n") for module in reference.module_order()]
    assert positions == sorted(positions)


def test_functions_registered_outside_the_stdlib_are_not_published() -> None:
    from botlang.core.builtins import Registry, builtin

    registry = Registry()

    @builtin("only_in_a_test", registry=registry)
    def only_in_a_test() -> int:
        """Not part of botlang."""
        return 1

    assert "only_in_a_test" not in reference.render_markdown(registry)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "addDays(date: str, days: int)"),
        (("addDays",), "also: add_days"),
        (("add_days",), "module: dates"),
        (("findall",), "findall(pattern: str, text: str, index: int = None)"),
        (("lists",), "remove_duplicates(arr: list)"),
    ],
)
def test_help_shows_functions_and_modules(
    argv: tuple[str, ...], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="botlang")
    reference.register(parser.add_subparsers())
    args = parser.parse_args(["help", *argv])
    assert args.func(args) == 0
    assert expected in capsys.readouterr().out


def test_help_for_an_unknown_name_suggests_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="botlang")
    reference.register(parser.add_subparsers())
    args = parser.parse_args(["help", "adddays"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "no function or module named 'adddays'" in err
    assert "addDays" in err
