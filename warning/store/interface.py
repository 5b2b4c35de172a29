"""The store's interface: what the daemon, drills and operations need from persistence.

`sqlite.Store` implements it today; a PostgreSQL store (two sites, leader lease,
fenced claims) is meant to be a second implementation of the same Protocol.
`Tx` is the implementation's transaction handle, passed back into its own
writes so that an evaluation's states and deliveries commit together.  The
outbox (`store/outbox.py`) and the read models are still functions over the
SQLite store: they are the next part to put behind this Protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from warning.model import AlertStatus, FeedHealth, Observation, Transition

Tx = TypeVar("Tx")


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """What the store remembers about one feed."""

    feed: str
    health: FeedHealth = FeedHealth.OK
    failures: int = 0
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    health_since: datetime | None = None


@runtime_checkable
class StateStore(Protocol[Tx]):
    """Alert states and their log, recent observations, feed state and the audit log."""

    def transaction(self, *, durable: bool = True) -> AbstractContextManager[Tx]:
        """One atomic unit of writes (`durable=False`: need not wait for the disk)."""

    def load_states(self, *, drill: bool = False) -> dict[tuple[str, str], AlertStatus]:
        """Every remembered (rule, area) status of live (or drill) alerting."""

    def apply_transitions(self, tx: Tx, transitions: Iterable[Transition]) -> None:
        """Store each transition's new status and log it."""

    def replace_states(
        self, tx: Tx, states: Mapping[tuple[str, str], AlertStatus], *, drill: bool
    ) -> None:
        """Make the stored statuses exactly `states`."""

    def remember_observations(
        self, tx: Tx, observations: Iterable[Observation], received_at: datetime
    ) -> int:
        """Keep observations for windowed rules; identical repeats once."""

    def recent_observations(self, since: datetime) -> list[Observation]:
        """Observations dated from `since`."""

    def prune_observations(self, tx: Tx, before: datetime) -> int:
        """Forget observations dated before `before`."""

    def feed(self, name: str) -> FeedRecord:
        """One feed's state."""

    def feeds(self) -> list[FeedRecord]:
        """Every feed that has been polled."""

    def save_feed(self, tx: Tx, record: FeedRecord) -> None:
        """Store a feed's state."""

    def audit(
        self, tx: Tx, actor: str, action: str, detail: Mapping[str, Any], at: datetime
    ) -> None:
        """Record an operator or system action."""

    def audit_entries(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Audit entries, oldest first."""
