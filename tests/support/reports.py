"""What the reports tests share: a desk on a real store with the test contacts, photos.

Photos are made with Pillow here (real JPEG/PNG bytes, EXIF included where a
test needs it), so every photo test reads the bytes a phone would send.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from tests.support.deployment import planner_contacts
from warning.areas import AreaIndex
from warning.plan.contacts import Contact
from warning.reports.intake import Draft
from warning.reports.submit import Receipt, Sender, submit
from warning.settings import ReportsSettings
from warning.store.sqlite import Store

NOW = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
#: A point inside Manggar (coastal, with RT heads and siskamling among the test contacts).
MANGGAR = (116.93626, -1.21529)
#: Jakarta: far outside Balikpapan.
JAKARTA = (106.8456, -6.2088)


def jpeg(size: tuple[int, int] = (64, 48), *, make: str = "", gps: bool = False) -> bytes:
    """A real JPEG, with EXIF camera make and a GPS position when asked."""
    image = Image.new("RGB", size, (30, 90, 160))
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if gps:
        # GPSInfo: 1 N, 2 latitude, 3 E, 4 longitude (degrees, minutes, seconds).
        exif[0x8825] = {1: "S", 2: (1.0, 13.0, 42.0), 3: "E", 4: (116.0, 58.0, 17.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (32, 32), mode: str = "RGB") -> bytes:
    """A real image of another format (PNG, GIF, WEBP, ...)."""
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt)
    return out.getvalue()


@dataclass
class Desk:
    """Reports taken on a real store, as the console takes them."""

    store: Store
    areas: AreaIndex
    settings: ReportsSettings = field(default_factory=ReportsSettings)
    contacts: tuple[Contact, ...] = field(default_factory=planner_contacts)

    def send(
        self,
        draft: Draft,
        *,
        device: str = "browser-1",
        address: str = "203.0.113.5",
        now: datetime = NOW,
    ) -> Receipt:
        """Submit one report from `device` at `address`."""
        return submit(
            self.store,
            draft,
            Sender("web", device, address),
            areas=self.areas,
            contacts=self.contacts,
            settings=self.settings,
            now=now,
        )

    def rows(self, table: str) -> list[sqlite3.Row]:
        """Every row of a table (reports, report_photos, outbox, audit_log)."""
        query = f"SELECT * FROM {table}"  # noqa: S608 - the tests' own table names
        return list(self.store.connection().execute(query))


def desk(tmp_path: Path, areas: AreaIndex, **settings: object) -> Desk:
    """A desk on a fresh store with `[reports]` settings overridden."""
    chosen = ReportsSettings(**settings)  # type: ignore[arg-type]
    return Desk(Store(tmp_path / "warning.db"), areas, chosen)
