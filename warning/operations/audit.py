"""`warning audit export` as CSV: the records of `warning.store.records.export`, one row each.

`--since` takes a date (midnight WITA, the city's day) or an ISO date-time
(naive means WITA).  CSV has one row per record with the columns of
`CSV_COLUMNS` (a `type` column says which).  The export itself and
`warning backup` read the store (`warning.store.records`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
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


def to_csv(records: Mapping[str, list[dict[str, Any]]]) -> str:
    """One CSV: alerts, deliveries and actions as rows of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
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
    return {**row, "type": record_type, "detail": json.dumps(rest, ensure_ascii=False)}
