"""Webhook latency while Mango is slow: calls answered in 2–5 s must not stall the service.

``botlang serve`` runs in its own process on SQLite, its flow placing a call on every
``busy`` summary; the Mango API is a local stand-in that answers each call command after
2–5 s. The same webhook load (signed ``events/call`` deliveries, which place no calls) is
measured twice in one run:

- **unloaded**: no call in flight — the floor;
- **loaded**: while calls are in flight (``busy`` summaries keep the workers calling).

Reported: webhook p50/p99 and the ratio loaded/unloaded (target: p99 ≤ 2×), and the p50 of
another client's ``POST /message`` turn, loaded/unloaded.

    python benchmarks/bench_slow_mango.py [--requests N] [--calls K] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_webhook import (  # the benchmark next door: load generator, server
    API_KEY,
    API_SALT,
    encode_request,
    free_port,
    load,
    percentile,
    start_server,
)

FLOW = """\
bot "slow mango benchmark"

block start "Start"
  message: hello

block call "Call back"
  calculator:
    r = mango_employee_call("219", phone)
    client.calls = calls + 1
  message: calling

any -> call
  on: callback
  exact: busy
"""


class SlowMango:
    """Mango's API answering each command after 2–5 s (loopback only)."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.commands = 0
        self.in_flight = 0
        self._lock = threading.Lock()

    async def command(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        body = (await request.body()).decode()
        payload = json.loads(parse_qs(body).get("json", ["{}"])[0])
        with self._lock:
            self.in_flight += 1
        try:
            if "command_id" in payload:
                await asyncio.sleep(random.uniform(self.low, self.high))
        finally:
            with self._lock:
                self.in_flight -= 1
                self.commands += 1
        return JSONResponse({"result": 1000})

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        from starlette.applications import Starlette
        from starlette.routing import Route

        from botlang.util.serving import serve_app

        app = Starlette(routes=[Route("/{path:path}", self.command, methods=["POST"])])
        with serve_app(app, name="slow mango") as url:
            yield url + "/"


def call_events(count: int, prefix: str) -> list[bytes]:
    """``events/call`` deliveries (no callback, no call placed)."""
    requests = []
    for n in range(count):
        event = {
            "entry_id": f"{prefix}e{n}",
            "call_id": f"{prefix}c{n}",
            "seq": "1",
            "timestamp": 1_700_000_000 + n,
            "call_state": "Appeared",
            "location": "abonent",
            "from": {"extension": "219"},
            "to": {"number": f"7901{n % 400:07d}", "line_number": "74992262961"},
        }
        requests.append(encode_request("events/call", event))
    return requests


def busy_summaries(count: int) -> list[bytes]:
    """``events/summary`` deliveries whose callback turns place a call each."""
    requests = []
    for n in range(count):
        summary = {
            "entry_id": f"busy{n}",
            "call_direction": 2,
            "from": {"extension": "219"},
            "to": {"number": f"7902{n:07d}"},
            "create_time": 1_700_000_000,
            "talk_time": 0,
            "end_time": 1_700_000_030,
            "entry_result": 0,
            "disconnect_reason": 1121,
        }
        requests.append(encode_request("events/summary", summary))
    return requests


def message_p50(port: int, count: int) -> float:
    """The median time of another client's POST /message turn (no call)."""
    import httpx

    times = []
    with httpx.Client(timeout=30) as http:
        for n in range(count):
            body = {"phone": f"7903{n:07d}", "text": "привет"}
            started = time.perf_counter()
            response = http.post(f"http://127.0.0.1:{port}/message", json=body)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"/message answered {response.status_code}")
    return percentile(times, 0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_500, help="webhook requests per phase")
    parser.add_argument("--calls", type=int, default=40, help="busy summaries (slow calls)")
    parser.add_argument("--concurrency", type=int, default=8, help="webhook requests in flight")
    parser.add_argument("--messages", type=int, default=40, help="/message turns per phase")
    parser.add_argument("--low", type=float, default=2.0, help="fastest Mango answer, s")
    parser.add_argument("--high", type=float, default=5.0, help="slowest Mango answer, s")
    args = parser.parse_args()

    mango = SlowMango(args.low, args.high)
    folder = Path(tempfile.mkdtemp(prefix="botlang-slow-"))
    (folder / "bench.bot").write_text(FLOW, encoding="utf-8")
    with mango.serve() as mango_url:
        (folder / "botlang.toml").write_text(
            '[project]\nflow = "bench.bot"\nmessengers = ["whatsapp"]\n'
            '[store]\nurl = "sqlite:///bench.db"\n'
            f'[mango]\napi_key = "{API_KEY}"\napi_salt = "{API_SALT}"\n'
            f'base_url = "{mango_url}"\n[guard]\nenabled = false\n',
            encoding="utf-8",
        )
        port = free_port()
        child = start_server(folder / "botlang.toml", port)
        try:
            asyncio.run(load(port, call_events(600, "warm"), args.concurrency, 60))
            idle, statuses, _, _ = asyncio.run(
                load(port, call_events(args.requests, "a"), args.concurrency, 120)
            )
            idle_turn = message_p50(port, args.messages)
            asyncio.run(load(port, busy_summaries(args.calls), args.concurrency, 60))
            deadline = time.monotonic() + 30
            while mango.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            in_flight_at_start = mango.in_flight
            busy, busy_statuses, _, _ = asyncio.run(
                load(port, call_events(args.requests, "b"), args.concurrency, 120)
            )
            busy_turn = message_p50(port, args.messages)
            in_flight_at_end = mango.in_flight
        finally:
            child.terminate()
            child.wait(30)
    p50, p99 = percentile(idle, 0.5), percentile(idle, 0.99)
    b50, b99 = percentile(busy, 0.5), percentile(busy, 0.99)
    ratio = b99 / p99
    print(
        f"botlang webhook with Mango answering calls in {args.low:g}–{args.high:g} s: SQLite, "
        f"loopback, {os.cpu_count()} CPUs, {args.concurrency} requests in flight"
    )
    print(f"  statuses         unloaded {statuses}, loaded {busy_statuses}")
    print(
        f"  calls in flight  {in_flight_at_start} when the loaded phase began, "
        f"{in_flight_at_end} at its end; {mango.commands} commands answered"
    )
    print(f"  webhook p50      unloaded {p50 * 1000:.1f} ms, loaded {b50 * 1000:.1f} ms")
    print(f"  webhook p99      unloaded {p99 * 1000:.1f} ms, loaded {b99 * 1000:.1f} ms")
    print(f"  p99 ratio        {ratio:.2f}x (target <= 2x)")
    print(
        f"  /message p50     unloaded {idle_turn * 1000:.1f} ms, loaded {busy_turn * 1000:.1f} ms"
        f" ({busy_turn / idle_turn:.2f}x)"
    )
    calls_overlapped = in_flight_at_start > 0
    return 0 if ratio <= 2.0 and calls_overlapped else 1


if __name__ == "__main__":
    sys.exit(main())
