"""The studio's web page and its JSON API, on Starlette (``botlang studio FILE.bot``).

``GET /`` is the page (static HTML, CSS and JavaScript shipped with botlang, Mermaid
vendored: nothing to build or download). The API:

``GET /api/state``
    everything the page shows (:meth:`~botlang.studio.session.Studio.state`); the flow
    file is looked at first and reloaded when it has changed.
``GET /api/version``
    ``{"version": N}``, cheap to poll: N grows whenever the flow file is reloaded.
``POST /api/say`` ``{"text"}`` · ``/api/press`` ``{"index", "latitude"?, "longitude"?}`` ·
``/api/event`` ``{"text", "variables"?}`` · ``/api/enter`` ``{"block"}`` ·
``/api/clock`` ``{"to"}`` or ``{"advance": seconds}`` · ``/api/outcome``
``{"outcome", "next"?}`` · ``/api/restart`` · ``/api/save`` ``{"name", "overwrite"?}``
    each answers the new state (``/api/save``: ``{"saved": ..., "state": ...}``); 400 with
    ``{"error"}`` for a request the studio cannot do.

POST bodies must be JSON (``Content-Type: application/json``) and a request with an
``Origin`` must come from the page itself, so another web site open in the same browser
cannot drive the studio or write files; and every request must name this machine (or the
``--host`` given) in its ``Host``, so a web site whose name is re-pointed at 127.0.0.1
cannot read the studio either.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from botlang.studio.session import Studio, StudioError

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY_BYTES = 256 * 1024

Handler = Callable[[Studio, dict[str, Any]], Any]


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StudioError(f"'{key}' must be a number") from None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise StudioError(f"'{key}' must be text")
    return value


def _say(studio: Studio, body: dict[str, Any]) -> None:
    studio.say(_text(body, "text"))


def _press(studio: Studio, body: dict[str, Any]) -> None:
    index = body.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise StudioError("'index' must be the number of a button on offer")
    studio.press(index, latitude=_number(body, "latitude"), longitude=_number(body, "longitude"))


def _event(studio: Studio, body: dict[str, Any]) -> None:
    studio.event(_text(body, "text"), _text(body, "variables"))


def _enter(studio: Studio, body: dict[str, Any]) -> None:
    studio.enter(_text(body, "block").strip())


def _clock(studio: Studio, body: dict[str, Any]) -> None:
    if body.get("advance") is not None:
        seconds = _number(body, "advance")
        assert seconds is not None
        studio.advance(int(seconds))
    else:
        studio.set_clock_text(_text(body, "to"))


def _outcome(studio: Studio, body: dict[str, Any]) -> None:
    studio.set_outcome(_text(body, "outcome").strip(), next_only=bool(body.get("next")))


def _restart(studio: Studio, body: dict[str, Any]) -> None:
    studio.restart()


def _save(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    saved = studio.save(_text(body, "name"), overwrite=bool(body.get("overwrite")))
    return {"saved": saved, "state": studio.state()}


ACTIONS: dict[str, Handler] = {
    "say": _say,
    "press": _press,
    "event": _event,
    "enter": _enter,
    "clock": _clock,
    "outcome": _outcome,
    "restart": _restart,
    "save": _save,
}


def _host_of(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def create_app(studio: Studio, *, host: str = "127.0.0.1") -> Starlette:
    """The studio's ASGI app for one :class:`Studio`, served on ``host``."""
    allowed = LOOPBACK_NAMES | {host.lower()}

    def refused(request: Request) -> Response | None:
        if _host_of(request.headers.get("host", "")) not in allowed:
            return JSONResponse({"error": "unknown host"}, 421)
        return None

    async def page(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal

        def look() -> dict[str, Any]:
            studio.refresh()
            return studio.state()

        return JSONResponse(await run_in_threadpool(look))

    async def version(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal

        def look() -> dict[str, Any]:
            studio.refresh()
            return {"version": studio.version}

        return JSONResponse(await run_in_threadpool(look))

    def action(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if (refusal := refused(request)) is not None:
                return refusal
            if not _same_origin(request):
                return JSONResponse({"error": "requests must come from the studio's page"}, 403)
            if request.headers.get("content-type", "").split(";")[0].strip() != (
                "application/json"
            ):
                return JSONResponse({"error": "send JSON (Content-Type: application/json)"}, 415)
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                return JSONResponse({"error": "the request is too large"}, 413)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return JSONResponse({"error": "the body must be JSON"}, 400)
            if not isinstance(body, dict):
                return JSONResponse({"error": "the body must be a JSON object"}, 400)

            def run() -> Any:
                studio.refresh()
                answer = handler(studio, body)
                return answer if answer is not None else studio.state()

            try:
                return JSONResponse(await run_in_threadpool(run))
            except StudioError as exc:
                return JSONResponse({"error": str(exc)}, 400)

        return endpoint

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/", page),
        Route("/favicon.ico", no_icon),
        Route("/api/state", state),
        Route("/api/version", version),
        *(Route(f"/api/{name}", action(h), methods=["POST"]) for name, h in ACTIONS.items()),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)


# -- botlang studio ----------------------------------------------------------------------------


def _studio_from(args: argparse.Namespace) -> Studio:
    """The studio the command line asks for; ValueError with a message for the user."""
    from botlang.testing import parse_clock
    from botlang.tools.repl import telephony_from

    telephony, configured = telephony_from(args)
    path = Path(args.file) if args.file else configured
    if path is None:
        raise ValueError("give the flow: botlang studio FILE.bot (or --config with a flow)")
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    clock = None
    if args.clock:
        clock = parse_clock(args.clock)
    return Studio(path, telephony=telephony, clock=clock, phone=args.client)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run_studio(args: argparse.Namespace) -> int:
    """Handler of ``botlang studio``: serve the page until Ctrl+C."""
    import uvicorn

    try:
        studio = _studio_from(args)
    except ValueError as exc:
        print(f"botlang studio: {exc}", file=sys.stderr)
        return 2
    state = studio.state()
    for diagnostic in state["flow"]["diagnostics"]:
        if diagnostic["severity"] == "error":
            print(diagnostic["text"], file=sys.stderr)
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        print(f"botlang studio: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    query = f"?lang={args.lang}" if args.lang else ""
    url = f"http://{args.host}:{port}/{query}"
    print(f"botlang studio: {url}  ({studio.path}; Ctrl+C stops)", flush=True)
    if studio.telephony.forward is not None:
        print("botlang studio: calls are PLACED through Mango Office (--place-calls)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "botlang studio: warning: listening beyond this machine; anyone who reaches it "
            "can talk to the bot and save tests into the flow's folder",
            file=sys.stderr,
        )
    config = uvicorn.Config(
        create_app(studio, host=args.host), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    if not args.no_browser:
        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    sock.close()
    return 0
