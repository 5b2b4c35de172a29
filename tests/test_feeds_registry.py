"""The FEEDS registry: one entry per configured feed, each well formed."""

from __future__ import annotations

from warning.feeds import FEEDS
from warning.model import ObservationKind
from warning.settings import FEED_DEFAULTS

FORECASTS = {"bmkg-nowcast", "bmkg-forecast", "open-meteo", "open-meteo-marine"}


def test_registry_and_settings_name_the_same_feeds() -> None:
    """Every feed in FEEDS has defaults in settings and the other way round."""
    assert set(FEEDS) == set(FEED_DEFAULTS)


def test_entries_are_named_for_their_key() -> None:
    """A registry entry's name is its key and it declares at least one kind."""
    for name, feed in FEEDS.items():
        assert feed.name == name
        assert feed.kinds
        assert all(isinstance(kind, ObservationKind) for kind in feed.kinds)


def test_only_forecasts_may_be_future_dated() -> None:
    """future_ok is set exactly for forecasts and warnings valid ahead; event feeds are checked."""
    assert {name for name, feed in FEEDS.items() if feed.future_ok} == FORECASTS


def test_tsunami_warnings_come_from_inatews_only() -> None:
    """Only InaTEWS produces tsunami_warning observations."""
    producers = {n for n, f in FEEDS.items() if ObservationKind.TSUNAMI_WARNING in f.kinds}
    assert producers == {"inatews"}
