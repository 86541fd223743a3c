"""Pydantic models of what Mango Office posts to the webhook.

Mango's field types are loose: ``extension``, ``seq``, ``timestamp``, ``result`` and
``disconnect_reason`` arrive sometimes as strings, sometimes as integers, and optional
fields may be missing, ``null`` or ``""``. These models accept all of those and give
plain ``int`` / ``str`` values; fields botlang does not use are kept (``extra="allow"``)
so a newer Mango payload is never refused for carrying more.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# Stores keep integers as signed 64-bit numbers; a larger one could be accepted, never applied.
_INT64 = 2**63


def _loose_int(value: Any) -> Any:
    """An integer from an int, an integral float or a string of digits; "" → None."""
    if value is None:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_INT64 <= value < _INT64:
            raise ValueError("must be a whole number of at most 18 digits")
        return value
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _INT64:
            return int(value)
        raise ValueError("must be a whole number of at most 18 digits")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        sign = text[0] in "+-"
        digits = text[1:] if sign else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(text)
    raise ValueError("must be a whole number (an integer or a string of digits)")


def _loose_str(value: Any) -> Any:
    """Text from a string or a number (``219`` → ``"219"``); "" → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be text or a number, not true/false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip() or None
    raise ValueError("must be text or a number")


LooseInt = Annotated[int | None, BeforeValidator(_loose_int)]
LooseStr = Annotated[str | None, BeforeValidator(_loose_str)]
RequiredInt = Annotated[int, BeforeValidator(_loose_int)]
RequiredStr = Annotated[str, BeforeValidator(_loose_str)]


class MangoModel(BaseModel):
    """Base of the webhook models: unknown fields kept, values immutable."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Party(MangoModel):
    """One side of a call: an employee (``extension``) and/or a phone ``number``."""

    extension: LooseStr = None
    number: LooseStr = None
    line_number: LooseStr = None
    acd_group: LooseStr = None

    @property
    def is_external(self) -> bool:
        """A phone number with no employee behind it: the client's side."""
        return self.extension is None and self.number is not None


def _party(value: Any) -> Any:
    # Some payloads send a bare number (or an empty string) instead of an object.
    if value is None or value == "":
        return {}
    if isinstance(value, str | int) and not isinstance(value, bool):
        return {"number": str(value)}
    return value


PartyField = Annotated[Party, BeforeValidator(_party)]


class CallEvent(MangoModel):
    """``events/call``: a state change of one call leg, ordered by ``seq`` per call."""

    entry_id: RequiredStr
    call_id: RequiredStr
    seq: RequiredInt
    call_state: RequiredStr  # Appeared | Connected | OnHold | Disconnected
    timestamp: LooseInt = None
    location: LooseStr = None
    from_: PartyField = Field(default_factory=Party, alias="from")
    to: PartyField = Field(default_factory=Party)
    disconnect_reason: LooseInt = None
    command_id: LooseStr = None
    callback_initiator: LooseStr = None


class CallSummary(MangoModel):
    """``events/summary``: the final word on a finished call."""

    entry_id: RequiredStr
    call_direction: LooseInt = None  # 0 internal, 1 incoming, 2 outgoing
    from_: PartyField = Field(default_factory=Party, alias="from")
    to: PartyField = Field(default_factory=Party)
    line_number: LooseStr = None
    create_time: LooseInt = None
    forward_time: LooseInt = None
    talk_time: LooseInt = None  # when the talk began; 0 = no conversation
    end_time: LooseInt = None
    entry_result: LooseInt = None  # 1 answered, 0 missed: not reliable alone
    disconnect_reason: LooseInt = None


class CommandResult(MangoModel):
    """``result/<command>``: whether a command (a callback...) could be carried out."""

    command_id: LooseStr = None
    result: RequiredInt


class AnyEvent(MangoModel):
    """Any other delivery (``events/recording``, ``events/sms``...): a JSON object."""


MODELS: dict[str, type[MangoModel]] = {
    "events/call": CallEvent,
    "events/summary": CallSummary,
}


def model_for(kind: str) -> type[MangoModel]:
    """The model a delivery of this kind (``events/call``, ``result/callback``...) is read with."""
    if kind in MODELS:
        return MODELS[kind]
    if kind.startswith("result/"):
        return CommandResult
    return AnyEvent
