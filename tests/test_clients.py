"""Client matching, branch by branch, as the product docs describe it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from botlang.clients.matching import (
    ClientCannotReceiveMessages,
    ClientType,
    can_receive_messages,
    client_type_name,
    ensure_can_receive_messages,
    match_client,
)
from botlang.clients.phones import InvalidPhone
from botlang.core.errors import ScriptError
from botlang.store import Store, open_store

PHONE = "79001112233"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    yield store
    store.close()


def test_client_types() -> None:
    assert (ClientType.TELEPHONY, ClientType.WHATSAPP, ClientType.TELEGRAM) == (13, 6, 1)
    assert client_type_name(13) == "telephony"
    assert client_type_name(99) == "client_type 99"


def test_1_the_telephony_client_with_that_phone(store: Store) -> None:
    store.create_client(client_type=6, phone=PHONE, messenger="whatsapp")
    store.create_client(client_type=1, variables={"phone": PHONE})
    telephony = store.create_client(client_type=13, phone=PHONE)  # created last, still first
    assert match_client(store, PHONE, messengers=["whatsapp"]) == (telephony, False)


def test_1_phone_forms_are_normalised(store: Store) -> None:
    telephony = store.create_client(client_type=13, phone=PHONE)
    for raw in ("+7 (900) 111-22-33", "8 900 111 22 33", 79001112233):
        assert match_client(store, raw, messengers=[]) == (telephony, False)


def test_2_the_first_client_with_a_variable_holding_that_phone(store: Store) -> None:
    store.create_client(client_type=1, variables={"phone": "79990000000"})
    first = store.create_client(client_type=1, variables={"contact": PHONE})
    second = store.create_client(client_type=6, variables={"phone": PHONE})
    assert match_client(store, PHONE, messengers=[]) == (first, False)
    assert second.client_id != first.client_id


def test_2_deal_variables_and_the_clients_phone_count(store: Store) -> None:
    in_deal = store.create_client(client_type=1)
    with store.transaction(in_deal.client_id) as state:
        state.deal_vars["callback_phone"] = PHONE
    assert match_client(store, PHONE, messengers=[]) == (in_deal, False)
    whatsapp = store.create_client(client_type=6, phone="79004445566", messenger="whatsapp")
    assert match_client(store, "79004445566", messengers=["whatsapp"]) == (whatsapp, False)


def test_3_a_whatsapp_client_when_a_messenger_is_connected(store: Store) -> None:
    client, created = match_client(store, "+7 900 111-22-33", messengers=["telegram"])
    assert created is True
    assert (client.client_type, client.messenger, client.phone) == (6, "whatsapp", PHONE)
    assert can_receive_messages(client)
    ensure_can_receive_messages(client)
    assert match_client(store, PHONE, messengers=["telegram"]) == (client, False)


def test_3_a_telephony_only_client_otherwise(store: Store) -> None:
    client, created = match_client(store, PHONE, messengers=[])
    assert created is True
    assert (client.client_type, client.messenger, client.phone) == (13, None, PHONE)
    assert not can_receive_messages(client)
    with pytest.raises(ClientCannotReceiveMessages, match="can be called but not written to"):
        ensure_can_receive_messages(client)
    assert issubclass(ClientCannotReceiveMessages, ScriptError)
    assert match_client(store, PHONE, messengers=["whatsapp"]) == (client, False)


def test_an_invalid_phone_matches_nothing_and_creates_nothing(store: Store) -> None:
    with pytest.raises(InvalidPhone):
        match_client(store, "9001112233", messengers=[])  # no country code
    assert store.get_client("1") is None


def test_one_new_number_from_many_threads_makes_one_client(store: Store) -> None:
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def match() -> None:
        client, created = match_client(store, PHONE, messengers=[])
        with lock:
            results.append((client.client_id, created))

    threads = [threading.Thread(target=match) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({cid for cid, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_find_client_applies_the_rule_without_creating(store: Store) -> None:
    from botlang.clients.matching import find_client

    assert find_client(store, "+7 900 444-33-22") is None
    created, _ = match_client(store, "79004443322", messengers=[])
    assert find_client(store, "8 900 444 33 22") == created
