"""`warning alert cancel`: a false alert corrected in seconds, to exactly those who got it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from tests.support.areas import city
from tests.support.operations import (
    NOW,
    OFFICIAL,
    OPTED_OUT,
    PUBLIC_EN,
    RULE,
    fire,
    quake,
    send_all,
    settings_of,
    write_config,
)
from tests.support.peers import SirenServer, TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.cli.main import main
from warning.model import AlertState, ChannelKind, DeliveryStatus
from warning.rules.engine import evaluate
from warning.store import outbox
from warning.store.sqlite import MIGRATIONS, Store


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> TwilioServer:
    """A local Twilio, with credentials in the environment for the command."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    with TwilioServer() as server:
        yield server


def _sent_alert(tmp_path: Path, api_base: str = "http://127.0.0.1:9") -> tuple[Path, Store, str]:
    """Config, store and the manggar episode id of an alert whose rows were all sent.

    `api_base`: the Twilio the operator's command will use (the alert's own rows are
    sent without credentials, whatever it is).
    """
    config = write_config(tmp_path, api_base)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    # Sent with no Twilio credentials: the log channel stands in for the first send.
    send_all(store, settings_of(config))
    episode = store.load_states()[(RULE.id, "manggar")].alert_id
    return config, store, episode


def _cancel(config: Path, *ids: str, extra: tuple[str, ...] = ()) -> int:
    return main(
        [
            "--config",
            str(config),
            "alert",
            "cancel",
            *ids,
            "--reason",
            "data uji, bukan gempa",
            "--actor",
            "operator-1",
            "--wait",
            "20",
            *extra,
        ]
    )


def test_correction_sms_goes_to_exactly_the_numbers_that_received_the_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cancelling by change id texts those whose SMS was sent, never the failed or unaffected."""
    config, store, _ = _sent_alert(tmp_path)
    change_id = next(r.change_id for r in outbox.rows(store) if r.channel is ChannelKind.SMS)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    with TwilioServer() as server:
        config = write_config(tmp_path, server.url)
        assert _cancel(config, change_id) == 0
    bodies = {r.form["To"]: r.form["Body"] for r in server.requests}
    assert set(bodies) == {OFFICIAL, PUBLIC_EN}
    assert OPTED_OUT not in bodies
    assert (
        bodies[OFFICIAL]
        == "KOREKSI: peringatan gempa SIAGA di Manggar dibatalkan: data uji, bukan gempa"
    )
    assert (
        bodies[PUBLIC_EN]
        == "CORRECTION: earthquake SIAGA warning for Lamaru cancelled: data uji, bukan gempa"
    )
    assert "cancelled gempa in 2 kelurahan" in capsys.readouterr().out


def test_cancel_by_episode_id_ends_only_that_kelurahan(
    tmp_path: Path, twilio: TwilioServer
) -> None:
    """An episode id from `warning status` cancels its own (rule, kelurahan) and no other."""
    config, store, episode = _sent_alert(tmp_path, twilio.url)
    assert _cancel(config, episode) == 0
    states = store.load_states()
    assert states[(RULE.id, "manggar")].state is AlertState.CANCELLED
    assert states[(RULE.id, "lamaru")].state is AlertState.FIRING
    assert [r.form["To"] for r in twilio.requests] == [OFFICIAL]


def test_cancel_sends_siren_all_clear_and_a_cap_cancel_through_the_outbox(
    tmp_path: Path, twilio: TwilioServer
) -> None:
    """The triggered siren's controller hears all-clear; CAP narrows the warning to Lamaru.

    Only Manggar's episode is cancelled: a Cancel would withdraw the combined
    message for Lamaru too, so the CAP writer publishes an Update for Lamaru alone.
    """
    config, store, episode = _sent_alert(tmp_path)
    with SirenServer() as controller:
        siren = f'[[sirens]]\nid = "sirene-manggar"\nurl = "{controller.url_for("/m")}"\n'
        config = write_config(tmp_path, twilio.url, extra=siren + 'areas = ["manggar"]\n')
        assert _cancel(config, episode) == 0
        heard = [c["command"] for c in controller.commands()]
    rows = [r for r in outbox.rows(store) if r.change_id.startswith("cancel-")]
    sirens = [r for r in rows if r.channel is ChannelKind.SIREN]
    assert [(r.recipient, r.payload["command"], r.status) for r in sirens] == [
        ("sirene-manggar", "all-clear", DeliveryStatus.SENT)
    ]
    assert heard == ["all-clear"]
    (cap,) = [r for r in rows if r.channel is ChannelKind.CAP]
    assert cap.payload["transition"] == "cancelled_by_operator"
    assert cap.status is DeliveryStatus.SENT
    document = etree.parse(str(tmp_path / "cap" / f"{cap.provider_id}.xml"))
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert document.findtext("cap:msgType", namespaces=ns) == "Update"
    assert document.findtext("cap:references", namespaces=ns)
    assert document.findtext("cap:info/cap:area/cap:areaDesc", namespaces=ns) == "Lamaru"


def test_cancel_is_audited_with_the_actor_and_logged_as_an_alert_change(
    tmp_path: Path, twilio: TwilioServer
) -> None:
    """audit_log names who cancelled and why; alert_log records the cancelled episode."""
    config, store, episode = _sent_alert(tmp_path, twilio.url)
    assert _cancel(config, episode) == 0
    (entry,) = [e for e in store.audit_entries() if e["action"] == "alert.cancel"]
    assert entry["actor"] == "operator-1"
    assert entry["detail"]["reason"] == "data uji, bukan gempa"
    assert entry["detail"]["cancels"][0]["episodes"] == [episode]
    logged = (
        store.connection()
        .execute("SELECT kind, reason FROM alert_log WHERE alert_id = ? ORDER BY id", (episode,))
        .fetchall()
    )
    assert [r["kind"] for r in logged] == ["fired", "cancelled"]
    assert logged[-1]["reason"] == "cancelled by operator operator-1: data uji, bukan gempa"


def test_actor_defaults_to_the_sudo_caller(
    tmp_path: Path, twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --actor, SUDO_USER names who ran the command."""
    config, store, episode = _sent_alert(tmp_path, twilio.url)
    monkeypatch.setenv("SUDO_USER", "budi")
    args = ["--config", str(config), "alert", "cancel", episode, "--reason", "salah"]
    assert main(args) == 0
    assert store.audit_entries()[-1]["actor"] == "budi"


def test_unsent_rows_of_a_cancelled_alert_are_superseded_and_get_no_correction(
    tmp_path: Path,
) -> None:
    """Nothing was sent yet: the pending SMS and siren rows are superseded, nobody is texted."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    change_id = outbox.rows(store)[0].change_id
    assert _cancel(config, change_id, extra=("--no-send",)) == 0
    old = [r for r in outbox.rows(store) if r.change_id == change_id]
    assert {r.status for r in old if r.channel is not ChannelKind.CAP} == {
        DeliveryStatus.SUPERSEDED
    }
    corrections = [r for r in outbox.rows(store) if r.change_id.startswith("cancel-")]
    assert [r.channel for r in corrections] == [ChannelKind.CAP]


def test_a_cancelled_event_does_not_fire_again_on_the_next_poll(
    tmp_path: Path, twilio: TwilioServer
) -> None:
    """The same observation evaluated after the cancel starts nothing; a new event does."""
    _config, store, _ = _sent_alert(tmp_path)
    change_id = outbox.rows(store)[-1].change_id
    assert _cancel(write_config(tmp_path, twilio.url), change_id) == 0
    later = NOW.replace(minute=31)
    assert evaluate([RULE], [quake()], city(), store.load_states(), later) == []
    fresh = evaluate([RULE], [quake(), quake("ev-2")], city(), store.load_states(), later)
    assert {(t.area_id, t.kind.value) for t in fresh} == {("manggar", "fired"), ("lamaru", "fired")}


def test_unknown_or_ended_alert_ids_exit_1_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], twilio: TwilioServer
) -> None:
    """A typo or an already cancelled id is refused with a clear message, nothing enqueued."""
    config, store, episode = _sent_alert(tmp_path, twilio.url)
    assert _cancel(config, "gempa:nowhere:1") == 1
    assert 'unknown alert id "gempa:nowhere:1"' in capsys.readouterr().out
    assert _cancel(config, episode) == 0
    before = len(outbox.rows(store))
    assert _cancel(config, episode) == 1
    assert "is not firing (it is cancelled)" in capsys.readouterr().out
    assert len(outbox.rows(store)) == before


def test_cancel_with_a_daemon_running_leaves_rows_for_it_in_one_transaction(
    tmp_path: Path,
) -> None:
    """--no-send only writes: state, outbox rows and audit entry, all committed together."""
    config, store, episode = _sent_alert(tmp_path)
    assert _cancel(config, episode, extra=("--no-send",)) == 0
    rows = [r for r in outbox.rows(store) if r.change_id.startswith("cancel-")]
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    assert {r.recipient for r in rows if r.channel is ChannelKind.SMS} == {OFFICIAL}
    assert json.dumps(store.audit_entries()[-1]["detail"])


def _version_3_objects(tmp: Path) -> set[tuple[str, str]]:
    """(type, name) of every table and index a database at schema version 3 has."""
    Store(tmp / "v3.db", MIGRATIONS[:3]).close()
    with sqlite3.connect(tmp / "v3.db") as conn:
        found = conn.execute("SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL")
        objects = {(kind, name) for kind, name in found}
    conn.close()
    return objects


def _as_version_3(path: Path) -> None:
    """Undo migration 4 on: the database as a daemon before the change id's rename left it."""
    keep = _version_3_objects(path.parent)
    with sqlite3.connect(path) as conn:
        # Migration 11's: each row's areas back in `outbox_areas`, one row per area.
        conn.execute(
            "CREATE TABLE outbox_areas (delivery_id INTEGER NOT NULL REFERENCES outbox (id),"
            " area_id TEXT NOT NULL, PRIMARY KEY (delivery_id, area_id))"
        )
        conn.execute(
            "INSERT INTO outbox_areas SELECT o.id, m.area_id FROM outbox o"
            " JOIN area_set_members m ON m.set_id = o.area_set"
        )
        found = conn.execute("SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL")
        for kind, name in [(k, n) for k, n in found if (k, n) not in keep]:
            conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        conn.execute(
            "UPDATE outbox SET payload_json = json_set(json_remove(payload_json, '$.change_id'),"
            " '$.alert_id', json_extract(payload_json, '$.change_id'))"
            " WHERE json_type(payload_json, '$.change_id') IS NOT NULL"
        )
        conn.execute("ALTER TABLE alert_changes DROP COLUMN origin")
        conn.execute("ALTER TABLE outbox DROP COLUMN ack_token")  # migration 10's
        conn.execute("ALTER TABLE outbox DROP COLUMN area_set")  # migration 11's
        conn.execute("PRAGMA user_version = 3")
    conn.close()


def test_a_version_3_database_migrates_keeping_its_rows_and_its_ids_still_cancel(
    tmp_path: Path, twilio: TwilioServer
) -> None:
    """Rows stored under `alert_id` keep their change id as `change_id`; the id still cancels."""
    _, store, _ = _sent_alert(tmp_path)
    before = {(r.id, r.change_id, r.status) for r in outbox.rows(store)}
    store.close()
    _as_version_3(tmp_path / "state.db")
    legacy = Store(tmp_path / "state.db", MIGRATIONS[:3])
    assert all("change_id" not in r.payload for r in outbox.rows(legacy))
    legacy.close()
    store = Store(tmp_path / "state.db")
    rows = outbox.rows(store)
    assert {(r.id, r.change_id, r.status) for r in rows} == before
    for row in rows:
        if row.channel is not ChannelKind.SMS:
            assert row.payload["change_id"] == row.change_id
            assert "alert_id" not in row.payload
    siren_change = next(r.change_id for r in rows if r.channel is ChannelKind.SIREN)
    assert _cancel(write_config(tmp_path, twilio.url), siren_change) == 0
    assert store.load_states()[(RULE.id, "manggar")].state is AlertState.CANCELLED
