"""A Pipeline on a real store, the shipped rules and the test contacts, fetching fake URLs.

Feeds point at `https://feeds.test/<name>` so `responses` (or a FeedServer URL
given instead) answers; the clock is a settable `Clock`, by default just after
the recorded synthetic InaTEWS SIAGA bulletin was sent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.deployment import (
    SIRENS,
    TestContact,
    contacts,
    feed_tables,
    siren_tables,
    write_settings_file,
)
from tests.support.paths import AREAS_FILE, FIXTURES, ROOT
from warning.daemon.configuration import load_configuration
from warning.daemon.health import Metrics
from warning.daemon.pipeline import Pipeline
from warning.http import HttpClient
from warning.settings import Settings, load_settings
from warning.store.sqlite import Store

PD1 = FIXTURES / "inatews" / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"
PD4 = FIXTURES / "inatews" / "synthetic_inatews_pd4_ended_kaltim_balikpapan.json"
#: Five minutes after the synthetic PD-1 was sent (10:15:12 WIB = 03:15:12 UTC).
AFTER_PD1 = datetime(2026, 3, 10, 3, 20, tzinfo=UTC)
BASE = "https://feeds.test"


class Clock:
    """A settable clock for the pipeline."""

    def __init__(self, now: datetime = AFTER_PD1) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def write_settings(
    directory: Path,
    feeds: Mapping[str, str] | None = None,
    *,
    down_after_failures: int = 3,
    rules_dir: Path | None = None,
    intervals: Mapping[str, float] | None = None,
    sirens: bool = False,
    also: Sequence[TestContact] = (),
    extra: str = "",
) -> Settings:
    """Settings with the given feeds enabled (name -> URL; default inatews at BASE).

    `intervals` sets some feeds' `interval_s` (the others keep their defaults);
    `sirens` adds the coastal sirens of the test peers (at an address nobody serves);
    `also` adds contacts to the test contacts, `extra` settings text at the end.
    """
    feeds = feeds if feeds is not None else {"inatews": f"{BASE}/inatews"}
    tables: dict[str, dict[str, object]] = {
        "state": {"path": str(directory / "warning.db")},
        "rules": {"directory": str(rules_dir or ROOT / "rules")},
        "areas": {"path": str(AREAS_FILE)},
        "http": {"attempts": 1, "backoff_s": 0.01, "connect_timeout_s": 1.0, "read_timeout_s": 1.0},
        "health": {"down_after_failures": down_after_failures, "degraded_after_failures": 1},
        "cap": {"directory": str(directory / "cap")},
    }
    nowhere = siren_tables(SIRENS if sirens else {}, lambda _s: "http://127.0.0.1:9/siren")
    more = [*feed_tables(feeds, intervals), *nowhere]
    people = [*contacts(), *also]
    return load_settings(write_settings_file(directory, tables, people, more=more, extra=extra))


@dataclass
class Rig:
    """A pipeline and what it was built from."""

    settings: Settings
    store: Store
    pipeline: Pipeline
    clock: Clock
    enqueued: list[int]

    def outbox(self, channel: str | None = None) -> list[sqlite3.Row]:
        """Outbox rows (of one channel)."""
        conn = self.store.connection()
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()
        return [r for r in rows if channel is None or r["channel"] == channel]

    def firing(self) -> set[tuple[str, str]]:
        """(rule, area) of the live alerts firing now."""
        states = self.store.load_states()
        return {k for k, s in states.items() if s.state.value == "firing"}


def make_rig(settings: Settings, store: Store | None = None, clock: Clock | None = None) -> Rig:
    """A pipeline over `settings` with a real store and metrics."""
    store = store or Store(settings.state_path)
    clock = clock or Clock()
    enqueued: list[int] = []
    pipeline = Pipeline(
        store,
        load_configuration(settings),
        metrics=Metrics(),
        client=HttpClient(settings.http, sleep=lambda _s: None),
        clock=clock,
        on_enqueued=lambda: enqueued.append(1),
    )
    return Rig(settings, store, pipeline, clock, enqueued)


class LockedStore(Store):
    """A store whose next `failures` transactions fail as a locked database does.

    `after` transactions are let through first (a crash part-way through a poll).
    """

    def __init__(self, path: Path, failures: int = 0, message: str = "database is locked") -> None:
        self.failures = failures
        self.after = 0
        self.message = message
        super().__init__(path)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """Fail while failures remain, else the real transaction."""
        if self.after > 0:
            self.after -= 1
        elif self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError(self.message)
        with super().transaction(durable=durable) as tx:
            yield tx
