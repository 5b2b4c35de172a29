"""The durable outbox: deliveries enqueued with the alert, claimed atomically, never lost.

`enqueue` runs inside the caller's `Store.transaction()` that records the
transitions, so a warning exists exactly when its deliveries do.  Workers
`claim` due rows in priority order under a lease; a row whose worker died is
claimed again once the lease has run out, so a crash can only repeat the rows
that were in flight, never lose one.  Rows end `sent`, `failed` or
`superseded` (a newer change of the same rule and areas made them stale).
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from warning.model import (
    FIRST_OUT_KINDS,
    AlertChange,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    PlannedDelivery,
    SirenCommand,
)
from warning.store.sqlite import Store

_OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value)
_ALL_CLEAR = SirenCommand.ALL_CLEAR.value


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row as `warning outbox` shows it."""

    id: int
    status: DeliveryStatus
    channel: ChannelKind
    recipient: str
    change_id: str
    rule_id: str
    priority: int
    attempts: int
    drill: bool
    created_at: str
    due_at: float
    sent_at: str | None
    provider_id: str | None
    last_error: str | None
    last_code: str | None
    payload: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        """JSON-able form, enums as their values."""
        return {
            **{name: getattr(self, name) for name in self.__slots__},
            "status": self.status.value,
            "channel": self.channel.value,
            "due_at": datetime.fromtimestamp(self.due_at, UTC).isoformat(),
            "payload": dict(self.payload),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# ---------------------------------------------------------------------------
# Enqueue and supersede


def enqueue(tx: sqlite3.Connection, planned: Sequence[PlannedDelivery]) -> int:
    """Insert planned deliveries in the caller's transaction; return how many were new.

    A dedup key already present is ignored, so replaying an evaluation cannot
    enqueue twice.  Each new change then supersedes the unsent SMS and siren
    rows of older changes of the same rule whose areas it (with other newer
    changes) entirely covers: no stale "siaga" after an "aman".
    """
    seqs = {c.id: _record_change(tx, c) for c in _changes(planned)}
    new = _insert_all(tx, planned, seqs)
    _raise_fences(tx, [p for p in planned if _is_all_clear(p)], seqs)
    for change in _changes(planned):
        _supersede(tx, change, seqs[change.id])
    return new


def record_change(tx: sqlite3.Connection, change: AlertChange) -> int:
    """Record a change that has no deliveries (yet it ends older ones); return rows superseded."""
    return _supersede(tx, change, _record_change(tx, change))


def _changes(planned: Iterable[PlannedDelivery]) -> list[AlertChange]:
    """Distinct changes of the planned deliveries, in order."""
    return list({p.change.id: p.change for p in planned}.values())


def _record_change(tx: sqlite3.Connection, change: AlertChange) -> int:
    """Remember a change and its areas; return its sequence number (kept on replay)."""
    tx.execute(
        "INSERT OR IGNORE INTO alert_changes (change_id, rule_id, drill, kind, level, time,"
        " origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            change.id,
            change.scope,
            int(change.drill),
            change.kind.value,
            change.level.value if change.level else None,
            _iso(change.time),
            change.origin.value,
        ),
    )
    tx.executemany(
        "INSERT OR IGNORE INTO alert_change_areas (change_id, area_id) VALUES (?, ?)",
        [(change.id, a) for a in change.area_ids],
    )
    row = tx.execute("SELECT seq FROM alert_changes WHERE change_id = ?", (change.id,)).fetchone()
    return int(row[0])


def _insert_all(
    tx: sqlite3.Connection, planned: Sequence[PlannedDelivery], seqs: Mapping[str, int]
) -> int:
    """Insert the rows whose dedup key is new, set-based; return how many were inserted.

    One `executemany`: a city-wide fan-out of 100,000 SMS costs a few
    statements, not 100,000 round trips.  Each row names its set of areas
    (`area_set`); of repeated keys the first row is kept (INSERT OR IGNORE),
    and its areas with it.
    """
    if not planned:
        return 0
    # Every row of a change shares its columns but the recipient's: formatted once per change.
    shared = {
        c.id: (c.id, seqs[c.id], c.scope, int(c.drill), _iso(c.time), c.time.timestamp())
        for c in _changes(planned)
    }
    keys = [p.dedup_key for p in planned]
    sets = AreaSets(tx)
    # Looked up (and stored) before counting: the count is of outbox rows only.
    area_sets = [sets.id(p.area_ids) for p in planned]
    encoded: dict[str, str] = {}
    before = tx.total_changes
    tx.executemany(
        "INSERT OR IGNORE INTO outbox (dedup_key, change_id, change_seq, rule_id, drill,"
        " created_at, due_at, channel, recipient, payload_json, priority, ack_token, area_set,"
        " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        [
            (
                key,
                *shared[p.change.id],
                p.channel.value,
                p.recipient,
                _payload(p, encoded),
                p.priority,
                _ack_token(p),
                area_set,
            )
            for key, p, area_set in zip(keys, planned, area_sets, strict=True)
        ],
    )
    return tx.total_changes - before


class AreaSets:
    """The ids of sets of areas (`area_sets`) in one transaction, each looked up once.

    A delivery names the set of kelurahan it is about; a city's fan-out names a
    few sets, whatever the number of its rows.  No areas: no set (None).
    """

    def __init__(self, tx: sqlite3.Connection) -> None:
        self._tx = tx
        self._ids: dict[frozenset[str], int | None] = {}

    def id(self, area_ids: Iterable[str]) -> int | None:
        """The id of the set of `area_ids`, stored with its members the first time."""
        areas = frozenset(area_ids)
        if areas not in self._ids:
            self._ids[areas] = _area_set(self._tx, areas) if areas else None
        return self._ids[areas]


def _area_set(tx: sqlite3.Connection, areas: frozenset[str]) -> int:
    """The id of this set of areas (sorted JSON, as migration 11 wrote the old ones)."""
    key = json.dumps(sorted(areas), separators=(",", ":"), ensure_ascii=False)
    cursor = tx.execute("INSERT OR IGNORE INTO area_sets (areas) VALUES (?)", (key,))
    if cursor.rowcount == 1:
        tx.executemany(
            "INSERT INTO area_set_members (set_id, area_id) VALUES (?, ?)",
            [(cursor.lastrowid, a) for a in sorted(areas)],
        )
        return int(cursor.lastrowid or 0)
    row = tx.execute("SELECT id FROM area_sets WHERE areas = ?", (key,)).fetchone()
    return int(row[0])


@dataclass(frozen=True, slots=True)
class SetTemplate:
    """One SMS worded for a contact set: `delivery` names `placeholder` where a phone goes."""

    delivery: PlannedDelivery
    set_id: int
    placeholder: str


# One template's rows: every member of its set in an id range, opted-out numbers left out.
# The dedup key and the payload are the template's with the member's phone in place of the
# placeholder (`_halves`); rows whose key is taken are ignored, as in `_insert_all`.
_EXPAND = """
INSERT OR IGNORE INTO outbox (dedup_key, change_id, change_seq, rule_id, drill, created_at,
  due_at, channel, recipient, payload_json, priority, area_set, status)
SELECT :key_head || c.phone || :key_tail, :change, :seq, :rule, :drill, :created, :due,
  :channel, c.phone, :payload_head || c.phone || :payload_tail, :priority, :areas, 'pending'
FROM contacts c
WHERE c.set_id = :set AND c.id BETWEEN :low AND :high
  AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = c.phone)
"""


def enqueue_expanded(
    tx: sqlite3.Connection, templates: Sequence[SetTemplate], low: int, high: int
) -> int:
    """Insert each template for the contacts with ids in [low, high]; return rows inserted.

    Set-based (`INSERT ... SELECT` from the contacts table): the SMS of a city are
    written without a Python object per row.  A dedup key already present is
    ignored, as in `enqueue`.  The changes must have been recorded before
    (`record_change`, with the states): that is when they superseded older rows,
    and `still_current` keeps an older change's later rows from being written.
    """
    planned = [t.delivery for t in templates]
    seqs = {c.id: _record_change(tx, c) for c in _changes(planned)}
    sets = AreaSets(tx)
    encoded: dict[str, str] = {}
    inserted = 0
    for template in templates:
        p = template.delivery
        if _ack_token(p) is not None:
            # A link is signed per person: such SMS are planned person by person (`enqueue`).
            raise ValueError(f"a set template cannot carry an acknowledgement link: {p.dedup_key}")
        c = p.change
        key_head, key_tail = _halves(p.dedup_key, template.placeholder)
        payload_head, payload_tail = _halves(_payload(p, encoded), template.placeholder)
        cursor = tx.execute(
            _EXPAND,
            {
                "key_head": key_head,
                "key_tail": key_tail,
                "change": c.id,
                "seq": seqs[c.id],
                "rule": c.scope,
                "drill": int(c.drill),
                "created": _iso(c.time),
                "due": c.time.timestamp(),
                "channel": p.channel.value,
                "payload_head": payload_head,
                "payload_tail": payload_tail,
                "priority": p.priority,
                "areas": sets.id(p.area_ids),
                "set": template.set_id,
                "low": low,
                "high": high,
            },
        )
        inserted += max(cursor.rowcount, 0)
    return inserted


def _halves(text: str, placeholder: str) -> tuple[str, str]:
    """`text` before and after its one `placeholder` (a template names the phone once)."""
    head, found, tail = text.partition(placeholder)
    if not found or placeholder in tail:
        raise ValueError(f"a set template must name its placeholder once: {text[:80]!r}")
    return head, tail


#: One encoder for every payload (json.dumps with options builds a new one per call).
_PAYLOAD = json.JSONEncoder(sort_keys=True, default=str)


def _payload(p: PlannedDelivery, encoded: dict[str, str]) -> str:
    """The payload as `_PAYLOAD` writes it; text-only payloads (SMS) built from memoised parts.

    A fan-out's 100,000 SMS share a few bodies: each string is JSON-escaped once
    (`encoded`), and the object is joined as json.dumps(sort_keys=True) would write it.
    """
    payload = p.payload
    if not all(type(v) is str for v in payload.values()):
        return _PAYLOAD.encode(dict(payload))
    parts = []
    for name in sorted(payload):
        value = payload[name]
        text = encoded.get(value)
        if text is None:
            text = encoded[value] = encode_basestring_ascii(value)
        parts.append(f"{encode_basestring_ascii(name)}: {text}")
    return "{" + ", ".join(parts) + "}"


def _ack_token(p: PlannedDelivery) -> str | None:
    """The acknowledgement token an SMS carries (its own indexed column), else None."""
    link = p.payload.get("ack") if p.channel is ChannelKind.SMS else None
    token = link.get("token") if isinstance(link, Mapping) else None
    return token if isinstance(token, str) else None


def _is_all_clear(p: PlannedDelivery) -> bool:
    """A siren all-clear (a cancel, a stop, an ending): the command that must come last."""
    return p.channel is ChannelKind.SIREN and p.payload.get("command") == _ALL_CLEAR


def _raise_fences(
    tx: sqlite3.Connection, all_clears: Sequence[PlannedDelivery], seqs: Mapping[str, int]
) -> None:
    """Move each siren's fence up to its newest committed all-clear (never down)."""
    tx.executemany(
        "INSERT INTO siren_fences (siren, drill, seq) VALUES (?, ?, ?)"
        " ON CONFLICT (siren, drill) DO UPDATE SET seq = max(seq, excluded.seq)",
        [(p.recipient, int(p.drill), seqs[p.change.id]) for p in all_clears],
    )


# Unsent (pending or claimed) SMS/siren rows of older changes of a rule, every area of
# which some newer change of that rule also covers.  CAP rows stay: documents are a
# record, in order.  A claimed row keeps `claimed_by` and its lease: it may be in
# flight, and `begin_send` makes a newer command to the same recipient wait for it.
_SUPERSEDE = """
UPDATE outbox SET status = 'superseded', finished_at = :now
WHERE status IN ('pending', 'claimed') AND rule_id = :rule AND drill = :drill AND change_seq < :seq
  AND channel != 'cap'
  AND NOT EXISTS (
    SELECT 1 FROM area_set_members oa WHERE oa.set_id = outbox.area_set AND NOT EXISTS (
      SELECT 1 FROM alert_change_areas ca JOIN alert_changes c ON c.change_id = ca.change_id
      WHERE c.rule_id = outbox.rule_id AND c.drill = outbox.drill
        AND c.seq > outbox.change_seq AND ca.area_id = oa.area_id))
"""


# The kelurahan that changes of a rule newer than `change` cover: the areas whose unsent
# rows `_SUPERSEDE` would mark superseded.
_NEWER_AREAS = """
SELECT DISTINCT ca.area_id FROM alert_changes c
  JOIN alert_change_areas ca ON ca.change_id = c.change_id
WHERE c.rule_id = :rule AND c.drill = :drill
  AND c.seq > (SELECT seq FROM alert_changes WHERE change_id = :change)
"""


def still_current(
    tx: sqlite3.Connection, planned: Sequence[PlannedDelivery]
) -> list[PlannedDelivery]:
    """The planned SMS and siren rows no newer change has made stale; CAP rows always.

    A fan-out written after its change was recorded must not write what a cancel
    (or any newer change of the rule) committed meanwhile would have superseded:
    the same rule as `_SUPERSEDE`, applied before the insert instead of after.
    """
    covered = {
        c.id: {
            row[0]
            for row in tx.execute(
                _NEWER_AREAS, {"rule": c.scope, "drill": int(c.drill), "change": c.id}
            )
        }
        for c in _changes(planned)
    }
    return [
        p
        for p in planned
        if p.channel is ChannelKind.CAP
        or not p.area_ids
        or not covered[p.change.id].issuperset(p.area_ids)
    ]


def _supersede(tx: sqlite3.Connection, change: AlertChange, seq: int) -> int:
    """Mark stale unsent rows of older changes superseded; return how many."""
    cursor = tx.execute(
        _SUPERSEDE,
        {
            "now": _iso(change.time),
            "rule": change.scope,
            "drill": int(change.drill),
            "seq": seq,
        },
    )
    return cursor.rowcount


def supersede_recipients(tx: sqlite3.Connection, sirens: Sequence[str], at: datetime) -> int:
    """Supersede every unsent or claimed trigger of these sirens (an operator stopped them)."""
    cursor = tx.execute(
        # By the sirens' own index: the open rows (`outbox_claim`) may be a city's SMS.
        "UPDATE outbox INDEXED BY outbox_siren SET status = 'superseded', finished_at = ?"
        " WHERE status IN ('pending', 'claimed') AND channel = 'siren'"
        " AND recipient IN (SELECT value FROM json_each(?))",
        (_iso(at), json.dumps(list(sirens))),
    )
    return cursor.rowcount


# ---------------------------------------------------------------------------
# Claim and record


# The rows a claim takes: due pending rows and claimed rows whose lease ran out, each
# kind walked in (priority, id) order on `outbox_claim` and stopped at `limit`.  One
# query with OR read every pending row and sorted them: with a city's fan-out in the
# outbox (750,000 rows) each claim held the write lock for seconds, sirens waiting.
_DUE = "status = 'pending' AND priority < :below AND due_at <= :now"
_LEASE_ENDED = "status = 'claimed' AND priority < :below AND lease_until < :now"
# The claim's bounds on both: kinds, drills only, an operator command's changes.
_SCOPE = """
    AND channel IN (SELECT value FROM json_each(:kinds)) AND drill >= :drill
    AND (:only IS NULL OR change_id IN (SELECT value FROM json_each(:only)))"""

_CLAIM = f"""
UPDATE outbox SET status = 'claimed', claimed_by = :worker, lease_until = :lease,
  attempts = attempts + 1
WHERE id IN (SELECT id FROM (
  SELECT id, priority FROM (SELECT id, priority FROM outbox INDEXED BY outbox_claim
    WHERE {_DUE}{_SCOPE}
    ORDER BY priority, id LIMIT :limit)
  UNION ALL
  SELECT id, priority FROM (SELECT id, priority FROM outbox INDEXED BY outbox_claim
    WHERE {_LEASE_ENDED}{_SCOPE}
    ORDER BY priority, id LIMIT :limit)
) ORDER BY priority, id LIMIT :limit)
RETURNING *
"""  # noqa: S608 - fixed clauses

# Whether `_CLAIM` would take a row, read without the write lock (`claimable`).
_CLAIMABLE = f"""
SELECT EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_claim WHERE {_DUE}{_SCOPE})
  OR EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_claim WHERE {_LEASE_ENDED}{_SCOPE})
"""  # noqa: S608 - fixed clauses

#: Above every priority a row can have (`claim` without `priority_below`).
_NO_BOUND = 2**31


def _bounds(
    now: float,
    channels: Collection[ChannelKind],
    changes: Collection[str] | None,
    drill_only: bool,
    priority_below: int | None,
) -> dict[str, object]:
    """The parameters of `_SCOPE`, `_DUE` and `_LEASE_ENDED`."""
    return {
        "now": now,
        "kinds": json.dumps([c.value for c in channels]),
        "drill": int(drill_only),
        "only": None if changes is None else json.dumps(sorted(changes)),
        "below": _NO_BOUND if priority_below is None else priority_below,
    }


def claim(
    store: Store,
    worker: str,
    *,
    now: float,
    lease_s: float,
    limit: int,
    channels: Collection[ChannelKind],
    changes: Collection[str] | None = None,
    drill_only: bool = False,
    priority_below: int | None = None,
) -> list[Delivery]:
    """Atomically take up to `limit` due rows (or rows whose lease ran out), priority first.

    `changes` limits the claim to the rows of those change ids (an operator's
    command sending its own rows beside, or instead of, the daemon);
    `drill_only` to drill rows (`warning drill` never sends live deliveries);
    `priority_below` to rows of a lower priority number (the sirens' own claim:
    its walk of the index ends before a city's SMS rows).
    """
    if not channels or limit <= 0:
        return []
    bounds = _bounds(now, channels, changes, drill_only, priority_below)
    with store.transaction() as tx:
        rows = tx.execute(
            _CLAIM, {"worker": worker, "lease": now + lease_s, "limit": limit, **bounds}
        ).fetchall()
    return sorted((_delivery(r) for r in rows), key=lambda d: (d.priority, d.id))


def claimable(
    store: Store,
    *,
    now: float,
    channels: Collection[ChannelKind],
    priority_below: int,
    changes: Collection[str] | None = None,
    drill_only: bool = False,
) -> bool:
    """Whether `claim` with these bounds would find a row: a read, no write lock taken.

    The sirens' own claim looks here first: a claim waits for the write lock,
    which a city's fan-out holds batch after batch, and finds nothing most times.
    """
    if not channels:
        return False
    bounds = _bounds(now, channels, changes, drill_only, priority_below)
    return bool(store.connection().execute(_CLAIMABLE, bounds).fetchone()[0])


def _delivery(row: sqlite3.Row) -> Delivery:
    """A claimed row as the channel sees it."""
    return Delivery(
        id=row["id"],
        channel=ChannelKind(row["channel"]),
        recipient=row["recipient"],
        change_id=row["change_id"],
        payload=json.loads(row["payload_json"]),
        priority=row["priority"],
        attempts=row["attempts"] - 1,
        drill=bool(row["drill"]),
        dedup_key=row["dedup_key"],
        enqueued_at=datetime.fromisoformat(row["created_at"]),
    )


def mark_sent(store: Store, delivery_id: int, worker: str, provider_id: str | None) -> bool:
    """Record a delivery sent with the provider's id and time; False if it is no longer ours.

    A row superseded while it was in flight keeps its status (the cancel that
    superseded it counted it as received) and gains its provider id and time.
    """
    return _finish(
        store, delivery_id, worker, DeliveryStatus.SENT, provider_id=provider_id, sent=True
    )


def mark_failed(
    store: Store, delivery_id: int, worker: str, error: str, code: str | None = None
) -> bool:
    """Record a permanent failure with its reason (a superseded row stays superseded)."""
    return _finish(store, delivery_id, worker, DeliveryStatus.FAILED, error=error, code=code)


def retry_later(
    store: Store, delivery_id: int, worker: str, *, due_at: float, error: str, code: str | None
) -> str | None:
    """Put a claimed row back as pending until `due_at`; return its previous error.

    Only a row still `claimed` goes back: a row superseded while in flight (a
    cancel, a siren stop, a newer change) is never made pending again.
    """
    with store.transaction() as tx:
        row = tx.execute("SELECT last_error FROM outbox WHERE id = ?", (delivery_id,)).fetchone()
        tx.execute(
            "UPDATE outbox SET status = CASE status WHEN 'claimed' THEN 'pending' ELSE status END,"
            " due_at = ?, last_error = ?, last_code = ?, claimed_by = NULL, lease_until = NULL"
            " WHERE id = ? AND claimed_by = ?",
            (due_at, error, code, delivery_id, worker),
        )
    return None if row is None else row[0]


def _finish(
    store: Store,
    delivery_id: int,
    worker: str,
    done: DeliveryStatus,
    *,
    provider_id: str | None = None,
    sent: bool = False,
    error: str | None = None,
    code: str | None = None,
) -> bool:
    """End this worker's claim on a row; a still claimed row becomes `done` (True)."""
    now = _now_iso()
    with store.transaction() as tx:
        found = tx.execute(
            "UPDATE outbox SET status = CASE status WHEN 'claimed' THEN ? ELSE status END,"
            " provider_id = coalesce(?, provider_id), sent_at = CASE WHEN ? THEN ? ELSE sent_at"
            " END, last_error = coalesce(?, last_error), last_code = CASE WHEN ? IS NULL THEN"
            " last_code ELSE ? END, finished_at = coalesce(finished_at, ?), claimed_by = NULL,"
            " lease_until = NULL WHERE id = ? AND claimed_by = ? RETURNING status",
            (done.value, provider_id, sent, now, error, error, code, now, delivery_id, worker),
        ).fetchone()
    return found is not None and found[0] == done.value


class Gate(enum.Enum):
    """What a worker may do with a claimed row right before sending it."""

    SEND = "send"
    #: No longer ours: superseded (a cancel or stop committed), lease lost, or a newer
    #: command already reached the same siren.  The row is not sent.
    STOP = "stop"
    #: An older row to the same recipient is still in flight: send this one after it.
    WAIT = "wait"


def begin_send(store: Store, delivery_id: int, worker: str, *, now: float) -> Gate:
    """Look again, atomically, right before a send: may this worker send this row now?

    Sirens obey their last command, so an older siren command never follows a
    newer one that was sent (STOP, the row is superseded), and a newer command
    (an all-clear) waits while an older one to the same siren or phone is still
    in flight (WAIT): whatever was in flight at a cancel, the correction is last.
    A siren command older than an all-clear committed to its siren is never sent
    (the stored fence, `_behind_fence`), whoever claims it after a lease or a restart.

    Not durable (no wait for the disk): a send writes nothing here, and what a
    stop writes (a claim let go, a stale siren command marked superseded) is
    redone after its lease if a power cut loses it.  A cancel of a claimed batch
    stops every row of it here: at one disk flush each, the sirens claimed next
    waited for them.
    """
    with store.transaction(durable=False) as tx:
        row = tx.execute(
            "SELECT status, claimed_by, channel, recipient, change_seq FROM outbox WHERE id = ?",
            (delivery_id,),
        ).fetchone()
        if row is None or row["claimed_by"] != worker or row["status"] != "claimed":
            # Superseded while claimed: let go of it, so newer commands need not wait for it.
            tx.execute(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL"
                " WHERE id = ? AND claimed_by = ?",
                (delivery_id, worker),
            )
            return Gate.STOP
        if row["channel"] == ChannelKind.CAP.value:
            return Gate.SEND
        order = (
            row["channel"],
            row["recipient"],
            row["change_seq"],
            row["change_seq"],
            delivery_id,
        )
        if row["channel"] == ChannelKind.SIREN.value and (
            tx.execute(
                # channel = 'siren' spelt out: the partial index `outbox_siren` needs the literal.
                "SELECT 1 FROM outbox WHERE channel = 'siren' AND recipient = ?"
                " AND sent_at IS NOT NULL AND (change_seq > ? OR (change_seq = ? AND id > ?))"
                " LIMIT 1",
                order[1:],
            ).fetchone()
            or _behind_fence(tx, delivery_id)
        ):
            tx.execute(
                "UPDATE outbox SET status = 'superseded', finished_at = ?, claimed_by = NULL,"
                " lease_until = NULL WHERE id = ?",
                (_now_iso(), delivery_id),
            )
            return Gate.STOP
        older = tx.execute(
            "SELECT 1 FROM outbox WHERE channel = ? AND recipient = ? AND claimed_by IS NOT NULL"
            " AND (change_seq < ? OR (change_seq = ? AND id < ?)) AND lease_until >= ? LIMIT 1",
            (*order, now),
        ).fetchone()
    return Gate.WAIT if older else Gate.SEND


def still_claimed(store: Store, delivery_id: int, worker: str) -> bool:
    """Whether `worker` still holds this row's claim (a read: no write lock taken).

    Only a hint: `begin_send` is the atomic look before a send.
    """
    row = (
        store.connection()
        .execute(
            "SELECT 1 FROM outbox WHERE id = ? AND claimed_by = ? AND status = 'claimed'",
            (delivery_id, worker),
        )
        .fetchone()
    )
    return row is not None


def _behind_fence(tx: sqlite3.Connection, delivery_id: int) -> bool:
    """Whether an all-clear newer than this siren command was committed to its siren.

    The stored fence holds across lease expiry, other workers and restarts: a
    command older than the siren's last all-clear is never sent, even when
    neither the cancel nor the stop superseded it (another rule's, or one that
    also covered kelurahan the cancel left warned).  A live all-clear fences
    drill commands too; a drill's fences only drill commands.
    """
    found = tx.execute(
        "SELECT 1 FROM outbox o JOIN siren_fences f ON f.siren = o.recipient"
        " AND (f.drill = 0 OR f.drill = o.drill)"
        " WHERE o.id = ? AND f.seq > o.change_seq"
        " AND coalesce(json_extract(o.payload_json, '$.command'), '') != ? LIMIT 1",
        (delivery_id, _ALL_CLEAR),
    ).fetchone()
    return found is not None


def release(store: Store, delivery_ids: Collection[int], worker: str, *, due_at: float) -> int:
    """Give claimed rows back unsent, due at `due_at`, the attempt not counted; return how many.

    A stop (SIGTERM) releases the rest of its batch this way, and a WAIT gate
    its row: nothing is lost and nothing is counted as tried.
    """
    ids = json.dumps(sorted(delivery_ids))
    with store.transaction() as tx:
        released = tx.execute(
            "UPDATE outbox SET status = 'pending', due_at = ?, attempts = max(attempts - 1, 0),"
            " claimed_by = NULL, lease_until = NULL WHERE status = 'claimed' AND claimed_by = ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (due_at, worker, ids),
        ).rowcount
        tx.execute(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (worker, ids),
        )
    return int(released)


def release_workers(store: Store, dead: Callable[[str], bool], *, now: float) -> int:
    """Release at once every claim held by a worker `dead` says no longer exists.

    After a crash the rows in flight need not wait for their lease to run out.
    """
    with store.transaction() as tx:
        workers = [
            r[0]
            for r in tx.execute(
                "SELECT DISTINCT claimed_by FROM outbox WHERE claimed_by IS NOT NULL"
            )
            if dead(r[0])
        ]
        found = json.dumps(workers)
        released = tx.execute(
            "UPDATE outbox SET status = 'pending', due_at = min(due_at, ?), claimed_by = NULL,"
            " lease_until = NULL WHERE status = 'claimed' AND claimed_by IN"
            " (SELECT value FROM json_each(?))",
            (now, found),
        ).rowcount
        tx.execute(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by IN"
            " (SELECT value FROM json_each(?))",
            (found,),
        )
    return int(released)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------------------
# Operators' view


def rows(store: Store, status: DeliveryStatus | None = None, limit: int = 1000) -> list[OutboxRow]:
    """Outbox rows, newest first, optionally of one status."""
    where, params = ("WHERE status = ?", [status.value]) if status else ("", [])
    found = store.connection().execute(
        f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?",  # noqa: S608 - fixed clauses
        (*params, limit),
    )
    return [_row(r) for r in found]


def row_by_key(store: Store, key: str) -> OutboxRow | None:
    """The row with this dedup key, if any."""
    found = store.connection().execute("SELECT * FROM outbox WHERE dedup_key = ?", (key,))
    return next((_row(r) for r in found), None)


def _row(r: sqlite3.Row) -> OutboxRow:
    """A stored row for operators."""
    return OutboxRow(
        id=r["id"],
        status=DeliveryStatus(r["status"]),
        channel=ChannelKind(r["channel"]),
        recipient=r["recipient"],
        change_id=r["change_id"],
        rule_id=r["rule_id"],
        priority=r["priority"],
        attempts=r["attempts"],
        drill=bool(r["drill"]),
        created_at=r["created_at"],
        due_at=r["due_at"],
        sent_at=r["sent_at"],
        provider_id=r["provider_id"],
        last_error=r["last_error"],
        last_code=r["last_code"],
        payload=json.loads(r["payload_json"]),
    )


def retry(store: Store, delivery_id: int, now: float) -> OutboxRow | None:
    """Make a failed or superseded row pending again, due now; None when there is no such row."""
    with store.transaction() as tx:
        cursor = tx.execute(
            "UPDATE outbox SET status = 'pending', due_at = ?, attempts = 0, finished_at = NULL"
            " WHERE id = ? AND status IN ('failed', 'superseded')",
            (now, delivery_id),
        )
    if cursor.rowcount != 1:
        return None
    return next((r for r in rows(store) if r.id == delivery_id), None)


def retry_failed(store: Store, now: float) -> list[int]:
    """Make every failed row pending again, due now (after an outage); their ids."""
    with store.transaction() as tx:
        found = tx.execute(
            "UPDATE outbox SET status = 'pending', due_at = ?, attempts = 0, finished_at = NULL"
            " WHERE status = 'failed' RETURNING id",
            (now,),
        ).fetchall()
    return sorted(int(r[0]) for r in found)


def oldest_retrying(store: Store, channel: ChannelKind) -> str | None:
    """When the oldest live row of `channel` still waiting after a failed attempt was made."""
    row = (
        store.connection()
        .execute(
            "SELECT min(created_at) FROM outbox WHERE channel = ? AND drill = 0 AND attempts > 0"
            " AND status IN ('pending', 'claimed')",
            (channel.value,),
        )
        .fetchone()
    )
    return None if row[0] is None else str(row[0])


def open_count(store: Store) -> int:
    """Rows still to send (pending, including retries, or claimed)."""
    marks = ",".join("?" * len(_OPEN))
    row = (
        store.connection()
        .execute(f"SELECT count(*) FROM outbox WHERE status IN ({marks})", _OPEN)  # noqa: S608
        .fetchone()
    )
    return int(row[0])


#: The channels whose rows leave before the SMS fan-out is written: sirens and broadcasts.
_FIRST_KINDS = sorted(k.value for k in FIRST_OUT_KINDS)


def unsent_first(store: Store, change_ids: Collection[str], now: float) -> int:
    """Siren and broadcast rows of these changes due by `now` and not yet sent or given up.

    The fan-out waits for these before its first batch (see `Pipeline._evaluate`): a
    read in WAL mode, it never takes the write lock the dispatcher needs.
    """
    if not change_ids:
        return 0
    row = (
        store.connection()
        .execute(
            "SELECT count(*) FROM outbox INDEXED BY outbox_change"
            " WHERE change_id IN (SELECT value FROM json_each(?))"
            " AND status IN ('pending', 'claimed') AND due_at <= ?"
            " AND channel IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(change_ids)), now, json.dumps(_FIRST_KINDS)),
        )
        .fetchone()
    )
    return int(row[0])


def status_counts(store: Store) -> dict[DeliveryStatus, int]:
    """How many rows each status has."""
    found = store.connection().execute("SELECT status, count(*) FROM outbox GROUP BY status")
    return {DeliveryStatus(status): int(n) for status, n in found}


def prune_delivered(tx: sqlite3.Connection, before: datetime) -> int:
    """Delete sent and superseded rows finished before `before` (retention); never failed ones.

    Failed rows stay until an operator has seen them; alerts and the audit log
    live in other tables and are never pruned.  Sets of areas stay too: there
    are as many as the combinations of kelurahan the contacts and rules make.
    """
    return tx.execute(
        "DELETE FROM outbox WHERE status IN ('sent', 'superseded') AND finished_at < ?",
        (_iso(before),),
    ).rowcount


def next_due(store: Store) -> float | None:
    """When the next pending row becomes due, or a claimed row's lease runs out."""
    row = (
        store.connection()
        .execute(
            "SELECT min(CASE status WHEN 'pending' THEN due_at ELSE lease_until END)"
            " FROM outbox WHERE status IN ('pending', 'claimed')"
        )
        .fetchone()
    )
    return None if row[0] is None else float(row[0])


# ---------------------------------------------------------------------------
# Opt-outs


def opt_out(tx: sqlite3.Connection, phone: str, code: str, at: datetime) -> None:
    """Keep a number that unsubscribed (Twilio 21610): later plans and sends skip it."""
    tx.execute(
        "INSERT OR IGNORE INTO opt_outs (phone, time, code) VALUES (?, ?, ?)",
        (phone, _iso(at), code),
    )


def opted_out(store: Store) -> frozenset[str]:
    """Every number on the opt-out list."""
    return frozenset(r[0] for r in store.connection().execute("SELECT phone FROM opt_outs"))


def change_counts(
    store: Store, change_ids: Collection[str], channels: Collection[ChannelKind] | None = None
) -> Counter[str]:
    """Rows of these changes by status (of `channels` only, when given)."""
    kinds = None if channels is None else json.dumps([c.value for c in channels])
    rows = store.connection().execute(
        "SELECT status, count(*) FROM outbox WHERE change_id IN"
        " (SELECT value FROM json_each(?)) AND (? IS NULL OR channel IN"
        " (SELECT value FROM json_each(?))) GROUP BY status",
        (json.dumps(sorted(change_ids)), kinds, kinds),
    )
    return Counter({status: int(n) for status, n in rows})
