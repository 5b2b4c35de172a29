"""The status read model: what the daemon is doing, read from its database only.

Safe while the daemon runs: SQLite in WAL mode lets this reader see the last
committed state without blocking the writer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from warning.settings import Settings
from warning.store.console import active_silences
from warning.store.records import read_only


def status_report(settings: Settings, now: datetime) -> dict[str, Any]:
    """Firing alerts, feed health, outbox counts, the last drill and siren test."""
    path = settings.state_path
    if not path.exists():
        return {
            "state": str(path),
            "started": False,
            "firing": [],
            "feeds": [],
            "outbox": {},
            "last_drill": None,
            "last_siren_test": None,
            "silences": [],
        }
    conn = read_only(path)
    try:
        return {
            "state": str(path),
            "started": True,
            "firing": _firing(conn),
            "feeds": _feeds(conn, settings, now),
            "outbox": dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")),
            "last_drill": _last_drill(conn),
            "last_siren_test": _siren_test(conn),
            "silences": _silences(conn, now),
        }
    finally:
        conn.close()


def _scalar(conn: sqlite3.Connection, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


def _firing(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Live alerts that are firing now."""
    rows = conn.execute(
        "SELECT rule_id, area_id, level, since, alert_id FROM alert_states"
        " WHERE drill = 0 AND state = 'firing' ORDER BY rule_id, area_id"
    )
    return [
        {
            "rule": r["rule_id"],
            "area": r["area_id"],
            "level": r["level"],
            "since": r["since"],
            "alert_id": r["alert_id"],
        }
        for r in rows
    ]


def _feeds(conn: sqlite3.Connection, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Every enabled feed with its health and (estimated) next poll."""
    stored = {r["feed"]: dict(r) for r in conn.execute("SELECT * FROM feed_state")}
    report = []
    for name, feed in settings.feeds.items():
        if not feed.enabled:
            continue
        row: Mapping[str, Any] = stored.get(name) or {}
        last = max(filter(None, [row.get("last_success"), row.get("last_error_at")]), default=None)
        next_run = (
            datetime.fromisoformat(last) + timedelta(seconds=feed.interval_s) if last else now
        )
        report.append(
            {
                "feed": name,
                "health": row.get("health", "unknown"),
                "failures": row.get("failures", 0),
                "last_success": row.get("last_success"),
                "last_error": row.get("last_error"),
                "last_error_at": row.get("last_error_at"),
                "next_run": max(next_run, now).astimezone(UTC).isoformat(),
            }
        )
    return report


def _last_drill(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The last drill the audit log recorded (`warning drill` or `warning run --drill`).

    `finished` is None while it runs (or when it was killed); older databases
    without audit entries show the time of their last drill transition.
    """
    started = conn.execute(
        "SELECT time, detail_json FROM audit_log WHERE action = 'drill.started' ORDER BY id DESC"
    ).fetchone()
    if started is None:
        time = _scalar(conn, "SELECT max(time) FROM alert_log WHERE drill = 1")
        return None if time is None else {"time": time, "finished": time}
    detail = json.loads(started["detail_json"])
    finished = conn.execute(
        "SELECT time, detail_json FROM audit_log WHERE action = 'drill.finished'"
        " AND json_extract(detail_json, '$.run_id') = ? ORDER BY id DESC",
        (detail.get("run_id"),),
    ).fetchone()
    outcome = json.loads(finished["detail_json"]) if finished else {}
    return {
        "time": started["time"],
        "finished": finished["time"] if finished else None,
        "run_id": detail.get("run_id"),
        "mode": detail.get("mode"),
        "scenario": detail.get("scenario"),
        "ok": outcome.get("ok"),
    }


def _siren_test(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The last monthly siren test and which sirens acknowledged it."""
    row = conn.execute(
        "SELECT time, detail_json FROM audit_log WHERE action = 'siren.test' ORDER BY id DESC"
    ).fetchone()
    if row is None:
        return None
    change_id = json.loads(row["detail_json"]).get("change_id")
    sirens = conn.execute(
        "SELECT recipient, status FROM outbox WHERE change_id = ? AND channel = 'siren'",
        (change_id,),
    )
    acknowledged = {r["recipient"]: r["status"] == "sent" for r in sirens}
    return {"time": row["time"], "acknowledged": acknowledged}


def _silences(conn: sqlite3.Connection, now: datetime) -> list[dict[str, object]]:
    """Rules silenced now (none in a database the console's migration has not reached)."""
    try:
        return [s.as_json() for s in active_silences(conn, now)]
    except sqlite3.OperationalError:
        return []
