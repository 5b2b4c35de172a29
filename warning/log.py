"""Structured logging, configured once: console on a terminal, JSON lines otherwise.

Logs go to stderr so that a command's stdout stays parseable (`--json`).
Event names are stable `dotted.snake_case` (`feed.fetched`, `alert.fired`).
Secrets are masked by a processor wherever they appear, by key and by shape.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

MASK = "***"

# Keys whose values are always secret, whatever they hold.
_SECRET_KEY = re.compile(r"(token|password|secret|authorization|auth|api_key|credential)", re.I)
# Shapes of secrets inside free text: Twilio auth tokens and SIDs' partners, bot tokens, bearer
# and basic credentials, and credentials embedded in URLs.
_SECRET_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    (
        re.compile(r"(?i)((?:auth_?token|password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)(://[^/\s:@]+:)[^@\s/]+@"), r"\1" + MASK + "@"),
    (re.compile(r"\b[0-9a-f]{32}\b"), MASK),
    # Telegram bot tokens (`123456789:AA...`), also inside Bot API URLs (`/bot<token>/`).
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),
)


def mask_text(text: str) -> str:
    """`text` with anything shaped like a credential replaced by `***`."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _mask(value: Any) -> Any:
    """Mask secrets inside strings, mappings and sequences."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: MASK if _is_secret_key(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v) for v in value)
    return value


def _is_secret_key(key: object) -> bool:
    """Keys like `auth_token`, `Authorization` or `*_token` always hold secrets."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def mask_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret keys and secret-shaped text in every event."""
    for key, value in list(event_dict.items()):
        event_dict[key] = MASK if _is_secret_key(key) and value else _mask(value)
    return event_dict


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the moment of writing.

    Binding the stream object at configure time would keep writing to a stream
    that was later replaced and closed (a test harness's capture, a daemonised
    process's old stderr); looking it up per write always finds the live one.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Set up logging for the process: `fmt` is auto, console or json; stderr by default.

    Libraries that log through the standard `logging` module (APScheduler, the
    Twilio SDK, urllib3) go through the same processors, so the journal stays
    one JSON object per line and their messages are masked too.  They are kept
    at WARNING or above: their INFO lines would repeat our own events.
    """
    out: Any = stream if stream is not None else _CurrentStderr()
    as_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, mask_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(out, shared, renderer)


def _route_standard_logging(out: Any, shared: list[Any], renderer: Any) -> None:
    """Send the stdlib `logging` records of libraries through our processors."""
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                mask_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
