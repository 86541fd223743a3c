"""Telephony builtins: Mango Office calls from a flow or a calculator script.

Both return ``{"ok": bool, "result": int, "message": str, "command_id": str | None}``.
The run's adapter (``ctx.telephony``) is always used through the spam guard and phone
validation (:func:`botlang.telephony.guarded`): an invalid client number gives 3200 and a
too-frequent call 4501, and neither reaches Mango.
"""

from __future__ import annotations

from typing import Any

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import ScriptError
from botlang.telephony import GuardedTelephony, guarded


@builtin("mango_employee_call")
def mango_employee_call(
    ctx: CallContext, short_employee_number: Any, client_phone: Any
) -> dict[str, Any]:
    """Call employee ``short_employee_number`` (e.g. '219'), then connect ``client_phone``."""
    tel = _telephony(ctx, "mango_employee_call")
    extension = _short_number(short_employee_number, "mango_employee_call", "short_employee_number")
    return tel.employee_call(extension, _phone_arg(client_phone)).as_dict()


@builtin("mango_group_call")
def mango_group_call(
    ctx: CallContext, group_number: Any, line_number: Any, client_phone: Any
) -> dict[str, Any]:
    """Call group ``group_number`` from line ``line_number``; the client after an answer."""
    tel = _telephony(ctx, "mango_group_call")
    group = _short_number(group_number, "mango_group_call", "group_number")
    line = _phone_arg(line_number)
    return tel.group_call(group, line, _phone_arg(client_phone)).as_dict()


def _telephony(ctx: CallContext, name: str) -> GuardedTelephony:
    tel = guarded(ctx.telephony)
    if tel is None:
        raise ScriptError(
            f"telephony is not configured: {name}() needs a telephony adapter "
            "(a [mango] section in botlang.toml, or telephony=... when running the script)"
        )
    return tel


def _short_number(value: Any, func: str, param: str) -> str:
    """An extension or group number given as text or as a number (219 or '219')."""
    if value is None or isinstance(value, str):
        return "" if value is None else value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScriptError(
            f"{func}(): parameter '{param}' must be a number or a string, "
            f"got {type(value).__name__}"
        )
    if isinstance(value, float):
        if not value.is_integer():
            raise ScriptError(f"{func}(): parameter '{param}' must be a whole number, got {value}")
        value = int(value)
    return str(value)


def _phone_arg(value: Any) -> Any:
    """Phones pass through as given: the guard normalises them or answers 3200."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
