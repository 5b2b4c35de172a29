"""`warning audit export` and `warning backup`: the record, read or copied while the daemon runs.

Export: alerts (alert_log), deliveries (outbox) and operator actions
(audit_log), oldest first, from a read-only connection.  `--since` takes a
date (midnight WITA, the city's day) or an ISO date-time (naive means WITA).
CSV has one row per record with the columns of `CSV_COLUMNS` (a `type`
column says which); a cell a spreadsheet would run as a formula (an actor
named `=HYPERLINK(...)`, a crafted SUDO_USER) is written as text.  JSON is
`{"alerts": [...], "deliveries": [...], "actions": [...]}`.  A file written
with `--output`, like a backup, is readable by its owner only (0600): the
record names people and their numbers.

Backup: sqlite3's online backup API copies a consistent snapshot while the
daemon writes (WAL readers never block it); the copy is checked
(integrity_check, and every table's row count equals the snapshot's) and
then moved into place, so a half-written backup never looks finished.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from warning.model import WITA
from warning.operations import OperationError

CSV_COLUMNS = (
    "type",
    "time",
    "alert_id",
    "rule_id",
    "area",
    "level",
    "kind",
    "channel",
    "recipient",
    "status",
    "actor",
    "detail",
)


def parse_since(text: str | None) -> datetime | None:
    """A --since value as aware UTC: a date is midnight WITA; naive times are WITA."""
    if not text:
        return None
    try:
        if len(text) == len("2026-03-01"):
            return datetime.combine(date.fromisoformat(text), time(), WITA).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OperationError(f'--since "{text}": give a date (2026-03-01) or an ISO time') from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=WITA)).astimezone(UTC)


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the state database (never creates one)."""
    if not path.is_file():
        raise OperationError(f"no state database at {path}: the daemon has not run")
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
        "alert_id": r["change_id"],
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


def to_csv(records: Mapping[str, list[dict[str, Any]]]) -> str:
    """One CSV: alerts, deliveries and actions as rows of CSV_COLUMNS."""
    out = io.StringIO()
    # CRLF as RFC 4180 says: the writer then also quotes a cell holding a lone CR.
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for record_type, key in (
        ("alert", "alerts"),
        ("delivery", "deliveries"),
        ("action", "actions"),
    ):
        writer.writerows(_flat(record_type, r) for r in records[key])
    return out.getvalue()


def _flat(record_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a CSV row; what has no column goes to `detail` as JSON."""
    row = {k: v for k, v in record.items() if k in CSV_COLUMNS and k != "detail"}
    if record_type == "action":
        row["kind"] = record["action"]
    rest = {k: v for k, v in record.items() if k not in CSV_COLUMNS or k == "detail"}
    rest.pop("action", None)
    flat = {**row, "type": record_type, "detail": json.dumps(rest, ensure_ascii=False)}
    return {k: safe_cell(v) for k, v in flat.items()}


#: What spreadsheets take as the start of a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain number (a +62 phone, a negative value): read as a number, never run.
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it and never runs it: a formula start gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with open(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


# ---------------------------------------------------------------------------
# Backup


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
        raise OperationError(f"backup check failed ({check}; rows {counts} != {dict(expected)})")
