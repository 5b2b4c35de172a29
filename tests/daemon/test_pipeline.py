"""Pipeline: one poll fetches, filters, evaluates and commits at once; health is bookkept."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
import structlog
from structlog.testing import capture_logs

from tests.support.deployment import COASTAL
from tests.support.paths import FIXTURES, ROOT
from tests.support.pipeline import (
    AFTER_PD1,
    BASE,
    PD1,
    PD4,
    Clock,
    LockedStore,
    Rig,
    make_rig,
    write_settings,
)
from warning import log
from warning.daemon.configuration import load_configuration
from warning.daemon.pipeline import History
from warning.model import FeedHealth, Observation, ObservationKind

URL = f"{BASE}/inatews"


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    """A pipeline polling inatews at https://feeds.test/inatews."""
    return make_rig(write_settings(tmp_path))


def _serve(path: Path | bytes, status: int = 200, etag: str = '"v1"') -> None:
    body = path.read_bytes() if isinstance(path, Path) else path
    headers = {"ETag": etag} if status == 200 else {}
    responses.add(responses.GET, URL, body=body, status=status, headers=headers)


@responses.activate
def test_a_successful_poll_fires_the_coastal_alerts_and_enqueues_them(rig: Rig) -> None:
    """PD-1 SIAGA: coastal alerts fire, SMS and CAP (no sirens here) are enqueued, feed ok.

    The contacts fit one batch: their SMS are committed with the states, one wake-up.
    """
    _serve(PD1)
    result = rig.pipeline.poll("inatews")
    assert result.ok
    assert result.observations == 1
    assert {area for _, area in rig.firing()} == set(COASTAL)
    assert {r["channel"] for r in rig.outbox()} == {"sms", "cap"}
    assert rig.enqueued == [1]
    assert rig.store.feed("inatews").health is FeedHealth.OK


@responses.activate
def test_broadcast_rows_are_committed_and_the_outbox_woken_before_the_sms_are_planned(
    rig: Rig,
) -> None:
    """Sirens and CAP never wait for a fan-out over a batch: the first wake-up sees them alone.

    After it, one wake-up per SMS tier (officials first) or batch.
    """
    rig.pipeline.fan_out_batch = 5
    seen: list[set[str]] = []
    rig.pipeline.on_enqueued = lambda: seen.append({r["channel"] for r in rig.outbox()})
    _serve(PD1)
    rig.pipeline.poll("inatews")
    assert seen[0] == {"cap"}
    assert seen[1:] == [{"cap", "sms"}] * (len(seen) - 1)


@responses.activate
def test_a_poll_that_brings_nothing_new_judges_nothing(rig: Rig) -> None:
    """The same bulletin 13 h later: health only; the 12 h timeout is the clock tick's work."""
    _serve(PD1)
    rig.pipeline.poll("inatews")
    rig.clock.now += timedelta(hours=13)
    _serve(PD1, etag='"v2"')
    result = rig.pipeline.poll("inatews")
    assert (result.ok, result.observations, result.transitions) == (True, 0, 0)
    assert {area for _, area in rig.firing()} == set(COASTAL)
    assert rig.pipeline.tick().transitions == len(COASTAL)
    assert rig.firing() == set()


@responses.activate
def test_a_failed_poll_changes_health_only(rig: Rig) -> None:
    """A 503: degraded after one failure, no alert and no delivery."""
    _serve(b"down", status=503)
    result = rig.pipeline.poll("inatews")
    assert not result.ok
    assert "503" in (result.error or "")
    record = rig.store.feed("inatews")
    assert (record.health, record.failures) == (FeedHealth.DEGRADED, 1)
    assert rig.firing() == set()
    assert rig.outbox() == []


@responses.activate
def test_feed_health_gauge_is_set_after_every_poll(rig: Rig) -> None:
    """/metrics shows a feed that was never unhealthy as ok (2), and degraded (1) after a 503."""
    _serve(PD1)
    _serve(b"down", status=503)
    metrics = rig.pipeline.metrics
    rig.pipeline.poll("inatews")
    assert 'warning_feed_health{feed="inatews"} 2.0' in metrics.render().decode()
    rig.pipeline.poll("inatews")
    assert 'warning_feed_health{feed="inatews"} 1.0' in metrics.render().decode()


@responses.activate
def test_a_304_counts_as_success_and_evaluates_nothing_new(rig: Rig) -> None:
    """The second poll sends If-None-Match, hears 304 and changes nothing."""
    _serve(PD1)
    responses.add(responses.GET, URL, status=304)
    rig.pipeline.poll("inatews")
    rows = len(rig.outbox())
    again = rig.pipeline.poll("inatews")
    assert responses.calls[1].request.headers["If-None-Match"] == '"v1"'
    assert (again.ok, again.observations, again.transitions) == (True, 0, 0)
    assert len(rig.outbox()) == rows


@responses.activate
def test_an_event_older_than_max_age_is_ignored(tmp_path: Path) -> None:
    """inatews max_age_s is 6 h: the PD-1 polled a day later raises nothing."""
    rig = make_rig(write_settings(tmp_path), clock=Clock(AFTER_PD1 + timedelta(days=1)))
    _serve(PD1)
    result = rig.pipeline.poll("inatews")
    assert (result.ok, result.observations, result.transitions) == (True, 0, 0)
    assert rig.firing() == set()


@responses.activate
def test_an_event_dated_in_the_future_is_rejected_and_logged(tmp_path: Path) -> None:
    """An event feed's bulletin dated an hour ahead of the clock is dropped with a reason."""
    rig = make_rig(write_settings(tmp_path), clock=Clock(AFTER_PD1 - timedelta(hours=1)))
    _serve(PD1)
    with capture_logs() as logs:
        result = rig.pipeline.poll("inatews")
    assert result.observations == 0
    assert rig.firing() == set()
    rejected = [e for e in logs if e["event"] == "feed.item_rejected"]
    assert "in the future" in rejected[0]["reason"]


@responses.activate
def test_a_forecast_feed_keeps_future_observations(tmp_path: Path) -> None:
    """open-meteo is future_ok: hourly forecasts (prakiraan) ahead of the clock are evaluated."""
    url = f"{BASE}/open-meteo"
    settings = write_settings(tmp_path, {"open-meteo": url})
    name = "synthetic_openmeteo_forecast_34_kelurahan_hujan_utara.json"
    body = (FIXTURES / "open-meteo" / name).read_bytes()
    responses.add(responses.GET, re.compile(re.escape(url) + ".*"), body=body)
    first = min(_times(json.loads(body)))
    rig = make_rig(settings, clock=Clock(first - timedelta(days=1)))
    with capture_logs() as logs:
        result = rig.pipeline.poll("open-meteo")
    assert result.ok
    assert result.observations > 0
    assert not [e for e in logs if e["event"] == "feed.item_rejected"]


def _times(document: Any) -> list[datetime]:
    """The hourly times of an Open-Meteo document (one location or several)."""
    docs = document if isinstance(document, list) else [document]
    return [
        datetime.fromisoformat(text).replace(tzinfo=UTC)
        for doc in docs
        for text in doc.get("hourly", {}).get("time", [])
    ]


@responses.activate
def test_officials_hear_once_when_a_feed_goes_down_and_once_when_it_recovers(rig: Rig) -> None:
    """Three failures (down_after_failures=3) then five more, then a success: two notices each."""
    for _ in range(8):
        _serve(b"x", status=503)
    _serve(PD4)
    for _ in range(8):
        rig.pipeline.poll("inatews")
    down = [r for r in rig.outbox("sms") if "tidak tersedia" in r["payload_json"]]
    rig.pipeline.poll("inatews")
    recovered = [r for r in rig.outbox("sms") if "pulih" in r["payload_json"]]
    officials = [c for c in rig.pipeline.config.contacts if c.group == "officials"]
    assert len(down) == len(officials)
    assert len(recovered) == len(officials)
    assert rig.store.feed("inatews").health is FeedHealth.OK


@responses.activate
def test_a_failed_commit_leaves_nothing_and_the_next_poll_fetches_again(tmp_path: Path) -> None:
    """'database is locked' on commit: nothing stored; the retry re-fetches without validators."""
    settings = write_settings(tmp_path)
    store = LockedStore(settings.state_path)
    rig = make_rig(settings, store=store)
    _serve(PD1)
    _serve(PD1)
    store.failures = 1
    with pytest.raises(sqlite3.OperationalError):
        rig.pipeline.poll("inatews")
    assert rig.outbox() == []
    assert rig.firing() == set()
    result = rig.pipeline.poll("inatews")
    assert "If-None-Match" not in responses.calls[1].request.headers
    assert result.transitions == len(COASTAL)
    assert {area for _, area in rig.firing()} == set(COASTAL)


@responses.activate
def test_reload_with_the_same_rules_carries_firing_alerts_over(rig: Rig) -> None:
    """Reloading an unchanged configuration drops no state; alerts keep firing."""
    _serve(PD1)
    rig.pipeline.poll("inatews")
    before = rig.firing()
    dropped = rig.pipeline.reload(load_configuration(rig.settings))
    assert dropped == 0
    assert rig.firing() == before


@responses.activate
def test_reload_without_a_rule_drops_its_states(tmp_path: Path) -> None:
    """A rule removed by the reload loses its states; the count says how many."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for source in (ROOT / "rules").glob("*.yaml"):
        (rules / source.name).write_text(source.read_text())
    rig = make_rig(write_settings(tmp_path, rules_dir=rules))
    _serve(PD1)
    rig.pipeline.poll("inatews")
    firing = rig.firing()
    (rules / "tsunami.yaml").unlink()
    dropped = rig.pipeline.reload(load_configuration(rig.settings))
    assert dropped == len(firing)
    assert rig.firing() == set()


@responses.activate
def test_alert_log_lines_keep_the_alert_level_beside_the_log_level(rig: Rig) -> None:
    """alert.fired names the alert's level in its own key (`level` is the log level)."""
    _serve(PD1)
    stream = io.StringIO()
    log.configure("info", "json", stream)
    try:
        rig.pipeline.poll("inatews")
    finally:
        structlog.reset_defaults()
    fired = [json.loads(line) for line in stream.getvalue().splitlines() if "alert.fired" in line]
    assert fired
    assert {e["alert_level"] for e in fired} == {"siaga"}
    assert {e["level"] for e in fired} == {"info"}


def test_history_keeps_the_newest_forecast_of_each_slot_only() -> None:
    """Hourly model runs revise each slot: only the newest version is kept, readings all."""
    slot_start = datetime(2026, 2, 10, 6, tzinfo=UTC)

    def forecast(mm: float) -> Observation:
        values = {"precipitation_mm": mm, "period_s": 10800}
        return Observation("bmkg-forecast", ObservationKind.PRAKIRAAN, "slot-06",
                           slot_start, values, area_ids=("gunung-sari-ulu",))  # fmt: skip

    def reading(mm: float, hour: int) -> Observation:
        values = {"precipitation_mm": mm, "period_s": 3600}
        when = datetime(2026, 2, 10, hour, tzinfo=UTC)
        return Observation("open-meteo", ObservationKind.RAINFALL, f"r{hour}", when, values,
                           area_ids=("gunung-sari-ulu",))  # fmt: skip

    history = History([forecast(150.0), reading(3.0, 1)])
    assert history.add([forecast(150.0)]) == []
    history.add([forecast(90.0), reading(4.0, 2)])
    assert history.items() == [reading(3.0, 1), forecast(90.0), reading(4.0, 2)]
    history.prune(slot_start + timedelta(minutes=1))
    assert history.items() == []
    history.add([forecast(60.0)])
    assert history.items() == [forecast(60.0)]
