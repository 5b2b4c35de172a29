"""Residents' reports in the state store: the only SQL `warning/reports/` needs.

A report and its photo are written in the caller's transaction together with
the outbox rows that announce it, so a refused or failed report leaves nothing
behind.  Reads use this thread's connection (WAL: they never block the daemon).
Device and address are stored as hashes, only to count reports for rate limits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from warning.model import ReportCategory, ReportStatus
from warning.store.sqlite import Store


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class StoredReport:
    """One accepted report as kept (the photo apart: `has_photo` says whether there is one).

    `group_code` is the first report of its group of duplicates (the same category in
    the same kelurahan within minutes); `counted` is False for a repeat by a device
    already in the group, so corroboration counts reporters, not submissions.
    """

    code: str
    created_at: datetime
    channel: str
    category: ReportCategory
    kelurahan: str
    lon: float | None
    lat: float | None
    description: str
    phone: str | None
    device: str
    address: str
    group_code: str
    counted: bool
    status: ReportStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    has_photo: bool = False


@dataclass(frozen=True, slots=True)
class Photo:
    """A kept photo: already re-encoded, without metadata."""

    media_type: str
    data: bytes


_INSERT = (
    "INSERT INTO reports (code, created_at, channel, category, kelurahan, lon, lat, description,"
    " phone, device, address, group_code, counted, status, decided_by, decided_at, reason)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT r.*, p.code IS NOT NULL AS has_photo"
    " FROM reports r LEFT JOIN report_photos p ON p.code = r.code"
)


def insert(tx: sqlite3.Connection, report: StoredReport, photo: Photo | None) -> None:
    """Keep an accepted report (and its photo) in the caller's transaction."""
    tx.execute(
        _INSERT,
        (
            report.code,
            _iso(report.created_at),
            report.channel,
            report.category.value,
            report.kelurahan,
            report.lon,
            report.lat,
            report.description,
            report.phone,
            report.device,
            report.address,
            report.group_code,
            int(report.counted),
            report.status.value,
            report.decided_by,
            None if report.decided_at is None else _iso(report.decided_at),
            report.reason,
        ),
    )
    if photo is not None:
        tx.execute(
            "INSERT INTO report_photos (code, media_type, data) VALUES (?, ?, ?)",
            (report.code, photo.media_type, photo.data),
        )


def code_taken(tx: sqlite3.Connection, code: str) -> bool:
    """Whether a tracking code is already used."""
    return tx.execute("SELECT 1 FROM reports WHERE code = ?", (code,)).fetchone() is not None


def find(store: Store, code: str) -> StoredReport | None:
    """The report with this tracking code, if any."""
    return find_in(store.connection(), code)


def find_in(tx: sqlite3.Connection, code: str) -> StoredReport | None:
    """The report with this tracking code, read in the caller's transaction."""
    row = tx.execute(f"{_SELECT} WHERE r.code = ?", (code,)).fetchone()
    return None if row is None else _report(row)


def photo(store: Store, code: str) -> Photo | None:
    """A report's kept photo, if it has one."""
    row = (
        store.connection()
        .execute("SELECT media_type, data FROM report_photos WHERE code = ?", (code,))
        .fetchone()
    )
    return None if row is None else Photo(row["media_type"], bytes(row["data"]))


def count_since(tx: sqlite3.Connection, column: str, value: str, since: datetime) -> int:
    """Reports with `column` (device, address or kelurahan) = `value` made since `since`."""
    if column not in ("device", "address", "kelurahan"):
        raise ValueError(f"no rate limit counts reports by {column}")
    row = tx.execute(
        f"SELECT COUNT(*) FROM reports WHERE {column} = ? AND created_at >= ?",  # noqa: S608 - fixed names
        (value, _iso(since)),
    ).fetchone()
    return int(row[0])


def latest_of_place(
    tx: sqlite3.Connection, category: ReportCategory, kelurahan: str, since: datetime
) -> Sequence[StoredReport]:
    """Reports of this category in this kelurahan made since `since`, newest first."""
    rows = tx.execute(
        f"{_SELECT} WHERE r.category = ? AND r.kelurahan = ? AND r.created_at >= ?"
        " AND r.status != ? ORDER BY r.created_at DESC",
        (category.value, kelurahan, _iso(since), ReportStatus.REJECTED.value),
    )
    return [_report(r) for r in rows]


def group_devices(tx: sqlite3.Connection, group_code: str) -> set[str]:
    """The (hashed) devices that sent reports of a group."""
    rows = tx.execute("SELECT DISTINCT device FROM reports WHERE group_code = ?", (group_code,))
    return {r[0] for r in rows}


def queue(store: Store, since: datetime, limit: int = 200) -> list[StoredReport]:
    """Reports made since `since` for the operators' queue: open ones first, newest first."""
    rows = store.connection().execute(
        f"{_SELECT} WHERE r.created_at >= ? ORDER BY r.status != ?, r.created_at DESC LIMIT ?",
        (_iso(since), ReportStatus.RECEIVED.value, limit),
    )
    return [_report(r) for r in rows]


def decide(
    tx: sqlite3.Connection,
    code: str,
    status: ReportStatus,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> bool:
    """Set a report's status by an operator; False when there is no such report."""
    done = tx.execute(
        "UPDATE reports SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE code = ?",
        (status.value, actor, _iso(at), reason, code),
    )
    return done.rowcount == 1


def verified_since(store: Store, since: datetime) -> list[StoredReport]:
    """Verified (or since acted-on) reports made since `since`, oldest first."""
    rows = store.connection().execute(
        f"{_SELECT} WHERE r.status IN (?, ?) AND r.created_at >= ? ORDER BY r.created_at",
        (ReportStatus.VERIFIED.value, ReportStatus.ACTED_ON.value, _iso(since)),
    )
    return [_report(r) for r in rows]


def purge(tx: sqlite3.Connection, before: datetime) -> int:
    """Delete reports made before `before`, with their photos; how many went."""
    tx.execute(
        "DELETE FROM report_photos WHERE code IN (SELECT code FROM reports WHERE created_at < ?)",
        (_iso(before),),
    )
    done = tx.execute("DELETE FROM reports WHERE created_at < ?", (_iso(before),))
    return done.rowcount


def _report(row: sqlite3.Row) -> StoredReport:
    """A stored row back to a report."""
    return StoredReport(
        code=row["code"],
        created_at=datetime.fromisoformat(row["created_at"]).astimezone(UTC),
        channel=row["channel"],
        category=ReportCategory(row["category"]),
        kelurahan=row["kelurahan"],
        lon=row["lon"],
        lat=row["lat"],
        description=row["description"],
        phone=row["phone"],
        device=row["device"],
        address=row["address"],
        group_code=row["group_code"],
        counted=bool(row["counted"]),
        status=ReportStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_at=_time(row["decided_at"]),
        reason=row["reason"],
        has_photo=bool(row["has_photo"]),
    )
