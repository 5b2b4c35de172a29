"""Shared helpers of the feed tests: fixtures on disk, contexts, a small area set.

`SquareAreas` implements the `AreaLookup` protocol the adapters are written
against with two square kelurahan in one kecamatan, using shapely as the real
`warning.areas` does; it keeps these tests independent of the city's file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shapely.geometry import Polygon, box

from warning.feeds import FEEDS, FeedContext
from warning.model import Area, AreaLevel, Observation, Ring
from warning.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(feed: str, name: str) -> bytes:
    """The bytes of tests/fixtures/<feed>/<name>."""
    return (FIXTURES / feed / name).read_bytes()


@dataclass(frozen=True)
class SquareAreas:
    """Two square kelurahan of one kecamatan (lon/lat boxes)."""

    boxes: Mapping[str, tuple[float, float, float, float]] = field(
        default_factory=lambda: {
            "manggar": (116.95, -1.25, 117.05, -1.20),
            "klandasan-ulu": (116.82, -1.28, 116.85, -1.26),
        }
    )

    @property
    def kelurahan(self) -> tuple[Area, ...]:
        """The two kelurahan, with Manggar's real Kemendagri code."""
        codes = {"manggar": "64.71.01.1001", "klandasan-ulu": "64.71.06.1003"}
        return tuple(
            Area(i, i.title(), AreaLevel.KELURAHAN, codes[i], True, "kota") for i in self.boxes
        )

    @property
    def areas(self) -> tuple[Area, ...]:
        """The kelurahan and their kecamatan."""
        kota = Area("kota", "Kota", AreaLevel.KECAMATAN, "64.71.06", True)
        return (kota, *self.kelurahan)

    def intersecting(self, polygons: Sequence[Ring]) -> tuple[str, ...]:
        """Kelurahan whose box touches any ring."""
        shapes = [Polygon(ring) for ring in polygons]
        return tuple(i for i, b in self.boxes.items() if any(box(*b).intersects(s) for s in shapes))

    def centroid(self, area_id: str) -> tuple[float, float]:
        """Centre of a box; the kecamatan's is the first kelurahan's."""
        west, south, east, north = self.boxes.get(area_id, self.boxes["manggar"])
        return ((west + east) / 2, (south + north) / 2)


def context(
    feed: str,
    fetched_at: datetime | None = None,
    areas: Any = None,
    **options: Any,
) -> FeedContext:
    """A FeedContext with default settings (options overridden) at `fetched_at`."""
    settings = load_settings().feeds[feed]
    if options:
        settings = type(settings)(
            name=settings.name,
            enabled=settings.enabled,
            url=settings.url,
            interval_s=settings.interval_s,
            max_age_s=settings.max_age_s,
            options={**settings.options, **options},
        )
    moment = fetched_at or datetime(2026, 11, 27, tzinfo=UTC)
    return FeedContext(fetched_at=moment, settings=settings, areas=areas)


def parse(feed: str, payload: bytes, **kwargs: Any) -> list[Observation]:
    """Parse with the registered adapter of `feed`."""
    return FEEDS[feed].parse(payload, context(feed, **kwargs))


def utc(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
