"""`warning outbox`, `warning outbox retry ID` and `warning send-test --to PHONE`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from tests.support.paths import ROOT
from tests.support.peers import TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.cli.main import main
from warning.model import ChannelKind, Delivery
from warning.plan.planner import plan
from warning.store import outbox
from warning.store.sqlite import Store


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """main() points structlog at this test's captured stderr; forget it afterwards."""
    yield
    structlog.reset_defaults()


def _config(tmp_path: Path, api_base: str = "http://127.0.0.1:9") -> list[str]:
    config = tmp_path / "warning.toml"
    config.write_text(
        f'[state]\npath = "{tmp_path / "state.db"}"\n'
        f'[areas]\npath = "{ROOT / "areas.geojson"}"\n'
        f'[sms]\napi_base = "{api_base}"\nfrom = "BPBD-BPN"\n'
    )
    return ["--config", str(config)]


def _store_with_rows(tmp_path: Path) -> Store:
    store = Store(tmp_path / "state.db")
    people = [contact("+6281200000001", ["manggar"]), contact("+6281200000002", ["manggar"])]
    planned = plan(transitions(["manggar"]), [rule()], people, (), city(), drill=False, now=NOW)
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
    return store


def _claim_both(store: Store) -> list[Delivery]:
    """Both rows of `_store_with_rows`, claimed by worker "w"."""
    return outbox.claim(
        store, "w", now=NOW.timestamp(), lease_s=60, limit=2, channels=[ChannelKind.SMS]
    )


def test_outbox_lists_rows_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints every row with its status, channel, recipient and payload."""
    _store_with_rows(tmp_path)
    assert main([*_config(tmp_path), "outbox", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["status"], r["channel"], r["recipient"]) for r in rows} == {
        ("pending", "sms", "+6281200000001"),
        ("pending", "sms", "+6281200000002"),
    }
    assert rows[0]["payload"]["body"]


def test_outbox_json_names_each_rows_change_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each row names the change it belongs to as `change_id`; `alert_id` is an episode's name."""
    store = _store_with_rows(tmp_path)
    assert main([*_config(tmp_path), "outbox", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    changes = {r.change_id for r in outbox.rows(store)}
    assert {r["change_id"] for r in rows} == changes
    assert all("alert_id" not in r for r in rows)


def test_outbox_filters_by_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--status failed shows only failed rows."""
    store = _store_with_rows(tmp_path)
    (first, _) = outbox.claim(
        store, "w", now=NOW.timestamp(), lease_s=60, limit=2, channels=[ChannelKind.SMS]
    )
    outbox.mark_failed(store, first.id, "w", "HTTP 400 code 21211: invalid", "21211")
    assert main([*_config(tmp_path), "outbox", "--status", "failed"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert "failed" in lines[1]
    assert "21211" in lines[1]


def test_outbox_retry_makes_a_failed_row_pending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """retry ID re-queues a failed row; an unknown or sent id exits 1."""
    store = _store_with_rows(tmp_path)
    (first, second) = _claim_both(store)
    outbox.mark_failed(store, first.id, "w", "boom")
    outbox.mark_sent(store, second.id, "w", "SM1")
    assert main([*_config(tmp_path), "outbox", "retry", str(first.id)]) == 0
    assert main([*_config(tmp_path), "outbox", "retry", str(second.id)]) == 1
    assert main([*_config(tmp_path), "outbox", "retry", "999"]) == 1
    status = {r.id: r.status.value for r in outbox.rows(store)}
    assert status == {first.id: "pending", second.id: "sent"}
    assert "pending again" in capsys.readouterr().out


def test_outbox_retry_all_failed_requeues_every_failed_row_after_an_outage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """retry --all-failed makes every failed row pending again, audited; sent rows stay."""
    store = _store_with_rows(tmp_path)
    for row in _claim_both(store):
        outbox.mark_failed(store, row.id, "w", "gave up after 5 attempts: HTTP 503")
    assert main([*_config(tmp_path), "outbox", "retry", "--all-failed"]) == 0
    assert {r.status.value for r in outbox.rows(store)} == {"pending"}
    assert "2 failed deliveries are pending again" in capsys.readouterr().out
    assert store.audit_entries()[-1]["action"] == "outbox.retry"


def test_send_test_sends_one_drill_sms_through_twilio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """send-test --to enqueues and sends one LATIHAN: SMS through the real SMS channel."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    Store(tmp_path / "state.db").close()  # the daemon's database: send-test never makes one
    with TwilioServer() as server:
        code = main([*_config(tmp_path, server.url), "send-test", "--to", "+62 812-0000-0042"])
    assert code == 0
    (request,) = server.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form["To"] == "+6281200000042"
    assert request.form["Body"].startswith("LATIHAN: ")
    assert "sent to +6281200000042: SM" in capsys.readouterr().out


def test_send_test_refuses_a_bad_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A number that is not E.164 exits 1 before anything is enqueued."""
    assert main([*_config(tmp_path), "send-test", "--to", "0812"]) == 1
    assert "E.164" in capsys.readouterr().out
