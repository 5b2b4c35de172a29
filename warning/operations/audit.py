"""`warning audit export` as CSV: the records of `warning.store.records.export`, one row each.

`--since` takes a date (midnight WITA, the city's day) or an ISO date-time
(naive means WITA).  CSV has one row per record with the columns of
`CSV_COLUMNS` (a `type` column says which).  The export itself and
`warning backup` read the store (`warning.store.records`).
A cell a spreadsheet would run as a formula (an actor named
`=HYPERLINK(...)`, a crafted SUDO_USER) is written as text.  A file written
with `--output`, like a backup, is readable by its owner only (0600): the
record names people and their numbers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
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
    "change_id",
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
