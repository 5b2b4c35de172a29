"""Delivery: the durable outbox and the channels (sirens, SMS, CAP) it feeds.

`CHANNELS` is the explicit registry: ChannelKind -> factory
`(settings, areas, secret) -> Channel`; each factory chooses the log channel
when nothing real is configured.  The siren and CAP factories join it from
`warning.dispatch.siren` and `warning.dispatch.cap`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from warning.areas import AreaIndex
from warning.dispatch.channel import Channel, ChannelKind
from warning.dispatch.sms import SecretGetter, sms_channel
from warning.settings import Settings

ChannelFactory = Callable[[Settings, AreaIndex | None, SecretGetter], Channel]

CHANNELS: Mapping[ChannelKind, ChannelFactory] = MappingProxyType(
    {
        ChannelKind.SMS: sms_channel,
    }
)


def build_channels(
    settings: Settings, areas: AreaIndex | None, secret: SecretGetter
) -> dict[ChannelKind, Channel]:
    """One channel per registered kind (rows of unregistered kinds wait in the outbox)."""
    return {kind: factory(settings, areas, secret) for kind, factory in CHANNELS.items()}
