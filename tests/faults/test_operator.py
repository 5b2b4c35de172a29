"""Operator commands on the documented systemd install find the daemon's state and never lie.

An operator's shell has neither `$STATE_DIRECTORY` nor the daemon's
`LoadCredential=` secrets.  The commands must use the daemon's database
(the unit's StateDirectory), never create one, and never report an SMS that
was only logged as "sent": they say so and leave the rows to the daemon.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support.operations import RULE, fire, quake, send_all, settings_of, write_config
from tests.support.paths import ROOT
from warning import settings as settings_module
from warning.cli.main import main
from warning.model import ChannelKind, DeliveryStatus
from warning.settings import load_settings
from warning.store import outbox
from warning.store.outbox import OutboxRow
from warning.store.sqlite import Store


@pytest.fixture
def operator_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No systemd variables, no Twilio secrets; the unit's directories under tmp_path."""
    for name in ("STATE_DIRECTORY", "CREDENTIALS_DIRECTORY", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    state = tmp_path / "var-lib-warning"
    monkeypatch.setattr(settings_module, "SYSTEMD_STATE", state, raising=False)
    monkeypatch.setattr(
        settings_module, "SYSTEMD_CREDENTIALS", tmp_path / "no-credentials", raising=False
    )
    return state


def _example_config(tmp_path: Path) -> Path:
    """The example's `[state] path = ""`: the state location is left to the install."""
    config = tmp_path / "warning.toml"
    config.write_text(
        '[state]\npath = ""\n'
        f'[areas]\npath = "{ROOT / "areas.geojson"}"\n'
        '[sms]\nfrom = "BPBD-BPN"\n',
        encoding="utf-8",
    )
    return config


def test_commands_use_the_daemons_state_directory(operator_shell: Path, tmp_path: Path) -> None:
    """With `[state] path = ""` and no $STATE_DIRECTORY, the unit's warning.db is the state."""
    operator_shell.mkdir()
    Store(operator_shell / "warning.db").close()
    found = load_settings(_example_config(tmp_path)).state_path
    print(f"injected an operator shell without $STATE_DIRECTORY; state found at {found}")
    assert found == operator_shell / "warning.db"


def test_a_command_never_creates_a_database(
    operator_shell: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`alert send --yes` with no database where it looks: one clear line, exit 1, no file."""
    config = _example_config(tmp_path)
    looked = load_settings(config).state_path
    code = main(
        [
            "--config",
            str(config),
            "alert",
            "send",
            "--areas",
            "manggar",
            "--level",
            "siaga",
            "--message",
            "Uji",
            "--yes",
        ]
    )
    out = capsys.readouterr().out
    print(f"injected a missing database; exit {code}: {out.strip()}")
    assert code == 1
    assert out.startswith(f"no database at {looked}")
    assert len(out.strip().splitlines()) == 1
    assert not looked.exists()


def _cancel_in_operator_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Store, str, int, str]:
    """A sent alert cancelled from the shell: the store, the episode, exit code and output."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    send_all(store, settings_of(config))
    episode = store.load_states()[(RULE.id, "manggar")].alert_id
    capsys.readouterr()
    args = ["--config", str(config), "alert", "cancel", episode, "--reason", "uji coba"]
    code = main([*args, "--actor", "op", "--wait", "5"])
    return store, episode, code, capsys.readouterr().out


def _assert_left_for_the_daemon(rows: Sequence[OutboxRow]) -> None:
    """Rows only a logging channel saw: still pending, never marked sent with a `log:` id."""
    assert rows
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    assert not any((r.provider_id or "").startswith("log:") for r in rows)


def test_a_cancel_without_credentials_says_logged_only_and_leaves_sms_to_the_daemon(
    operator_shell: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Twilio secrets in the shell: never "sent" for a logged SMS; rows stay pending."""
    store, episode, code, out = _cancel_in_operator_shell(tmp_path, capsys)
    corrections = [
        r for r in outbox.rows(store) if r.channel is ChannelKind.SMS and r.change_id != episode
    ]
    corrections = [r for r in corrections if r.change_id.startswith("cancel-")]
    print(f"injected an operator shell without Twilio secrets; the command said: {out!r}")
    assert code == 0
    assert "logged only, not sent: no Twilio credentials" in out
    _assert_left_for_the_daemon(corrections)


def test_a_cancel_never_reports_a_logged_siren_all_clear_as_sent(
    operator_shell: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No [[sirens]] in the shell's settings: the all-clears are left to the daemon, not "sent".

    The sirens heard the alert (the daemon's rows), so the cancel plans their
    all-clears; a channel that only logs them must not mark them sent with a
    `log:` id and count them in "deliveries: sent N".
    """
    store, _episode, code, out = _cancel_in_operator_shell(tmp_path, capsys)
    rows = [r for r in outbox.rows(store) if r.change_id.startswith("cancel-")]
    all_clears = [r for r in rows if r.channel is ChannelKind.SIREN]
    sent = {r.channel for r in rows if r.status is DeliveryStatus.SENT}
    print(f"injected a shell without [[sirens]]; the command said: {out!r}")
    assert code == 0
    assert "siren commands logged only, not sent: no [[sirens]] configured" in out
    _assert_left_for_the_daemon(all_clears)
    assert sent == {ChannelKind.CAP}  # only the CAP Cancel file was really written
