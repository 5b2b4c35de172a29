"""Operators verify or reject (audited); only verified reports reach the rules, never the public.

The pipeline tests run the daemon's own path: reports kept by `submit`,
decided by `verify.decide`, read by `Pipeline.take_reports` and evaluated by
the shipped rules/laporan.yaml, with deliveries planned into the real outbox.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.pipeline import Clock, Rig, make_rig, write_settings
from tests.support.reports import NOW, Desk
from warning.areas import AreaIndex
from warning.daemon.configuration import load_configuration
from warning.model import ObservationKind, ReportStatus
from warning.reports import ReportError
from warning.reports.intake import Draft
from warning.reports.observe import observations
from warning.reports.verify import decide, purge
from warning.store import reports as db

VERIFIED = ReportStatus.VERIFIED


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    """A daemon pipeline with the shipped rules, the test contacts and no feed."""
    return make_rig(write_settings(tmp_path, feeds={}), clock=Clock(NOW))


@pytest.fixture
def reports(rig: Rig, areas: AreaIndex) -> Desk:
    """The console's side on the same store and contacts."""
    contacts = load_configuration(rig.settings).contacts
    return Desk(rig.store, areas, contacts=contacts)


def flood(reports: Desk, minute: int, device: str, kelurahan: str = "manggar") -> str:
    """A flood report from `device`, `minute` minutes after NOW; its code."""
    draft = Draft(category="banjir", kelurahan=kelurahan, description="Air setinggi lutut")
    return reports.send(draft, device=device, now=NOW + timedelta(minutes=minute)).code


def verify(reports: Desk, code: str, minute: int = 35) -> None:
    """ops1 verifies a report."""
    decide(
        reports.store, code, VERIFIED, actor="ops1", reason="", now=NOW + timedelta(minutes=minute)
    )


def rule_sms(rig: Rig, rule: str) -> list[str]:
    """Recipients of the rule's deliveries, any channel (sirens included)."""
    return [r["recipient"] for r in rig.outbox() if r["rule_id"] == rule]


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(reports: Desk) -> None:
    """No reason: refused in the operator's words; the report stays diterima."""
    code = flood(reports, 0, "a")
    with pytest.raises(ReportError, match="alasan wajib diisi"):
        decide(reports.store, code, ReportStatus.REJECTED, actor="ops1", reason=" ", now=NOW)
    found = db.find(reports.store, code)
    assert found is not None
    assert found.status is ReportStatus.RECEIVED
    assert reports.store.audit_entries() == []


def test_every_decision_is_audited_with_who_and_why(reports: Desk) -> None:
    """Reject with a reason, verify, act on: each one an audit entry, and shown on the report."""
    prank, real = flood(reports, 0, "a"), flood(reports, 1, "b", "lamaru")
    decide(reports.store, prank, ReportStatus.REJECTED, actor="ops1", reason="iseng", now=NOW)
    verify(reports, real)
    decide(reports.store, real, ReportStatus.ACTED_ON, actor="ops2", reason="tim TRC", now=NOW)
    entries = [
        (e["actor"], e["action"], e["detail"]["code"]) for e in reports.store.audit_entries()
    ]
    assert entries == [
        ("ops1", "report.rejected", prank),
        ("ops1", "report.verified", real),
        ("ops2", "report.acted_on", real),
    ]
    rejected = db.find(reports.store, prank)
    assert rejected is not None
    assert (rejected.decided_by, rejected.reason) == ("ops1", "iseng")


def test_a_decided_report_cannot_be_decided_again_differently(reports: Desk) -> None:
    """Rejected stays rejected; a verified report cannot be rejected (it already counted)."""
    code = flood(reports, 0, "a")
    verify(reports, code)
    with pytest.raises(ReportError, match="sudah diverifikasi"):
        decide(reports.store, code, ReportStatus.REJECTED, actor="ops1", reason="x", now=NOW)
    with pytest.raises(ReportError, match="tidak ada laporan"):
        decide(reports.store, "ZZZZZZ", VERIFIED, actor="ops1", reason="", now=NOW)


def test_only_verified_reports_become_observations(reports: Desk) -> None:
    """Received and rejected reports make no observation; a verified one makes one."""
    waiting, prank, real = flood(reports, 0, "a"), flood(reports, 1, "b"), flood(reports, 2, "c")
    decide(reports.store, prank, ReportStatus.REJECTED, actor="ops1", reason="iseng", now=NOW)
    verify(reports, real)
    found = observations(db.queue(reports.store, NOW - timedelta(days=1)), timedelta(hours=2), NOW)
    assert [(o.kind, o.event_id) for o in found] == [(ObservationKind.REPORT, f"laporan-{real}")]
    assert waiting not in {o.event_id.removeprefix("laporan-") for o in found}


def test_three_verified_flood_reports_make_waspada_for_the_rt_heads(
    rig: Rig, reports: Desk
) -> None:
    """Three reporters in Manggar within 30 minutes, verified: WASPADA to Manggar's RT heads."""
    codes = [flood(reports, m, d) for m, d in ((0, "a"), (10, "b"), (20, "c"))]
    rig.clock.now = NOW + timedelta(minutes=36)
    for code in codes[:2]:
        verify(reports, code)
    rig.pipeline.take_reports()
    assert rig.firing() == set()
    verify(reports, codes[2])
    rig.pipeline.take_reports()
    assert rig.firing() == {("laporan-banjir-terverifikasi", "manggar")}
    rt_heads = {c.phone for c in reports.contacts if c.group == "rt-heads" and "manggar" in c.areas}
    assert set(rule_sms(rig, "laporan-banjir-terverifikasi")) == rt_heads
    body = json.loads(rig.outbox()[-1]["payload_json"])["body"]
    assert body.startswith("WASPADA BANJIR: 3 laporan warga terverifikasi, Manggar.")


def test_unverified_reports_never_reach_rules_sirens_or_the_public(rig: Rig, reports: Desk) -> None:
    """Five flood reports and a sea report nobody verified: no alert, no siren, no public."""
    for minute in range(5):
        flood(reports, minute, f"device-{minute}")
    sea = Draft(category="air-laut", kelurahan="manggar", description="Air laut surut jauh")
    reports.send(sea, device="nelayan")
    rig.clock.now = NOW + timedelta(minutes=10)
    rig.pipeline.take_reports()
    rig.pipeline.tick()
    assert rig.firing() == set()
    public = {c.phone for c in reports.contacts if c.group == "public"}
    assert {r["channel"] for r in rig.outbox()} == {"sms"}
    assert not public & {r["recipient"] for r in rig.outbox()}
    assert all(r["rule_id"].startswith("laporan:") for r in rig.outbox())


def test_a_verified_sea_drawback_report_is_siaga_for_officials_at_once(
    rig: Rig, reports: Desk
) -> None:
    """One verified report from coastal Manggar: SIAGA to officials, no siren, no residents."""
    sea = Draft(category="air-laut", kelurahan="manggar", description="Air laut surut jauh")
    code = reports.send(sea, device="nelayan").code
    rig.clock.now = NOW + timedelta(minutes=3)
    verify(reports, code, minute=3)
    rig.pipeline.take_reports()
    assert rig.firing() == {("laporan-air-laut-surut", "manggar")}
    officials = {
        c.phone for c in reports.contacts if c.group == "officials" and "manggar" in c.areas
    }
    assert set(rule_sms(rig, "laporan-air-laut-surut")) == officials


def test_a_report_alert_ends_after_two_quiet_hours(rig: Rig, reports: Desk) -> None:
    """No verified report for `quiet_after_min`: a reading of 0, then the alert resolves."""
    for minute, device in ((0, "a"), (10, "b"), (20, "c")):
        verify(reports, flood(reports, minute, device))
    rig.clock.now = NOW + timedelta(minutes=36)
    rig.pipeline.take_reports()
    assert rig.firing()
    rig.clock.now = NOW + timedelta(hours=2, minutes=21)
    rig.pipeline.take_reports()
    rig.clock.now = NOW + timedelta(hours=2, minutes=52)
    rig.pipeline.tick()
    assert rig.firing() == set()
    assert (
        rig.store.load_states()[("laporan-banjir-terverifikasi", "manggar")].state.value
        == "resolved"
    )


def test_reports_past_their_retention_are_deleted_with_their_photos(reports: Desk) -> None:
    """`[reports] retention_days`: older reports and their photos go; newer ones stay."""
    from tests.support.reports import jpeg  # noqa: PLC0415 - only this test sends a photo

    old = reports.send(Draft(category="banjir", kelurahan="manggar", photo=jpeg()), device="a")
    new = flood(reports, 60 * 24 * 89, "b")
    assert purge(reports.store, NOW + timedelta(days=90, minutes=1), retention_days=90) == 1
    assert db.find(reports.store, old.code) is None
    assert db.photo(reports.store, old.code) is None
    assert db.find(reports.store, new) is not None
