"""The contract between the outbox and its channels: one row in, one outcome out.

The outbox hands a channel one `Delivery` at a time; the channel answers with a
`SendResult` whose `Outcome` decides the row's fate (sent, retried later, or
failed for good).  A channel never raises for provider or network trouble:
that is an outcome, so one bad delivery can never stop the dispatcher.
"""

from __future__ import annotations

import enum
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

#: How channels read secrets: (environment variable, *_file setting, systemd credential)
#: -> the secret or None; `warning.settings.secret` is the real one, tests pass fakes.
SecretGetter = Callable[[str, str, str], str | None]


class ChannelKind(enum.Enum):
    """How a delivery reaches people: a siren, an SMS, a CAP document, a broadcast post."""

    SIREN = "siren"
    SMS = "sms"
    CAP = "cap"
    TELEGRAM = "telegram"
    NTFY = "ntfy"
    WEBHOOK = "webhook"


#: Broadcast channels: one post reaches everyone following a chat, topic or receiver.
BROADCAST_KINDS = (ChannelKind.TELEGRAM, ChannelKind.NTFY, ChannelKind.WEBHOOK)


class DeliveryStatus(enum.Enum):
    """Lifecycle of one outbox row."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row handed to a channel.

    `recipient` is an E.164 phone (sms), a siren id (siren), "cap" (cap), a
    chat id (telegram), a topic URL (ntfy) or a URL (webhook); `priority`
    orders sending, lower first: 0 sirens, 5 broadcast posts, 10 officials,
    20 rt-heads and siskamling, 30 other groups, 40 CAP.
    """

    id: int
    channel: ChannelKind
    recipient: str
    alert_id: str
    payload: Mapping[str, Any]
    priority: int
    attempts: int
    drill: bool
    dedup_key: str
    enqueued_at: datetime | None = None  # when the alert change was committed (latency)


class Outcome(enum.Enum):
    """What became of one attempt."""

    SENT = "sent"  # provider accepted (siren acknowledged)
    RETRY = "retry"  # transient: try again later (429, 5xx, timeout, no ack)
    FAILED = "failed"  # permanent: never retry (invalid number, 4xx other than 429, ...)


@dataclass(frozen=True, slots=True)
class SendResult:
    """A channel's answer for one attempt; `error` never contains secrets."""

    outcome: Outcome
    provider_id: str | None = None
    error: str | None = None
    retry_after_s: float | None = None
    code: str | None = None


class Channel(Protocol):
    """Something that delivers rows of one `ChannelKind`."""

    kind: ChannelKind

    def send(self, delivery: Delivery) -> SendResult:
        """Attempt one delivery; return RETRY or FAILED instead of raising."""
        ...


class LogChannel:
    """The channel used when nothing real is configured: log each delivery, report it sent.

    Without Twilio credentials SMS land here, without sirens the siren rows do;
    operators see exactly what would have gone out, and the outbox still
    completes its rows.
    """

    def __init__(self, kind: ChannelKind) -> None:
        self.kind = kind
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        self._log = structlog.get_logger()

    def send(self, delivery: Delivery) -> SendResult:
        """Log the delivery as it would be sent; return SENT with provider id `log:<n>`."""
        with self._lock:
            number = next(self._count)
        self._log.info(
            "delivery.logged",
            channel=self.kind.value,
            delivery_id=delivery.id,
            recipient=delivery.recipient,
            alert_id=delivery.alert_id,
            drill=delivery.drill,
            payload=dict(delivery.payload),
        )
        return SendResult(Outcome.SENT, provider_id=f"log:{number}")
