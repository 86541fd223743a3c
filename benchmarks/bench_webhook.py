"""Webhook throughput: signed Mango Office events per second and latency, zero lost.

A ``botlang serve``-equivalent process (SQLite store, a small flow with a callback arrow,
the worker on) is started on loopback; a load generator posts signed ``events/call`` and
``events/summary`` deliveries over keep-alive connections with a bounded number in flight.
Reported: events/s accepted, p50/p99/max latency of the webhook (request sent → response
read), then the time for the worker to drain the backlog, and the check that every event
answered 200 was applied exactly once (inbox rows done == accepted; the flow's callback
counter == summaries sent).

    python benchmarks/bench_webhook.py [--events N] [--concurrency C] [--calls K]
                                       [--synchronous FULL|NORMAL] [--seconds S]

The load generator is a minimal asyncio HTTP/1.1 client (not httpx) so that, on a small
machine, the client costs the server as little CPU as possible. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
API_SALT = "bench-salt"

FLOW = """\
bot "webhook benchmark"

block start "Start"
  message: hello

block talked "Talked"
  calculator:
    client.talked = talked + 1

block missed "Missed"
  calculator:
    client.missed = missed + 1

any -> talked
  on: callback
  exact: answered

any -> missed
  on: callback
  exact: busy; no_answer; rejected; failed
"""


# -- the server process --------------------------------------------------------------------


def serve_child(config_path: str, port: int) -> None:
    """Run the service with limits opened up for the load test (child process)."""
    import uvicorn

    from botlang.config import load_config
    from botlang.core.limits import DEFAULT_LIMITS
    from botlang.server.app import create_app
    from botlang.server.logs import configure

    configure("warning")
    limits = DEFAULT_LIMITS.with_changes(
        max_webhook_requests_per_second=1_000_000.0, max_inbox_backlog=1_000_000
    )
    app = create_app(load_config(config_path), limits=limits)
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="on",
            access_log=False,
            log_config=None,
            limit_concurrency=limits.max_concurrent_requests,
        )
    ).run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the load --------------------------------------------------------------------------------


def make_events(calls: int, phones: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """Per call: Appeared, Connected, Disconnected, then the summary. Returns the events
    (path, payload) and how many summaries are answered calls."""
    events: list[tuple[str, dict[str, Any]]] = []
    answered = 0
    start = 1_700_000_000
    for n in range(calls):
        phone = f"7900{n % phones:07d}"
        entry, call = f"e{n}", f"c{n}"
        talked = n % 3 != 0
        answered += talked
        base = {
            "entry_id": entry,
            "call_id": call,
            "location": "abonent",
            "from": {"extension": "219"},
            "to": {"number": phone, "line_number": "74992262961"},
            "command_id": f"cmd-{n}",
        }
        states = (
            ["Appeared", "Connected", "Disconnected"] if talked else ["Appeared", "Disconnected"]
        )
        for seq, state in enumerate(states, 1):
            event = {**base, "seq": str(seq), "timestamp": start + seq, "call_state": state}
            if state == "Disconnected":
                event["disconnect_reason"] = 1100 if talked else "1121"
            events.append(("events/call", event))
        events.append(
            (
                "events/summary",
                {
                    "entry_id": entry,
                    "call_direction": 2,
                    "from": {"extension": "219"},
                    "to": {"number": phone},
                    "line_number": "74992262961",
                    "create_time": start,
                    "forward_time": start + 1,
                    "talk_time": start + 2 if talked else 0,
                    "end_time": start + 40,
                    "entry_result": 1 if talked else 0,
                    "disconnect_reason": 1100 if talked else 1121,
                },
            )
        )
    return events, answered


def encode_request(path: str, payload: dict[str, Any]) -> bytes:
    from urllib.parse import urlencode

    from botlang.telephony.signing import signed_form

    body = urlencode(signed_form(API_KEY, API_SALT, payload)).encode()
    head = (
        f"POST /mango_webhook/{API_KEY}/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def one_connection(
    port: int,
    requests: list[bytes],
    cursor: list[int],
    latencies: list[float],
    statuses: dict[int, int],
    deadline: float,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while cursor[0] < len(requests) and time.perf_counter() < deadline:
            request = requests[cursor[0]]
            cursor[0] += 1
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            close = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def load(
    port: int, requests: list[bytes], concurrency: int, seconds: float
) -> tuple[list[float], dict[int, int], float, int]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    cursor = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            one_connection(port, requests, cursor, latencies, statuses, deadline)
            for _ in range(concurrency)
        )
    )
    return latencies, statuses, time.perf_counter() - started, min(cursor[0], len(requests))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_drained(port: int, expected: int, timeout: float) -> tuple[bool, float]:
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        if health["backlog"] == 0 and health["processed"] >= expected:
            return True, time.perf_counter() - started
        time.sleep(0.2)
    return False, time.perf_counter() - started


def count_applied(db: Path) -> dict[str, int]:
    """Inbox rows by status and the flow's callback counters, read from the database."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        inbox = dict(
            conn.execute("SELECT status, count(*) FROM botlang_inbox GROUP BY status").fetchall()
        )
        counters = dict(
            conn.execute(
                "SELECT name, coalesce(sum(CAST(value AS INTEGER)), 0) FROM botlang_variables"
                " WHERE name IN ('talked', 'missed') GROUP BY name"
            ).fetchall()
        )
    finally:
        conn.close()
    return {
        "done": inbox.get("done", 0),
        "pending": inbox.get("pending", 0),
        "failed": inbox.get("failed", 0),
        "talked": counters.get("talked", 0),
        "missed": counters.get("missed", 0),
    }


def warmup_events(count: int) -> list[tuple[str, dict[str, Any]]]:
    """Events for the warm-up, with ids distinct from the measured ones."""
    events, _ = make_events(max(1, count // 3), 50)
    renamed = []
    for path, payload in events[:count]:
        payload = {**payload, "entry_id": "w" + payload["entry_id"]}
        if "call_id" in payload:
            payload["call_id"] = "w" + payload["call_id"]
        renamed.append((path, payload))
    return renamed


def start_server(config: Path, port: int) -> subprocess.Popen[bytes]:
    import httpx

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-child", str(config), str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3_000, help="calls to play (~3.7 events each)")
    parser.add_argument("--phones", type=int, default=500, help="distinct clients")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop sending after this long")
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"))
    parser.add_argument("--warmup", type=int, default=300, help="requests sent before timing")
    parser.add_argument(
        "--serve-child", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_child:
        serve_child(args.serve_child[0], int(args.serve_child[1]))
        return 0

    folder = Path(tempfile.mkdtemp(prefix="botlang-bench-"))
    (folder / "bench.bot").write_text(FLOW, encoding="utf-8")
    sync = "" if args.synchronous == "FULL" else "?synchronous=NORMAL"
    (folder / "botlang.toml").write_text(
        f'[project]\nflow = "bench.bot"\n[store]\nurl = "sqlite:///bench.db{sync}"\n'
        f'[mango]\napi_key = "{API_KEY}"\napi_salt = "{API_SALT}"\n'
        'base_url = "http://127.0.0.1:9/"\n',
        encoding="utf-8",
    )
    events, _answered = make_events(args.calls, args.phones)
    warm = warmup_events(args.warmup)
    warm_requests = [encode_request(path, payload) for path, payload in warm]
    requests = [encode_request(path, payload) for path, payload in events]

    port = free_port()
    child = start_server(folder / "botlang.toml", port)
    try:
        _, warm_statuses, _, _ = asyncio.run(load(port, warm_requests, args.concurrency, 60))
        wait_drained(port, len(warm_requests), 120)
        latencies, statuses, wall, sent = asyncio.run(
            load(port, requests, args.concurrency, args.seconds)
        )
        accepted = statuses.get(200, 0)
        drained, drain_seconds = wait_drained(port, len(warm_requests) + accepted, 600)
        applied = count_applied(folder / "bench.db")
    finally:
        child.terminate()
        child.wait(30)

    warm_accepted = warm_statuses.get(200, 0)
    summaries = sum(1 for path, _ in events[:sent] if path == "events/summary")
    summaries += sum(1 for path, _ in warm if path == "events/summary")
    done = applied["done"] - warm_accepted
    callbacks = applied["talked"] + applied["missed"]
    lost = accepted - done
    print(
        f"botlang webhook benchmark: SQLite synchronous={args.synchronous}, loopback, "
        f"{os.cpu_count()} CPUs, {args.concurrency} requests in flight"
    )
    print(
        f"  events sent      {sent:,} ({args.calls:,} calls of ~3.7 events, {args.phones} clients)"
    )
    print(f"  statuses         {dict(sorted(statuses.items()))}")
    print(f"  accepted         {accepted / wall:,.0f} events/s over {wall:.2f} s")
    print(
        f"  latency          p50 {percentile(latencies, 0.50) * 1000:.1f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms   max {max(latencies) * 1000:.1f} ms"
    )
    print(
        f"  processed        {accepted / (wall + drain_seconds):,.0f} events/s end to end "
        f"(backlog drained {drain_seconds:.1f} s after the last request)"
    )
    print(
        f"  applied          {done:,} of {accepted:,} accepted (inbox pending "
        f"{applied['pending']}, failed {applied['failed']}); callback turns {callbacks:,} of "
        f"{summaries:,} summaries"
    )
    print(f"  lost             {lost}")
    return 0 if lost == 0 and drained and callbacks == summaries else 1


if __name__ == "__main__":
    sys.exit(main())
