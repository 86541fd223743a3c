"""``botlang codes`` and ``botlang mango-sim``."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from botlang.cli import telephony as commands
from botlang.telephony.codes import CODES
from botlang.telephony.signing import signed_form


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="botlang")
    commands.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_codes_handler(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["codes", "2219", "1090", "1121", "7123"])
    assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"2219  {CODES[2210]}  (class 2210)"
    assert out[1] == f"1090  {CODES[1000]}  (class 1000)"
    assert out[2] == f"1121  {CODES[1121]}"
    assert out[3].startswith("7123  Неизвестный код")


def test_codes_non_number_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["codes", "abc", "1000"])
    assert args.func(args) == 1
    captured = capsys.readouterr()
    assert "'abc' is not a result code" in captured.err
    assert CODES[1000] in captured.out


def test_codes_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "botlang.cli.telephony", "codes", "--lang", "en", "2219"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0
    assert "Access restricted by the usage period  (class 2210)" in done.stdout


def test_mango_sim_arguments() -> None:
    args = parse(["mango-sim", "--port", "9999", "--webhook", "http://x/", "--outcome", "busy"])
    assert (args.port, args.host, args.webhook, args.outcome) == (
        9999,
        "127.0.0.1",
        "http://x/",
        "busy",
    )
    assert callable(args.func)
    assert (args.employee_outcome, args.delivery, args.record) == ("answered", "ordered", True)
    played = parse(
        ["mango-sim", "--employee-outcome", "no-answer", "--delivery", "parallel", "--no-record"]
    )
    assert (played.employee_outcome, played.delivery, played.record) == (
        "no-answer",
        "parallel",
        False,
    )
    with pytest.raises(SystemExit):
        parse(["mango-sim", "--delivery", "sometimes"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mango_sim_serves_and_never_prints_the_salt() -> None:
    port = _free_port()
    salt = "cli-salt-never-shown-77"
    env = {**os.environ, "MANGO_API_KEY": "cli-key", "MANGO_API_SALT": salt}
    proc = subprocess.Popen(
        [sys.executable, "-m", "botlang.cli.telephony", "mango-sim", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/vpbx/commands/callback"
        payload = {"command_id": "1", "from": {"extension": "219"}, "to_number": "79004443322"}
        form = signed_form("cli-key", salt, payload)
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.post(url, data=form, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert response.json() == {"result": 1000}
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert "api key: from $MANGO_API_KEY" in output and "$MANGO_API_SALT" in output
    assert salt not in output and "cli-key" not in output


def test_mango_sim_rejects_unknown_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["mango-sim", "--outcome", "maybe"])
    assert args.func(args) == 2
    assert "unknown outcome" in capsys.readouterr().err
    args = parse(["mango-sim", "--employee-outcome", "sometimes"])
    assert args.func(args) == 2
    assert "unknown outcome" in capsys.readouterr().err
