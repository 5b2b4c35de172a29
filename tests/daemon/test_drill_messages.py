"""The exact SMS a drill sends through the real path: rules, planner, outbox, Twilio peer.

Issue 10's "done when": a drill of a shipped scenario prints SMS a BPBD duty officer
would send unedited.  These are the officer-facing texts of the shipped rules on
recorded-shape payloads, as the local Twilio server receives them: the event's own
times in WITA, BMKG's figures and verdict, what to do, and an ending that says what
ended without repeating the instruction.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deployment import contact_of, extra_contact
from tests.support.drill import SirenControllers, drill_config
from tests.support.paths import ROOT
from tests.support.peers.twilio import TwilioServer
from warning.cli.main import main

SCENARIOS = ROOT / "rules" / "tests"
#: Two of the deployment's RT heads, at the coast and (beyond its contacts) in the north.
PEOPLE = (
    contact_of("manggar", "rt-heads", drill=True),
    extra_contact(1, "graha-indah", "rt-heads", drill=True),
)
COAST, NORTH = (p.phone for p in PEOPLE)


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    """A local Twilio-compatible Messages API."""
    with TwilioServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings sending SMS to the local Twilio server, sirens to local controllers."""
    with SirenControllers() as sirens:
        yield drill_config(tmp_path, twilio.url, sirens.url, monkeypatch, people=PEOPLE)


def _drill(config: Path, scenario: str, twilio: TwilioServer) -> dict[str, list[str]]:
    """Play a shipped scenario at 600x; the bodies each number received, in order."""
    before = len(twilio.requests)
    code = main(["--config", str(config), "drill", str(SCENARIOS / scenario), "--speed", "600"])
    assert code == 0
    received: dict[str, list[str]] = {}
    for request in twilio.requests[before:]:
        received.setdefault(request.form["To"], []).append(request.form["Body"])
    return received


def test_tsunami_siaga_says_when_the_wave_is_expected_and_pd4_says_it_ended(
    config: Path, twilio: TwilioServer
) -> None:
    """InaTEWS SIAGA: arrival in WITA and the instruction; PD-4: what ended, when to go home."""
    received = _drill(config, "latihan-tsunami-siaga-balikpapan.yaml", twilio)
    assert received == {
        COAST: [
            "LATIHAN: SIAGA TSUNAMI (BMKG) Manggar, tiba 11.52 WITA. "
            "Jauhi pantai, ke tempat tinggi!",
            "LATIHAN: Peringatan tsunami di Manggar berakhir: diakhiri BMKG (PD-4). "
            "Pulang atas izin BPBD/lurah.",
        ]
    }


def test_a_felt_quake_names_bmkg_its_origin_time_and_the_felt_intensity(
    config: Path, twilio: TwilioServer
) -> None:
    """BMKG's felt report: magnitude with a decimal comma, origin time in WITA, III MMI."""
    received = _drill(config, "gempa-dirasakan-balikpapan.yaml", twilio)
    felt = (
        "LATIHAN: WASPADA GEMPA BMKG M4,9 10/03 09.15 WITA terasa III MMI di Balikpapan. "
        "Cek retakan, awas susulan"
    )
    assert received == {COAST: [felt], NORTH: [felt]}


def test_heavy_rain_warns_the_north_and_says_when_it_has_eased(
    config: Path, twilio: TwilioServer
) -> None:
    """Measured heavy rain over Graha Indah: SIAGA with the amount, its period, until when
    (WITA) and what to do, then its end."""
    received = _drill(config, "latihan-banjir-balikpapan-utara.yaml", twilio)
    assert received == {
        NORTH: [
            "LATIHAN: SIAGA HUJAN 30 mm/1 jam s.d. 20/01 14.00 WITA, Graha Indah. "
            "Jauhi sungai & parit",
            "LATIHAN: Hujan lebat di Graha Indah sudah reda. Laporkan genangan atau saluran "
            "tersumbat ke kelurahan.",
        ]
    }
