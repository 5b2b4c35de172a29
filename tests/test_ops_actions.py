"""`warning siren stop`, `warning alert send`, and two senders sharing one outbox."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.areas import city
from tests.support.operations import (
    CONTACTS,
    NOW,
    OFFICIAL,
    PUBLIC_EN,
    settings_of,
    write_config,
)
from tests.support.peers import TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.cli.main import main
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Dispatcher
from warning.model import ChangeKind, ChannelKind, DeliveryStatus, SirenCommand
from warning.operations import OperatorSettings
from warning.operations.actions import Sending, SendRequest, alert_send
from warning.plan.planner import operator_sirens, operator_sms
from warning.settings import SirenSettings, secret
from warning.store import outbox
from warning.store.sqlite import Store

SIRENS = (
    '[[sirens]]\nid = "sirene-manggar"\nurl = "http://127.0.0.1:9/siren"\nareas = ["manggar"]\n'
)


def test_siren_stop_enqueues_all_clear_and_supersedes_unsent_triggers(tmp_path: Path) -> None:
    """stop SIREN_ID: one all-clear row for it, its pending alert trigger superseded, audited."""
    config = write_config(tmp_path, extra=SIRENS)
    store = Store(tmp_path / "state.db")
    siren = SirenSettings(id="sirene-manggar", areas=("manggar",))
    with store.transaction() as tx:
        outbox.enqueue(
            tx,
            operator_sirens(
                "chg-x", ChangeKind.SIREN_TEST, [siren], SirenCommand.ALERT, drill=False, now=NOW
            ),
        )
    args = [
        "--config",
        str(config),
        "siren",
        "stop",
        "sirene-manggar",
        "--no-send",
        "--actor",
        "op",
    ]
    assert main(args) == 0
    rows = {r.payload["command"]: r.status for r in outbox.rows(store)}
    assert rows == {"alert": DeliveryStatus.SUPERSEDED, "all-clear": DeliveryStatus.PENDING}
    (entry,) = store.audit_entries()
    assert (entry["actor"], entry["action"], entry["detail"]["sirens"]) == (
        "op",
        "siren.stop",
        ["sirene-manggar"],
    )


def test_siren_stop_refuses_an_unknown_siren(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A siren id that is not configured exits 1 listing the known ones."""
    config = write_config(tmp_path, extra=SIRENS)
    assert main(["--config", str(config), "siren", "stop", "sirene-x", "--no-send"]) == 1
    assert 'unknown siren "sirene-x" (sirens: sirene-manggar)' in capsys.readouterr().out


def test_alert_send_refuses_without_a_terminal_or_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdin is not a terminal under pytest: without --yes nothing is enqueued, exit 1."""
    config = write_config(tmp_path)
    args = ["--config", str(config), "alert", "send", "--areas", "manggar", "--level", "siaga"]
    assert main([*args, "--message", "Air laut surut, menjauh dari pantai"]) == 1
    out = capsys.readouterr().out
    assert "SIAGA alert to 2 recipient(s) in 1 kelurahan" in out
    assert "stdin is not a terminal" in out
    assert outbox.rows(Store(tmp_path / "state.db")) == []


def test_alert_send_asks_and_sends_to_the_areas_contacts_in_group_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Confirmed on a terminal: SMS to contacts of the areas, officials first, audited."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    asked: list[str] = []
    with TwilioServer() as server:
        settings = OperatorSettings.of(settings_of(write_config(tmp_path, server.url)))
        request = SendRequest("lamaru,manggar", "siaga", "Air laut surut, menjauh dari pantai")
        code = alert_send(
            settings,
            request,
            "op",
            Sending(wait_s=20),
            confirm=lambda q: asked.append(q) or True,
            interactive=True,
        )
    assert code == 0
    assert asked == ["Send this alert?"]
    # The opted-out contact is not opted out here (no failure yet), so manggar has two.
    recipients = [r.form["To"] for r in server.requests]
    assert recipients[0] == OFFICIAL
    assert set(recipients) == {c.phone for c in CONTACTS if c.areas & {"manggar", "lamaru"}}
    assert server.requests[0].form["Body"] == "SIAGA: Air laut surut, menjauh dari pantai"
    assert Store(tmp_path / "state.db").audit_entries()[-1]["action"] == "alert.send"
    assert PUBLIC_EN in recipients


def test_alert_send_sounds_sirens_only_when_asked_at_siaga_or_above(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--siren at awas enqueues 'attack' for the covering siren; at waspada it is refused."""
    config = write_config(tmp_path, extra=SIRENS)
    base = ["--config", str(config), "alert", "send", "--areas", "manggar", "--yes", "--no-send"]
    assert main([*base, "--level", "waspada", "--siren", "--message", "uji"]) == 1
    assert "sirens sound only at siaga or awas" in capsys.readouterr().out
    assert (
        main(
            [
                *base,
                "--level",
                "awas",
                "--siren",
                "--message",
                "EVAKUASI",
                "--kind",
                "tsunami_warning",
            ]
        )
        == 0
    )
    rows = outbox.rows(Store(tmp_path / "state.db"))
    assert {(r.channel, r.recipient) for r in rows if r.channel is not ChannelKind.SMS} == {
        (ChannelKind.SIREN, "sirene-manggar"),
        (ChannelKind.CAP, "cap"),
    }
    assert next(r for r in rows if r.channel is ChannelKind.SIREN).payload["command"] == "attack"


def test_a_manual_alert_can_be_cancelled_by_its_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The id `alert send` prints is accepted by `alert cancel`; its unsent SMS are superseded."""
    config = write_config(tmp_path)
    base = ["--config", str(config), "alert"]
    assert (
        main(
            [
                *base,
                "send",
                "--areas",
                "lamaru",
                "--level",
                "siaga",
                "--message",
                "x",
                "--yes",
                "--no-send",
            ]
        )
        == 0
    )
    manual_id = next(r.change_id for r in outbox.rows(Store(tmp_path / "state.db")))
    assert f"alert {manual_id} enqueued" in capsys.readouterr().out
    assert main([*base, "cancel", manual_id, "--reason", "salah kirim", "--no-send"]) == 0
    statuses = {
        r.status for r in outbox.rows(Store(tmp_path / "state.db")) if r.change_id == manual_id
    }
    assert statuses == {DeliveryStatus.SUPERSEDED}


def test_two_dispatchers_on_one_outbox_never_send_a_row_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon and a command draining the same rows at once: every SMS arrives exactly once."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    phones = [f"+62812{n:08d}" for n in range(150)]
    with TwilioServer(latency_s=0.01) as server:
        settings = settings_of(write_config(tmp_path, server.url))
        store = Store(tmp_path / "state.db")
        with store.transaction() as tx:
            outbox.enqueue(
                tx,
                operator_sms("chg-many", ChangeKind.SEND_TEST, phones, "uji", drill=True, now=NOW),
            )

        def drain() -> None:
            own = Store(tmp_path / "state.db")  # each sender its own connection, like a process
            channels = build_channels(ChannelSettings.of(settings), city(), secret)
            Dispatcher(own, channels, settings.sms).drain(60.0)

        workers = [threading.Thread(target=drain) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert sorted(r.form["To"] for r in server.requests) == sorted(phones)
    assert {r.status for r in outbox.rows(store)} == {DeliveryStatus.SENT}
