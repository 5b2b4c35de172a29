"""A silent InaTEWS feed or a stepped wall clock never becomes a public all-clear.

PD-1 SIAGA for the Balikpapan coast, then 13 h of 503 from InaTEWS: the
safety timeout ends the alert for officials only, with a message saying
BMKG's end was not received and asking for an operator decision: no "AMAN"
SMS, no siren all-clear, no CAP.  A wall clock stepped 13 h ahead within a
minute is not 13 h of silence: the daemon's clock follows the time that
really passed, and the SIAGA stays up.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import responses

from tests.support.deployment import COASTAL
from tests.support.pipeline import (
    AFTER_PD1,
    BASE,
    PD1,
    Clock,
    Rig,
    make_rig,
    write_settings,
)
from warning.daemon.clock import SteadyClock


def _fire_pd1(tmp_path: Path, clock: Clock | SteadyClock) -> Rig:
    """A rig whose PD-1 SIAGA fired on the coast, then InaTEWS answers 503 only."""
    rig = make_rig(write_settings(tmp_path), clock=clock)
    responses.add(responses.GET, f"{BASE}/inatews", body=PD1.read_bytes())
    rig.pipeline.poll("inatews")
    assert {area for _, area in rig.firing()} == set(COASTAL)
    responses.replace(responses.GET, f"{BASE}/inatews", status=503)
    return rig


@responses.activate
def test_13_hours_of_silence_after_pd1_tell_officials_not_the_public(tmp_path: Path) -> None:
    """Safety timeout: officials get "PETUGAS ... BMKG tidak diterima"; nobody gets AMAN."""
    clock = Clock(AFTER_PD1)
    rig = _fire_pd1(tmp_path, clock)
    before = {r["id"] for r in rig.outbox()}
    for hour in range(1, 14):
        clock.now = AFTER_PD1 + timedelta(hours=hour)
        rig.pipeline.poll("inatews")
        rig.pipeline.tick()
    after = [r for r in rig.outbox() if r["id"] not in before]
    bodies = [r["payload_json"] for r in after if r["channel"] == "sms"]
    officials = {c.phone for c in rig.pipeline.config.contacts if c.group == "officials"}
    print(
        f"injected 13 h of 503 after PD-1; saw {len(after)} new rows:"
        f" {sum('AMAN' in b for b in bodies)} AMAN, {sum('PETUGAS' in b for b in bodies)} PETUGAS,"
        f" {sum(r['channel'] != 'sms' for r in after)} siren/CAP"
    )
    assert rig.firing() == set()
    assert not any("AMAN" in b for b in bodies)
    timed_out = {
        row[0]
        for row in rig.store.connection().execute(
            "SELECT change_id FROM alert_changes WHERE kind = 'timed_out'"
        )
    }
    notices = [r for r in after if r["change_id"] in timed_out]
    assert timed_out
    assert {r["recipient"] for r in notices} == officials
    assert all(
        "PETUGAS" in r["payload_json"] and "BMKG tidak" in r["payload_json"] for r in notices
    )
    assert [r for r in after if r["channel"] != "sms"] == []


@responses.activate
def test_a_wall_clock_stepped_13_hours_is_not_13_hours_of_silence(tmp_path: Path) -> None:
    """The wall clock jumps 13 h while a minute passes: the SIAGA stays, nothing is sent."""
    wall = Clock(AFTER_PD1)
    elapsed = [0.0]
    clock = SteadyClock(wall=wall, monotonic=lambda: elapsed[0])
    rig = _fire_pd1(tmp_path, clock)
    before = len(rig.outbox())
    wall.now = AFTER_PD1 + timedelta(hours=13, minutes=1)
    elapsed[0] = 60.0
    rig.pipeline.poll("inatews")
    rig.pipeline.tick()
    print(
        f"injected a 13 h wall-clock step; daemon time advanced to {clock()},"
        f" {len(rig.outbox()) - before} new rows"
    )
    assert {area for _, area in rig.firing()} == set(COASTAL)
    assert len(rig.outbox()) == before
