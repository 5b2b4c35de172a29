"""Telegram: the Bot API's address and token, and channel posts as an outbox channel.

`bot_api` is the one place the Bot API base and token are read (the daemon's
channel posts and the residents' reports bot share it).  The token is part of
every method URL (`<api_base>/bot<token>/sendMessage`), so it is kept out of
`repr`, and every error text is scrubbed of it before it can reach a log, the
outbox or an operator's screen.

A post is one `sendMessage` per delivery.  The Bot API has no idempotency
key: the outbox's claim and lease are what keep a post from being repeated,
so that a crash between the post and its commit repeats at most the posts in
flight.  429 answers carry `parameters.retry_after` (seconds), which becomes
the outbox's floor for the next attempt; 5xx and network trouble are retried;
any other refusal (a wrong chat id, the bot not an admin) is permanent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
import structlog

from warning.areas import AreaIndex
from warning.delivery.channel import (
    Channel,
    ChannelSettings,
    LogChannel,
    Outcome,
    SecretGetter,
    SendResult,
)
from warning.http import retry_after_s
from warning.model import ChannelKind, ConfigError, Delivery, Problem
from warning.plan.payloads import BroadcastPost
from warning.settings import BroadcastKind, TelegramSettings

#: Telegram's longest message text.
MAX_TEXT = 4096
#: Seconds allowed to open a TCP connection to the Bot API.
CONNECT_TIMEOUT_S = 5.0
#: What a token is replaced with in error texts.
REDACTED = "<token>"


@dataclass(frozen=True, slots=True)
class BotApi:
    """Where the Bot API is and the bot's token (never shown by `repr`)."""

    base: str
    token: str = field(repr=False)

    def url(self, method: str) -> str:
        """The URL of one Bot API method (it holds the token: never log it)."""
        return f"{self.base.rstrip('/')}/bot{self.token}/{method}"

    def redact(self, text: str) -> str:
        """`text` without the token, wherever a library put it (URLs in exceptions)."""
        return text.replace(self.token, REDACTED) if self.token else text


def bot_api(telegram: TelegramSettings, secret: SecretGetter) -> BotApi | None:
    """The Bot API of `[telegram]`; None when no token is set (env, file or credential).

    ConfigError when `token_file` is set but cannot be read.
    """
    try:
        token = secret("TELEGRAM_BOT_TOKEN", telegram.token_file, "telegram_bot_token")
    except OSError as exc:
        raise ConfigError(
            Problem("[telegram]", f"cannot read telegram.token_file: {exc.strerror}")
        ) from None
    return BotApi(telegram.api_base, token) if token else None


class TelegramChannel:
    """Posts to Telegram chats; a delivery's recipient is the chat id."""

    kind = ChannelKind.TELEGRAM

    def __init__(self, api: BotApi, timeout_s: float, session: requests.Session) -> None:
        self._api = api
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._session = session
        self._log = structlog.get_logger()

    def send(self, delivery: Delivery) -> SendResult:
        """One sendMessage; whatever goes wrong is an outcome, scrubbed of the token."""
        try:
            post = BroadcastPost.from_json(delivery.payload)
        except ValueError as exc:
            return SendResult(Outcome.FAILED, error=f"invalid broadcast payload: {exc}")
        body = {
            "chat_id": delivery.recipient,
            "text": post.text[:MAX_TEXT],
            "disable_web_page_preview": True,
        }
        try:
            response = self._session.post(
                self._api.url("sendMessage"),
                json=body,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return SendResult(Outcome.RETRY, error="Telegram Bot API timed out")
        except requests.RequestException as exc:
            text = self._api.redact(f"Telegram Bot API unreachable: {type(exc).__name__}: {exc}")
            return SendResult(Outcome.RETRY, error=text[:300])
        return self._outcome(delivery, response)

    def _outcome(self, delivery: Delivery, response: requests.Response) -> SendResult:
        """Classify the Bot API's answer."""
        document = _json(response)
        status = response.status_code
        if 200 <= status < 300 and document.get("ok") is True:
            message = document.get("result") or {}
            ident = message.get("message_id") if isinstance(message, dict) else None
            self._log.info("telegram.posted", chat=delivery.recipient, message_id=ident)
            return SendResult(Outcome.SENT, provider_id=f"{delivery.recipient}:{ident}")
        described = self._api.redact(str(document.get("description") or "no description"))
        error = f"Telegram answered HTTP {status}: {described}"[:300]
        if status == 429 or status >= 500:
            wait = _retry_after(document, response)
            return SendResult(Outcome.RETRY, error=error, retry_after_s=wait, code=str(status))
        return SendResult(Outcome.FAILED, error=error, code=str(status))


def _json(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object ({} when it is not one)."""
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _retry_after(document: dict[str, Any], response: requests.Response) -> float | None:
    """Telegram's `parameters.retry_after` (seconds), else the Retry-After header."""
    parameters = document.get("parameters")
    wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
        return float(wait)
    return retry_after_s(response.headers.get("Retry-After"))


def telegram_channel(
    settings: ChannelSettings, _areas: AreaIndex | None, secret: SecretGetter
) -> Channel:
    """The Telegram channel with a token, else the log channel (posts are only logged)."""
    api = bot_api(settings.telegram, secret)
    if api is None:
        if any(b.kind is BroadcastKind.TELEGRAM for b in settings.broadcasts):
            structlog.get_logger().warning(
                "telegram.log_only",
                message="Telegram channels are configured but TELEGRAM_BOT_TOKEN is not set:"
                " each post is only logged",
            )
        return LogChannel(ChannelKind.TELEGRAM, "no Telegram bot token")
    return TelegramChannel(api, settings.telegram.timeout_s, requests.Session())
