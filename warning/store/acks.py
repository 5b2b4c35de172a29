"""Acknowledgements, delivery receipts and escalation steps: their SQL, and their read models.

A link's facts live in the payload of the SMS that carried it (`ack`: token,
expiry, the contact's name and group), found by the token through an index;
the console records an acknowledgement and Twilio's receipts here, the
daemon's escalation job reads what it needs to judge each (change,
kelurahan) and records the steps it notified, in the transaction that
enqueues their SMS.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from warning.model import EscalationJudged, Level, PlannedDelivery
from warning.store.outbox import AreaSets
from warning.store.sqlite import Store


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class ReceiptStatus(enum.Enum):
    """What a Twilio status callback says about one SMS (the others are not recorded)."""

    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"

    @property
    def failed(self) -> bool:
        """True when the carrier says the SMS did not reach the phone."""
        return self in (ReceiptStatus.UNDELIVERED, ReceiptStatus.FAILED)


# ---------------------------------------------------------------------------
# Links and acknowledgements


@dataclass(frozen=True, slots=True)
class AckLink:
    """What an acknowledgement link's token stands for (from the SMS that carried it)."""

    token: str
    change_id: str
    recipient: str
    name: str
    group: str
    expires: datetime
    drill: bool
    rule_id: str
    level: Level | None
    acknowledged_at: datetime | None


_LINK = """
SELECT o.change_id, o.recipient, o.drill, o.rule_id, o.payload_json, c.level,
       a.acknowledged_at
FROM outbox o
LEFT JOIN alert_changes c ON c.change_id = o.change_id
LEFT JOIN acknowledgements a ON a.change_id = o.change_id AND a.recipient = o.recipient
WHERE o.ack_token = ? AND o.channel = 'sms'
ORDER BY o.id LIMIT 1
"""


def link(store: Store, token: str) -> AckLink | None:
    """The link of `token`, None when no SMS carried it."""
    row = store.connection().execute(_LINK, (token,)).fetchone()
    if row is None:
        return None
    ack = json.loads(row["payload_json"])["ack"]
    done = row["acknowledged_at"]
    return AckLink(
        token=token,
        change_id=row["change_id"],
        recipient=row["recipient"],
        name=str(ack.get("name", "")),
        group=str(ack.get("group", "")),
        expires=_time(ack["expires"]),
        drill=bool(row["drill"]),
        rule_id=row["rule_id"],
        level=Level(row["level"]) if row["level"] else None,
        acknowledged_at=None if done is None else _time(done),
    )


def acknowledge(tx: sqlite3.Connection, found: AckLink, at: datetime) -> bool:
    """Record that the link's recipient acknowledged its change; False when already recorded."""
    cursor = tx.execute(
        "INSERT OR IGNORE INTO acknowledgements"
        " (change_id, recipient, name, grp, drill, acknowledged_at) VALUES (?, ?, ?, ?, ?, ?)",
        (found.change_id, found.recipient, found.name, found.group, int(found.drill), _iso(at)),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Who confirmed an alert change, and when."""

    name: str
    group: str
    at: datetime


_AREA_ACKS = """
SELECT a.name, a.grp, a.acknowledged_at FROM acknowledgements a
WHERE a.change_id = :change AND EXISTS (
  SELECT 1 FROM outbox o INDEXED BY outbox_linked
  JOIN area_set_members oa ON oa.set_id = o.area_set
  WHERE o.change_id = a.change_id AND o.recipient = a.recipient AND o.channel = 'sms'
    AND o.ack_token IS NOT NULL AND oa.area_id = :area)
ORDER BY a.acknowledged_at, a.name
"""


def acknowledgements(
    conn: sqlite3.Connection, change_id: str, area_id: str | None = None
) -> list[Acknowledgement]:
    """Who acknowledged a change (in one kelurahan: whose SMS spoke of it), first first."""
    if area_id is None:
        rows = conn.execute(
            "SELECT name, grp, acknowledged_at FROM acknowledgements WHERE change_id = ?"
            " ORDER BY acknowledged_at, name",
            (change_id,),
        )
    else:
        rows = conn.execute(_AREA_ACKS, {"change": change_id, "area": area_id})
    return [Acknowledgement(r["name"], r["grp"], _time(r["acknowledged_at"])) for r in rows]


def acknowledgement_count(store: Store) -> int:
    """Acknowledgements recorded so far (a /metrics gauge)."""
    row = store.connection().execute("SELECT count(*) FROM acknowledgements").fetchone()
    return int(row[0])


# ---------------------------------------------------------------------------
# Receipts


def record_receipt(
    tx: sqlite3.Connection,
    provider_id: str,
    status: ReceiptStatus,
    error_code: str | None,
    at: datetime,
) -> int | None:
    """Record a receipt against the delivery with Twilio's `provider_id`; return its id."""
    row = tx.execute("SELECT id FROM outbox WHERE provider_id = ?", (provider_id,)).fetchone()
    delivery = None if row is None else int(row[0])
    tx.execute(
        "INSERT INTO delivery_receipts (provider_id, delivery_id, status, error_code,"
        " received_at) VALUES (?, ?, ?, ?, ?)",
        (provider_id, delivery, status.value, error_code, _iso(at)),
    )
    return delivery


def receipt_counts(store: Store) -> dict[ReceiptStatus, int]:
    """Receipts recorded so far by status (a /metrics gauge)."""
    rows = store.connection().execute(
        "SELECT status, count(*) FROM delivery_receipts GROUP BY status"
    )
    return {ReceiptStatus(r[0]): int(r[1]) for r in rows}


# ---------------------------------------------------------------------------
# Escalation


# The latest non-reminder change of each (rule, kelurahan) that is still firing, made
# since :since, whose SMS carried links.  A reminder repeats a change: acknowledging
# the change acknowledges its reminders, and a reminder starts no chain of its own.
_WATCHED = """
SELECT c.change_id, c.rule_id, c.level, c.drill, c.time, ca.area_id,
  (SELECT max(step) FROM escalations e
    WHERE e.change_id = c.change_id AND e.area_id = ca.area_id) AS step,
  (SELECT notified_at FROM escalations e
    WHERE e.change_id = c.change_id AND e.area_id = ca.area_id ORDER BY step DESC LIMIT 1)
    AS step_at
FROM alert_changes c JOIN alert_change_areas ca ON ca.change_id = c.change_id
WHERE c.time >= :since AND c.kind IN ('fired', 'escalated', 'deescalated', 'updated')
  AND NOT EXISTS (
    SELECT 1 FROM alert_changes n JOIN alert_change_areas na ON na.change_id = n.change_id
    WHERE n.rule_id = c.rule_id AND n.drill = c.drill AND na.area_id = ca.area_id
      AND n.seq > c.seq AND n.kind != 'reminder')
  AND EXISTS (
    SELECT 1 FROM alert_states s WHERE s.rule_id = c.rule_id AND s.area_id = ca.area_id
      AND s.drill = c.drill AND s.state = 'firing')
  AND EXISTS (
    SELECT 1 FROM outbox o INDEXED BY outbox_linked
      JOIN area_set_members oa ON oa.set_id = o.area_set
    WHERE o.change_id = c.change_id AND oa.area_id = ca.area_id AND o.channel = 'sms'
      AND o.ack_token IS NOT NULL)
ORDER BY c.seq, ca.rowid
"""

# The queries on linked SMS name `outbox_linked` (their change and recipient, linked rows
# only): an index on the change alone would walk a city's whole fan-out for a few rows.

# Each linked SMS about a change in a kelurahan: its group, and whether it failed
# (the outbox gave up, or the latest receipt says undelivered or failed).
_REACHED = """
SELECT json_extract(o.payload_json, '$.ack.group') AS grp,
  o.status = 'failed' OR coalesce((SELECT r.status IN ('undelivered', 'failed')
    FROM delivery_receipts r WHERE r.delivery_id = o.id ORDER BY r.id DESC LIMIT 1), 0)
    AS failed
FROM outbox o INDEXED BY outbox_linked
  JOIN area_set_members oa ON oa.set_id = o.area_set
WHERE o.change_id = ? AND oa.area_id = ? AND o.channel = 'sms'
  AND o.ack_token IS NOT NULL
ORDER BY o.id
"""


def watched(store: Store, since: datetime) -> list[EscalationJudged]:
    """Every (change, kelurahan) an escalation chain may still have to judge."""
    conn = store.connection()
    found = []
    for r in conn.execute(_WATCHED, {"since": _iso(since)}).fetchall():
        changed = _time(r["time"])
        reached = conn.execute(_REACHED, (r["change_id"], r["area_id"])).fetchall()
        found.append(
            EscalationJudged(
                change_id=r["change_id"],
                rule_id=r["rule_id"],
                level=Level(r["level"]),
                drill=bool(r["drill"]),
                changed_at=changed,
                area_id=r["area_id"],
                step=int(r["step"] or 0),
                step_at=changed if r["step_at"] is None else _time(r["step_at"]),
                acknowledged=bool(acknowledgements(conn, r["change_id"], r["area_id"])),
                reached=tuple((str(g[0] or ""), bool(g[1])) for g in reached),
            )
        )
    return found


def record_step(
    tx: sqlite3.Connection, watch: EscalationJudged, step: int, group: str, at: datetime
) -> bool:
    """Remember that `step` of the chain was notified for this (change, kelurahan)."""
    cursor = tx.execute(
        "INSERT OR IGNORE INTO escalations (change_id, area_id, step, grp, drill, notified_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (watch.change_id, watch.area_id, step, group, int(watch.drill), _iso(at)),
    )
    return cursor.rowcount == 1


def cover(tx: sqlite3.Connection, planned: Sequence[PlannedDelivery]) -> None:
    """Let each delivery's row (new, or the person's earlier one of this step) speak for its areas.

    A kelurahan reaching a step after another did finds the person's SMS of
    that step already queued or sent: no second SMS, but their acknowledgement,
    and the SMS's failure, count for this kelurahan too.
    """
    sets = AreaSets(tx)
    for p in planned:
        row = tx.execute("SELECT id, area_set FROM outbox WHERE dedup_key = ?", (p.dedup_key,))
        found = row.fetchone()
        if found is None:
            continue
        delivery_id, area_set = found
        held = {
            a
            for (a,) in tx.execute(
                "SELECT area_id FROM area_set_members WHERE set_id = ?", (area_set,)
            )
        }
        if not held.issuperset(p.area_ids):
            tx.execute(
                "UPDATE outbox SET area_set = ? WHERE id = ?",
                (sets.id(held | set(p.area_ids)), delivery_id),
            )


def escalation_step(conn: sqlite3.Connection, change_id: str, area_id: str) -> int:
    """The highest step notified for a (change, kelurahan): 0 when only the rule's SMS went."""
    row = conn.execute(
        "SELECT max(step) FROM escalations WHERE change_id = ? AND area_id = ?",
        (change_id, area_id),
    ).fetchone()
    return int(row[0] or 0)


def latest_change(conn: sqlite3.Connection, rule_id: str, area_id: str, drill: bool) -> str | None:
    """The id of the latest non-reminder change of a (rule, kelurahan), if any."""
    row = conn.execute(
        "SELECT c.change_id FROM alert_changes c JOIN alert_change_areas ca"
        " ON ca.change_id = c.change_id WHERE c.rule_id = ? AND ca.area_id = ? AND c.drill = ?"
        " AND c.kind != 'reminder' ORDER BY c.seq DESC LIMIT 1",
        (rule_id, area_id, int(drill)),
    ).fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True, slots=True)
class AlertAcks:
    """What is known about the confirmation of a firing (rule, kelurahan)'s latest change."""

    by: list[Acknowledgement]
    step: int
    #: True when SMS about it carried links (else nobody could confirm: links are off).
    linked: bool


def alert_acks(
    conn: sqlite3.Connection, rule_id: str, area_id: str, drill: bool = False
) -> AlertAcks:
    """Who acknowledged a firing (rule, kelurahan)'s latest change, the step, whether linked."""
    change = latest_change(conn, rule_id, area_id, drill)
    if change is None:
        return AlertAcks([], 0, linked=False)
    linked = conn.execute(_LINKED, (change, area_id)).fetchone() is not None
    return AlertAcks(
        acknowledgements(conn, change, area_id), escalation_step(conn, change, area_id), linked
    )


_LINKED = """
SELECT 1 FROM outbox o INDEXED BY outbox_linked
  JOIN area_set_members oa ON oa.set_id = o.area_set
WHERE o.change_id = ? AND oa.area_id = ? AND o.channel = 'sms'
  AND o.ack_token IS NOT NULL
LIMIT 1
"""


def names(acks: Sequence[Acknowledgement]) -> list[str]:
    """The contact names of acknowledgements, once each, in order."""
    return list(dict.fromkeys(a.name for a in acks))
