"""One bad contacts row must not stop the start: valid rows load, the bad ones are told loudly.

Under systemd an exit 1 at start is a restart loop with no sirens and no
SMS.  At start the daemon loads every valid row and reports each bad one (a
log line each, /healthz "degraded", an SMS to the officials); a reload keeps
its all-or-nothing rule and keeps the running set.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.pipeline import write_settings
from warning.daemon.configuration import reload_configuration
from warning.daemon.schedule import Daemon
from warning.model import ChannelKind, ConfigError
from warning.store import outbox


def _with_bad_row(tmp_path: Path) -> Daemon:
    """The test contacts plus one row with an impossible number, then a daemon started."""
    settings = write_settings(tmp_path, feeds={})
    csv = tmp_path / "contacts.csv"
    with csv.open("a", encoding="utf-8") as rows:
        rows.write("+62 12,Salah ketik,manggar,public,id,true\n")
    daemon = Daemon(settings)
    daemon.announce()
    return daemon


def test_a_bad_contacts_row_is_left_out_and_told_without_stopping_the_start(
    tmp_path: Path,
) -> None:
    """The start loads every valid row; /healthz degraded; officials get one SMS naming the line."""
    daemon = _with_bad_row(tmp_path)
    lines = (tmp_path / "contacts.csv").read_text(encoding="utf-8").splitlines()
    report = daemon.monitor.report()
    told = [r for r in outbox.rows(daemon.store) if r.channel is ChannelKind.SMS]
    officials = {c.phone for c in daemon.config.contacts if c.group == "officials"}
    print(
        f"injected 1 bad row of {len(lines) - 1}; loaded {len(daemon.config.contacts)},"
        f" healthz {report.body['status']}, officials told: {len(told)} SMS"
    )
    assert len(daemon.config.contacts) == len(lines) - 2
    assert report.healthy
    assert report.body["status"] == "degraded"
    assert {r.recipient for r in told} == officials
    assert f"baris {len(lines)}" in told[0].payload["body"]
    assert len(told[0].payload["body"]) <= 160


def test_a_reload_with_a_bad_contacts_row_is_refused_whole(tmp_path: Path) -> None:
    """SIGHUP with the bad row still there: the reload is refused, the running set stays."""
    daemon = _with_bad_row(tmp_path)
    refused = reload_configuration(daemon.config)
    print(f"injected the same bad row at reload; saw {type(refused).__name__}")
    assert isinstance(refused, ConfigError)
    assert not daemon.reload()
    assert daemon.config.contact_problems
