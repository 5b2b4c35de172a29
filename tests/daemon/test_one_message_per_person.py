"""One person hears each event change once, across rules, through restarts (issue 10).

A Manggar official is in two tsunami rules at AWAS: the coast's (tsunami-pesisir)
and the officials' city-wide one (tsunami-awas-pejabat).  Through the real
pipeline and store, BMKG's AWAS bulletin reaches them once and PD-4 ends it once;
a restart in between (a new pipeline on the same database, the same bulletin
fetched again) sends nothing more.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import responses

from tests.support.deployment import contacts
from tests.support.pipeline import AFTER_PD1, BASE, PD1, PD4, Clock, make_rig, write_settings

URL = f"{BASE}/inatews"


def _awas() -> bytes:
    """The recorded-shape PD-1 with Balikpapan raised to AWAS (as BMKG writes it)."""
    bulletin = json.loads(PD1.read_text())
    for zone in bulletin["info"]["wzarea"]:
        if zone["district"] == "KOTA-BALIKPAPAN":
            zone["level"] = "AWAS"
    return json.dumps(bulletin).encode()


def _bodies(rows: list[object], phone: str) -> list[str]:
    """The SMS bodies the outbox holds for one number, in order."""
    return [json.loads(r["payload_json"])["body"] for r in rows if r["recipient"] == phone]  # type: ignore[index]


@responses.activate
def test_a_coastal_official_gets_one_sms_at_awas_and_one_at_pd4_across_a_restart(
    tmp_path: Path,
) -> None:
    """Two rules speak to the official at AWAS and at PD-4; the outbox holds one SMS each time."""
    official = next(c.phone for c in contacts() if c.area == "manggar" and c.group == "officials")
    settings = write_settings(tmp_path)
    responses.add(responses.GET, URL, body=_awas(), status=200)
    first = make_rig(settings)
    first.pipeline.poll("inatews")
    fired = {rule for rule, area in first.firing() if area == "manggar"}
    assert fired == {"tsunami-pesisir", "tsunami-awas-pejabat"}
    at_awas = _bodies(first.outbox("sms"), official)
    assert len(at_awas) == 1
    assert at_awas[0].startswith("AWAS TSUNAMI (BMKG) pesisir Balikpapan, tiba 11.52 WITA")
    first.store.close()

    # Restart: a new pipeline on the same database fetches the same bulletin again.
    later = Clock(AFTER_PD1 + timedelta(minutes=5))
    again = make_rig(settings, clock=later)
    again.pipeline.poll("inatews")
    assert _bodies(again.outbox("sms"), official) == at_awas

    responses.replace(responses.GET, URL, body=PD4.read_bytes(), status=200)
    later.now = AFTER_PD1 + timedelta(hours=2)
    again.pipeline.poll("inatews")
    ended = _bodies(again.outbox("sms"), official)[1:]
    assert ended == [
        "AWAS tsunami pesisir Balikpapan berakhir: diakhiri BMKG (PD-4). "
        "Pulangkan warga bertahap sesuai arahan posko."
    ]
