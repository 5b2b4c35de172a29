"""Fan-outs pending: the SMS of an evaluation, owed once its sirens are committed.

Sirens must not wait for a contacts file of 100,000 people to be planned and
written.  So the evaluation's transaction commits the alert states, the siren,
CAP and broadcast rows, and one `fanout` row holding what the SMS plan needs
(the notifiable transitions); the SMS rows follow in batches, each its own
transaction, and the last batch marks the fan-out done.  A crash between two
batches loses nothing: the row is still pending, the daemon resumes it at start
and at every tick, and a batch written twice inserts nothing twice (the
outbox's dedup key is unique, inserts are INSERT OR IGNORE).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from warning.model import (
    Audience,
    EndReason,
    EventFacts,
    Level,
    Transition,
    TransitionKind,
)
from warning.store.sqlite import Store, status_columns, status_from


@dataclass(frozen=True, slots=True)
class PendingFanout:
    """One evaluation's SMS fan-out not yet fully written to the outbox."""

    id: int
    transitions: tuple[Transition, ...]
    drill: bool


def record(
    tx: sqlite3.Connection, transitions: Sequence[Transition], *, drill: bool, now: datetime
) -> int | None:
    """Record the fan-out the notifiable `transitions` owe, in the caller's transaction.

    Returns the row's id, or None when no transition notifies (nothing is owed).
    """
    owed = [t for t in transitions if t.kind.notifies]
    if not owed:
        return None
    cursor = tx.execute(
        "INSERT INTO fanout (drill, transitions_json, created_at) VALUES (?, ?, ?)",
        (int(drill), json.dumps([_encode(t) for t in owed]), _iso(now)),
    )
    return cursor.lastrowid


def pending(store: Store, *, drill: bool) -> list[PendingFanout]:
    """The fan-outs not yet done, oldest first."""
    rows = (
        store.connection()
        .execute(
            "SELECT id, drill, transitions_json FROM fanout"
            " WHERE done_at IS NULL AND drill = ? ORDER BY id",
            (int(drill),),
        )
        .fetchall()
    )
    return [
        PendingFanout(
            int(row[0]), tuple(_decode(t) for t in json.loads(row[2])), drill=bool(row[1])
        )
        for row in rows
    ]


def is_pending(tx: sqlite3.Connection, fanout_id: int) -> bool:
    """True while the fan-out is not done (another writer may have finished it)."""
    row = tx.execute("SELECT done_at FROM fanout WHERE id = ?", (fanout_id,)).fetchone()
    return row is not None and row[0] is None


def finish(tx: sqlite3.Connection, fanout_id: int, now: datetime) -> None:
    """Mark the fan-out done, in the transaction that writes its last batch."""
    tx.execute("UPDATE fanout SET done_at = ? WHERE id = ?", (_iso(now), fanout_id))


def prune(tx: sqlite3.Connection, before: datetime) -> int:
    """Forget fan-outs done before `before`; return how many."""
    cursor = tx.execute(
        "DELETE FROM fanout WHERE done_at IS NOT NULL AND done_at < ?", (_iso(before),)
    )
    return cursor.rowcount


# ---------------------------------------------------------------------------
# Transitions as JSON: what the planner reads, round-tripped exactly.


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _level(value: str | None) -> Level | None:
    return None if value is None else Level(value)


def _encode(t: Transition) -> dict[str, Any]:
    """One transition as JSON-able data."""
    facts = t.facts
    return {
        "kind": t.kind.value,
        "time": _iso(t.time),
        "previous_level": t.previous_level.value if t.previous_level else None,
        "reason": t.reason,
        "audience": t.audience.value,
        "end_reason": t.end_reason.value if t.end_reason else None,
        "facts": None
        if facts is None
        else {
            "time": _iso(facts.time),
            "source": facts.source,
            "name": facts.name,
            "bulletin": facts.bulletin,
            "late": facts.late,
            "sources": list(facts.sources),
        },
        "status": status_columns(t.status),
    }


def _decode(data: Mapping[str, Any]) -> Transition:
    """A transition back from `_encode`'s data."""
    facts = data["facts"]
    return Transition(
        kind=TransitionKind(data["kind"]),
        status=status_from(data["status"]),
        time=_when(data["time"]),
        previous_level=_level(data["previous_level"]),
        reason=data["reason"],
        audience=Audience(data["audience"]),
        facts=None
        if facts is None
        else EventFacts(
            time=_when(facts["time"]),
            source=facts["source"],
            name=facts["name"],
            bulletin=facts["bulletin"],
            late=bool(facts["late"]),
            sources=tuple(facts["sources"]),
        ),
        end_reason=None if data["end_reason"] is None else EndReason(data["end_reason"]),
    )
