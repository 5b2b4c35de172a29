"""Provider outages of a delivery channel, as the daemon saw them: when, how long, how many late.

An outage opens when live deliveries of a channel have waited past `[health]
max_delivery_wait_s` and closes once none waits any more; `warning status`,
/metrics and the notices to officials read it from here.  The decision of when
to open or close one is the daemon's (`warning.daemon.outage`); this module only
keeps the record.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from warning.model import ChannelKind
from warning.store.sqlite import Store


@dataclass(frozen=True, slots=True)
class Outage:
    """One outage of `channel`: open while `ended_at` is None; `late` counted at its end."""

    id: int
    channel: ChannelKind
    started_at: datetime
    ended_at: datetime | None = None
    late: int | None = None


def open_outage(store: Store, channel: ChannelKind) -> Outage | None:
    """The outage of `channel` still going on, if any."""
    row = (
        store.connection()
        .execute(
            "SELECT * FROM delivery_outages WHERE channel = ? AND ended_at IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (channel.value,),
        )
        .fetchone()
    )
    return None if row is None else _outage(row)


def begin(tx: sqlite3.Connection, channel: ChannelKind, started_at: datetime) -> Outage:
    """Record that `channel`'s deliveries have been waiting since `started_at`."""
    cursor = tx.execute(
        "INSERT INTO delivery_outages (channel, started_at) VALUES (?, ?)",
        (channel.value, started_at.isoformat()),
    )
    return Outage(int(cursor.lastrowid or 0), channel, started_at)


def end(tx: sqlite3.Connection, outage: Outage, ended_at: datetime) -> Outage:
    """Close `outage` at `ended_at`, counting the live deliveries it made late."""
    late = int(
        tx.execute(
            "SELECT count(*) FROM outbox WHERE channel = ? AND drill = 0 AND status = 'sent'"
            " AND last_error IS NOT NULL AND sent_at >= ?",
            (outage.channel.value, outage.started_at.isoformat()),
        ).fetchone()[0]
    )
    tx.execute(
        "UPDATE delivery_outages SET ended_at = ?, late = ? WHERE id = ?",
        (ended_at.isoformat(), late, outage.id),
    )
    return Outage(outage.id, outage.channel, outage.started_at, ended_at, late)


def open_outages(conn: sqlite3.Connection) -> list[dict[str, str]]:
    """Outages going on, for `warning status` (none in a database from before they existed)."""
    try:
        found = conn.execute(
            "SELECT channel, started_at FROM delivery_outages WHERE ended_at IS NULL ORDER BY id"
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # the daemon has not yet migrated this database
    return [{"channel": str(r[0]), "since": str(r[1])} for r in found]


def _outage(row: sqlite3.Row) -> Outage:
    return Outage(
        id=int(row["id"]),
        channel=ChannelKind(row["channel"]),
        started_at=datetime.fromisoformat(row["started_at"]),
        ended_at=None if row["ended_at"] is None else datetime.fromisoformat(row["ended_at"]),
        late=row["late"],
    )
