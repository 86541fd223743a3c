"""What a loaded flow is made of: blocks, arrows, their conditions and buttons.

These objects are built by :mod:`botlang.flow.loader` from a ``.bot`` file and are
immutable in use; one :class:`Flow` serves every client of a bot at once.

The order in which arrows are tried for a client's message is Salebot's (docs/flows.md,
"How the arrow is chosen"): start conditions, then the current block's arrows, then quick
answers; within each tier the arrows with a condition before those without, higher priority
first, then file order. :meth:`Flow.candidates` gives that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from botlang.core.compiler import Expression, Program, Template
from botlang.core.runtime.scopes import SYSTEM_VARIABLES, WRITABLE_SYSTEM_VARIABLES

if TYPE_CHECKING:
    from botlang.flow.text import MessageText

# Set by a flow's runtime besides the language's system variables: the last order made by a
# «Закрыть сделку» block (read-only, like the others).
ORDER_VARIABLES: tuple[str, ...] = ("order", "order_id")
# Every variable a flow's runtime sets.
FLOW_SYSTEM_VARIABLES: tuple[str, ...] = (*SYSTEM_VARIABLES, *ORDER_VARIABLES)
# Those a flow's scripts cannot assign (``phone`` is Salebot's writable service variable).
FLOW_READ_ONLY_VARIABLES: tuple[str, ...] = tuple(
    name for name in FLOW_SYSTEM_VARIABLES if name not in WRITABLE_SYSTEM_VARIABLES
)


class BlockKind(StrEnum):
    """The kinds of Salebot blocks; the value is the word that starts the block in a file."""

    STATE = "block"  # «Состояние диалога»: the client enters it and stays
    NOT_STATE = "nostate"  # «Не состояние»: runs and answers; the client stays where it was
    QUICK = "quick"  # «Не состояние с условием»: a quick answer with its own condition
    CLOSE_DEAL = "close_deal"  # «Закрыть сделку»: a state that turns the deal into an order

    @property
    def is_state(self) -> bool:
        """Whether entering a block of this kind moves the client there."""
        return self in (BlockKind.STATE, BlockKind.CLOSE_DEAL)


class MatchMode(StrEnum):
    """How an arrow's text condition is compared with the client's message."""

    EXACT = "exact"  # the whole message, ignoring case and extra spaces
    CONTAINS = "contains"  # keywords: substrings, with (a|b) groups and AND between words
    REGEX = "regex"  # a regular expression found anywhere in the message, ignoring case
    FUZZY = "fuzzy"  # the message is more than 70 % similar to the text


class Trigger(StrEnum):
    """What an arrow reacts to."""

    MESSAGE = "message"  # the client's message (a pressed button arrives as one)
    CALLBACK = "callback"  # a callback: an event such as a finished call, a callback button


class Tier(IntEnum):
    """An arrow's place in Salebot's dispatch order (lower is tried first)."""

    START = 0  # «Стартовое условие»: ``any -> BLOCK``
    BLOCK = 1  # the current block's own arrows
    QUICK = 2  # «Не состояние с условием»: ``quick BLOCK``


DELAY_UNITS: tuple[str, ...] = ("seconds", "minutes", "hours", "days", "months")
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


@dataclass(frozen=True)
class Delay:
    """Salebot's "Задержка перед ответом": how long after its condition holds an arrow is
    taken. ``Delay(0)`` is the immediate arrow (a 0-second timer); an arrow without a delay
    (``Arrow.delay is None``) waits for the client's message instead."""

    amount: int
    unit: str = "seconds"  # one of DELAY_UNITS

    @property
    def immediate(self) -> bool:
        return self.amount == 0

    @property
    def seconds(self) -> int | None:
        """The delay in seconds; None for months, whose length depends on the date."""
        per = _UNIT_SECONDS.get(self.unit)
        return None if per is None else self.amount * per

    def describe(self) -> str:
        if self.amount == 0:
            return "0"
        unit = self.unit if self.amount != 1 else self.unit.removesuffix("s")
        return f"{self.amount} {unit}"


@dataclass(frozen=True)
class TextCondition:
    """``mode: alt1; alt2; ...`` — the condition holds when any alternative matches."""

    mode: MatchMode
    alternatives: tuple[str, ...]
    line: int
    column: int
    # the column of each alternative, for errors raised while matching
    columns: tuple[int, ...] = ()
    # compiled forms: one regex per alternative, or one keyword group per alternative
    patterns: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.mode.value}: {'; '.join(self.alternatives)}"


class ButtonAction(StrEnum):
    """What pressing a button does."""

    MESSAGE = "message"  # the label arrives as the client's message
    URL = "url"  # opens a link; nothing reaches the bot
    WEB_APP = "web_app"  # opens a Telegram Web App; nothing reaches the bot
    PHONE = "phone"  # asks for the client's number, which arrives as a message into `phone`
    LOCATION = "location"  # sends the client's location (`latitude`, `longitude`)
    CALLBACK = "callback"  # the bot gets a callback with the button's callback text


@dataclass(frozen=True)
class Button:
    """A button of a block: from its ``buttons:`` list or an arrow shown as a button."""

    label: Template
    action: ButtonAction
    line: int  # where it is written
    column: int
    url: Template | None = None
    callback: str | None = None
    color: str | None = None
    inline: bool | None = None  # placed in the text (inline) or on the keyboard; None: as
    # the block's keyboard says
    row: int | None = None  # "Номер линии", from 0; None: a row of its own
    position: int | None = None  # "Номер в линии", from 0
    arrow: Arrow | None = field(default=None, compare=False)  # the arrow it shows, if any

    @property
    def label_text(self) -> str:
        return self.label.text


@dataclass(frozen=True)
class Arrow:
    """A transition to ``target``.

    ``source`` is the block it leaves, or None for a start condition (``tier`` START, from
    any block) and a quick answer's condition (``tier`` QUICK). ``delay`` None waits for the
    client's message; ``Delay(0)`` is taken at once when the block is entered.
    """

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
    tier: Tier = Tier.BLOCK
    # "Переменная для сравнения" given as a bare name: the text condition is compared with
    # that variable's value instead of the message
    compare_variable: str | None = None
    minus: TextCondition | None = None  # "Строки, на которые не надо отвечать"
    delay: Delay | None = None
    once: bool = False  # "Переходить один раз" / "Отвечать один раз"
    new_client: bool = False  # a start condition only for a client in no block yet
    save_scope: str | None = None  # "Пользователь вводит данные": deal, client or project
    save_name: str | None = None
    button: bool = False  # "Отображать как кнопку"
    key: str = ""  # a stable name for the arrow, for what a client's session remembers

    @property
    def is_starting(self) -> bool:
        """Whether the arrow is a start condition (fires from any block)."""
        return self.tier is Tier.START

    @property
    def has_condition(self) -> bool:
        """Whether the arrow has a condition (text or comparison); those come first."""
        return self.condition is not None or self.comparison is not None

    @property
    def immediate(self) -> bool:
        """Whether the arrow is taken at once on entering its block, rather than on a
        message: a 0-second delay, and no condition on the message (none at all, or one
        compared with a variable)."""
        if self.delay is None:
            return False
        return self.condition is None or self.compare_variable is not None

    @property
    def waits(self) -> bool:
        """Whether the arrow is tried on a client's message or a callback."""
        return not self.immediate

    def describe(self) -> str:
        """A short readable form, e.g. ``menu -> ask_phone (contains: звонок)``."""
        source = {Tier.START: "any", Tier.QUICK: "quick"}.get(self.tier, self.source or "any")
        parts = []
        if self.trigger is Trigger.CALLBACK:
            parts.append("on callback")
        if self.delay is not None:
            parts.append("at once" if self.delay.immediate else f"after {self.delay.describe()}")
        if self.condition is not None:
            parts.append(self.condition.describe())
        if self.comparison_text is not None:
            parts.append(f"if {self.comparison_text}")
        if self.minus is not None:
            parts.append(f"unless {'; '.join(self.minus.alternatives)}")
        if self.save_name is not None:
            prefix = "" if self.save_scope == "deal" else f"{self.save_scope}."
            parts.append(f"save {prefix}{self.save_name}")
        if self.once:
            parts.append("once")
        if self.new_client:
            parts.append("new client")
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{source} -> {self.target}{detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "tier": self.tier.name.lower(),
            "on": self.trigger.value,
            "condition": None if self.condition is None else self.condition.describe(),
            "if": self.comparison_text,
            "delay": None if self.delay is None else self.delay.describe(),
            "priority": self.priority,
            "line": self.line,
        }


@dataclass(frozen=True)
class Block:
    """One block of the bot: its calculator, buttons, message and outgoing arrows."""

    id: str
    title: str
    line: int
    column: int
    calculator: Program | None
    message: MessageText | None
    message_line: int = 0
    message_column: int = 0
    message_indent: int = 0  # columns removed from the message's second and later lines
    arrows: tuple[Arrow, ...] = ()
    kind: BlockKind = BlockKind.STATE
    # rows of buttons as laid out: the block's own, then its arrows shown as buttons
    rows: tuple[tuple[Button, ...], ...] = ()
    keyboard: str = "auto"  # "reply", "inline" or "auto" (whatever the messenger has)
    hint: Template | None = None  # "Подсказка в мессенджерах без кнопок"
    condition: Arrow | None = None  # a quick answer's own condition

    @property
    def message_text(self) -> str | None:
        return None if self.message is None else self.message.text

    @property
    def buttons(self) -> tuple[Button, ...]:
        """Every button, row by row."""
        return tuple(b for row in self.rows for b in row)

    @property
    def is_state(self) -> bool:
        return self.kind.is_state


def _arrow_order(arrow: Arrow) -> tuple[int, int, int, int]:
    # Salebot: tier first; then those with a condition before those without; then higher
    # priority; then file order.
    return (arrow.tier, 0 if arrow.has_condition else 1, -arrow.priority, arrow.order)


@dataclass
class Flow:
    """A whole bot as loaded from a ``.bot`` file."""

    source: str
    filename: str
    title: str
    blocks: dict[str, Block]
    entry: str  # the first block of the file (``botlang run FILE.bot`` starts there)
    starting_arrows: tuple[Arrow, ...]
    constants: dict[str, Any] = field(default_factory=dict)
    warnings: list[Any] = field(default_factory=list)  # botlang.tools.checker.Diagnostic
    quick_arrows: tuple[Arrow, ...] = ()
    _candidates: dict[tuple[str | None, Trigger], tuple[Arrow, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _immediate: dict[str, tuple[Arrow, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def entry_block(self) -> Block:
        """The first block of the file."""
        return self.blocks[self.entry]

    def block(self, block_id: str) -> Block | None:
        """The block with this id, or None."""
        return self.blocks.get(block_id)

    def arrows(self) -> list[Arrow]:
        """Every arrow: each block's, then the start conditions, then the quick answers'."""
        every = [a for b in self.blocks.values() for a in b.arrows]
        every.extend(self.starting_arrows)
        every.extend(self.quick_arrows)
        return every

    def candidates(self, block_id: str | None, trigger: Trigger) -> tuple[Arrow, ...]:
        """The arrows to try, in Salebot's order, for a message (or a callback) from a
        client in ``block_id`` (None: a client in no block yet).

        Start conditions, then the block's arrows that wait (not its immediate ones), then
        quick answers; each tier with-a-condition first, then by priority and file order.
        """
        key = (block_id, trigger)
        found = self._candidates.get(key)
        if found is None:
            block = self.blocks.get(block_id) if block_id is not None else None
            every = [a for a in self.starting_arrows if a.trigger is trigger]
            if block is not None:
                every.extend(a for a in block.arrows if a.trigger is trigger and a.waits)
            every.extend(a for a in self.quick_arrows if a.trigger is trigger)
            found = tuple(sorted(every, key=_arrow_order))
            self._candidates[key] = found
        return found

    def immediate(self, block_id: str) -> tuple[Arrow, ...]:
        """A block's arrows that are taken at once on entering it, in the order tried."""
        found = self._immediate.get(block_id)
        if found is None:
            block = self.blocks[block_id]
            found = tuple(sorted((a for a in block.arrows if a.immediate), key=_arrow_order))
            self._immediate[block_id] = found
        return found

    def __repr__(self) -> str:
        return f"<botlang.Flow {self.filename} ({len(self.blocks)} blocks)>"
