"""Feed health: ok -> degraded -> down by consecutive failures, one change reported each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warning.daemon.feedhealth import (
    HealthPolicy,
    after_failure,
    after_silence,
    after_success,
    silence,
    stale_after,
)
from warning.model import FeedHealth
from warning.store.interface import FeedRecord

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
POLICY = HealthPolicy(degraded_after=1, down_after=3)


def test_failures_degrade_then_take_down_reporting_each_change_once() -> None:
    """Five failures: degraded at 1, down at 3, no further changes reported."""
    record = FeedRecord(feed="inatews")
    changes = []
    for minute in range(5):
        record, change = after_failure(record, "HTTP 503", T0 + timedelta(minutes=minute), POLICY)
        changes.append(change)
    assert [c.after if c else None for c in changes] == [
        FeedHealth.DEGRADED,
        None,
        FeedHealth.DOWN,
        None,
        None,
    ]
    assert record.failures == 5
    assert record.health_since == T0 + timedelta(minutes=2)
    down = changes[2]
    assert down is not None
    assert down.went_down
    assert down.error == "HTTP 503"


def test_recovery_from_down_is_reported_once() -> None:
    """A success after an outage reports one recovery and resets the count."""
    record = FeedRecord(feed="usgs", health=FeedHealth.DOWN, failures=7, health_since=T0)
    record, change = after_success(record, T0 + timedelta(hours=1))
    assert change is not None
    assert change.recovered
    assert record.failures == 0
    record, change = after_success(record, T0 + timedelta(hours=2))
    assert change is None


def test_degraded_recovery_is_not_an_operator_recovery() -> None:
    """Back to ok from degraded changes health but is not a 'recovered' SMS."""
    record = FeedRecord(feed="usgs", health=FeedHealth.DEGRADED, failures=1, health_since=T0)
    _, change = after_success(record, T0)
    assert change is not None
    assert not change.recovered
    assert not change.went_down


def test_first_success_stamps_health_since_without_a_change() -> None:
    """A never-polled feed's first success is not a health change."""
    record, change = after_success(FeedRecord(feed="big-tide"), T0)
    assert change is None
    assert record.health_since == T0


def test_silence_runs_from_the_last_success_or_the_start_whichever_is_later() -> None:
    """Hours the daemon was off are not the feed's silence; a success after the start is."""
    started = T0 + timedelta(hours=5)
    old = FeedRecord(feed="usgs", last_success=T0)
    recent = FeedRecord(feed="usgs", last_success=started + timedelta(minutes=1))
    now = started + timedelta(minutes=3)
    assert silence(old, now, started) == timedelta(minutes=3)
    assert silence(recent, now, started) == timedelta(minutes=2)
    assert silence(FeedRecord(feed="usgs"), now, started) == timedelta(minutes=3)
    assert stale_after(30, POLICY) == timedelta(seconds=120)


def test_a_silent_feed_goes_down_once_and_a_stale_failure_keeps_it_down() -> None:
    """after_silence reports one change; a failure while silent does not lift it to degraded."""
    record, change = after_silence(FeedRecord(feed="inatews"), T0, timedelta(seconds=130))
    assert change is not None
    assert change.went_down
    assert record.last_error == "no successful poll for 130 s"
    again, repeated = after_silence(record, T0 + timedelta(minutes=1), timedelta(seconds=190))
    assert repeated is None
    failed, none = after_failure(again, "timed out", T0 + timedelta(minutes=2), POLICY, stale=True)
    assert none is None
    assert failed.health is FeedHealth.DOWN
