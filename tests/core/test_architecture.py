"""The language core knows nothing of HTTP, databases or Mango: importing and running it
loads none of them (a subprocess, so other tests' imports don't count)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import botlang
botlang.run("x = len('ab') + 1\\ny = addDays('01.01.2024', 1)")
botlang.render("#{1 + 1}")
print(json.dumps(sorted(sys.modules)))
"""

FORBIDDEN_ROOTS = {"httpx", "starlette", "uvicorn", "psycopg", "redis", "sqlite3", "socket"}
FORBIDDEN_PACKAGES = (
    "botlang.store",
    "botlang.server",
    "botlang.flow",
    "botlang.telephony.mango",
    "botlang.clients.matching",
    "botlang.config",
)


def test_core_imports_no_web_store_or_network_modules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout)
    bad = [
        name
        for name in loaded
        if name.split(".")[0] in FORBIDDEN_ROOTS or name.startswith(FORBIDDEN_PACKAGES)
    ]
    assert bad == []
