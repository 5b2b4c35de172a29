"""Notices about the warning system itself to officials: a delivery provider's outage.

When a provider fails (Twilio down), officials must hear it through any channel
that still works, never through the failing one and never through a siren (it
carries no words) or the public CAP feed: by SMS and on every broadcast
destination configured for officials (`audience = "officials"`: a Telegram
group, an ntfy topic, a webhook).  When the provider recovers, officials hear on
every such channel, the recovered one included, how long warnings were held back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from warning.areas import AreaIndex
from warning.model import OFFICIALS_GROUP, WITA, ChangeKind, ChannelKind, PlannedDelivery
from warning.plan.broadcast import BroadcastTarget, officials_notice
from warning.plan.contacts import Contact
from warning.plan.messages import render_plain

#: What officials call each channel in a notice.
_NAMES = {ChannelKind.SMS: "SMS"}


@dataclass(frozen=True, slots=True)
class NoticeReach:
    """Who a system notice can reach: the officials' phones and their broadcast destinations."""

    contacts: Sequence[Contact]
    targets: Sequence[BroadcastTarget]
    areas: AreaIndex
    drill: bool

    def notice(
        self,
        change_id: str,
        channel: ChannelKind,
        body: str,
        *,
        now: datetime,
        avoid: Sequence[ChannelKind] = (),
    ) -> list[PlannedDelivery]:
        """The notice to every official (drill-enabled ones in a drill), never through `avoid`."""
        officials = [
            c.phone
            for c in self.contacts
            if c.group == OFFICIALS_GROUP and (c.drill or not self.drill)
        ]
        text = render_plain(("LATIHAN: " if self.drill else "") + body)
        return officials_notice(
            change_id,
            ChangeKind.DELIVERY_HEALTH,
            officials,
            text,
            subject=channel.value,
            targets=self.targets,
            areas=self.areas,
            drill=self.drill,
            now=now,
            avoid=avoid,
        )


def outage_began(
    outage_id: int, failing: ChannelKind, since: datetime, reach: NoticeReach, *, now: datetime
) -> list[PlannedDelivery]:
    """Tell officials on every other channel they read that `failing` holds warnings back."""
    name = _NAMES.get(failing, failing.value)
    body = (
        f"INFO SISTEM: pengiriman {name} terganggu sejak {_hhmm(since)} WITA. Peringatan"
        f" dikirim ulang otomatis; sampaikan peringatan penting lewat jalur lain."
    )
    return reach.notice(f"outage-{outage_id}-began", failing, body, now=now, avoid=(failing,))


def outage_ended(
    outage_id: int,
    channel: ChannelKind,
    span: tuple[datetime, datetime],
    late: int,
    reach: NoticeReach,
) -> list[PlannedDelivery]:
    """Tell officials on every channel they read, `channel` too, what the outage held back."""
    name = _NAMES.get(channel, channel.value)
    body = (
        f"INFO SISTEM: {name} tertunda {_hhmm(span[0])}-{_hhmm(span[1])} WITA,"
        f" {late} pesan terkirim terlambat. Pengiriman kembali normal."
    )
    return reach.notice(f"outage-{outage_id}-ended", channel, body, now=span[1])


def _hhmm(moment: datetime) -> str:
    """HH:MM in WITA, as officials read times."""
    return moment.astimezone(WITA).strftime("%H:%M")
