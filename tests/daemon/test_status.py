"""`warning status`: the report read from the database of a daemon that has polled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from warning.cli.status import render_text
from warning.model import FeedHealth
from warning.settings import Settings, StateSettings, load_settings
from warning.store.interface import FeedRecord
from warning.store.sqlite import Store
from warning.store.status import status_report

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _settings(tmp_path: Path) -> Settings:
    return Settings(state=StateSettings(path=str(tmp_path / "warning.db")), feeds={})


def test_status_reports_a_polled_feed_with_its_health_and_next_run(tmp_path: Path) -> None:
    """A feed with a stored record shows its health, error and an estimated next poll."""
    feeds = load_settings(None).feeds
    settings = Settings(state=StateSettings(path=str(tmp_path / "warning.db")), feeds=feeds)
    store = Store(settings.state_path)
    record = FeedRecord(
        "inatews",
        health=FeedHealth.DEGRADED,
        failures=1,
        last_success=NOW - timedelta(minutes=1),
        last_error="HTTP 503",
        last_error_at=NOW,
        health_since=NOW,
    )
    with store.transaction() as tx:
        store.save_feed(tx, record)
    report = status_report(settings, NOW)
    (inatews,) = [f for f in report["feeds"] if f["feed"] == "inatews"]
    assert inatews["health"] == "degraded"
    assert inatews["last_error"] == "HTTP 503"
    assert inatews["next_run"] == (NOW + timedelta(seconds=5)).isoformat()
    assert "error: HTTP 503" in render_text(report)


def test_status_of_a_database_without_feed_records_says_unknown(tmp_path: Path) -> None:
    """A started daemon that never polled a feed still reports (health unknown)."""
    settings = _settings(tmp_path)
    Store(settings.state_path)
    assert status_report(settings, NOW)["feeds"] == []
