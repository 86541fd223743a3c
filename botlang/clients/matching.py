"""Clients: their types, who can be written to, and matching a phone number to a client.

Matching follows the product rule for telephony events:

1. the telephony client (``client_type`` 13) with that phone number;
2. otherwise the first client of the project (in creation order) any of whose variables
   holds that number (the client's ``phone`` counts);
3. otherwise a new client: a WhatsApp client if any messenger is connected to the project,
   else a telephony-only client, which can be called but not written to.

Numbers are compared in the ``7XXXXXXXXXX`` form (country code first, digits only).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from botlang.clients.phones import normalize_phone
from botlang.core.errors import ScriptError
from botlang.store.base import ClientRecord, Store


class ClientType(IntEnum):
    """Salebot's ``client_type`` numbers (the messenger a client came from)."""

    TELEGRAM = 1
    WHATSAPP = 6
    TELEPHONY = 13


CLIENT_TYPE_NAMES: dict[int, str] = {
    ClientType.TELEGRAM: "Telegram",
    ClientType.WHATSAPP: "WhatsApp",
    ClientType.TELEPHONY: "telephony",
}

# Messengers a project can connect (the ``messengers`` key of botlang.toml).
MESSENGERS: tuple[str, ...] = (
    "whatsapp",
    "telegram",
    "viber",
    "vk",
    "instagram",
    "facebook",
    "odnoklassniki",
    "avito",
    "online_chat",
)


class ClientCannotReceiveMessages(ScriptError):
    """A message was addressed to a telephony-only client."""

    def __init__(self, client: ClientRecord) -> None:
        super().__init__(
            f"client {client.client_id} is a telephony-only client (client_type "
            f"{client.client_type}): it can be called but not written to"
        )
        self.client = client


def client_type_name(client_type: int) -> str:
    """A readable name for a client type (``client_type 13`` → ``telephony``)."""
    return CLIENT_TYPE_NAMES.get(client_type, f"client_type {client_type}")


def can_receive_messages(client: ClientRecord) -> bool:
    """Whether the bot can write to this client (telephony-only clients cannot)."""
    return client.client_type != ClientType.TELEPHONY


def ensure_can_receive_messages(client: ClientRecord) -> None:
    """Raise :class:`ClientCannotReceiveMessages` unless the bot can write to the client."""
    if not can_receive_messages(client):
        raise ClientCannotReceiveMessages(client)


def find_client(store: Store, phone: object) -> ClientRecord | None:
    """The client a phone number belongs to by the first two steps of the rule, or None.

    1. the telephony client with that number; 2. the first client any of whose variables
    holds it. Creates nothing (``botlang vars`` uses this). Raises InvalidPhone.
    """
    number = normalize_phone(phone)
    found = store.find_client_by_phone(number, client_type=ClientType.TELEPHONY)
    if found is None:
        found = store.find_client_by_variable_value(number)
    return found


def match_client(
    store: Store, phone: object, *, messengers: Sequence[str]
) -> tuple[ClientRecord, bool]:
    """The client a phone number belongs to, creating one if none does; ``(client, created)``.

    Raises :class:`botlang.clients.phones.InvalidPhone` for a number that cannot be normalised.
    Safe to call from several processes at once: one number never yields two new clients.
    """
    number = normalize_phone(phone)
    with store.exclusive(f"match-phone:{number}"):
        found = find_client(store, number)
        if found is not None:
            return found, False
        if messengers:
            created = store.create_client(
                client_type=ClientType.WHATSAPP, phone=number, messenger="whatsapp"
            )
        else:
            created = store.create_client(client_type=ClientType.TELEPHONY, phone=number)
        return created, True
