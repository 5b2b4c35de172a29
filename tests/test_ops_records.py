"""`warning audit export`, `warning backup`, outbox retention and `warning status`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.operations import NOW, fire, quake, send_all, settings_of, write_config
from warning.cli.main import main
from warning.cli.status import render_text
from warning.store import outbox
from warning.store.interface import FeedRecord
from warning.store.records import table_counts
from warning.store.sqlite import Store
from warning.store.status import status_report


def _history(tmp_path: Path) -> tuple[Path, Store]:
    """An alert fired and sent, and one operator action."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    fire(store, quake())
    send_all(store, settings_of(config))
    with store.transaction() as tx:
        store.audit(tx, "op", "outbox.retry", {"id": 1}, NOW)
    return config, store


def test_audit_export_json_has_alerts_deliveries_and_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json: the three record kinds, each oldest first."""
    config, _ = _history(tmp_path)
    capsys.readouterr()
    assert main(["--config", str(config), "audit", "export", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {a["area"] for a in records["alerts"]} == {"manggar", "lamaru"}
    assert {d["channel"] for d in records["deliveries"]} == {"siren", "sms", "cap"}
    assert records["actions"] == [
        {"time": NOW.isoformat(), "actor": "op", "action": "outbox.retry", "detail": {"id": 1}}
    ]


def test_audit_export_csv_rows_are_typed_and_since_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV (the default) labels each row's type; --since after everything leaves the header."""
    config, store = _history(tmp_path)
    capsys.readouterr()
    assert main(["--config", str(config), "audit", "export"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["type"] for r in rows} == {"alert", "delivery", "action"}
    assert len(rows) == 2 + len(outbox.rows(store)) + 1
    assert main(["--config", str(config), "audit", "export", "--since", "2099-01-01"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [
        "type,time,alert_id,change_id,rule_id,area,level,kind,channel,recipient,status,actor,detail"
    ]


def test_backup_copies_every_row_while_another_process_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy is consistent and complete even with a write transaction open elsewhere."""
    config, store = _history(tmp_path)
    writer = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO audit_log (time, actor, action, detail_json) VALUES ('x', 'y', 'z', '{}')"
    )
    target = tmp_path / "backup.db"
    try:
        assert main(["--config", str(config), "backup", str(target)]) == 0
    finally:
        writer.execute("ROLLBACK")
    copy = sqlite3.connect(target)
    assert table_counts(copy) == table_counts(store.connection())
    assert "verified" in capsys.readouterr().out


def test_retention_prunes_old_delivered_rows_only(tmp_path: Path) -> None:
    """prune_delivered drops sent rows; failed rows, alerts, alert_log and audit_log stay."""
    _, store = _history(tmp_path)
    before = table_counts(store.connection())
    failed = sum(1 for r in outbox.rows(store) if r.status.value == "failed")
    assert failed == 1
    with store.transaction() as tx:
        pruned = outbox.prune_delivered(tx, NOW.replace(year=2100))
    after = table_counts(store.connection())
    assert pruned == before["outbox"] - failed
    assert after["outbox"] == failed
    for table in ("alert_states", "alert_log", "audit_log", "alert_changes"):
        assert after[table] == before[table]


def test_retention_keeps_rows_younger_than_the_limit(tmp_path: Path) -> None:
    """Rows finished after the cut-off are kept."""
    _, store = _history(tmp_path)
    with store.transaction() as tx:
        assert outbox.prune_delivered(tx, NOW - timedelta(days=90)) == 0


def test_status_reports_firing_alerts_feeds_outbox_and_siren_test(tmp_path: Path) -> None:
    """Firing alerts with rule, area, level, since and id; feeds; outbox counts; siren test."""
    config, store = _history(tmp_path)
    with store.transaction() as tx:
        store.save_feed(
            tx, FeedRecord("inatews", last_success=NOW, last_error="HTTP 503", last_error_at=NOW)
        )
        store.audit(tx, "system", "siren.test", {"change_id": "chg-none"}, NOW)
    report = status_report(settings_of(config), NOW)
    assert [(a["rule"], a["area"], a["level"]) for a in report["firing"]] == [
        ("gempa", "lamaru", "siaga"),
        ("gempa", "manggar", "siaga"),
    ]
    assert report["firing"][0]["since"] == NOW.isoformat()
    inatews = next(f for f in report["feeds"] if f["feed"] == "inatews")
    assert (inatews["last_success"], inatews["last_error"]) == (NOW.isoformat(), "HTTP 503")
    assert inatews["next_run"] == (NOW + timedelta(seconds=5)).isoformat()
    assert report["outbox"] == {"sent": 4, "failed": 1}
    assert report["last_siren_test"] == {"time": NOW.isoformat(), "acknowledged": {}}
    assert "gempa:manggar:" in render_text(report)


def test_status_works_while_another_process_holds_a_write_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`warning status --json` reads the last committed state without waiting for the writer."""
    config, _ = _history(tmp_path)
    capsys.readouterr()
    writer = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM alert_states")
    try:
        assert main(["--config", str(config), "status", "--json"]) == 0
    finally:
        writer.execute("ROLLBACK")
    assert len(json.loads(capsys.readouterr().out)["firing"]) == 2
