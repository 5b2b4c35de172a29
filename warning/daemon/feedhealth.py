"""Feed health from consecutive failures and from silence: failure is a state, logged on change.

Pure functions over `state.FeedRecord`: the poller applies them and acts on
the returned change (one log line and one operator SMS when a feed goes down,
one when it recovers).  A feed's health never touches alerts: an outage holds
every alert as it was.

Counting failures alone misses the worst outage: a poll that never ends
records no failure at all.  So the age of the last success is judged too: a
feed silent for longer than the polls that would take it down by failures
(`stale_after`) is down, whatever its last outcome was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from warning.model import FeedHealth
from warning.store.interface import FeedRecord


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How many consecutive failures make a feed degraded, then down.

    `grace_s` is how long one poll may legitimately take (the fetch deadline):
    a feed is not silent before its slowest honest poll could have ended.
    """

    degraded_after: int = 1
    down_after: int = 5
    grace_s: float = 0.0


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A feed moved from one health to another."""

    feed: str
    before: FeedHealth
    after: FeedHealth
    at: datetime
    error: str | None = None

    @property
    def went_down(self) -> bool:
        """The feed is now down (operators are told once)."""
        return self.after is FeedHealth.DOWN

    @property
    def recovered(self) -> bool:
        """The feed was down and works again (operators are told once)."""
        return self.before is FeedHealth.DOWN and self.after is FeedHealth.OK


def health_for(failures: int, policy: HealthPolicy) -> FeedHealth:
    """The health that a run of consecutive failures means."""
    if failures >= policy.down_after:
        return FeedHealth.DOWN
    if failures >= policy.degraded_after:
        return FeedHealth.DEGRADED
    return FeedHealth.OK


def stale_after(interval_s: float, policy: HealthPolicy) -> timedelta:
    """How long a feed may go without a success: the polls that take it down, plus one,
    plus the time one poll may take."""
    return timedelta(seconds=interval_s * (policy.down_after + 1) + policy.grace_s)


def silence(record: FeedRecord, now: datetime, watched_since: datetime) -> timedelta:
    """Time since the feed's last success, counted from `watched_since` at the earliest.

    A feed is not blamed for hours the daemon was not running: before its first
    success since the start, the silence runs from the start.
    """
    last = record.last_success
    return now - (max(last, watched_since) if last is not None else watched_since)


def overdue(
    record: FeedRecord,
    now: datetime,
    watched_since: datetime,
    interval_s: float,
    policy: HealthPolicy,
) -> timedelta | None:
    """The feed's silence when it is longer than `stale_after`, else None."""
    silent = silence(record, now, watched_since)
    return silent if silent > stale_after(interval_s, policy) else None


def after_silence(
    record: FeedRecord, now: datetime, silent: timedelta
) -> tuple[FeedRecord, HealthChange | None]:
    """The record of a feed silent for `silent`, longer than its bound: down."""
    error = f"no successful poll for {silent.total_seconds():.0f} s"
    if record.health is FeedHealth.DOWN:
        return record, None
    updated = replace(record, health=FeedHealth.DOWN, last_error=error, last_error_at=now)
    return _with_change(record, updated, now, error)


def after_success(record: FeedRecord, now: datetime) -> tuple[FeedRecord, HealthChange | None]:
    """The record after a successful poll (a 304 counts as success)."""
    updated = replace(
        record,
        health=FeedHealth.OK,
        failures=0,
        last_success=now,
    )
    return _with_change(record, updated, now, None)


def after_failure(
    record: FeedRecord, error: str, now: datetime, policy: HealthPolicy, *, stale: bool = False
) -> tuple[FeedRecord, HealthChange | None]:
    """The record after a failed poll; `stale` (silent too long) keeps it down."""
    failures = record.failures + 1
    updated = replace(
        record,
        failures=failures,
        health=FeedHealth.DOWN if stale else health_for(failures, policy),
        last_error=error,
        last_error_at=now,
    )
    return _with_change(record, updated, now, error)


def _with_change(
    before: FeedRecord, after: FeedRecord, now: datetime, error: str | None
) -> tuple[FeedRecord, HealthChange | None]:
    """Stamp `health_since` and describe the change, if the health changed."""
    if before.health is after.health and before.health_since is not None:
        return after, None
    after = replace(after, health_since=now)
    if before.health is after.health:
        return after, None
    return after, HealthChange(after.feed, before.health, after.health, now, error)
