"""Verified reports as observations of kind `report`, the way a feed's readings are (pure).

Each verified report is one reading in its kelurahan at the time it was made:
`category` and `count` (1 for a new reporter of its group, 0 for a repeat).
The source is `laporan-<category>`, so the engine keeps one series per
category and a windowed sum (`{value: count, agg: sum, over: 30m}`) counts the
reporters of one category only.  Reports never say "it is over"; so when a
series has had no verified report for `quiet_after`, one more reading with
count 0 follows at that moment (as a rain gauge reads 0 mm), and a rule on
reports can end.  Unverified and rejected reports never become observations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from warning.model import Coverage, Observation, ObservationKind, ReportCategory, ReportStatus
from warning.store.reports import StoredReport

#: The statuses whose reports the rules may read.
VERIFIED = frozenset({ReportStatus.VERIFIED, ReportStatus.ACTED_ON})
SOURCE_PREFIX = "laporan-"


def source_of(category: ReportCategory) -> str:
    """The observation source of a category's reports."""
    return SOURCE_PREFIX + category.value


def observations(
    reports: Sequence[StoredReport], quiet_after: timedelta, now: datetime
) -> list[Observation]:
    """The readings of the verified `reports` (oldest first), then the quiet ones due by `now`."""
    verified = sorted((r for r in reports if r.status in VERIFIED), key=lambda r: r.created_at)
    found = [_reading(r) for r in verified]
    newest: dict[tuple[ReportCategory, str], datetime] = {}
    for report in verified:
        newest[(report.category, report.kelurahan)] = report.created_at
    for (category, kelurahan), last in newest.items():
        if now >= last + quiet_after:
            found.append(_quiet(category, kelurahan, last + quiet_after))
    return found


def _reading(report: StoredReport) -> Observation:
    """One verified report as a reading of its kelurahan."""
    return Observation(
        source=source_of(report.category),
        kind=ObservationKind.REPORT,
        event_id=f"laporan-{report.code}",
        time=report.created_at,
        values={"category": report.category.value, "count": int(report.counted)},
        area_ids=(report.kelurahan,),
        coverage=Coverage.AREAS,
    )


def _quiet(category: ReportCategory, kelurahan: str, at: datetime) -> Observation:
    """No verified report of `category` in `kelurahan` for a while: a reading of 0."""
    return Observation(
        source=source_of(category),
        kind=ObservationKind.REPORT,
        event_id=f"laporan-{category.value}-{kelurahan}-sepi",
        time=at,
        values={"category": category.value, "count": 0},
        area_ids=(kelurahan,),
        coverage=Coverage.AREAS,
    )
