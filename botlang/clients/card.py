"""Calling a client from the client card, the way the employee's call method says.

- ``disabled``: the employee does not call; the call is refused.
- ``app``: the call goes to the phone app on the employee's device: a ``tel:+7...`` link.
- ``mango_api``: Mango Office rings the employee's extension first, then the client
  (an employee callback through the telephony adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botlang.clients.phones import InvalidPhone, normalize_phone
from botlang.store.base import ClientRecord
from botlang.telephony import CallResult, Telephony
from botlang.telephony.codes import INVALID_NUMBER


class Employee(Protocol):
    """What place_call needs of an employee (``botlang.config.EmployeeConfig`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def extension(self) -> str | None: ...

    @property
    def call_method(self) -> str: ...


@dataclass(frozen=True)
class CallOutcome:
    """What placing a call did.

    ``link`` is set for the ``app`` method, ``result`` (the telephony adapter's answer) for
    ``mango_api``, and ``message`` always says what happened or why nothing did.
    """

    method: str
    ok: bool
    message: str
    link: str | None = None
    result: CallResult | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "ok": self.ok,
            "message": self.message,
            "link": self.link,
            "result": None if self.result is None else self.result.as_dict(),
        }


def tel_link(phone: str) -> str:
    """A ``tel:`` link for a normalised phone number (``79004443322`` → ``tel:+79004443322``)."""
    return f"tel:+{phone}"


def place_call(
    employee: Employee, client: ClientRecord, telephony: Telephony | None = None
) -> CallOutcome:
    """Call ``client`` as ``employee`` by the employee's call method."""
    method = employee.call_method
    who = f"employee {employee.name!r}"
    if method == "disabled":
        return CallOutcome(method, False, f"{who} has calls disabled")
    if method not in ("app", "mango_api"):
        return CallOutcome(method, False, f"{who} has an unknown call method {method!r}")
    if not client.phone:
        return CallOutcome(method, False, f"client {client.client_id} has no phone number")
    try:
        phone = normalize_phone(client.phone)
    except InvalidPhone as exc:
        result = CallResult(False, INVALID_NUMBER, str(exc)) if method == "mango_api" else None
        return CallOutcome(method, False, str(exc), result=result)
    if method == "app":
        return CallOutcome(method, True, f"call {phone} from the phone app", link=tel_link(phone))
    if not employee.extension:
        return CallOutcome(method, False, f"{who} has no extension to call from")
    if telephony is None:
        return CallOutcome(method, False, "no telephony is configured (the [mango] section)")
    result = telephony.employee_call(employee.extension, phone)
    return CallOutcome(method, result.ok, result.message, result=result)
