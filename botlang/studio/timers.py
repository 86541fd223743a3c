"""What the studio needs from timers: arrows with a delay above 0 (Salebot's «Задержка
перед ответом» of minutes or days).

Flows cannot have those yet (the loader refuses them), so the studio runs with
:class:`NoTimers`: moving the virtual clock only sets the time the bot sees on its next
turn, and the pending-timers pane is empty. Timer support fills in :class:`Timers` — what
is waiting for the client, and the turns that come due when the clock moves — and the
studio shows and runs them without other changes. (A saved test needs a ``.bottest`` step
for a fired timer too; the format has none yet, so the transcript writes the ``clock:``
line and the timer turn's lines after it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botlang.flow import Turn
from botlang.testing import Conversation


@dataclass(frozen=True)
class PendingTimer:
    """A timer waiting for the client: the arrow that will be taken and when."""

    block: str  # the block whose arrow waits
    target: str  # where it leads
    due: datetime
    line: int  # the arrow's line in the flow file
    description: str  # the arrow as ``Arrow.describe()`` gives it

    def to_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "target": self.target,
            "due": self.due.isoformat(timespec="seconds"),
            "line": self.line,
            "description": self.description,
        }


class Timers(Protocol):
    """Timers of one conversation, as the studio drives them."""

    supported: bool  # False: the pane says timers are not run yet

    def pending(self, conversation: Conversation) -> list[PendingTimer]:
        """The timers waiting for the conversation's current client, soonest first."""
        ...

    def advance(self, conversation: Conversation, now: datetime) -> list[Turn]:
        """The clock has moved to ``now`` (already set on the conversation): run the
        timers that came due, in order, and return their turns."""
        ...


class NoTimers:
    """Timers as flows have them today: none with a delay above 0 (``delay: 0`` arrows
    are taken at once, inside the turn that enters their block)."""

    supported = False

    def pending(self, conversation: Conversation) -> list[PendingTimer]:
        return []

    def advance(self, conversation: Conversation, now: datetime) -> list[Turn]:
        return []
