"""Store transactions: a non-durable one is still atomic and leaves later ones durable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from warning.model import FeedHealth
from warning.store.interface import FeedRecord
from warning.store.sqlite import Store

FULL = 2  # PRAGMA synchronous: 2 = FULL (every commit waits for the disk)


def _record(at: datetime) -> FeedRecord:
    return FeedRecord("inatews", FeedHealth.OK, 0, at, None, None, at)


def test_a_non_durable_commit_is_kept_and_the_next_commits_wait_for_the_disk_again(
    tmp_path: Path,
) -> None:
    """An idle poll's bookkeeping commits without fsync; the connection returns to FULL."""
    store = Store(tmp_path / "warning.db")
    at = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    with store.transaction(durable=False) as tx:
        store.save_feed(tx, _record(at))
    assert store.connection().execute("PRAGMA synchronous").fetchone()[0] == FULL
    assert Store(tmp_path / "warning.db").feed("inatews").last_success == at


def test_a_failed_non_durable_transaction_is_rolled_back_and_full_sync_restored(
    tmp_path: Path,
) -> None:
    """An error inside rolls everything back, and durability is restored all the same."""
    store = Store(tmp_path / "warning.db")
    at = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)

    def fail_inside() -> None:
        with store.transaction(durable=False) as tx:
            store.save_feed(tx, _record(at))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert store.connection().execute("PRAGMA synchronous").fetchone()[0] == FULL
    assert store.feed("inatews").last_success is None
