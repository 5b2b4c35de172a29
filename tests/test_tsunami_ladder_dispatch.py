"""A tsunami that rises and falls is one alert per rule, end to end: engine, then planner.

BMKG raises Balikpapan WASPADA (PD-1) -> SIAGA (PD-2) -> AWAS (PD-3), lowers it to
SIAGA (PD-3b), then ends it (PD-4).  The shipped rules, the real engine and the real
planner must give each coastal contact one SMS per change and one ending at the end,
never a false all-clear in between, and the coastal sirens alert -> attack -> alert ->
all-clear.  Officials city-wide get AWAS once and its all-clear once, at PD-4.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.areas import city
from tests.support.builders import contact
from tests.support.paths import ROOT
from warning.model import (
    AlertStatus,
    ChannelKind,
    Observation,
    ObservationKind,
    PlannedDelivery,
    Rule,
)
from warning.plan.planner import plan
from warning.rules import load_rules
from warning.rules.engine import StateKey, evaluate
from warning.settings import SirenSettings

START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
#: (minutes after START, Balikpapan's level, bulletin number) as BMKG sends them.
BULLETINS = (
    (0, "waspada", 1),
    (15, "siaga", 2),
    (30, "awas", 3),
    (90, "siaga", 3),
    (180, "ended", 4),
)
COAST = ["manggar", "lamaru", "teritip"]
SIRENS = (SirenSettings(id="sirene-timur", areas=("balikpapan-timur",)),)
PEOPLE = [
    contact("+6281200000001", ["manggar"], "public"),
    contact("+6281200000002", COAST, "rt-heads", language="en"),
    contact("+6281200000003", ["graha-indah"], "officials"),
    contact("+6281200000004", ["graha-indah"], "public"),
    contact("+6281200000005", ["manggar"], "officials"),
]


def _bulletin(minutes: int, level: str, number: int) -> Observation:
    """One InaTEWS bulletin naming every Balikpapan kelurahan (PD-4 names none)."""
    named = () if level == "ended" else tuple(a.id for a in city().kelurahan)
    return Observation(
        source="inatews",
        kind=ObservationKind.TSUNAMI_WARNING,
        event_id="ts-naik-turun",
        time=START + timedelta(minutes=minutes),
        values={"level": level, "bulletin": number, "magnitude": 7.8},
        area_ids=named,
    )


def _episode(
    rules: Sequence[Rule], bulletins: Sequence[tuple[int, str, int]] = BULLETINS
) -> list[list[PlannedDelivery]]:
    """The deliveries planned after each bulletin, with states kept between evaluations."""
    states: dict[StateKey, AlertStatus] = {}
    seen: list[Observation] = []
    planned = []
    for minutes, level, number in bulletins:
        now = START + timedelta(minutes=minutes)
        seen.append(_bulletin(minutes, level, number))
        transitions = evaluate(rules, seen, city(), states, now)
        states.update({t.status.key: t.status for t in transitions})
        planned.append(plan(transitions, rules, PEOPLE, SIRENS, city(), drill=False, now=now))
    return planned


@pytest.fixture(scope="module")
def shipped() -> tuple[Rule, ...]:
    """The shipped rules."""
    return load_rules([ROOT / "rules"], city())


@pytest.fixture(scope="module")
def episode(shipped: tuple[Rule, ...]) -> list[list[PlannedDelivery]]:
    """The whole episode with the shipped rules."""
    return _episode(shipped)


def _commands(episode: list[list[PlannedDelivery]]) -> list[list[object]]:
    """Siren commands planned after each bulletin."""
    return [
        [p.payload["command"] for p in batch if p.channel is ChannelKind.SIREN] for batch in episode
    ]


def _sms(episode: list[list[PlannedDelivery]]) -> dict[str, list[tuple[str, str]]]:
    """Per phone, the (rule id, body) of every SMS in order."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for batch in episode:
        for p in batch:
            if p.channel is ChannelKind.SMS:
                found[p.recipient].append((p.change.rule_id, str(p.payload["body"])))
    return found


def test_a_coastal_resident_gets_one_sms_per_change_and_one_aman_at_the_end(
    episode: list[list[PlannedDelivery]],
) -> None:
    """WASPADA, SIAGA, AWAS, SIAGA, then the end: five SMS from one alert, the ending last."""
    sms = _sms(episode)["+6281200000001"]
    assert {rule for rule, _ in sms} == {"tsunami-pesisir"}
    heads = [body.split(" TSUNAMI")[0] for _, body in sms[:4]]
    assert heads == ["WASPADA", "SIAGA", "AWAS", "SIAGA"]
    assert sms[4][1] == (
        "Peringatan tsunami di Manggar berakhir: diakhiri BMKG (PD-4). Pulang atas izin BPBD/lurah."
    )


def test_each_level_speaks_with_its_own_instruction(episode: list[list[PlannedDelivery]]) -> None:
    """The ladder's per-step messages reach people: beach at waspada, evacuate at awas."""
    bodies = [body for _, body in _sms(episode)["+6281200000001"]]
    assert "Jauhi pantai dan muara" in bodies[0]
    assert "Jauhi pantai, ke tempat tinggi!" in bodies[1]
    assert "EVAKUASI SEKARANG" in bodies[2]
    assert "Jauhi pantai, ke tempat tinggi!" in bodies[3]


def test_an_rt_head_over_three_coastal_kelurahan_gets_one_sms_per_change(
    episode: list[list[PlannedDelivery]],
) -> None:
    """Three affected kelurahan, one SMS each time, in English, one ending at the end."""
    sms = _sms(episode)["+6281200000002"]
    assert len(sms) == 5
    assert all("Manggar, Lamaru and Teritip" in body for _, body in sms)
    assert ["ended: ended by BMKG (PD-4)" in body for _, body in sms] == [False] * 4 + [True]


def test_inland_officials_hear_awas_once_and_its_all_clear_once_at_pd4(
    episode: list[list[PlannedDelivery]],
) -> None:
    """tsunami-awas-pejabat holds through the de-escalation: AWAS at PD-3, AMAN at PD-4."""
    per_bulletin = [
        [str(p.payload["body"]) for p in batch if p.recipient == "+6281200000003"]
        for batch in episode
    ]
    assert [len(bodies) for bodies in per_bulletin] == [0, 0, 1, 0, 1]
    assert per_bulletin[2][0].startswith("AWAS TSUNAMI")
    assert per_bulletin[4][0].startswith("AWAS tsunami pesisir Balikpapan berakhir")


def test_inland_residents_hear_nothing(episode: list[list[PlannedDelivery]]) -> None:
    """The coastal alert never reaches an inland kelurahan's public."""
    assert "+6281200000004" not in _sms(episode)


def test_coastal_sirens_alert_attack_alert_then_all_clear(
    episode: list[list[PlannedDelivery]],
) -> None:
    """No siren at WASPADA; SIAGA alert, AWAS attack, back to SIAGA alert, PD-4 all-clear."""
    assert _commands(episode) == [[], ["alert"], ["attack"], ["alert"], ["all-clear"]]


def test_falling_back_to_waspada_stops_the_sirens_once(shipped: tuple[Rule, ...]) -> None:
    """SIAGA -> WASPADA tells sirens all-clear at once; PD-4 then has no second all-clear."""
    falling = ((0, "waspada", 1), (15, "siaga", 2), (60, "waspada", 3), (120, "ended", 4))
    episode = _episode(shipped, falling)
    assert _commands(episode) == [[], ["alert"], ["all-clear"], []]
    bodies = [body for _, body in _sms(episode)["+6281200000001"]]
    assert [body.split(" TSUNAMI")[0] for body in bodies[:3]] == ["WASPADA", "SIAGA", "WASPADA"]
    assert bodies[3].startswith("Peringatan tsunami di Manggar berakhir: diakhiri BMKG")


def test_cap_follows_one_alert_from_alert_to_its_end(episode: list[list[PlannedDelivery]]) -> None:
    """One CAP message per change of the coastal alert: fired, up, up, down, resolved."""
    caps = [
        p.payload["transition"] for batch in episode for p in batch if p.channel is ChannelKind.CAP
    ]
    assert caps == ["fired", "escalated", "escalated", "deescalated", "resolved"]


def test_a_coastal_official_hears_each_event_change_once_across_rules(
    episode: list[list[PlannedDelivery]],
) -> None:
    """Manggar's official is in tsunami-pesisir and tsunami-awas-pejabat: one SMS per change.

    At AWAS both rules fire and at PD-4 both end; the official reads the officials'
    text (written for their group) once each time, never two AWAS or two endings.
    """
    per_bulletin = [
        [(p.change.rule_id, str(p.payload["body"])) for p in batch if p.recipient.endswith("05")]
        for batch in episode
    ]
    assert [len(bodies) for bodies in per_bulletin] == [1, 1, 1, 1, 1]
    assert per_bulletin[2][0][0] == "tsunami-awas-pejabat"
    assert per_bulletin[2][0][1].startswith("AWAS TSUNAMI (BMKG) pesisir Balikpapan")
    assert per_bulletin[4] == [
        (
            "tsunami-awas-pejabat",
            "AWAS tsunami pesisir Balikpapan berakhir: diakhiri BMKG (PD-4). "
            "Pulangkan warga bertahap sesuai arahan posko.",
        )
    ]
