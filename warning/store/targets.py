"""Read models for `warning alert cancel`: changes, their areas, and what reached whom.

Rows come back as `sqlite3.Row` (columns by name); operations/ decides what
they mean.
"""

from __future__ import annotations

import sqlite3

from warning.store.sqlite import Store

#: Change kinds that end an alert: what they sent is no announcement to correct.
ENDED_KINDS = ("resolved", "timed_out", "cancelled")


def change_row(store: Store, change_id: str) -> sqlite3.Row | None:
    """The recorded change `change_id` (alert_changes), or None."""
    row: sqlite3.Row | None = (
        store.connection()
        .execute("SELECT * FROM alert_changes WHERE change_id = ?", (change_id,))
        .fetchone()
    )
    return row


def change_areas(store: Store, change_id: str) -> tuple[str, ...]:
    """The areas of a recorded change, sorted."""
    rows = store.connection().execute(
        "SELECT area_id FROM alert_change_areas WHERE change_id = ? ORDER BY area_id", (change_id,)
    )
    return tuple(r[0] for r in rows)


def is_cancelled(store: Store, rule_id: str) -> bool:
    """Whether a change of `rule_id` (a manual alert) was already cancelled."""
    row = (
        store.connection()
        .execute("SELECT 1 FROM alert_changes WHERE rule_id = ? AND kind = 'cancelled'", (rule_id,))
        .fetchone()
    )
    return row is not None


def delivered(tx: sqlite3.Connection, rule_id: str, drill: bool, channel: str) -> list[sqlite3.Row]:
    """Rows of `rule_id` sent or maybe received on `channel`, one per area, oldest first.

    Maybe received: in flight (claimed), or waiting to be tried again (a
    timed-out request may have reached the provider or the siren before its
    answer was lost).  A refused row (failed) was not received.

    Changes that ended an alert (`ENDED_KINDS`) are left out.
    """
    return list(
        tx.execute(
            "SELECT o.recipient, o.payload_json, o.priority, oa.area_id, c.time FROM outbox o"
            " JOIN area_set_members oa ON oa.set_id = o.area_set"
            " JOIN alert_changes c ON c.change_id = o.change_id"
            " WHERE o.rule_id = ? AND o.drill = ? AND o.channel = ?"
            " AND (o.status IN ('sent', 'claimed') OR o.sent_at IS NOT NULL"
            " OR (o.attempts > 0 AND o.status IN ('pending', 'superseded')))"
            " AND c.kind NOT IN (?, ?, ?) ORDER BY o.id",
            (rule_id, int(drill), channel, *ENDED_KINDS),
        )
    )


def cap_payloads(tx: sqlite3.Connection, rule_id: str, drill: bool) -> list[sqlite3.Row]:
    """CAP rows of `rule_id` not superseded, newest first, with their change's time."""
    return list(
        tx.execute(
            "SELECT o.payload_json, c.time FROM outbox o JOIN alert_changes c"
            " ON c.change_id = o.change_id WHERE o.rule_id = ? AND o.drill = ?"
            " AND o.channel = 'cap' AND o.status != 'superseded' AND c.kind NOT IN (?, ?, ?)"
            " ORDER BY o.id DESC",
            (rule_id, int(drill), *ENDED_KINDS),
        )
    )


def superseded_count(tx: sqlite3.Connection, rule_id: str, drill: bool, finished_at: str) -> int:
    """Rows of `rule_id` a correction committed at `finished_at` superseded."""
    row = tx.execute(
        "SELECT count(*) FROM outbox WHERE status = 'superseded' AND rule_id = ?"
        " AND drill = ? AND finished_at = ?",
        (rule_id, int(drill), finished_at),
    ).fetchone()
    return int(row[0])
