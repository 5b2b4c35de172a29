"""The console's part of the state store: accounts, sessions, approvals, silences, read models.

The only SQL the console needs lives here (the console modules never write
any): operators' accounts and login sessions, failed logins for the rate
limit, manual alerts waiting for a second operator, silences of rules, and
the read models the operations room shows (levels per kelurahan, firing
alerts with their delivery progress, open outbox rows, sirens, the audit log).
Writes take the caller's transaction; reads use this thread's connection, so
in WAL mode they never block the daemon.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from warning.model import Level
from warning.store.sqlite import Store


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------------------
# Accounts


class Role(enum.Enum):
    """What an account may do; each role may do everything of the roles before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order viewer < operator < approver < admin."""
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        """Whether this role includes `other`'s rights."""
        return self.rank >= other.rank


@dataclass(frozen=True, slots=True)
class Account:
    """One console user (the hash is argon2's encoded string)."""

    name: str
    role: Role
    password_hash: str


def save_account(tx: sqlite3.Connection, account: Account, now: datetime) -> bool:
    """Create the account or replace its role and hash; True when it was new."""
    existed = tx.execute("SELECT 1 FROM accounts WHERE name = ?", (account.name,)).fetchone()
    tx.execute(
        "INSERT INTO accounts (name, role, password_hash, created_at, changed_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
        " password_hash = excluded.password_hash, changed_at = excluded.changed_at",
        (account.name, account.role.value, account.password_hash, _iso(now), _iso(now)),
    )
    return existed is None


def set_password(tx: sqlite3.Connection, name: str, password_hash: str, now: datetime) -> bool:
    """Replace an account's hash and end its sessions; False when there is no such account."""
    done = tx.execute(
        "UPDATE accounts SET password_hash = ?, changed_at = ? WHERE name = ?",
        (password_hash, _iso(now), name),
    ).rowcount
    tx.execute("DELETE FROM sessions WHERE account = ?", (name,))
    return done > 0


def delete_account(tx: sqlite3.Connection, name: str) -> bool:
    """Remove an account (its sessions go with it); False when there was none."""
    tx.execute("DELETE FROM sessions WHERE account = ?", (name,))
    return tx.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount > 0


def account(store: Store, name: str) -> Account | None:
    """The account called `name`, if any."""
    row = (
        store.connection()
        .execute("SELECT name, role, password_hash FROM accounts WHERE name = ?", (name,))
        .fetchone()
    )
    return None if row is None else Account(row["name"], Role(row["role"]), row["password_hash"])


def account_names(store: Store) -> list[tuple[str, Role]]:
    """Every account name with its role."""
    rows = store.connection().execute("SELECT name, role FROM accounts ORDER BY name")
    return [(r["name"], Role(r["role"])) for r in rows]


# ---------------------------------------------------------------------------
# Sessions and failed logins


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: the account, its role and the CSRF token of its forms."""

    account: str
    role: Role
    csrf: str
    expires_at: datetime


def add_session(
    tx: sqlite3.Connection, token_hash: str, name: str, csrf: str, *, now: datetime, until: datetime
) -> None:
    """Record a new session (only the token's hash is kept)."""
    tx.execute(
        "INSERT INTO sessions (token_hash, account, csrf, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, name, csrf, _iso(now), _iso(until)),
    )


def session(store: Store, token_hash: str, now: datetime) -> Session | None:
    """The unexpired session with this token hash, with its account's current role."""
    row = (
        store.connection()
        .execute(
            "SELECT s.account, s.csrf, s.expires_at, a.role FROM sessions s"
            " JOIN accounts a ON a.name = s.account WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, _iso(now)),
        )
        .fetchone()
    )
    if row is None:
        return None
    expires = _time(row["expires_at"])
    assert expires is not None  # the column is NOT NULL
    return Session(row["account"], Role(row["role"]), row["csrf"], expires)


def end_session(tx: sqlite3.Connection, token_hash: str, now: datetime) -> None:
    """Forget a session, and every expired one with it."""
    tx.execute(
        "DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?", (token_hash, _iso(now))
    )


def add_failure(tx: sqlite3.Connection, keys: Sequence[str], now: datetime) -> None:
    """Count one wrong password against each key (a user name, an address)."""
    tx.executemany(
        "INSERT INTO login_failures (key, time) VALUES (?, ?)", [(k, _iso(now)) for k in keys]
    )


def failures(store: Store, key: str, since: datetime) -> int:
    """Wrong passwords against `key` since `since`."""
    row = (
        store.connection()
        .execute(
            "SELECT count(*) FROM login_failures WHERE key = ? AND time >= ?", (key, _iso(since))
        )
        .fetchone()
    )
    return int(row[0])


def forget_failures(tx: sqlite3.Connection, keys: Sequence[str], before: datetime) -> None:
    """Drop failures of `keys` (a good login) and every one older than `before`."""
    tx.executemany("DELETE FROM login_failures WHERE key = ?", [(k,) for k in keys])
    tx.execute("DELETE FROM login_failures WHERE time < ?", (_iso(before),))


# ---------------------------------------------------------------------------
# Approvals (two-person rule)


class ApprovalStatus(enum.Enum):
    """Where a manual alert waiting for a second operator stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Approval:
    """A manual alert one operator asked for, waiting for (or decided by) another."""

    id: int
    requested_by: str
    requested_at: datetime
    request: Mapping[str, Any]
    status: ApprovalStatus
    decided_by: str | None
    change_id: str | None


def add_approval(
    tx: sqlite3.Connection, requested_by: str, request: Mapping[str, Any], now: datetime
) -> int:
    """Store a request waiting for approval; its id."""
    cursor = tx.execute(
        "INSERT INTO approvals (requested_by, requested_at, request_json, status)"
        " VALUES (?, ?, ?, ?)",
        (requested_by, _iso(now), json.dumps(dict(request)), ApprovalStatus.PENDING.value),
    )
    return int(cursor.lastrowid or 0)


def approval(tx: sqlite3.Connection, approval_id: int) -> Approval | None:
    """One request, read inside the caller's transaction (so a decision is taken once)."""
    row = tx.execute("SELECT * FROM approvals WHERE id = ?", (approval_id,)).fetchone()
    return None if row is None else _approval(row)


def decide(
    tx: sqlite3.Connection,
    approval_id: int,
    status: ApprovalStatus,
    who: str,
    *,
    now: datetime,
    change_id: str | None = None,
) -> None:
    """Record the second operator's decision on a pending request."""
    tx.execute(
        "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, change_id = ?"
        " WHERE id = ? AND status = ?",
        (status.value, who, _iso(now), change_id, approval_id, ApprovalStatus.PENDING.value),
    )


def pending_approvals(store: Store) -> list[Approval]:
    """Requests still waiting, oldest first."""
    rows = store.connection().execute(
        "SELECT * FROM approvals WHERE status = ? ORDER BY id", (ApprovalStatus.PENDING.value,)
    )
    return [_approval(r) for r in rows]


def _approval(row: sqlite3.Row) -> Approval:
    at = _time(row["requested_at"])
    assert at is not None  # NOT NULL column
    return Approval(
        row["id"],
        row["requested_by"],
        at,
        json.loads(row["request_json"]),
        ApprovalStatus(row["status"]),
        row["decided_by"],
        row["change_id"],
    )


# ---------------------------------------------------------------------------
# Silences


@dataclass(frozen=True, slots=True)
class Silence:
    """A rule whose notifications are held back until `ends_at`."""

    id: int
    rule_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    actor: str

    def as_json(self) -> dict[str, object]:
        """JSON-able form (`warning status --json`, the console)."""
        return {
            "id": self.id,
            "rule": self.rule_id,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "reason": self.reason,
            "actor": self.actor,
        }


def add_silence(
    tx: sqlite3.Connection, rule_id: str, *, now: datetime, until: datetime, reason: str, actor: str
) -> int:
    """Silence a rule from now until `until`; the silence's id."""
    cursor = tx.execute(
        "INSERT INTO silences (rule_id, starts_at, ends_at, reason, actor) VALUES (?, ?, ?, ?, ?)",
        (rule_id, _iso(now), _iso(until), reason, actor),
    )
    return int(cursor.lastrowid or 0)


def end_silence(tx: sqlite3.Connection, silence_id: int, now: datetime) -> bool:
    """End an active silence early; False when it was not active."""
    return (
        tx.execute(
            "UPDATE silences SET ended_at = ? WHERE id = ? AND ended_at IS NULL AND ends_at > ?",
            (_iso(now), silence_id, _iso(now)),
        ).rowcount
        > 0
    )


def active_silences(conn: sqlite3.Connection, now: datetime) -> list[Silence]:
    """Silences in force at `now` (a connection, so the pipeline reads them in its transaction)."""
    rows = conn.execute(
        "SELECT * FROM silences WHERE ended_at IS NULL AND starts_at <= ? AND ends_at > ?"
        " ORDER BY ends_at",
        (_iso(now), _iso(now)),
    )
    return [
        Silence(
            r["id"],
            r["rule_id"],
            datetime.fromisoformat(r["starts_at"]),
            datetime.fromisoformat(r["ends_at"]),
            r["reason"],
            r["actor"],
        )
        for r in rows
    ]


# ---------------------------------------------------------------------------
# Read models of the operations room


@dataclass(frozen=True, slots=True)
class Firing:
    """One (rule, kelurahan) alert that fires now."""

    rule_id: str
    area_id: str
    level: Level
    since: datetime | None
    alert_id: str
    drill: bool


def firing(store: Store) -> list[Firing]:
    """Every firing (rule, kelurahan), live and drill, with its current level."""
    rows = store.connection().execute(
        "SELECT rule_id, area_id, level, since, alert_id, drill FROM alert_states"
        " WHERE state = 'firing' AND level IS NOT NULL ORDER BY drill, rule_id, area_id"
    )
    return [
        Firing(
            r["rule_id"],
            r["area_id"],
            Level(r["level"]),
            _time(r["since"]),
            r["alert_id"],
            bool(r["drill"]),
        )
        for r in rows
    ]


def manual_alerts(store: Store) -> list[dict[str, Any]]:
    """Manual alerts (no engine episode) that no operator cancelled yet."""
    rows = store.connection().execute(
        "SELECT c.change_id, c.level, c.time, group_concat(a.area_id) AS areas"
        " FROM alert_changes c JOIN alert_change_areas a ON a.change_id = c.change_id"
        " WHERE c.rule_id LIKE 'manual-%' AND c.kind = 'fired' AND NOT EXISTS"
        " (SELECT 1 FROM alert_changes x WHERE x.rule_id = c.rule_id AND x.kind = 'cancelled')"
        " GROUP BY c.change_id ORDER BY c.seq"
    )
    return [
        {
            "change_id": r["change_id"],
            "level": r["level"],
            "time": r["time"],
            "areas": sorted(str(r["areas"]).split(",")),
        }
        for r in rows
    ]


def delivery_progress(store: Store, rule_id: str, drill: bool, since: str) -> dict[str, Any]:
    """Per channel sent/waiting/failed of a rule's deliveries since `since`, and who was reached."""
    rows = store.connection().execute(
        "SELECT channel, status, count(*) AS n, count(DISTINCT recipient) AS who FROM outbox"
        " WHERE rule_id = ? AND drill = ? AND created_at >= ? GROUP BY channel, status",
        (rule_id, int(drill), since),
    )
    channels: dict[str, dict[str, int]] = {}
    reached = {"sms": 0, "siren": 0}
    for r in rows:
        counts = channels.setdefault(r["channel"], {"sent": 0, "waiting": 0, "failed": 0})
        key = {"sent": "sent", "failed": "failed", "superseded": "failed"}.get(
            r["status"], "waiting"
        )
        counts[key] += r["n"]
        if r["status"] == "sent" and r["channel"] in reached:
            reached[r["channel"]] += r["who"]
    return {"channels": channels, "people": reached["sms"], "sirens": reached["siren"]}


def alert_history(store: Store, rule_id: str, drill: bool, limit: int = 20) -> list[dict[str, Any]]:
    """The newest transitions of a rule (alert_log), newest first."""
    rows = store.connection().execute(
        "SELECT time, kind, area_id, level, reason FROM alert_log WHERE rule_id = ? AND drill = ?"
        " ORDER BY id DESC LIMIT ?",
        (rule_id, int(drill), limit),
    )
    return [dict(r) for r in rows]


def open_deliveries(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Deliveries waiting or failed, newest first, with why they failed."""
    rows = store.connection().execute(
        "SELECT id, channel, recipient, status, attempts, created_at, last_error, last_code,"
        " rule_id, drill FROM outbox WHERE status IN ('pending', 'claimed', 'failed')"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [dict(r) for r in rows]


def audit_tail(store: Store, limit: int = 30) -> list[dict[str, Any]]:
    """The newest operator and system actions, newest first."""
    rows = store.connection().execute(
        "SELECT id, time, actor, action, detail_json FROM audit_log ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [{**dict(r), "detail": json.loads(r["detail_json"])} for r in rows]


def siren_commands(store: Store) -> dict[str, dict[str, Any]]:
    """Each siren's newest command: what, when, and whether the controller acknowledged it."""
    rows = store.connection().execute(
        "SELECT o.recipient, o.payload_json, o.status, o.sent_at, o.last_error, o.created_at,"
        " o.drill FROM outbox o WHERE o.channel = 'siren' AND o.id = (SELECT max(id) FROM outbox"
        " WHERE channel = 'siren' AND recipient = o.recipient)"
    )
    return {
        r["recipient"]: {
            "command": json.loads(r["payload_json"]).get("command"),
            "status": r["status"],
            "acknowledged": r["sent_at"],
            "time": r["created_at"],
            "error": r["last_error"],
            "drill": bool(r["drill"]),
        }
        for r in rows
    }


def fingerprint(store: Store) -> tuple[Any, ...]:
    """Changes whenever anything the room shows may have changed (cheap, for live updates)."""
    row = (
        store.connection()
        .execute(
            "SELECT (SELECT max(id) FROM alert_log), (SELECT max(id) FROM audit_log),"
            " (SELECT max(id) FROM outbox), (SELECT max(finished_at) FROM outbox),"
            " (SELECT count(*) FROM outbox WHERE status IN ('pending', 'claimed')),"
            " (SELECT max(health_since) || max(last_success) FROM feed_state),"
            " (SELECT max(id) FROM approvals), (SELECT count(*) FROM approvals"
            " WHERE status = 'pending'), (SELECT max(id) FROM silences),"
            " (SELECT count(*) FROM silences WHERE ended_at IS NULL)"
        )
        .fetchone()
    )
    return tuple(row)
