"""Notices about the warning system itself to officials: a delivery provider's outage.

When a provider fails (Twilio down), officials must hear it through any channel
that still works, never through the failing one and never through a siren (it
carries no words) or the public CAP feed.  `NOTICE_ADDRESSES` is the explicit
registry of the channels officials read and how each addresses a contact: a
channel added for officials (a chat, a push service) adds one line here and
every notice reaches it.  When the provider recovers, officials hear on every
such channel, the recovered one included, how long warnings were held back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from warning.model import WITA, ChangeKind, ChannelKind, PlannedDelivery
from warning.plan.contacts import Contact
from warning.plan.messages import render_plain
from warning.plan.planner import officials_notice

#: The channels officials read, and each one's address of a contact (None: none there).
NOTICE_ADDRESSES: Mapping[ChannelKind, Callable[[Contact], str | None]] = MappingProxyType(
    {ChannelKind.SMS: lambda contact: contact.phone}
)

#: What officials call each channel in a notice.
_NAMES = {ChannelKind.SMS: "SMS"}


def outage_began(
    outage_id: int,
    failing: ChannelKind,
    since: datetime,
    contacts: Sequence[Contact],
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """Tell officials on every other channel they read that `failing` holds warnings back."""
    name = _NAMES.get(failing, failing.value)
    body = (
        f"INFO SISTEM: pengiriman {name} terganggu sejak {_hhmm(since)} WITA. Peringatan"
        f" dikirim ulang otomatis; sampaikan peringatan penting lewat jalur lain."
    )
    kinds = [k for k in NOTICE_ADDRESSES if k is not failing]
    change_id = f"outage-{outage_id}-began"
    return _notice(change_id, failing, kinds, contacts, body, drill=drill, now=now)


def outage_ended(
    outage_id: int,
    channel: ChannelKind,
    span: tuple[datetime, datetime],
    late: int,
    contacts: Sequence[Contact],
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """Tell officials on every channel they read, `channel` too, what the outage held back."""
    name = _NAMES.get(channel, channel.value)
    body = (
        f"INFO SISTEM: {name} tertunda {_hhmm(span[0])}-{_hhmm(span[1])} WITA,"
        f" {late} pesan terkirim terlambat. Pengiriman kembali normal."
    )
    kinds = list(NOTICE_ADDRESSES)
    change_id = f"outage-{outage_id}-ended"
    return _notice(change_id, channel, kinds, contacts, body, drill=drill, now=now)


def _notice(
    change_id: str,
    channel: ChannelKind,
    kinds: Sequence[ChannelKind],
    contacts: Sequence[Contact],
    body: str,
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """The notice to every official (drill-enabled ones in a drill) on each of `kinds`."""
    officials = [c for c in contacts if c.group == "officials" and (c.drill or not drill)]
    addresses = {k: _addresses(k, officials) for k in kinds}
    text = render_plain(("LATIHAN: " if drill else "") + body)
    return officials_notice(
        change_id,
        ChangeKind.DELIVERY_HEALTH,
        addresses,
        text,
        subject=channel.value,
        drill=drill,
        now=now,
    )


def _addresses(kind: ChannelKind, officials: Sequence[Contact]) -> list[str]:
    """Each official's address on `kind`, for those who have one."""
    found = (NOTICE_ADDRESSES[kind](c) for c in officials)
    return [a for a in found if a]


def _hhmm(moment: datetime) -> str:
    """HH:MM in WITA, as officials read times."""
    return moment.astimezone(WITA).strftime("%H:%M")
