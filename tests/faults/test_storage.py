"""Storage faults: a locked database and a full disk give an error and a retry, no lost warning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import responses

from tests.support.deployment import COASTAL
from tests.support.pipeline import BASE, PD1, make_rig, write_settings
from warning.cli.main import main
from warning.daemon.schedule import Daemon
from warning.store.sqlite import Store


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


@pytest.mark.parametrize("command", [["status"], ["outbox"], ["run", "--once"]])
def test_a_corrupt_database_is_one_clear_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A state file of garbage: no traceback, one line naming the file, exit 1."""
    settings = write_settings(tmp_path, feeds={})
    settings.state_path.write_bytes(b"this is not a database\n" * 200)
    code = main(["--config", str(tmp_path / "warning.toml"), *command])
    out = capsys.readouterr()
    said = (out.out + out.err).strip()
    print(f"injected a garbage state file; `warning {' '.join(command)}` exit {code}: {said}")
    assert code == 1
    assert "Traceback" not in said
    assert len(out.out.strip().splitlines()) == 1
    assert str(settings.state_path) in out.out


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_deleted_or_replaced_under_the_daemon_stops_it(tmp_path: Path, how: str) -> None:
    """The next heartbeat sees another (or no) file: the daemon stops with exit 1."""
    settings = write_settings(tmp_path, feeds={})
    daemon = Daemon(settings)
    settings.state_path.unlink()
    if how == "replaced":
        Store(settings.state_path).close()
    daemon.heartbeat()
    print(f"injected the database {how}; exit code {daemon.exit_code}")
    assert daemon.exit_code == 1
