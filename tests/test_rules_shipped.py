"""The rules shipped for Balikpapan: valid, documented, and shaped as the issue requires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from warning.areas import AreaIndex
from warning.model import (
    Action,
    AllOf,
    Comparison,
    Condition,
    Expression,
    Level,
    ObservationKind,
    Rule,
)
from warning.rules import check_rules, load_rules, rule_files, templates

from .conftest import ROOT

RULES_DIR = ROOT / "rules"


@pytest.fixture(scope="module")
def shipped(areas: AreaIndex) -> dict[str, Rule]:
    """The shipped rules by id."""
    return {r.id: r for r in load_rules([RULES_DIR], areas)}


def _conditions(expression: Expression | None) -> list[Condition]:
    """Every leaf condition of an expression."""
    if expression is None:
        return []
    if isinstance(expression, Condition):
        return [expression]
    return [c for inner in expression.conditions for c in _conditions(inner)]


def test_one_file_per_hazard() -> None:
    """The six hazard files named by the issue, nothing else."""
    names = [p.name for p in rule_files([RULES_DIR])]
    assert names == [
        "angin.yaml",
        "cuaca.yaml",
        "gempa.yaml",
        "hujan.yaml",
        "rob.yaml",
        "tsunami.yaml",
    ]


def test_shipped_rules_have_no_problem_at_all(areas: AreaIndex) -> None:
    """No error and no warning: every message fits one SMS in the worst case."""
    assert check_rules([RULES_DIR], areas) == []


def test_every_rule_explains_itself_in_both_languages(shipped: dict[str, Rule]) -> None:
    """A rationale with its source, an Indonesian and an English message."""
    for rule in shipped.values():
        assert len(rule.description) > 80, rule.id
        assert set(rule.messages) == {"id", "en"}, rule.id


#: rule id -> (level, areas, actions, recipients) as the issue's tsunami section lists them.
TSUNAMI = {
    "tsunami-waspada": (Level.WASPADA, ("coastal",), {Action.SMS, Action.CAP}, ()),
    "tsunami-siaga": (Level.SIAGA, ("coastal",), {Action.SIREN, Action.SMS, Action.CAP}, ()),
    "tsunami-awas": (Level.AWAS, ("coastal",), {Action.SIREN, Action.SMS, Action.CAP}, ()),
    "tsunami-awas-pejabat": (Level.AWAS, ("all",), {Action.SMS}, ("officials",)),
}


@pytest.mark.parametrize("rule_id", sorted(TSUNAMI))
def test_tsunami_levels_are_relayed_as_the_issue_says(
    shipped: dict[str, Rule], rule_id: str
) -> None:
    """WASPADA SMS coastal; SIAGA and AWAS sirens and SMS coastal; AWAS officials city-wide."""
    level, selectors, actions, recipients = TSUNAMI[rule_id]
    rule = shipped[rule_id]
    assert rule.kind is ObservationKind.TSUNAMI_WARNING
    assert [s.level for s in rule.levels] == [level]
    assert rule.when == Condition("level", Comparison.EQ, level.value)
    assert (rule.areas, rule.actions, rule.recipients) == (selectors, actions, recipients)


def test_tsunami_warnings_end_only_with_pd4(shipped: dict[str, Rule]) -> None:
    """No expiry: PD-4 (`level: ended`) clears them, or the engine's 12 h safety timeout."""
    tsunami = [r for r in shipped.values() if r.kind is ObservationKind.TSUNAMI_WARNING]
    assert len(tsunami) == 4
    for rule in tsunami:
        assert rule.expire_after is None
        assert rule.clear_when == Condition("level", Comparison.EQ, "ended")


def test_bmkg_tsunami_potential_alerts_officials_within_a_distance(
    shipped: dict[str, Rule],
) -> None:
    """BMKG's own potential-tsunami flag, within a set distance, goes to officials at once."""
    rule = shipped["tsunami-potensi-pejabat"]
    assert rule.kind is ObservationKind.EARTHQUAKE
    assert rule.recipients == ("officials",)
    assert rule.for_duration == timedelta(0)
    assert rule.when == AllOf(
        (
            Condition("tsunami_potential", Comparison.EQ, True),
            Condition("distance_km", Comparison.LE, 500),
        )
    )


def test_strong_near_quake_floor_reaches_siaga(shipped: dict[str, Rule]) -> None:
    """M >= 6.0, shallower than 70 km, within 100 km is the siaga step of gempa-dekat."""
    rule = shipped["gempa-dekat"]
    siaga = next(s for s in rule.levels if s.level is Level.SIAGA)
    assert _conditions(siaga.when) == [
        Condition("magnitude", Comparison.GE, 6.0),
        Condition("distance_km", Comparison.LE, 100),
    ]
    assert Condition("depth_km", Comparison.LT, 70) in _conditions(rule.when)


def test_100_mm_in_24_h_reaches_siaga(shipped: dict[str, Rule]) -> None:
    """BMKG 'sangat lebat' (100 mm / 24 h) is the siaga step of hujan-24-jam."""
    rule = shipped["hujan-24-jam"]
    siaga = next(s for s in rule.levels if s.level is Level.SIAGA)
    [condition] = _conditions(siaga.when)
    assert (condition.field, condition.op, condition.operand) == (
        "precipitation_mm",
        Comparison.GE,
        100,
    )
    assert condition.over == timedelta(hours=24)


def test_no_shipped_rule_sounds_a_siren_below_siaga(shipped: dict[str, Rule]) -> None:
    """Sirens only where every level is siaga or above, and none needs the escape hatch."""
    for rule in shipped.values():
        assert not rule.allow_siren_below_siaga
        if Action.SIREN in rule.actions:
            assert min(s.level for s in rule.levels) >= Level.SIAGA


def test_worst_case_messages_fit_one_sms(shipped: dict[str, Rule], areas: AreaIndex) -> None:
    """Rendered with the widest values and the drill + all-clear prefix, each fits 160."""
    for rule in shipped.values():
        names = areas.names(areas.select(list(rule.areas)))
        widest = templates.widest_values([s.level for s in rule.levels], names)
        for language, template in rule.messages.items():
            prefix = "LATIHAN: AMAN: " if language == "id" else "DRILL: ALL CLEAR: "
            text = templates.worst_case(template, widest, prefix)
            assert templates.sms_length(text) <= 160, (rule.id, language, text)
