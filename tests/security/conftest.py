"""The service tests' building blocks (tests/server/server_testkit.py), for the HTTP cases."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Say how much the fuzzer ran (its budget is BOTLANG_FUZZ_EXAMPLES per test)."""
    found = [m for name, m in list(sys.modules.items()) if name.endswith("security.test_fuzz")]
    if not found or not found[0].RAN:
        return
    fuzz = found[0]
    ran = ", ".join(f"{count} {kind}" for kind, count in sorted(fuzz.RAN.items()))
    terminalreporter.write_line(  # type: ignore[attr-defined]
        f"sandbox fuzzer: budget {fuzz.BUDGET} examples per test; ran {ran}"
    )
