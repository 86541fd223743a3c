"""Bot flows: the ``.bot`` file format and the runtime session that runs it per client.

Example::

    from botlang.flow import Bot
    from botlang.store import open_store

    bot = Bot.load("examples/booking/booking.bot")
    store = open_store("memory://")
    client = store.create_client(client_type=6, phone="79004443322", messenger="whatsapp")
    turn = bot.handle_message(store, client.client_id, "привет")
    turn.texts  # what the bot says

The format and the API are described in docs/flows.md.
"""

from botlang.flow.loader import (
    FLOW_SUFFIX,
    FlowError,
    check_flow_file,
    check_flow_source,
    load_flow,
    parse_flow,
)
from botlang.flow.matching import condition_matches
from botlang.flow.model import (
    Arrow,
    Block,
    BlockKind,
    Button,
    ButtonAction,
    Delay,
    Flow,
    MatchMode,
    TextCondition,
    Tier,
    Trigger,
)
from botlang.flow.output import Order, ShownButton
from botlang.flow.session import (
    FROM_API,
    FROM_CALLBACK,
    FROM_CLIENT,
    FROM_CRM,
    FROM_TELEPHONY,
    Bot,
    BotMessage,
    TelephonyCall,
    Turn,
    TurnRequest,
)

__all__ = [
    "FLOW_SUFFIX",
    "FROM_API",
    "FROM_CALLBACK",
    "FROM_CLIENT",
    "FROM_CRM",
    "FROM_TELEPHONY",
    "Arrow",
    "Block",
    "BlockKind",
    "Bot",
    "BotMessage",
    "Button",
    "ButtonAction",
    "Delay",
    "Flow",
    "FlowError",
    "MatchMode",
    "Order",
    "ShownButton",
    "TelephonyCall",
    "TextCondition",
    "Tier",
    "Trigger",
    "Turn",
    "TurnRequest",
    "check_flow_file",
    "check_flow_source",
    "condition_matches",
    "load_flow",
    "parse_flow",
]
