"""Every limit botlang enforces, in one place.

The language core, the stores and the server all read their bounds from here, so a limit is
changed once and holds everywhere. Tests exercise each one at its boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """Bounds on what one script, one client and one request may use."""

    # Source and syntax
    max_source_chars: int = 200_000
    max_nesting_depth: int = 100  # brackets nested in one statement
    max_expression_depth: int = 150  # syntax-tree depth of one statement (operator chains too)
    max_template_chars: int = 100_000

    # Execution
    max_steps: int = 1_000_000  # evaluation steps per run (each node evaluated counts one)

    # Values
    max_string_chars: int = 100_000  # also Salebot's limit on a variable's value
    max_collection_items: int = 100_000  # list or dict length
    max_value_chars: int = 100_000  # a stored variable's size, measured as its JSON text
    max_power_exponent: int = 10_000  # |b| in a ** b for integers
    max_factorial: int = 1_000  # fac(n): 1000! has 2,568 digits
    max_int_digits: int = 4_300  # CPython's own int/str conversion limit
    max_repeat_chars: int = 100_000  # "ab" * n

    # Variables
    max_variable_name_chars: int = 500
    max_variables_per_scope: int = 1_000

    # Builtins with their own bounds
    regex_timeout_seconds: float = 1.0
    max_regex_pattern_chars: int = 1_000
    max_hash_input_chars: int = 1_000_000
    max_regex_expanded_size: int = 10_000  # a pattern with its counted repeats written out
    max_similar_chars: int = 1_000  # similar() is quadratic in the texts' length

    # Flows
    max_flow_source_chars: int = 2_000_000  # a whole .bot file
    max_blocks_per_turn: int = 100  # blocks entered for one message or event (arrow chains)
    max_message_chars: int = 100_000  # an incoming message or callback text
    max_session_errors: int = 20  # runtime errors kept on a client's session
    # Buttons (Salebot's documented limits, those of Telegram)
    max_button_label_chars: int = 32
    max_button_callback_bytes: int = 64  # a callback button's text, in UTF-8
    max_reply_buttons_per_row: int = 12
    max_inline_buttons_per_row: int = 8

    # HTTP service
    max_request_body_bytes: int = 64 * 1024
    max_webhook_requests_per_second: float = 200.0  # per VPBX key; bursts of one second's worth
    max_inbox_backlog: int = 10_000  # events stored, not yet processed; beyond it → 503
    max_pending_writes: int = 2_000  # deliveries waiting for their inbox write; beyond → 503
    max_concurrent_requests: int = 1_000  # open requests per server process; beyond → 503
    max_concurrent_messages: int = 32  # /message turns running at once; beyond → 503
    inbox_retention_seconds: float = 3 * 24 * 3600  # processed events kept to spot duplicates
    http_timeout_seconds: float = 10.0

    def with_changes(self, **changes: int | float) -> Limits:
        """A copy with some limits changed (for tests and embedding)."""
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
