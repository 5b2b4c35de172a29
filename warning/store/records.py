"""Read-only views of the record and online backups: audit export, table counts, backup copies.

Export reads alerts (alert_log), deliveries (outbox) and operator actions
(audit_log), oldest first, in one snapshot of a read-only connection.  Backup
uses sqlite3's online backup API: a consistent snapshot while the daemon writes
(WAL readers never block it), checked (integrity_check, and every table's row
count equals the snapshot's) and then moved into place, so a half-written
backup never looks finished.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class StoreError(Exception):
    """A store that cannot be read or copied; the message says why, for the operator."""


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the state database (never creates one)."""
    if not path.is_file():
        raise StoreError(f"no state database at {path}: the daemon has not run")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def export(path: Path, since: datetime | None) -> dict[str, list[dict[str, Any]]]:
    """Alerts, deliveries and operator actions since `since`, oldest first."""
    after = since.isoformat() if since else ""
    conn = read_only(path)
    try:
        conn.execute("BEGIN")  # one snapshot for all three tables
        return {
            "alerts": [_alert(r) for r in _rows(conn, "alert_log", "time", after)],
            "deliveries": [_delivery(r) for r in _rows(conn, "outbox", "created_at", after)],
            "actions": [_action(r) for r in _rows(conn, "audit_log", "time", after)],
        }
    finally:
        conn.close()


def _rows(conn: sqlite3.Connection, table: str, column: str, after: str) -> list[sqlite3.Row]:
    sql = f"SELECT * FROM {table} WHERE {column} >= ? ORDER BY id"  # noqa: S608 - fixed names
    return list(conn.execute(sql, (after,)))


def _alert(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "time": r["time"],
        "kind": r["kind"],
        "rule_id": r["rule_id"],
        "area": r["area_id"],
        "alert_id": r["alert_id"],
        "level": r["level"],
        "previous_level": r["previous_level"],
        "drill": bool(r["drill"]),
        "event_id": r["event_id"],
        "reason": r["reason"],
    }


def _delivery(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "time": r["created_at"],
        "change_id": r["change_id"],
        "rule_id": r["rule_id"],
        "channel": r["channel"],
        "recipient": r["recipient"],
        "status": r["status"],
        "attempts": r["attempts"],
        "drill": bool(r["drill"]),
        "sent_at": r["sent_at"],
        "provider_id": r["provider_id"],
        "last_error": r["last_error"],
    }


def _action(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "time": r["time"],
        "actor": r["actor"],
        "action": r["action"],
        "detail": json.loads(r["detail_json"]),
    }


def backup(source: Path, target: Path) -> tuple[Path, dict[str, int]]:
    """Copy the live database to `target` (a file, or a directory to put one in).

    Returns the file written and its rows per table.
    """
    if target.is_dir():
        target = target / f"warning-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.db"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Created 0600 before SQLite opens it: the copy holds phone numbers and the audit log.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = read_only(source)
    try:
        src.execute("BEGIN")  # the counts and the copy see the same snapshot
        counts = table_counts(src)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    _verify(partial, counts)
    os.replace(partial, target)
    return target, counts


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}  # noqa: S608 - names from sqlite_master


def _verify(path: Path, expected: Mapping[str, int]) -> None:
    """The copy opens, passes integrity_check and holds the snapshot's rows."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        counts = table_counts(conn)
    finally:
        conn.close()
    if check != "ok" or counts != dict(expected):
        path.unlink(missing_ok=True)
        raise StoreError(f"backup check failed ({check}; rows {counts} != {dict(expected)})")
