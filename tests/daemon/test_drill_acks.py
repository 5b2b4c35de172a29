"""The drill report says who acknowledged each drill warning, and how long after its injection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warning.daemon.drillreport import Injection, RunInfo, build_report, render_text
from warning.model import ChannelKind, DeliveryStatus
from warning.store.drillrows import RowFact

WALL = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
INFO = RunInfo("run-1", "latihan", "latihan.yaml", 60.0, False, WALL, WALL + timedelta(minutes=5))


def _sms(recipient: str, name: str, acknowledged: datetime | None) -> RowFact:
    """One drill SMS of change chg-1, accepted by Twilio."""
    return RowFact(
        change_id="chg-1",
        rule_id="tsunami-pesisir",
        kind="fired",
        level="siaga",
        areas=("manggar",),
        channel=ChannelKind.SMS,
        recipient=recipient,
        status=DeliveryStatus.SENT,
        sent_at=WALL + timedelta(seconds=2),
        error=None,
        command=None,
        contact=name,
        acknowledged_at=acknowledged,
    )


def test_the_drill_report_lists_acknowledgements_with_their_delay() -> None:
    """Two of three confirmed: each named with the seconds from injection to the tap."""
    rows = [
        _sms("+6281200000002", "Pak RT Manggar", WALL + timedelta(seconds=95)),
        _sms("+6281200000001", "Lurah Manggar", WALL + timedelta(seconds=40)),
        _sms("+6281200000003", "Siskamling Manggar", None),
    ]
    injection = Injection(timedelta(0), WALL, WALL, ("chg-1",))
    report = build_report(INFO, [injection], rows, settled=True)
    found = report.as_json()["acknowledgements"]
    assert [(a["name"], a["after_s"]) for a in found] == [
        ("Lurah Manggar", 40.0),
        ("Pak RT Manggar", 95.0),
    ]
    text = render_text(report)
    assert "acknowledgements (from injection to the tap on Diterima):" in text
    assert "+95 s" in text
