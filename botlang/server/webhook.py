"""Reading one Mango Office webhook delivery: its path, its form body, its event.

Everything here is pure (no I/O) so it is tested on its own; :mod:`botlang.server.app`
strings it together with the inbox.

Paths under ``/mango_webhook/<api key>/``:

- ``events/call``, ``events/summary``: call events, stored and applied to the client;
- ``result/<command>`` (``result/callback``, ``result/callback_group``,
  ``result/call/hangup``...): a command's outcome, stored; a failed call command is
  reported to the client who placed it;
- ``events/recording``, ``events/record/added``: stored; a finished recording is shown to
  the client of its call (``call_record_id``);
- other ``events/<name>`` and ``events/<group>/<name>`` (``events/record/tagged``,
  ``events/recognized/offline``, ``events/dtmf``, ``events/sms``...): verified, stored and
  acknowledged;
- ``ping``: verified and acknowledged, not stored;
- anything else (``events/call/extra``: a path below an event that has none): 404.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from botlang.server.models import CallEvent, CallSummary, CommandResult, MangoModel, model_for

FORM_FIELDS = ("vpbx_api_key", "sign", "json")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
PING = "ping"
_KIND = re.compile(r"events(/[a-z0-9_]+){1,2}|result(/[a-z0-9_]+)+")
# Events with no notifications below them: ``events/call/x`` is not a Mango path.
_LEAF_EVENTS = frozenset(
    {"events/call", "events/summary", "events/recording", "events/dtmf", "events/sms"}
)
_KEY_MAX = 400  # the store allows 500; longer ids are hashed


class BadDelivery(ValueError):
    """The delivery is malformed (HTTP 400); the message never quotes the body."""


def classify(path: str) -> str | None:
    """The delivery kind for a path after the key (``events/call``), or None if unknown."""
    path = path.strip("/")
    if path == PING:
        return PING
    if not _KIND.fullmatch(path):
        return None
    parent = path.rsplit("/", 1)[0]
    if path.count("/") == 2 and path.startswith("events/") and parent in _LEAF_EVENTS:
        return None
    return path


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The three form fields of a delivery; BadDelivery if the body is not that form."""
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != FORM_CONTENT_TYPE:
            raise BadDelivery(f"expected {FORM_CONTENT_TYPE}, got {media or 'no media type'}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDelivery("the body is not UTF-8") from None
    try:
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise BadDelivery("the body is not form-encoded") from None
    form: dict[str, str] = {}
    for name in FORM_FIELDS:
        values = fields.get(name)
        if not values:
            raise BadDelivery(f"the form has no {name!r} field")
        if len(values) > 1:
            raise BadDelivery(f"the form has {name!r} more than once")
        form[name] = values[0]
    return form


def parse_payload(json_text: str) -> dict[str, Any]:
    """The ``json`` field as an object; BadDelivery for anything else."""
    try:
        payload = json.loads(json_text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        raise BadDelivery("the json field is not JSON") from None
    if not isinstance(payload, dict):
        raise BadDelivery("the json field is not a JSON object")
    return payload


def parse_event(kind: str, payload: dict[str, Any]) -> MangoModel:
    """The payload read with its kind's model; BadDelivery naming the bad fields."""
    try:
        return model_for(kind).model_validate(payload)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False)[:5]:
            where = ".".join(str(part) for part in error["loc"]) or "json"
            problems.append(f"{where}: {error['msg']}")
        raise BadDelivery("invalid event: " + "; ".join(problems)) from None


@dataclass(frozen=True)
class Delivery:
    """A verified, parsed delivery ready for the inbox."""

    kind: str
    key: str  # the dedupe key: the same event delivered twice has the same key
    payload: dict[str, Any]
    event: MangoModel


def dedupe_key(kind: str, event: MangoModel, payload: dict[str, Any]) -> str:
    """A stable key for the event's identity, so a second delivery is recognised.

    ``events/call``: the leg, its ``seq`` and state; ``events/summary``: the entry (one
    summary per call); ``result/...``: the command id. Anything else, or an event missing
    those ids: a sha256 of its canonical JSON.
    """
    key: str | None = None
    if isinstance(event, CallEvent):
        key = f"{kind}:{event.call_id}:{event.seq}:{event.call_state}"
    elif isinstance(event, CallSummary):
        key = f"{kind}:{event.entry_id}"
    elif isinstance(event, CommandResult) and event.command_id:
        key = f"{kind}:{event.command_id}"
    if key is None or len(key) > _KEY_MAX:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(f"{key or ''}\0{canonical}".encode()).hexdigest()
        key = f"{kind}:sha256:{digest}"
    return key


def read_delivery(kind: str, json_text: str) -> Delivery:
    """Parse a verified ``json`` field into a :class:`Delivery` (BadDelivery if malformed)."""
    payload = parse_payload(json_text)
    event = parse_event(kind, payload)
    return Delivery(kind, dedupe_key(kind, event, payload), payload, event)
