"""Accept one report: limits, duplicates, tracking code, storage and notice in one transaction.

The rate limits are counted inside the write transaction (SQLite's BEGIN
IMMEDIATE), so two reports sent at once cannot both slip under a limit; a
refused report writes nothing.  A report of the same category in the same
kelurahan within `group_minutes` of the group's newest joins that group: it
is kept and shown, but officials are told only of a group's first report, and
a device already in the group does not count again.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from warning.areas import AreaIndex
from warning.model import ReportStatus
from warning.plan.contacts import Contact, load_valid_contacts
from warning.plan.reports import notice_recipients, report_notice
from warning.reports import RateLimitedError
from warning.reports.intake import Checked, Draft, check
from warning.reports.photos import clean_photo
from warning.reports.words import Refusal
from warning.settings import ReportsSettings, Settings
from warning.store import outbox
from warning.store import reports as db
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Tracking-code letters: no 0/O, 1/I/L, 2/Z, 5/S, 8/B that people read aloud wrongly.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 6


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a report, for rate limits: `channel` (web, telegram), device and address.

    `device` is the browser's cookie token or the Telegram chat; `address` the
    network address (for Telegram the chat again: every chat arrives from
    Telegram's servers).  Both are hashed before they are stored.
    """

    channel: str
    device: str
    address: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the reporter is told: the tracking code, the kelurahan, the status."""

    code: str
    kelurahan: str
    status: ReportStatus
    grouped: bool


def submit(
    store: Store,
    draft: Draft,
    sender: Sender,
    *,
    areas: AreaIndex,
    contacts: Sequence[Contact],
    settings: ReportsSettings,
    now: datetime,
) -> Receipt:
    """Validate, limit, group, keep and announce one report; RefusedError when refused."""
    checked = check(draft, areas, settings.description_max)
    photo = None
    if draft.photo:
        photo = clean_photo(draft.photo, settings.photo_max_bytes, settings.photo_max_pixels)
    device, address = _hash(sender.device), _hash(sender.address)
    place = areas.get(checked.kelurahan).name
    with store.transaction() as tx:
        _within_limits(tx, settings, (device, address), (checked.kelurahan, place), now)
        group, counted = _group(tx, settings, checked, device, now)
        code = _new_code(tx)
        kept = _report(checked, code, sender, (device, address), (group or code, counted), now=now)
        db.insert(tx, kept, photo)
        if group is None:
            phones = notice_recipients(
                contacts, checked.category, checked.kelurahan, settings.duty_groups, settings.groups
            )
            outbox.enqueue(tx, report_notice(code, checked.category, place, phones, now))
    log.info(
        "report.received",
        code=code,
        category=checked.category.value,
        kelurahan=checked.kelurahan,
        channel=sender.channel,
        group=group or code,
        photo=photo is not None,
    )
    return Receipt(code, checked.kelurahan, ReportStatus.RECEIVED, group is not None)


def current_contacts(settings: Settings, areas: AreaIndex) -> tuple[Contact, ...]:
    """The contacts file as it is now (read per report: officials edit it while we run)."""
    path = settings.contacts_path
    return () if path is None else load_valid_contacts(path, areas)[0]


def _hash(value: str) -> str:
    """A stable hash for counting, so no address or chat id is kept as such."""
    return hashlib.sha256(f"warning-report|{value}".encode()).hexdigest()[:32]


def _within_limits(
    tx: sqlite3.Connection,
    settings: ReportsSettings,
    sender: tuple[str, str],
    where: tuple[str, str],
    now: datetime,
) -> None:
    """RateLimitedError when the (device, address) or the (kelurahan, name) had enough."""
    device, address = sender
    kelurahan, place = where
    hour = now - timedelta(hours=1)
    if db.count_since(tx, "device", device, hour) >= settings.device_per_hour:
        raise RateLimitedError(Refusal.DEVICE_LIMIT)
    if db.count_since(tx, "address", address, hour) >= settings.address_per_hour:
        raise RateLimitedError(Refusal.ADDRESS_LIMIT)
    burst = now - timedelta(seconds=settings.burst_window_s)
    if db.count_since(tx, "kelurahan", kelurahan, burst) >= settings.kelurahan_burst:
        raise RateLimitedError(Refusal.BURST, place=place)


def _group(
    tx: sqlite3.Connection,
    settings: ReportsSettings,
    checked: Checked,
    device: str,
    now: datetime,
) -> tuple[str | None, bool]:
    """(the group joined, or None for a new one; whether this device counts in it)."""
    since = now - timedelta(minutes=settings.group_minutes)
    recent = db.latest_of_place(tx, checked.category, checked.kelurahan, since)
    if not recent:
        return None, True
    group = recent[0].group_code
    return group, device not in db.group_devices(tx, group)


def _new_code(tx: sqlite3.Connection) -> str:
    """A fresh random tracking code (25^6: about 244 million)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not db.code_taken(tx, code):
            return code


def _report(
    checked: Checked,
    code: str,
    sender: Sender,
    hashed: tuple[str, str],
    group: tuple[str, bool],
    *,
    now: datetime,
) -> db.StoredReport:
    """The report as stored: `hashed` is (device, address), `group` (its code, counted)."""
    return db.StoredReport(
        code=code,
        created_at=now,
        channel=sender.channel,
        category=checked.category,
        kelurahan=checked.kelurahan,
        lon=checked.lon,
        lat=checked.lat,
        description=checked.description,
        phone=checked.phone,
        device=hashed[0],
        address=hashed[1],
        group_code=group[0],
        counted=group[1],
        status=ReportStatus.RECEIVED,
    )
