"""Checkpoints: a siren's small commit never copies the write-ahead log; bulk commits do.

Whichever commit crossed SQLite's automatic threshold used to copy the whole
log, and after a city's fan-out was superseded that was hundreds of megabytes,
paid by the next commit: a siren's (issue 15).  These tests look at the
database file itself: a row is in it only once a checkpoint copied it there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.support.operations import settings_of, write_config
from warning.daemon.schedule import Daemon, RunOptions
from warning.model import FeedHealth
from warning.store.interface import FeedRecord
from warning.store.sqlite import BULK_ROWS, Store

AT = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
#: Rows of some size: SQLite's own checkpoint (the old behaviour) starts at 1,000 pages.
PADDING = "x" * 400
NOTES = ((1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"),)


def _store(tmp_path: Path) -> Store:
    return Store(tmp_path / "warning.db", NOTES)


def _in_database_file(store: Store, needle: str) -> bool:
    """Whether `needle` was copied into the database file (not only written to the log)."""
    return needle.encode() in store.path.read_bytes()


@contextmanager
def _reader_holding(store: Store) -> Iterator[None]:
    """Another connection reading a snapshot of the store (its one row), for the body."""
    reader = sqlite3.connect(store.path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM notes").fetchone()[0] == 1  # the first row
    try:
        yield
    finally:
        reader.execute("COMMIT")
        reader.close()


def _write(store: Store, needle: str, rows: int) -> None:
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO notes (body) VALUES (?)",
            [(f"{needle}-{n}-{PADDING}",) for n in range(rows)],
        )


def test_a_small_commit_leaves_its_frames_in_the_log_until_the_checkpoint(
    tmp_path: Path,
) -> None:
    """A siren-sized commit returns without copying; `checkpoint()` copies it all."""
    store = _store(tmp_path)
    _write(store, "siren-claim", 3)
    assert not _in_database_file(store, "siren-claim")
    seen = store.checkpoint()
    assert seen.complete
    assert seen.frames > 0
    assert _in_database_file(store, "siren-claim")


def test_a_bulk_commit_copies_the_log_before_it_returns(tmp_path: Path) -> None:
    """A fan-out batch's commit pays for copying itself (and the small ones before it)."""
    store = _store(tmp_path)
    _write(store, "small-before", 1)
    _write(store, "fan-out", BULK_ROWS)
    assert _in_database_file(store, "fan-out")
    assert _in_database_file(store, "small-before")


def test_a_rest_a_reader_held_back_is_not_copied_by_the_next_small_commit(
    tmp_path: Path,
) -> None:
    """The bug of issue 15: the commit after a short-stopped copy paid for all of it.

    A reader holds a snapshot older than a bulk commit, so nothing of it can be
    copied, and the commit returns anyway.  Once the reader is done, a siren's
    small commit still copies nothing (SQLite's own checkpoint would have copied
    the whole rest in that commit); the next checkpoint does.
    """
    store = _store(tmp_path)
    _write(store, "first", 1)
    with _reader_holding(store):
        _write(store, "superseded", 12 * BULK_ROWS)
        assert not _in_database_file(store, "superseded")
    _write(store, "siren", 1)
    assert not _in_database_file(store, "superseded")
    seen = store.checkpoint()
    assert seen.complete
    assert _in_database_file(store, "superseded")
    assert _in_database_file(store, "siren")


def test_a_bulk_commit_tries_once_and_leaves_what_a_reader_holds_back_for_later(
    tmp_path: Path,
) -> None:
    """A fan-out batch does not wait for a reader: one copy outside the turn, then it returns.

    It used to try again every 10 ms for up to two seconds while a reader held
    back the copy: at 750,000 contacts the fan-out spent most of its time so.
    Nor does it queue for the write turn a second time to copy a short rest: the
    daemon's checkpoint does that.  SQLite's own statement trace counts the
    checkpoints the commit ran.
    """
    store = _store(tmp_path)
    _write(store, "first", 1)
    ran: list[str] = []
    store.connection().set_trace_callback(ran.append)
    with _reader_holding(store):
        _write(store, "held-back", 12 * BULK_ROWS)
        checkpoints = [s for s in ran if "wal_checkpoint" in s]
        assert checkpoints == ["PRAGMA wal_checkpoint(PASSIVE)"]
        assert not _in_database_file(store, "held-back")
    store.connection().set_trace_callback(None)
    assert store.checkpoint().complete
    assert _in_database_file(store, "held-back")


def test_the_daemon_checkpoints_on_its_own_clock(tmp_path: Path) -> None:
    """A daemon whose commits are all small (polls, claims) still copies its log."""
    daemon = Daemon(settings_of(write_config(tmp_path)), RunOptions())
    daemon.schedule()
    job = daemon.scheduler.get_job("checkpoint")
    assert job is not None
    with daemon.store.transaction() as tx:
        daemon.store.save_feed(tx, FeedRecord("needle-feed", FeedHealth.OK, 0, AT, None, None, AT))
    assert not _in_database_file(daemon.store, "needle-feed")
    job.func()
    assert _in_database_file(daemon.store, "needle-feed")
    daemon.dispatcher.close()


def test_an_in_memory_store_has_no_log_to_copy() -> None:
    """`:memory:` (tests, drills) has no write-ahead log: a checkpoint finds nothing."""
    store = Store(Path(":memory:"), NOTES)
    _write(store, "memory", BULK_ROWS)
    seen = store.checkpoint()
    assert seen.frames == 0
    assert seen.complete
