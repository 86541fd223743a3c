"""Buttons from lists: a numbered list, buttons and a checker text, then the client's choice.

``tools_make_button_str_checker`` turns a list of texts (or of dicts, read by ``key``) into
what a block needs to offer them: a numbered list for the message, buttons, and the checker
text ("Футболки;1;Шорты;2;") an arrow's condition matches the answer against.
``tools_check_user_input`` then finds the item the client chose, by its text or its number.
"""

from __future__ import annotations

from typing import Any

from botlang.stdlib.lists import text_of
from botlang.stdlib.strings import check_text

from botlang.core.builtins import CallContext, builtin
from botlang.core.errors import ScriptError
from botlang.core.runtime import values

BUTTON_TYPES = {0: "reply", 1: "inline"}


def _label(ctx: CallContext, name: str, item: Any, position: int, key: str | None) -> str:
    """The text an item shows: the item itself, or a dict's value under ``key``."""
    if type(item) is not dict:
        return text_of(ctx, name, item)
    if key is None or key == "":
        raise ScriptError(
            f"{name}(): item {position} is a dict; give the key whose value is its text"
        )
    if key not in item:
        raise ScriptError(
            f"{name}(): item {position} has no key {values.to_text(key, repr_strings=True)}"
        )
    return text_of(ctx, name, item[key])


@builtin("tools_make_button_str_checker")
def tools_make_button_str_checker(
    ctx: CallContext,
    values_list: list,
    key: str | None = None,
    in_line: int = 1,
    button_type: int = 0,
    checker_with_numbers: int = 1,
) -> dict[str, Any]:
    """A dict of numbered_list, buttons (in_line a row; type 0 reply, 1 inline) and checker."""
    name = "tools_make_button_str_checker"
    if in_line < 1:
        raise ScriptError(f"{name}(): parameter 'in_line' must be 1 or more, got {in_line}")
    kind = BUTTON_TYPES.get(button_type)
    if kind is None:
        raise ScriptError(
            f"{name}(): parameter 'button_type' must be 0 (reply) or 1 (inline), got {button_type}"
        )
    numbered: list[str] = []
    checker: list[str] = []
    buttons: list[dict[str, Any]] = []
    for position, item in enumerate(values_list):
        text = _label(ctx, name, item, position, key)
        numbered.append(f"{position + 1}. {text}\n")
        checker.append(f"{text};{position + 1};" if checker_with_numbers else f"{text};")
        buttons.append(
            {
                "type": kind,
                "text": text,
                "line": position // in_line,
                "index_in_line": position % in_line,
            }
        )
    numbered_list = "".join(numbered)
    checker_text = "".join(checker)
    check_text(ctx, name, max(len(numbered_list), len(checker_text)))
    return {"numbered_list": numbered_list, "buttons": buttons, "checker": checker_text}


@builtin("tools_check_user_input")
def tools_check_user_input(
    ctx: CallContext,
    values_list: list,
    user_input: str,
    key: str | None = None,
    return_key: str | None = None,
) -> Any:
    """The chosen item's return_key value (or the item), found by its text or number; else None."""
    name = "tools_check_user_input"
    answer = user_input.strip().casefold()
    chosen: Any = None
    found = False
    for position, item in enumerate(values_list):
        if _label(ctx, name, item, position, key).strip().casefold() == answer:
            chosen, found = item, True
            break
    if not found:
        number = values.number_from_text(answer)
        if type(number) is int and 1 <= number <= len(values_list):
            chosen, found = values_list[number - 1], True
    if not found:
        return None
    if type(chosen) is dict and return_key not in (None, ""):
        return chosen.get(return_key)
    return chosen
