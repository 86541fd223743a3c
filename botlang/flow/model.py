"""What a loaded flow is made of: blocks, arrows and their conditions.

These objects are built by :mod:`botlang.flow.loader` from a ``.bot`` file and are
immutable in use; one :class:`Flow` serves every client of a bot at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botlang.core.compiler import Expression, Program, Template
from botlang.core.runtime.scopes import SYSTEM_VARIABLES

# The read-only variables a flow's runtime sets.
FLOW_SYSTEM_VARIABLES: tuple[str, ...] = SYSTEM_VARIABLES


class MatchMode(StrEnum):
    """How an arrow's text condition is compared with the client's message."""

    EXACT = "exact"  # the whole message, ignoring case and extra spaces
    CONTAINS = "contains"  # the message contains the text (keywords)
    REGEX = "regex"  # a regular expression found anywhere in the message, ignoring case
    FUZZY = "fuzzy"  # the message is more than 70 % similar to the text


class Trigger(StrEnum):
    """What makes an arrow fire."""

    MESSAGE = "message"  # the client's next message
    CALLBACK = "callback"  # an event, such as a finished call
    NOW = "now"  # right after the block is entered


@dataclass(frozen=True)
class TextCondition:
    """``mode: alt1; alt2; ...`` — the arrow fires when any alternative matches."""

    mode: MatchMode
    alternatives: tuple[str, ...]
    line: int
    column: int
    # the column of each alternative, for errors raised while matching
    columns: tuple[int, ...] = ()
    # compiled patterns of a regex condition, one per alternative
    patterns: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.mode.value}: {'; '.join(self.alternatives)}"


@dataclass(frozen=True)
class Arrow:
    """A transition to ``target``; ``source`` is None for a starting arrow (from any block)."""

    source: str | None
    target: str
    trigger: Trigger
    condition: TextCondition | None
    comparison: Expression | None
    comparison_text: str | None
    priority: int
    line: int
    column: int
    order: int  # position in the file, to keep equal priorities in file order
    target_column: int = 0

    @property
    def is_starting(self) -> bool:
        """Whether the arrow fires from any block."""
        return self.source is None

    def describe(self) -> str:
        """A short readable form, e.g. ``menu -> ask_phone (contains: звонок)``."""
        source = "any" if self.source is None else self.source
        parts = []
        if self.trigger is not Trigger.MESSAGE or self.condition is None:
            parts.append(f"on {self.trigger.value}")
        if self.condition is not None:
            parts.append(self.condition.describe())
        if self.comparison_text is not None:
            parts.append(f"if {self.comparison_text}")
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{source} -> {self.target}{detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "on": self.trigger.value,
            "condition": None if self.condition is None else self.condition.describe(),
            "if": self.comparison_text,
            "priority": self.priority,
            "line": self.line,
        }


@dataclass(frozen=True)
class Block:
    """One block of the bot: its calculator, its message and its outgoing arrows."""

    id: str
    title: str
    line: int
    column: int
    calculator: Program | None
    message: Template | None
    message_line: int = 0
    message_column: int = 0
    message_indent: int = 0  # columns removed from the message's second and later lines
    arrows: tuple[Arrow, ...] = ()

    @property
    def message_text(self) -> str | None:
        return None if self.message is None else self.message.text


def _arrow_order(arrow: Arrow) -> tuple[int, int, int]:
    # Higher priority first; at equal priority the block's own arrows before starting
    # arrows, each in file order.
    return (-arrow.priority, 1 if arrow.is_starting else 0, arrow.order)


@dataclass
class Flow:
    """A whole bot as loaded from a ``.bot`` file."""

    source: str
    filename: str
    title: str
    blocks: dict[str, Block]
    entry: str
    starting_arrows: tuple[Arrow, ...]
    constants: dict[str, Any] = field(default_factory=dict)
    warnings: list[Any] = field(default_factory=list)  # botlang.tools.checker.Diagnostic
    _candidates: dict[tuple[str | None, Trigger], tuple[Arrow, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def entry_block(self) -> Block:
        """The block a new client starts in (the first block of the file)."""
        return self.blocks[self.entry]

    def block(self, block_id: str) -> Block | None:
        """The block with this id, or None."""
        return self.blocks.get(block_id)

    def arrows(self) -> list[Arrow]:
        """Every arrow: each block's, then the starting arrows."""
        every = [a for b in self.blocks.values() for a in b.arrows]
        every.extend(self.starting_arrows)
        return every

    def candidates(self, block_id: str | None, trigger: Trigger) -> tuple[Arrow, ...]:
        """The arrows to try, in order, for a client in ``block_id`` and this trigger.

        For messages and callbacks: the block's arrows and the starting arrows, highest
        priority first. For ``Trigger.NOW``: the block's immediate arrows only.
        """
        key = (block_id, trigger)
        found = self._candidates.get(key)
        if found is None:
            block = self.blocks.get(block_id) if block_id is not None else None
            own = [a for a in block.arrows if a.trigger is trigger] if block else []
            if trigger is not Trigger.NOW:
                own.extend(a for a in self.starting_arrows if a.trigger is trigger)
            found = tuple(sorted(own, key=_arrow_order))
            self._candidates[key] = found
        return found

    def __repr__(self) -> str:
        return f"<botlang.Flow {self.filename} ({len(self.blocks)} blocks)>"
