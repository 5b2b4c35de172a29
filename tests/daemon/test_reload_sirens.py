"""SIGHUP reload: the channels are rebuilt from the settings file read again, not the start's."""

from __future__ import annotations

from pathlib import Path

from tests.support.paths import ROOT
from tests.support.peers import SirenServer
from warning.daemon.schedule import Daemon
from warning.settings import load_settings


def _write(config: Path, server: SirenServer, sirens: list[str]) -> None:
    """A settings file with one `[[sirens]]` entry per name, all served by `server`."""
    state = config.parent
    entries = "".join(
        f'[[sirens]]\nid = "{name}"\nurl = "{server.url_for("/" + name)}"\nareas = ["{name}"]\n'
        for name in sirens
    )
    config.write_text(
        f'[state]\npath = "{state / "w.db"}"\n[cap]\ndirectory = "{state / "cap"}"\n'
        f'[rules]\ndirectory = "{ROOT / "rules"}"\n[areas]\npath = "{ROOT / "areas.geojson"}"\n'
        f'[siren_test]\ncommand = "silent-test"\n[sms]\nattempts = 1\n{entries}',
        encoding="utf-8",
    )


def test_a_siren_added_and_reloaded_receives_the_next_trigger(tmp_path: Path) -> None:
    """A siren added to the settings file and reloaded is known to its channel, not only planned."""
    config = tmp_path / "warning.toml"
    with SirenServer() as server:
        _write(config, server, ["manggar"])
        daemon = Daemon(load_settings(config))
        _write(config, server, ["manggar", "prapatan"])
        assert daemon.reload()
        assert daemon.siren_test() == 2
        daemon.send_outbox()
        daemon.dispatcher.close()
        reached = sorted(c["command"] for c in server.commands("/prapatan"))
    assert reached == ["silent-test"]
