"""The state store: migrations, alert states and observations survive a reopen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warning.model import (
    AlertState,
    AlertStatus,
    Coverage,
    FeedHealth,
    Level,
    Observation,
    ObservationKind,
    Transition,
    TransitionKind,
)
from warning.store.interface import FeedRecord
from warning.store.sqlite import MIGRATIONS, Store

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _fired(drill: bool = False) -> Transition:
    """A transition to firing siaga for Manggar."""
    status = AlertStatus(
        rule_id="tsunami-siaga",
        area_id="manggar",
        state=AlertState.FIRING,
        level=Level.SIAGA,
        alert_id="tsunami-siaga:manggar:1",
        since=T0,
        last_notified=T0,
        event_id="ev1",
        fingerprint="abc",
        values={"bulletin": 1},
        drill=drill,
    )
    return Transition(kind=TransitionKind.FIRED, status=status, time=T0)


def test_wal_mode_and_schema_version(store: Store) -> None:
    """The database runs in WAL mode at the newest migration."""
    conn = store.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == max(v for v, _ in MIGRATIONS)


def test_states_survive_reopen(tmp_path: Path) -> None:
    """A restart continues from the stored statuses, drill kept apart from live."""
    path = tmp_path / "w.db"
    first = Store(path)
    with first.transaction() as tx:
        first.apply_transitions(tx, [_fired(), _fired(drill=True)])
    first.close()
    second = Store(path)
    live = second.load_states()
    assert live[("tsunami-siaga", "manggar")] == _fired().status
    assert live[("tsunami-siaga", "manggar")].values["bulletin"] == 1
    assert second.load_states(drill=True)[("tsunami-siaga", "manggar")].drill


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    """An error inside a transaction rolls back every write in it."""

    def crash_between_writes() -> None:
        with store.transaction() as tx:
            store.apply_transitions(tx, [_fired()])
            raise RuntimeError("crash between writes")

    with pytest.raises(RuntimeError):
        crash_between_writes()
    assert store.load_states() == {}


def test_observations_stored_once_and_read_back(store: Store) -> None:
    """Identical repeats are kept once; a window read returns them as they were."""
    obs = Observation(
        source="open-meteo",
        kind=ObservationKind.RAINFALL,
        event_id="om:1",
        time=T0,
        values={"precipitation_mm": 12.5, "period_s": 3600},
        area_ids=("manggar",),
    )
    with store.transaction() as tx:
        assert store.remember_observations(tx, [obs, obs], T0) == 1
        assert store.remember_observations(tx, [obs], T0) == 0
    assert store.recent_observations(T0 - timedelta(hours=1)) == [obs]
    with store.transaction() as tx:
        store.prune_observations(tx, T0 + timedelta(seconds=1))
    assert store.recent_observations(T0 - timedelta(hours=1)) == []


def test_stored_observations_keep_what_they_cover(store: Store) -> None:
    """A tide reading standing for the bay shore comes back as such, station point and all."""
    values = {"sea_level_m": 1.2, "datum": "gauge zero"}
    bay = ("kariangau", "prapatan")
    obs = Observation("big-tide", ObservationKind.SEA_LEVEL, "big-tide:1", T0, values,
                      116.79, -1.27, bay, coverage=Coverage.AREAS)  # fmt: skip
    with store.transaction() as tx:
        store.remember_observations(tx, [obs], T0)
    [back] = store.recent_observations(T0 - timedelta(hours=1))
    assert back == obs
    assert back.coverage is Coverage.AREAS


def test_feed_record_round_trip(store: Store) -> None:
    """Feed health and the last error persist."""
    record = FeedRecord(feed="inatews", health=FeedHealth.DOWN, failures=5, last_error="HTTP 503")
    with store.transaction() as tx:
        store.save_feed(tx, record)
    assert store.feed("inatews") == record
    assert store.feed("usgs") == FeedRecord(feed="usgs")


def test_migration_runs_once(tmp_path: Path) -> None:
    """A later migration is applied once, on the next open."""
    path = tmp_path / "w.db"
    Store(path).close()
    extra = (*MIGRATIONS, (99, "CREATE TABLE later (x INTEGER)"))
    Store(path, extra).close()
    Store(path, extra).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
    conn.close()


def test_audit_log_records_who(store: Store) -> None:
    """Operator actions are recorded with the actor."""
    with store.transaction() as tx:
        store.audit(tx, "operator:budi", "alert.cancel", {"alert_id": "a1"}, T0)
    [entry] = store.audit_entries()
    assert entry["actor"] == "operator:budi"
    assert entry["detail"] == {"alert_id": "a1"}


def test_window_replays_in_receipt_order(store: Store) -> None:
    """A revision received later comes later, even when its origin time is earlier."""
    first = Observation(
        source="bmkg-gempaterkini",
        kind=ObservationKind.EARTHQUAKE,
        event_id="q1",
        time=T0 + timedelta(seconds=1),
        values={"magnitude": 7.5},
    )
    revision = Observation(
        source="bmkg-gempaterkini",
        kind=ObservationKind.EARTHQUAKE,
        event_id="q1",
        time=T0,
        values={"magnitude": 7.4},
    )
    with store.transaction() as tx:
        store.remember_observations(tx, [first], T0)
        store.remember_observations(tx, [revision], T0 + timedelta(minutes=5))
    assert store.recent_observations(T0 - timedelta(hours=1)) == [first, revision]
