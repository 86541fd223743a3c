"""Mango Office call sequences written from the VPBX API's worked examples, for the tests.

Each ``*.json`` file here is one call as Mango posts it — the deliveries (path and JSON
payload, with Mango's loose types: ``"1000"`` as well as ``1000``) in the order they are
posted, other orders in which they can arrive (Mango posts in parallel), and what the
client's variables and the flow's callback must be afterwards. They are written by hand
from the specification, never produced by botlang's simulator; the simulator's output is
compared with them (:func:`shape`).

File format::

    {"title", "source",
     "command": {"path", "json"},          # the command botlang sent (optional)
     "client": "7...",                     # the client's phone
     "deliveries": [{"path", "json"}...],  # as posted
     "arrivals": {"name": [index...]},     # orders to feed them in
     "talking": {"deliveries": [...], "variables": {...}},   # mid-call check (optional)
     "expect": {"callback", "variables", "legs"}}            # null: the variable is unset
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class CallSequence:
    """One call as Mango posts it, and what it must do to the client."""

    name: str
    data: dict[str, Any]

    @property
    def client(self) -> str:
        return str(self.data["client"])

    @property
    def command(self) -> dict[str, Any] | None:
        return self.data.get("command")

    @property
    def command_id(self) -> str | None:
        return self.command["json"]["command_id"] if self.command else None

    @property
    def deliveries(self) -> list[tuple[str, dict[str, Any]]]:
        return [(d["path"], d["json"]) for d in self.data["deliveries"]]

    @property
    def arrivals(self) -> dict[str, list[int]]:
        return dict(self.data["arrivals"])

    def picked(self, indexes: list[int]) -> list[tuple[str, dict[str, Any]]]:
        """The deliveries at these indexes, in this order."""
        deliveries = self.deliveries
        return [deliveries[i] for i in indexes]

    def arriving(self, order_name: str) -> list[tuple[str, dict[str, Any]]]:
        """All the deliveries, in the named arrival order."""
        return self.picked(self.arrivals[order_name])

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.data["expect"])

    @property
    def talking(self) -> dict[str, Any] | None:
        return self.data.get("talking")

    def __repr__(self) -> str:
        return self.name


def load(name: str) -> CallSequence:
    return CallSequence(name, json.loads((HERE / f"{name}.json").read_text(encoding="utf-8")))


NAMES = sorted(path.stem for path in HERE.glob("*.json"))
SEQUENCES = [load(name) for name in NAMES]
PLACED = [s for s in SEQUENCES if s.command is not None]


def arrival_cases() -> list[tuple[CallSequence, str]]:
    """Every (sequence, arrival order name), for parametrised tests."""
    return [(s, order) for s in SEQUENCES for order in s.arrivals]


def check_variables(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Each expected variable has its value; ``None`` means it must be unset (or None)."""
    wrong = {
        name: (actual.get(name), value)
        for name, value in expected.items()
        if actual.get(name) != value
    }
    assert not wrong, f"(actual, expected) per variable: {wrong}"


def check_legs(actual: list[dict[str, Any]] | None, expected: list[dict[str, Any]]) -> None:
    """``call_legs`` holds each expected leg (by call_id) with the expected fields."""
    by_id = {leg["call_id"]: leg for leg in actual or []}
    assert set(by_id) == {leg["call_id"] for leg in expected}, by_id
    for leg in expected:
        check_variables(by_id[leg["call_id"]], leg)


# -- comparing sequences with the simulator's -----------------------------------------------


def _is_sip(value: str) -> bool:
    return value.lower().startswith("sip:") or "@" in value


def _party(party: Any, legs: dict[str, str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(party, dict):
        return (("value", str(party)),)
    shown = []
    for key, value in sorted(party.items()):
        text = str(value)
        if key in ("number", "line_number") and _is_sip(text):
            text = "sip"
        elif key == "taken_from_call_id":
            text = legs.get(text, "?")
        shown.append((key, text))
    return tuple(shown)


def _leg_labels(deliveries: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """A name for each leg from what it connects, independent of ids and arrival order."""
    labels: dict[str, str] = {}
    for path, payload in deliveries:
        if path != "events/call" or payload["call_id"] in labels:
            continue
        source, target = payload.get("from") or {}, payload.get("to") or {}
        if target.get("extension"):
            labels[payload["call_id"]] = f"rings {target['extension']}"
        else:
            labels[payload["call_id"]] = f"client from {source.get('extension', '-')}"
    return labels


def _code(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def shape(deliveries: list[tuple[str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """What a sequence says, without its ids and times: paths, leg states and ``seq``,
    who is on each side (SIP URIs as ``sip``), result codes, the summary's facts."""
    legs = _leg_labels(deliveries)
    shown: list[tuple[Any, ...]] = []
    for path, p in deliveries:
        if path == "events/call":
            shown.append(
                (
                    path,
                    legs[p["call_id"]],
                    int(p["seq"]),
                    p["call_state"],
                    _code(p.get("disconnect_reason")),
                    _party(p.get("from"), legs),
                    _party(p.get("to"), legs),
                    p.get("location"),
                    bool(p.get("command_id")),
                    p.get("callback_initiator"),
                )
            )
        elif path == "events/summary":
            shown.append(
                (
                    path,
                    int(p["call_direction"]),
                    _party(p.get("from"), legs),
                    _party(p.get("to"), legs),
                    "sip" if _is_sip(str(p.get("line_number"))) else p.get("line_number"),
                    int(p["talk_time"]) > 0,
                    int(p["forward_time"]) > 0,
                    int(p["entry_result"]),
                    _code(p.get("disconnect_reason")),
                )
            )
        elif path.startswith("result/"):
            shown.append((path, _code(p.get("result"))))
        elif path == "events/recording":
            state = p.get("recording_state")
            shown.append((path, legs.get(p.get("call_id", ""), "?"), state, int(p["seq"])))
        else:
            shown.append((path, legs.get(p.get("call_id", ""), "?")))
    return shown
