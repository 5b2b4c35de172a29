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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog

from warning.model import ChannelKind, Delivery
from warning.plan.acklinks import RECEIPT_PATH
from warning.settings import (
    BroadcastSettings,
    CapSettings,
    Settings,
    SirenDeliverySettings,
    SirenSettings,
    SmsSettings,
    TelegramSettings,
)

#: How channels read secrets: (environment variable, *_file setting, systemd credential)
#: -> the secret or None; `warning.settings.secret` is the real one, tests pass fakes.
SecretGetter = Callable[[str, str, str], str | None]


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """The sections the channels read, and nothing else of the settings."""

    sirens: tuple[SirenSettings, ...] = ()
    sms: SmsSettings = field(default_factory=SmsSettings)
    cap: CapSettings = field(default_factory=CapSettings)
    cap_dir: Path = Path("cap")
    areas_path: Path = Path("areas.geojson")
    receipt_url: str = ""  # where Twilio posts delivery receipts ("" asks for none)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    broadcasts: tuple[BroadcastSettings, ...] = ()
    #: How the dispatcher retries siren commands (`[siren]`).
    siren: SirenDeliverySettings = field(default_factory=SirenDeliverySettings)

    @classmethod
    def of(cls, settings: Settings) -> ChannelSettings:
        """The channels' sections of `settings` (its resolved CAP directory and areas file)."""
        return cls(
            settings.sirens,
            settings.sms,
            settings.cap,
            settings.cap_dir,
            settings.areas_path,
            receipt_url(settings),
            settings.telegram,
            settings.broadcasts,
            settings.siren,
        )


def receipt_url(settings: Settings) -> str:
    """Where Twilio posts delivery receipts: the console's, when it has a public URL."""
    base = settings.console.public_url.rstrip("/")
    return base + RECEIPT_PATH if base else ""


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
    completes its rows.  `reason` says why nothing real is configured (an
    operator command says it when it leaves such rows to the daemon instead).
    """

    def __init__(self, kind: ChannelKind, reason: str = "nothing real configured") -> None:
        self.kind = kind
        self.reason = reason
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
            change_id=delivery.change_id,
            drill=delivery.drill,
            payload=dict(delivery.payload),
        )
        return SendResult(Outcome.SENT, provider_id=f"log:{number}")
