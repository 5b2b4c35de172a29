"""Shared helpers of the feed tests: fixtures on disk, contexts, the city's areas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.areas import city
from tests.support.paths import FIXTURES
from warning.feeds import FEEDS, FeedContext
from warning.model import Observation
from warning.settings import load_settings


def fixture(feed: str, name: str) -> bytes:
    """The bytes of tests/fixtures/<feed>/<name>."""
    return (FIXTURES / feed / name).read_bytes()


#: The shipped areas.geojson (34 kelurahan, 6 kecamatan).
AREAS = city()
KELURAHAN = tuple(area.id for area in AREAS.kelurahan)


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
