"""Escalation on a simulated clock: nobody confirms a SIAGA, the next group hears, until one does.

The real pipeline fires InaTEWS's SIAGA for the coast (the rule's SMS carry
links), then the escalation job is run at chosen moments of the daemon's
clock.  Acknowledgements are recorded through the store as the console's
POST records them; receipts as the console's StatusCallback records them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import responses

from tests.support.ack_rig import CHAIN_CONTACTS, PUBLIC_URL, ack_rig, escalation_sms, payloads
from tests.support.pipeline import AFTER_PD1, PD1, Clock, Rig, make_rig, write_settings
from warning.cli.main import main
from warning.console.data import Viewer, room
from warning.daemon.escalation import escalate
from warning.daemon.schedule import Daemon
from warning.plan.messages import SEGMENT, gsm7_units
from warning.store import acks
from warning.store.acks import ReceiptStatus
from warning.store.console import Role
from warning.store.status import _firing

URL = "https://feeds.test/inatews"
LURAH_MANGGAR, CAMAT_MANGGAR, LURAH_LAMARU, CAMAT_LAMARU, PUSDALOPS = (
    c.phone for c in CHAIN_CONTACTS
)
#: The test contacts' RT head of Manggar (tests/support/deployment.py numbering).
RT_MANGGAR = "+6281200000002"


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    """InaTEWS SIAGA fired at AFTER_PD1; links and the chain configured."""
    clock = Clock(AFTER_PD1)
    found = ack_rig(tmp_path, clock)
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})
        assert found.pipeline.poll("inatews").ok
    return found


def _at(rig: Rig, minutes: float) -> int:
    """Run the escalation job `minutes` after the SIAGA; return the SMS it enqueued."""
    rig.clock.now = AFTER_PD1 + timedelta(minutes=minutes)
    return escalate(rig.store, rig.pipeline.config, rig.clock.now)


def _acknowledge(rig: Rig, phone: str, minutes: float) -> None:
    """`phone` taps Diterima on the newest link they received."""
    token = payloads(rig, phone)[-1]["ack"]["token"]
    found = acks.link(rig.store, token)
    assert found is not None
    with rig.store.transaction() as tx:
        assert acks.acknowledge(tx, found, AFTER_PD1 + timedelta(minutes=minutes))


def test_rt_heads_sms_end_with_their_own_link_in_one_segment(rig: Rig) -> None:
    """The RT head's SIAGA SMS ends with their signed link, the only URL, within 160 units."""
    payload = payloads(rig, RT_MANGGAR)[0]
    body = payload["body"]
    assert body.endswith(f"{PUBLIC_URL}/a/{payload['ack']['token']}")
    assert body.count("http") == 1
    assert gsm7_units(body) <= SEGMENT
    assert payload["ack"]["group"] == "rt-heads"


def test_an_unacknowledged_siaga_escalates_step_by_step(rig: Rig) -> None:
    """No one confirms: lurah after 10 min, camat after 20, Pusdalops after 35, nothing more."""
    assert _at(rig, 9.5) == 0
    assert _at(rig, 10) > 0
    assert {p for s, p in escalation_sms(rig) if s == 1} >= {LURAH_MANGGAR, LURAH_LAMARU}
    assert _at(rig, 19.5) == 0
    assert _at(rig, 20) > 0
    assert {p for s, p in escalation_sms(rig) if s == 2} >= {CAMAT_MANGGAR, CAMAT_LAMARU}
    assert _at(rig, 35) > 0
    assert [p for s, p in escalation_sms(rig) if s == 3] == [PUSDALOPS]
    assert _at(rig, 120) == 0


def test_escalation_stops_at_the_first_acknowledgement(rig: Rig) -> None:
    """Manggar's lurah confirms at +12: Manggar's camat is never told; Lamaru's is."""
    _at(rig, 10)
    _acknowledge(rig, LURAH_MANGGAR, 12)
    _at(rig, 20)
    _at(rig, 40)
    told = {p for _s, p in escalation_sms(rig)}
    assert CAMAT_LAMARU in told
    assert CAMAT_MANGGAR not in told


def test_an_rt_heads_ack_before_the_deadline_means_no_escalation_there(rig: Rig) -> None:
    """Manggar's RT head confirms at +3: Manggar never escalates, and status names them."""
    _acknowledge(rig, RT_MANGGAR, 3)
    _at(rig, 10)
    told = {p for _s, p in escalation_sms(rig)}
    assert LURAH_MANGGAR not in told
    assert LURAH_LAMARU in told
    firing = {(a["rule"], a["area"]): a for a in _firing(rig.store.connection())}
    manggar = firing[("tsunami-pesisir", "manggar")]
    assert manggar["acknowledged_by"] == ["Uji rt-heads manggar"]
    assert manggar["escalation_step"] == 0
    assert firing[("tsunami-pesisir", "lamaru")]["escalation_step"] == 1


def test_the_escalation_sms_says_who_did_not_confirm_and_carries_a_link(rig: Rig) -> None:
    """The lurah reads ESKALASI, the level, the kelurahan and the silent RT head, plus a link."""
    _at(rig, 10)
    payload = payloads(rig, LURAH_MANGGAR)[-1]
    body = payload["body"]
    assert not body.startswith("LATIHAN")
    assert "ESKALASI SIAGA Manggar" in body
    assert "Ketua RT/RW belum konfirmasi 10 mnt" in body
    assert "Uji rt-heads manggar" in body
    assert body.endswith(payload["ack"]["token"])
    assert gsm7_units(body) <= SEGMENT


def test_an_undelivered_receipt_for_the_only_rt_head_escalates_at_once(rig: Rig) -> None:
    """Twilio says the RT head's SMS was undelivered: the lurah is told before the 10 minutes."""
    with rig.store.transaction() as tx:
        tx.execute("UPDATE outbox SET provider_id = 'SM1' WHERE recipient = ?", (RT_MANGGAR,))
        acks.record_receipt(tx, "SM1", ReceiptStatus.UNDELIVERED, "30003", AFTER_PD1)
    _at(rig, 1)
    assert (1, LURAH_MANGGAR) in escalation_sms(rig)
    assert (1, LURAH_LAMARU) not in escalation_sms(rig)


def test_a_replayed_judgement_notifies_a_step_once(rig: Rig) -> None:
    """Running the job twice at the same moment enqueues the step's SMS once."""
    first = _at(rig, 10)
    assert _at(rig, 10) == 0
    assert len(escalation_sms(rig)) == first


def test_drills_escalate_as_drills(tmp_path: Path) -> None:
    """A drill SIAGA nobody confirms escalates with LATIHAN, to drill volunteers only."""
    clock = Clock(AFTER_PD1)
    drill = ack_rig(tmp_path, clock)
    drill.pipeline.drill = True
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})
        assert drill.pipeline.poll("inatews").ok
    _at(drill, 10)
    body = payloads(drill, LURAH_MANGGAR)[-1]["body"]
    assert body.startswith("LATIHAN: ESKALASI")
    rows = [r for r in drill.outbox("sms") if "escalation_step" in json.loads(r["payload_json"])]
    assert rows
    assert all(r["drill"] == 1 for r in rows)


def test_the_console_lists_who_confirmed_what_nobody_did_and_the_step(rig: Rig) -> None:
    """The room's alert shows Manggar confirmed by its RT head, Lamaru not, and step 1."""
    _acknowledge(rig, RT_MANGGAR, 3)
    _at(rig, 10)
    picture = room(rig.settings, rig.store, Viewer("pengamat", Role.VIEWER), rig.clock.now)
    alert = next(a for a in picture["alerts"] if a["rule"] == "tsunami-pesisir")
    assert alert["acknowledgement"]["by"] == ["Uji rt-heads manggar"]
    assert "Lamaru" in alert["acknowledgement"]["missing"]
    assert "Manggar" not in alert["acknowledgement"]["missing"]
    assert alert["acknowledgement"]["step"] == 1


def test_the_daemons_escalation_job_runs_on_its_clock_and_counts_in_metrics(
    tmp_path: Path,
) -> None:
    """`Daemon.escalate` (a scheduled job) notifies due steps and fills /metrics."""
    settings = ack_rig(tmp_path).settings
    clock = Clock(AFTER_PD1)
    daemon = Daemon(settings, clock=clock)
    daemon.schedule()
    assert daemon.scheduler.get_job("escalation") is not None
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})
        assert daemon.pipeline.poll("inatews").ok
    clock.now = AFTER_PD1 + timedelta(minutes=10)
    assert daemon.escalate() > 0
    registry = daemon.metrics.registry
    steps = registry.get_sample_value("warning_escalations_total", {"group": "lurah"})
    assert steps == 1  # one step of one change, for every silent kelurahan at once
    assert registry.get_sample_value("warning_acknowledgements") == 0


def test_a_cancelled_alert_escalates_no_further(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `warning alert cancel` of Manggar's episode, Manggar's lurah is never told."""
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    episode = rig.store.load_states()[("tsunami-pesisir", "manggar")].alert_id
    assert rig.settings.source is not None
    argv = ["--config", str(rig.settings.source), "alert", "cancel", episode]
    argv += ["--reason", "data uji", "--actor", "operator-1", "--wait", "0"]
    assert main(argv) == 0
    capsys.readouterr()
    _at(rig, 10)
    told = {p for _s, p in escalation_sms(rig)}
    assert LURAH_MANGGAR not in told
    assert LURAH_LAMARU in told


def test_one_person_covering_several_kelurahan_gets_one_sms_and_one_tap_counts_for_all(
    rig: Rig,
) -> None:
    """Pusdalops covers Manggar and Lamaru: one step-3 SMS naming both; its tap stops both."""
    for minutes in (10, 20, 35):
        _at(rig, minutes)
    sms = [p for p in payloads(rig, PUSDALOPS) if "escalation_step" in p]
    assert len(sms) == 1
    assert "ESKALASI SIAGA Manggar dan Lamaru" in sms[0]["body"]
    _acknowledge(rig, PUSDALOPS, 36)
    firing = {(a["rule"], a["area"]): a for a in _firing(rig.store.connection())}
    for area in ("manggar", "lamaru"):
        assert firing[("tsunami-pesisir", area)]["acknowledged_by"] == ["Pusdalops BPBD"]
        assert firing[("tsunami-pesisir", area)]["escalation_step"] == 3


def test_without_links_the_room_claims_no_missing_confirmation(tmp_path: Path) -> None:
    """Links off: the room shows no acknowledgement line, status an empty list and step 0."""
    clock = Clock(AFTER_PD1)
    plain = make_rig(write_settings(tmp_path), clock=clock)
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})
        assert plain.pipeline.poll("inatews").ok
    picture = room(plain.settings, plain.store, Viewer("pengamat", Role.VIEWER), clock.now)
    alert = next(a for a in picture["alerts"] if a["rule"] == "tsunami-pesisir")
    assert alert["acknowledgement"] is None
    firing = _firing(plain.store.connection())
    assert {(a["acknowledged_by"] == [], a["escalation_step"]) for a in firing} == {(True, 0)}
