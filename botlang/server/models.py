"""Pydantic models of what Mango Office posts to the webhook.

Mango's field types are loose: ``extension``, ``seq``, ``timestamp``, ``result`` and
``disconnect_reason`` arrive sometimes as strings, sometimes as integers, and optional
fields may be missing, ``null`` or ``""``. These models accept all of those and give
plain ``int`` / ``str`` values; fields botlang does not use are kept (``extra="allow"``)
so a newer Mango payload is never refused for carrying more.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from botlang.clients.phones import InvalidPhone, normalize_phone


def _loose_int(value: Any) -> Any:
    """An integer from an int, an integral float or a string of digits; "" → None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError("must be a whole number")
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


class PartyKind(StrEnum):
    """What one side of a call is, as far as the client is concerned."""

    EMPLOYEE = "employee"  # has an ``extension``: an employee, whatever its ``number``
    GROUP = "group"  # a group (``acd_group``) with no particular employee yet
    SIP = "sip"  # a SIP address (``sip:219@vpbx….mangosip.ru``): a device, never a client
    PHONE = "phone"  # a phone number by the product's rule: the client's side
    OTHER = "other"  # a number that is none of those (hidden caller id, a short number)
    NONE = "none"  # nothing at all


def is_sip_uri(number: str) -> bool:
    """``sip:…``/``sips:…`` or anything with an ``@``: an address, not a phone number."""
    lowered = number.strip().lower()
    return lowered.startswith(("sip:", "sips:")) or "@" in lowered


def phone_or_none(number: str | None) -> str | None:
    """``number`` normalised as a phone (``79004443322``), or None if it is not one.

    The product's rule: digits only, country code first, 11 digits or more; a SIP URI is
    never a phone, even when its user part is made of digits.
    """
    if number is None or is_sip_uri(number):
        return None
    try:
        return normalize_phone(number)
    except InvalidPhone:
        return None


class Party(MangoModel):
    """One side of a call: an employee (``extension``) and/or a ``number`` — a phone, a SIP
    URI or the line's own number. Leg 2 of a callback names the leg it was taken from."""

    extension: LooseStr = None
    number: LooseStr = None
    line_number: LooseStr = None
    acd_group: LooseStr = None
    taken_from_call_id: LooseStr = None

    @property
    def kind(self) -> PartyKind:
        """Employee, group, SIP address, phone, other or nothing (see :class:`PartyKind`)."""
        if self.extension is not None:
            return PartyKind.EMPLOYEE
        if self.number is None:
            return PartyKind.GROUP if self.acd_group is not None else PartyKind.NONE
        if is_sip_uri(self.number):
            return PartyKind.SIP
        if self.acd_group is not None:
            return PartyKind.GROUP
        return PartyKind.PHONE if phone_or_none(self.number) is not None else PartyKind.OTHER

    @property
    def phone(self) -> str | None:
        """The client's phone number on this side (normalised), or None if it is not one."""
        return phone_or_none(self.number) if self.kind is PartyKind.PHONE else None

    @property
    def is_external(self) -> bool:
        """A phone number with no employee behind it: the client's side."""
        return self.kind is PartyKind.PHONE


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


def _field(event: MangoModel, name: str) -> Any:
    """A field at the top level, else inside ``data`` (where some notifications nest it)."""
    extra = event.model_extra or {}
    value = extra.get(name)
    data = extra.get("data")
    if value is None and isinstance(data, dict):
        value = data.get(name)
    try:
        return _loose_str(value)
    except ValueError:  # an object, a list, true/false: not an id
        return None


class Notification(MangoModel):
    """Any other ``events/...`` delivery: a JSON object, possibly about a call.

    Mango's notifications beyond calls and summaries (recordings, recognition, DTMF, SMS)
    carry their ids loosely — ``entry_id``, ``call_id``, ``recording_id`` at the top level
    or inside ``data`` — so none of them is required: such a delivery is verified, stored
    and acknowledged whatever it carries, and applied to a client when it names a call.
    """

    @property
    def entry_id(self) -> str | None:
        return _field(self, "entry_id")

    @property
    def call_id(self) -> str | None:
        return _field(self, "call_id")

    @property
    def recording_id(self) -> str | None:
        return _field(self, "recording_id")


class RecordingEvent(Notification):
    """``events/recording``: a recording of a call leg started, continued or completed."""

    recording_state: LooseStr = None  # Started | Continued | Completed
    seq: LooseInt = None
    timestamp: LooseInt = None
    completion_code: LooseInt = None


class RecordAdded(Notification):
    """``events/record/added``: a recording is stored and can be downloaded."""


class RecordTagged(Notification):
    """``events/record/tagged``: a recording was tagged (speech analytics)."""


class RecognizedOffline(Notification):
    """``events/recognized/offline``: speech recognition of a recording is done."""


class DtmfEvent(Notification):
    """``events/dtmf``: digits dialled during a call."""

    dtmf: LooseStr = None
    seq: LooseInt = None
    timestamp: LooseInt = None


class SmsEvent(MangoModel):
    """``events/sms``: what became of an SMS sent by ``commands/sms``."""

    command_id: LooseStr = None
    timestamp: LooseInt = None
    reason: LooseInt = None  # a result code: 1000 delivered, 43xx not


MODELS: dict[str, type[MangoModel]] = {
    "events/call": CallEvent,
    "events/summary": CallSummary,
    "events/recording": RecordingEvent,
    "events/record/added": RecordAdded,
    "events/record/tagged": RecordTagged,
    "events/recognized/offline": RecognizedOffline,
    "events/dtmf": DtmfEvent,
    "events/sms": SmsEvent,
}


def model_for(kind: str) -> type[MangoModel]:
    """The model a delivery of this kind (``events/call``, ``result/callback``...) is read with."""
    if kind in MODELS:
        return MODELS[kind]
    if kind.startswith("result/"):
        return CommandResult
    return Notification
