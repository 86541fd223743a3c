"""Signing and verification: the reference vector and the exact-string rule."""

from __future__ import annotations

import json

from botlang.telephony.signing import encode_payload, sign, signed_form, verify, verify_form

VECTOR_JSON = (
    '{"command_id":"cmd-12532543651","from":{"extension":"101"},"to_number":"74952129298"}'
)
VECTOR_SIGN = "11fd9538c28f575bb72a7d342338d7f8d08b93a68f8ecf2ddb91961556a32afc"


def test_reference_vector() -> None:
    assert sign("123", VECTOR_JSON, "789") == VECTOR_SIGN


def test_encode_payload_is_compact_and_matches_the_vector() -> None:
    payload = {
        "command_id": "cmd-12532543651",
        "from": {"extension": "101"},
        "to_number": "74952129298",
    }
    assert encode_payload(payload) == VECTOR_JSON
    assert signed_form("123", "789", payload) == {
        "vpbx_api_key": "123",
        "sign": VECTOR_SIGN,
        "json": VECTOR_JSON,
    }


def test_encode_payload_keeps_non_ascii_and_empty_is_braces() -> None:
    assert encode_payload({"text": "Привет"}) == '{"text":"Привет"}'
    assert encode_payload(None) == "{}"
    assert encode_payload({}) == "{}"


def test_verify_accepts_the_exact_string_only() -> None:
    assert verify("123", VECTOR_JSON, "789", VECTOR_SIGN)
    assert verify("123", VECTOR_JSON, "789", VECTOR_SIGN.upper())
    reserialised = json.dumps(json.loads(VECTOR_JSON))  # with spaces: a different string
    assert not verify("123", reserialised, "789", VECTOR_SIGN)
    assert not verify("123", VECTOR_JSON, "780", VECTOR_SIGN)
    assert not verify("123", VECTOR_JSON, "789", None)
    assert not verify("123", VECTOR_JSON, "789", "ж" * 64)


def test_not_hmac() -> None:
    import hashlib
    import hmac

    wrong = hmac.new(b"789", f"123{VECTOR_JSON}".encode(), hashlib.sha256).hexdigest()
    assert sign("123", VECTOR_JSON, "789") != wrong


def test_verify_form_checks_key_and_sign() -> None:
    form = signed_form("key", "salt", {"a": 1})
    assert verify_form("key", "salt", form)
    assert not verify_form("other", "salt", form)
    assert not verify_form("key", "salt", {**form, "json": '{"a":2}'})
    assert not verify_form("key", "salt", {"sign": form["sign"]})
