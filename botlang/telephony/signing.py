"""The one place that signs Mango Office requests and verifies Mango's webhooks.

``sign = sha256(api_key + json + api_salt)`` in lowercase hex, over the UTF-8 bytes of the
exact JSON string that is sent (never a re-serialisation of it). Not HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def encode_payload(payload: Mapping[str, Any] | None) -> str:
    """The compact JSON text Mango expects: no spaces, non-ASCII kept as is; None → ``{}``."""
    return json.dumps(
        dict(payload or {}), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sign(api_key: str, json_text: str, api_salt: str) -> str:
    """sha256 hex of ``api_key + json_text + api_salt`` (the exact text that is sent)."""
    return hashlib.sha256(f"{api_key}{json_text}{api_salt}".encode()).hexdigest()


def verify(api_key: str, json_text: str, api_salt: str, signature: object) -> bool:
    """Whether ``signature`` signs ``json_text`` (the raw received string); constant time."""
    if not isinstance(signature, str):
        return False
    expected = sign(api_key, json_text, api_salt)
    try:
        given = signature.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given)


def signed_form(api_key: str, api_salt: str, payload: Mapping[str, Any] | None) -> dict[str, str]:
    """The three form fields of a request: ``vpbx_api_key``, ``sign`` and ``json``."""
    json_text = encode_payload(payload)
    return {"vpbx_api_key": api_key, "sign": sign(api_key, json_text, api_salt), "json": json_text}


def verify_form(api_key: str, api_salt: str, form: Mapping[str, Any]) -> bool:
    """Whether a received form carries our key and a valid sign over its raw ``json`` field."""
    key, json_text, signature = form.get("vpbx_api_key"), form.get("json"), form.get("sign")
    if not isinstance(key, str) or not isinstance(json_text, str):
        return False
    if not hmac.compare_digest(key.encode(), api_key.encode()):
        return False
    return verify(api_key, json_text, api_salt, signature)
