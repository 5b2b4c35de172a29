"""The drill report's read model: one drill run's outbox rows with their changes.

A run's rows are those enqueued after the outbox's last row at its start
(`last_row`), marked drill; `open_rows` counts those still to send.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from warning.model import ChannelKind, DeliveryStatus
from warning.store.sqlite import Store


@dataclass(frozen=True, slots=True)
class RowFact:
    """One outbox row of the run, with its change."""

    change_id: str
    rule_id: str
    kind: str
    level: str | None
    areas: tuple[str, ...]
    channel: ChannelKind
    recipient: str
    status: DeliveryStatus
    sent_at: datetime | None
    error: str | None
    command: str | None
    #: The contact's name on a linked SMS, and when they acknowledged (None: not yet).
    contact: str = ""
    acknowledged_at: datetime | None = None


_ROWS = """
SELECT o.change_id, o.rule_id, o.channel, o.recipient, o.status, o.sent_at, o.last_error,
       o.payload_json, c.kind, c.level, a.acknowledged_at
FROM outbox o LEFT JOIN alert_changes c ON c.change_id = o.change_id
LEFT JOIN acknowledgements a ON a.change_id = o.change_id AND a.recipient = o.recipient
  AND o.channel = 'sms'
WHERE o.id > ? AND o.drill = 1 ORDER BY o.id
"""


def run_rows(store: Store, first_row: int) -> list[RowFact]:
    """The drill rows enqueued after outbox row `first_row`, oldest first."""
    conn = store.connection()
    found = conn.execute(_ROWS, (first_row,)).fetchall()
    areas = _change_areas(conn, {r["change_id"] for r in found})
    return [_fact(r, areas.get(r["change_id"], ())) for r in found]


def _change_areas(
    conn: sqlite3.Connection, change_ids: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """Each change's areas in the order the planner gave them."""
    ids = json.dumps(sorted(change_ids))
    rows = conn.execute(
        "SELECT change_id, area_id FROM alert_change_areas"
        " WHERE change_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
        (ids,),
    )
    areas: dict[str, list[str]] = {}
    for change_id, area_id in rows:
        areas.setdefault(change_id, []).append(area_id)
    return {k: tuple(v) for k, v in areas.items()}


def _fact(row: sqlite3.Row, areas: tuple[str, ...]) -> RowFact:
    payload = json.loads(row["payload_json"])
    channel = ChannelKind(row["channel"])
    return RowFact(
        change_id=row["change_id"],
        rule_id=row["rule_id"],
        kind=row["kind"] or "",
        level=row["level"],
        areas=areas,
        channel=channel,
        recipient=row["recipient"],
        status=DeliveryStatus(row["status"]),
        sent_at=datetime.fromisoformat(row["sent_at"]) if row["sent_at"] else None,
        error=row["last_error"],
        command=payload.get("command") if channel is ChannelKind.SIREN else None,
        contact=str((payload.get("ack") or {}).get("name", "")),
        acknowledged_at=_when(row["acknowledged_at"]),
    )


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def last_row(tx: sqlite3.Connection) -> int:
    """The outbox's highest row id (0 when empty): a run's rows come after it."""
    return int(tx.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0])


def open_rows(store: Store, first_row: int) -> int:
    """This run's deliveries still to send (pending, retrying or in flight)."""
    row = (
        store.connection()
        .execute(
            "SELECT count(*) FROM outbox WHERE id > ? AND drill = 1"
            " AND status IN ('pending', 'claimed')",
            (first_row,),
        )
        .fetchone()
    )
    return int(row[0])
