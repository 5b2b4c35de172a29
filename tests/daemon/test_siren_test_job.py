"""The monthly siren test: every siren gets the configured test command; acks are recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.peers import SirenServer
from warning.daemon.schedule import Daemon
from warning.settings import load_settings
from warning.store.status import status_report


def _config(tmp_path: Path, server: SirenServer, command: str) -> Path:
    """Two sirens served by one local controller server."""
    config = tmp_path / "warning.toml"
    config.write_text(
        f'[state]\npath = "{tmp_path / "w.db"}"\n[cap]\ndirectory = "{tmp_path / "cap"}"\n'
        f'[rules]\ndirectory = "{ROOT / "rules"}"\n[areas]\npath = "{ROOT / "areas.geojson"}"\n'
        f'[siren_test]\ncommand = "{command}"\n[sms]\nattempts = 1\n'
        f'[[sirens]]\nid = "manggar"\nurl = "{server.url_for("/manggar")}"\nareas = ["manggar"]\n'
        f'[[sirens]]\nid = "prapatan"\nurl = "{server.url_for("/prapatan")}"\n'
        'areas = ["prapatan"]\n',
        encoding="utf-8",
    )
    return config


def test_siren_test_sends_the_configured_command_and_records_acks(tmp_path: Path) -> None:
    """`silent-test` reaches every siren; status shows which acknowledged."""
    with SirenServer() as server:
        daemon = Daemon(load_settings(_config(tmp_path, server, "silent-test")))
        assert daemon.siren_test() == 2
        daemon.send_outbox()
        daemon.dispatcher.close()
        commands = server.commands()
    assert sorted(c["command"] for c in commands) == ["silent-test", "silent-test"]
    assert all(c["drill"] for c in commands)
    report = status_report(daemon.settings, datetime.now(UTC))
    assert report["last_siren_test"]["acknowledged"] == {"manggar": True, "prapatan": True}


def test_a_siren_that_refuses_the_test_is_reported_unacknowledged(tmp_path: Path) -> None:
    """A controller answering 400 to the test shows as not acknowledged."""
    with SirenServer(status=400) as server:
        daemon = Daemon(load_settings(_config(tmp_path, server, "test")))
        daemon.siren_test()
        daemon.send_outbox()
        daemon.dispatcher.close()
        assert {c["command"] for c in server.commands()} == {"test"}
    report = status_report(daemon.settings, datetime.now(UTC))
    assert report["last_siren_test"]["acknowledged"] == {"manggar": False, "prapatan": False}
