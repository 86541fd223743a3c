"""Structured logs for the service: one ``key=value`` line per event, never a secret.

``log(logger, level, "webhook.rejected", status=403, kind="events/call")`` writes
``event=webhook.rejected status=403 kind=events/call``; :class:`KeyValueFormatter` adds the
time, level and logger name in the same form. Values with spaces or quotes are quoted.

Webhook URLs carry the VPBX API key in their path, so a path is only ever logged through
:func:`redact_path`, and uvicorn's access log (which would print it) is turned off by
``botlang serve``.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_.,:/@+\-*]+")
_WEBHOOK = re.compile(r"^(/mango_webhook/)[^/]*")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
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
    """A request path fit for a log: the API key in a webhook path becomes ``***``."""
    return _WEBHOOK.sub(r"\1***", path)


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
