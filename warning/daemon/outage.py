"""A delivery provider's outage is a health event: opened, told, shown and closed once each.

At every heartbeat the daemon looks at the live SMS still waiting after a
failed attempt.  Once the oldest has waited past `[health] max_delivery_wait_s`
an outage opens: one log line, the /metrics gauge, `warning status`, and a
notice to officials on every other channel they read (never through the failing
one).  Once nothing waits any more it closes: one log line and a notice on every
channel, SMS too, saying how long SMS were held back and how many went out late.
The retries themselves are the dispatcher's (until each SMS's validity ends).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from warning.model import ChannelKind
from warning.plan import health
from warning.plan.health import NoticeReach
from warning.store import outages, outbox
from warning.store.sqlite import Store

log = structlog.get_logger()


def watch_outage(
    store: Store,
    reach: NoticeReach,
    *,
    max_wait_s: float,
    now: datetime,
    channel: ChannelKind = ChannelKind.SMS,
) -> bool | None:
    """Open or close `channel`'s outage as its waiting deliveries say; True opened, False closed.

    None when nothing changed.  The notices are enqueued in the transaction
    that records the change, so a restart neither loses nor repeats them.
    """
    current = outages.open_outage(store, channel)
    waiting = outbox.oldest_retrying(store, channel)
    if current is None and waiting is not None:
        since = datetime.fromisoformat(waiting)
        if (now - since).total_seconds() > max_wait_s:
            _begin(store, reach, channel, since, now=now)
            return True
    if current is not None and waiting is None:
        _end(store, reach, current, now=now)
        return False
    return None


def _begin(
    store: Store, reach: NoticeReach, channel: ChannelKind, since: datetime, *, now: datetime
) -> None:
    """Record the outage and tell officials elsewhere, in one transaction."""
    with store.transaction() as tx:
        opened = outages.begin(tx, channel, since)
        notices = health.outage_began(opened.id, channel, since, reach, now=now)
        outbox.enqueue(tx, notices)
    log.error(
        "delivery.outage_began",
        channel=channel.value,
        since=since.isoformat(),
        notices=[p.channel.value for p in notices],
    )


def _end(store: Store, reach: NoticeReach, current: outages.Outage, *, now: datetime) -> None:
    """Close the outage and tell officials how long warnings were held back."""
    with store.transaction() as tx:
        closed = outages.end(tx, current, now)
        span = (closed.started_at, now)
        notices = health.outage_ended(closed.id, closed.channel, span, closed.late or 0, reach)
        outbox.enqueue(tx, notices)
    log.warning(
        "delivery.outage_ended",
        channel=closed.channel.value,
        since=closed.started_at.isoformat(),
        late=closed.late,
    )
