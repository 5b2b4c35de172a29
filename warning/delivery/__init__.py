"""Deliver: the dispatcher and the channels (sirens, SMS, CAP, broadcasts) it sends through.

`CHANNELS` is the explicit registry: ChannelKind -> factory
`(channel settings, areas, secret) -> Channel`; each factory reads only its
own section and chooses the log channel when nothing real is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from warning.areas import AreaIndex
from warning.delivery.broadcast import ntfy_channel, webhook_channel
from warning.delivery.cap import cap_channel
from warning.delivery.channel import Channel, ChannelSettings, SecretGetter
from warning.delivery.siren import siren_channel
from warning.delivery.sms import sms_channel
from warning.delivery.telegram import telegram_channel
from warning.model import ChannelKind

ChannelFactory = Callable[[ChannelSettings, AreaIndex | None, SecretGetter], Channel]

CHANNELS: Mapping[ChannelKind, ChannelFactory] = MappingProxyType(
    {
        ChannelKind.SIREN: siren_channel,
        ChannelKind.SMS: sms_channel,
        ChannelKind.CAP: cap_channel,
        ChannelKind.TELEGRAM: telegram_channel,
        ChannelKind.NTFY: ntfy_channel,
        ChannelKind.WEBHOOK: webhook_channel,
    }
)


def build_channels(
    settings: ChannelSettings, areas: AreaIndex | None, secret: SecretGetter
) -> dict[ChannelKind, Channel]:
    """One channel per registered kind."""
    return {kind: factory(settings, areas, secret) for kind, factory in CHANNELS.items()}
