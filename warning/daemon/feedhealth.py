"""Feed health from consecutive failures: failure is a state, logged on change only.

Pure functions over `state.FeedRecord`: the poller applies them and acts on
the returned change (one log line and one operator SMS when a feed goes down,
one when it recovers).  A feed's health never touches alerts: an outage holds
every alert as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from warning.model import FeedHealth
from warning.store.interface import FeedRecord


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How many consecutive failures make a feed degraded, then down."""

    degraded_after: int = 1
    down_after: int = 5


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
    record: FeedRecord, error: str, now: datetime, policy: HealthPolicy
) -> tuple[FeedRecord, HealthChange | None]:
    """The record after a failed poll."""
    failures = record.failures + 1
    updated = replace(
        record,
        failures=failures,
        health=health_for(failures, policy),
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
