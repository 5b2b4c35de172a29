"""Storage faults: a locked database and a full disk give an error and a retry, no lost warning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import responses

from tests.daemon.pipeline_support import BASE, PD1, make_rig, write_settings
from tests.support.peers.config import COASTAL


def _serve_pd1() -> None:
    """PD-1 on every request (the retry must fetch it again: validators are forgotten)."""
    responses.add(responses.GET, f"{BASE}/inatews", body=PD1.read_bytes(), headers={"ETag": '"1"'})


@responses.activate
def test_a_locked_database_fails_the_poll_and_the_next_poll_delivers(tmp_path: Path) -> None:
    """Another process holds BEGIN EXCLUSIVE: the poll errors; once released, the SIAGA fires."""
    rig = make_rig(write_settings(tmp_path))
    rig.store.connection().execute("PRAGMA busy_timeout = 200")
    _serve_pd1()
    other = sqlite3.connect(rig.settings.state_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sqlite3.OperationalError) as caught:
        rig.pipeline.poll("inatews")
    other.execute("ROLLBACK")
    other.close()
    result = rig.pipeline.poll("inatews")
    print(f"injected BEGIN EXCLUSIVE; saw {caught.value!r}, then {result}")
    assert "locked" in str(caught.value)
    assert {area for _, area in rig.firing()} == set(COASTAL)
    assert rig.outbox("sms")


@responses.activate
def test_a_full_disk_fails_the_poll_and_the_next_poll_delivers(tmp_path: Path) -> None:
    """max_page_count at the current size: 'database or disk is full', then recovery delivers."""
    rig = make_rig(write_settings(tmp_path))
    conn = rig.store.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    _serve_pd1()
    with pytest.raises(sqlite3.OperationalError) as caught:
        rig.pipeline.poll("inatews")
    assert rig.firing() == set()
    conn.execute("PRAGMA max_page_count = 1073741823")
    result = rig.pipeline.poll("inatews")
    print(f"injected max_page_count={pages}; saw {caught.value!r}, then {result}")
    assert "full" in str(caught.value)
    assert {area for _, area in rig.firing()} == set(COASTAL)
    assert rig.outbox("sms")
