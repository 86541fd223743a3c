"""What a turn hands out besides text: the buttons shown with a message, and the orders
(«Закрыть сделку») made from a deal.

A :class:`ShownButton` is a button as the client sees it (its label rendered). Pressing it
is :meth:`ShownButton.press`: the label arrives as the client's message, a callback button's
text as a callback, a phone button's number as a message that sets ``phone``, a location
as a message that sets ``latitude`` and ``longitude`` — as in Salebot. Link buttons send
nothing to the bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botlang.core.runtime.values import to_json_ready
from botlang.flow.model import ButtonAction

if TYPE_CHECKING:
    from botlang.flow.session import TurnRequest


@dataclass(frozen=True)
class ShownButton:
    """A button of a message: its label, what it does, and where it sits."""

    text: str
    action: ButtonAction = ButtonAction.MESSAGE
    url: str | None = None
    callback: str | None = None
    color: str | None = None

    @property
    def sends(self) -> bool:
        """Whether pressing it sends something to the bot (a link button does not)."""
        return self.action not in (ButtonAction.URL, ButtonAction.WEB_APP)

    def press(
        self,
        *,
        phone: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> TurnRequest | None:
        """The turn a press of this button starts, or None for a link button.

        A phone button needs the client's ``phone``; a location button its ``latitude``
        and ``longitude``. ValueError when they are missing.
        """
        from botlang.flow.session import FROM_CALLBACK, TurnRequest

        if self.action is ButtonAction.MESSAGE:
            return TurnRequest.message(self.text)
        if self.action is ButtonAction.CALLBACK:
            assert self.callback is not None
            return TurnRequest.event(self.callback, message_from_outside=FROM_CALLBACK)
        if self.action is ButtonAction.PHONE:
            if phone is None:
                raise ValueError("a phone button sends the client's number: give phone=")
            return TurnRequest.contact(phone)
        if self.action is ButtonAction.LOCATION:
            if latitude is None or longitude is None:
                raise ValueError("a location button sends a place: give latitude= and longitude=")
            return TurnRequest.location(latitude, longitude)
        return None

    def describe(self) -> str:
        """``[label]``, with what the button does when it is not a plain message."""
        extra = {
            ButtonAction.URL: f" -> {self.url}",
            ButtonAction.WEB_APP: f" -> web app {self.url}",
            ButtonAction.CALLBACK: f" -> callback {self.callback}",
            ButtonAction.PHONE: " -> sends phone",
            ButtonAction.LOCATION: " -> sends location",
        }.get(self.action, "")
        return f"[{self.text}{extra}]"

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text, "action": self.action.value}
        for key in ("url", "callback", "color"):
            value = getattr(self, key)
            if value is not None:
                found[key] = value
        return found


@dataclass(frozen=True)
class Order:
    """A deal closed by a «Закрыть сделку» block: its id ``CLIENT-N``, the deal variables
    it holds, and the text ``#{order}`` shows (one ``name: value`` line each)."""

    order_id: str
    client_id: str
    block: str
    variables: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "client_id": self.client_id,
            "block": self.block,
            "variables": to_json_ready(self.variables),
            "text": self.text,
        }
