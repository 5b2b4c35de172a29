"""The FEEDS registry: one entry per configured feed, each well formed."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT
from warning.feeds import FEEDS
from warning.model import ObservationKind
from warning.settings import FeedDefaults, load_settings

FORECASTS = {"bmkg-nowcast", "bmkg-forecast", "open-meteo", "open-meteo-marine"}


def test_every_registered_feed_declares_its_defaults_in_its_module() -> None:
    """A feed's defaults are a `FeedDefaults` its parser's module declares."""
    for feed in FEEDS.values():
        assert isinstance(feed.defaults, FeedDefaults)
        assert feed.defaults.url.startswith(("https://", "http://"))
        module = __import__(feed.parse.__module__, fromlist=["_"])
        assert any(value is feed.defaults for value in vars(module).values()), feed.name


def test_settings_have_a_table_for_exactly_the_registered_feeds(tmp_path: Path) -> None:
    """Loaded settings hold one [feeds.<name>] per registry entry, with its declared defaults."""
    (tmp_path / "warning.toml").write_text("")
    feeds = load_settings(tmp_path / "warning.toml").feeds
    assert set(feeds) == set(FEEDS)
    for name, feed in FEEDS.items():
        assert feeds[name].url == feed.defaults.url
        assert feeds[name].interval_s == feed.defaults.interval_s


def test_settings_keep_no_table_of_feeds() -> None:
    """settings.py names no feed: adding one is a module and a registry line, nothing else."""
    tree = ast.parse((ROOT / "warning" / "settings.py").read_text(encoding="utf-8"))
    texts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert texts.isdisjoint(FEEDS)


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
