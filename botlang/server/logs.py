"""Structured logs for the service: one ``key=value`` line per event, never a secret.

``log(logger, level, "webhook.rejected", status=403, kind="events/call")`` writes
``event=webhook.rejected status=403 kind=events/call``; :class:`KeyValueFormatter` adds the
time, level and logger name in the same form. Values with spaces or quotes are quoted, and
every character that could forge a record or drive a terminal (line breaks of any kind —
CR, LF, U+0085, U+2028, U+2029 — escape sequences, other control and format characters)
is written as an escape (``\\r``, ``\\x1b``, ``\\u2028``), so one event is always one line.

Webhook URLs carry the VPBX API key in their path, so a path is only ever logged through
:func:`redact_path`, which keeps only the Mango event part, and uvicorn's access log (which
would print it) is turned off by ``botlang serve``. The service also registers its secrets
(:func:`register_secret`); any registered secret is replaced by ``***`` wherever it appears
in a logged value.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_.,:/@+\-*]+")
# The webhook path: the part after /mango_webhook/ holds the key; Mango appends its own part
# (events/call, result/callback, ...) after it, which is kept.
_WEBHOOK = re.compile(r"^(/+mango_webhook)(/.*?)?(/(?:events|result)/[a-z_]+(?:/[a-z_]+)?)?$", re.S)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_SECRETS: set[str] = set()
_MIN_SECRET_CHARS = 4  # shorter texts would blank out ordinary words


def register_secret(secret: str | None) -> None:
    """Never log ``secret``: it is replaced by ``***`` wherever it appears in a value."""
    if secret and len(secret) >= _MIN_SECRET_CHARS:
        _SECRETS.add(secret)


def _escape(char: str) -> str:
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _redacted(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    text = _redacted(str(value))
    if _BARE.fullmatch(text):
        return text
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    escaped = "".join(
        ch if ch.isprintable() and ch not in _NAMED_ESCAPES else _escape(ch) for ch in text
    )
    return f'"{escaped}"'


def format_fields(event: str, fields: dict[str, Any]) -> str:
    """``event=NAME key=value ...`` in the order given."""
    parts = [f"event={_text(event)}"]
    parts.extend(f"{key}={_text(value)}" for key, value in fields.items())
    return " ".join(parts)


def log(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log one structured line (formatted only when the level is enabled)."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", format_fields(event, fields))


def redact_path(path: str) -> str:
    """A request path fit for a log: everything between ``/mango_webhook`` and Mango's own
    event part becomes ``***`` (the key, and any other segment, wherever it sits)."""
    match = _WEBHOOK.match(path)
    if match is None:
        return path
    head, key, tail = match.groups()
    return f"{head}/***{tail or ''}" if key or tail else head


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=info logger=botlang.server event=... key=value`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        head = (
            f"ts={stamp}.{int(record.msecs):03d}Z level={record.levelname.lower()} "
            f"logger={record.name}"
        )
        message = record.getMessage()
        if not message.startswith("event="):
            message = f"msg={_text(message)}"
        line = f"{head} {message}"
        if record.exc_info:
            # The exception's type and where it was raised, not its message or the values
            # in the traceback: those may quote request data or secrets.
            kind, _, trace = record.exc_info
            line += f" exception={kind.__name__ if kind else 'Exception'}"
            if trace is not None:
                last = traceback.extract_tb(trace)[-1]
                line += f" at={_text(f'{os.path.basename(last.filename)}:{last.lineno}')}"
        return line


def configure(level: str = "info") -> None:
    """Send botlang's and uvicorn's logs to stderr as key=value lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter())
    for name in ("botlang", "uvicorn"):  # uvicorn.error propagates to uvicorn
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
