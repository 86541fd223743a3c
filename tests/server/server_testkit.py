"""Building blocks for the service tests: a project config, signed deliveries, a running server."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from botlang.config import Config, parse_config
from botlang.server import Service
from botlang.store import Store
from botlang.telephony.signing import signed_form
from botlang.util.serving import serve_app

API_KEY = "srv-test-key-7f3a91"
API_SALT = "srv-test-salt-c0ffee-5521"
FLOW = Path(__file__).resolve().parents[1] / "acceptance" / "callme.bot"
PHONE = "79004443322"


def make_config(
    folder: Path,
    *,
    store_url: str = "memory://",
    messengers: tuple[str, ...] = ("whatsapp",),
    mango: bool = True,
    base_url: str = "http://127.0.0.1:9/",
    flow: Path = FLOW,
    **sections: dict[str, Any],
) -> Config:
    """A project on the call-me-back flow (or ``flow``); ``sections`` adds tables
    (``guard={...}``)."""
    data: dict[str, Any] = {
        "project": {"flow": str(flow), "messengers": list(messengers)},
        "store": {"url": store_url},
        **sections,
    }
    if mango:
        data["mango"] = {"api_key": API_KEY, "api_salt": API_SALT, "base_url": base_url}
    return parse_config(data, base=folder)


def signed(payload: dict[str, Any], *, key: str = API_KEY, salt: str = API_SALT) -> dict[str, str]:
    """The form Mango posts for ``payload``."""
    return signed_form(key, salt, payload)


def call_event(
    seq: int | str = 1,
    state: str = "Appeared",
    *,
    phone: str = PHONE,
    call_id: str = "leg-1",
    entry_id: str = "entry-1",
    **extra: Any,
) -> dict[str, Any]:
    """An ``events/call`` payload of an employee callback to ``phone``."""
    return {
        "entry_id": entry_id,
        "call_id": call_id,
        "timestamp": 1_700_000_000 + (int(seq) if str(seq).isdigit() else 0),
        "seq": seq,
        "call_state": state,
        "location": "abonent",
        "from": {"extension": "219"},
        "to": {"number": phone, "line_number": "74992262961"},
        **extra,
    }


def summary(
    *,
    phone: str = PHONE,
    entry_id: str = "entry-1",
    answered: bool = True,
    reason: int | str = 1100,
    talk_seconds: int = 30,
    direction: int = 2,
) -> dict[str, Any]:
    """An ``events/summary`` payload."""
    start = 1_700_000_000
    parties = (
        ({"extension": "219"}, {"number": phone})
        if direction == 2
        else ({"number": phone}, {"extension": "219", "number": "74992262961"})
    )
    return {
        "entry_id": entry_id,
        "call_direction": direction,
        "from": parties[0],
        "to": parties[1],
        "line_number": "74992262961",
        "create_time": start,
        "forward_time": start + 1,
        "talk_time": start + 5 if answered else 0,
        "end_time": start + 5 + talk_seconds if answered else start + 20,
        "entry_result": 1 if answered else 0,
        "disconnect_reason": reason,
    }


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy (generous, for loaded machines)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or condition}")
        time.sleep(0.02)


@dataclass
class Running:
    """A service running on 127.0.0.1 and an HTTP client for it."""

    url: str
    app: Any
    http: httpx.Client

    @property
    def service(self) -> Service:
        return self.app.state.service  # type: ignore[no-any-return]

    @property
    def store(self) -> Store:
        return self.service.store

    def webhook(
        self,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
        key: str = API_KEY,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST to ``/mango_webhook/<key>/<path>``: a signed ``payload``, or ``form``/raw."""
        if payload is not None:
            form = signed(payload)
        if form is not None:
            kwargs["data"] = form
        return self.http.post(f"{self.url}/mango_webhook/{key}/{path}", **kwargs)

    def settled(self, timeout: float = 20.0) -> None:
        """Wait until every stored event has been processed."""
        wait_for(
            lambda: self.store.inbox_stats()["pending"] == 0 and self.service.writer.pending == 0,
            timeout,
            "the inbox to drain",
        )

    def client_vars(self, phone: str = PHONE) -> dict[str, Any]:
        client = self.store.find_client_by_variable_value(phone)
        assert client is not None, f"no client for {phone}"
        return self.store.read_variables(client.client_id)["client"]


@dataclass
class Receiver:
    """A messenger integration's stand-in for ``[server] outgoing_url``: records each POST
    (its JSON and ``Authorization`` header) and answers ``statuses`` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def _post(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.received.append(body)
            self.authorizations.append(request.headers.get("authorization"))
            status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({"error": "refused"} if status >= 300 else {"ok": True}, status)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Listen on 127.0.0.1; yields the URL to POST to."""
        app = Starlette(routes=[Route("/outgoing", self._post, methods=["POST"])])
        with serve_app(app, name="test receiver") as url:
            yield f"{url}/outgoing"

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [body["id"] for body in self.received]
