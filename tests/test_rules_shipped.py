"""The rules shipped for Balikpapan: valid, documented, and shaped as the issue requires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.paths import ROOT
from warning.areas import AreaIndex
from warning.daemon.pipeline import history_span
from warning.model import (
    Action,
    AllOf,
    Comparison,
    Condition,
    Expression,
    Level,
    ObservationKind,
    Rule,
    TransitionKind,
)
from warning.plan.acklinks import link_chars
from warning.rules import check_rules, fields, load_rules, rule_files, schema, templates
from warning.settings import ConsoleSettings

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
    """The six hazard files named by the issue, the forecasts' and the verified reports' own."""
    names = [p.name for p in rule_files([RULES_DIR])]
    assert names == [
        "angin.yaml",
        "cuaca.yaml",
        "gempa.yaml",
        "hujan.yaml",
        "laporan.yaml",
        "prakiraan.yaml",
        "rob.yaml",
        "tsunami.yaml",
    ]


def test_shipped_rules_have_no_problem_at_all(areas: AreaIndex) -> None:
    """No error and no warning: every message fits one SMS in the worst case."""
    assert check_rules([RULES_DIR], areas) == []


def test_every_rule_explains_itself_in_both_languages(shipped: dict[str, Rule]) -> None:
    """A rationale with its source, an Indonesian and an English message at every level."""
    for rule in shipped.values():
        assert len(rule.description) > 80, rule.id
        for step in rule.levels:
            assert set(rule.templates_for(step.level)) == {"id", "en"}, rule.id


def test_the_coast_has_one_tsunami_ladder(shipped: dict[str, Rule]) -> None:
    """WASPADA, SIAGA and AWAS are steps of one coastal alert (sirens, SMS, CAP)."""
    rule = shipped["tsunami-pesisir"]
    assert rule.kind is ObservationKind.TSUNAMI_WARNING
    assert rule.when == Condition("level", Comparison.IN, ("waspada", "siaga", "awas"))
    assert [(s.level, s.when) for s in rule.levels] == [
        (level, Condition("level", Comparison.EQ, level.value)) for level in Level
    ]
    assert (rule.areas, rule.recipients) == (("coastal",), ())
    assert rule.actions == {Action.SIREN, Action.SMS, Action.CAP}
    assert not rule.allow_siren_below_siaga


@pytest.mark.parametrize(
    ("level", "words"),
    [
        (Level.WASPADA, "Jauhi pantai dan muara"),
        (Level.SIAGA, "Jauhi pantai, ke tempat tinggi!"),
        (Level.AWAS, "EVAKUASI SEKARANG"),
    ],
)
def test_each_tsunami_level_says_what_to_do(
    shipped: dict[str, Rule], level: Level, words: str
) -> None:
    """Each step of the coastal ladder has its own Indonesian instruction."""
    assert words in shipped["tsunami-pesisir"].templates_for(level)["id"]


def test_officials_city_wide_hear_of_awas_only(shipped: dict[str, Rule]) -> None:
    """AWAS also goes to officials in every kelurahan, held until PD-4."""
    rule = shipped["tsunami-awas-pejabat"]
    assert [s.level for s in rule.levels] == [Level.AWAS]
    assert rule.when == Condition("level", Comparison.EQ, "awas")
    assert (rule.areas, rule.actions, rule.recipients) == (("all",), {Action.SMS}, ("officials",))


def test_tsunami_warnings_end_only_with_pd4(shipped: dict[str, Rule]) -> None:
    """No expiry: PD-4 (`level: ended`) clears them, or the engine's 12 h safety timeout."""
    tsunami = [r for r in shipped.values() if r.kind is ObservationKind.TSUNAMI_WARNING]
    assert len(tsunami) == 3
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


def test_neighbours_warned_without_balikpapan_inform_officials_until_pd4(
    shipped: dict[str, Rule],
) -> None:
    """BMKG warning PPU, Paser, Kukar, Samarinda or across the strait, not Balikpapan: one
    informational SMS to officials city-wide, no siren, ended by PD-4."""
    rule = shipped["tsunami-tetangga-pejabat"]
    assert rule.when == AllOf(
        (
            Condition("nearby_level", Comparison.IN, ("waspada", "siaga", "awas")),
            Condition("names_balikpapan", Comparison.EQ, False),
        )
    )
    assert (rule.areas, rule.actions, rule.recipients) == (("all",), {Action.SMS}, ("officials",))


def test_quakes_reach_the_public_only_from_bmkg_and_only_fresh(shipped: dict[str, Rule]) -> None:
    """The quake rule says, readably, that BMKG is the authority and late quakes are history."""
    rule = shipped["gempa-dekat"]
    assert rule.public_sources == ("bmkg", "inatews")
    assert rule.late_after == timedelta(minutes=15)
    assert "public_sources" in rule.description
    assert "late_after" in rule.description


def test_strong_near_quake_floor_reaches_siaga(shipped: dict[str, Rule]) -> None:
    """M >= 6.0, shallow (BMKG: under 60 km), within 100 km is the siaga step of gempa-dekat."""
    rule = shipped["gempa-dekat"]
    siaga = next(s for s in rule.levels if s.level is Level.SIAGA)
    assert _conditions(siaga.when) == [
        Condition("magnitude", Comparison.GE, 6.0),
        Condition("distance_km", Comparison.LE, 100),
    ]
    assert Condition("depth_km", Comparison.LT, 60) in _conditions(rule.when)
    assert "under 60 km" in rule.description


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
    """Siren rules reach siaga (the siren sounds at those steps only); none needs the escape."""
    for rule in shipped.values():
        assert not rule.allow_siren_below_siaga
        if Action.SIREN in rule.actions:
            assert max(s.level for s in rule.levels) >= Level.SIAGA


def test_worst_case_messages_fit_one_sms(shipped: dict[str, Rule], areas: AreaIndex) -> None:
    """Every change's text, widest values and the drill prefix, fits one GSM-7 SMS."""
    for rule in shipped.values():
        names = areas.names(areas.select(list(rule.areas)))
        for step in rule.levels:
            _fits_one_sms(rule, step.level, names)


def _fits_one_sms(rule: Rule, level: Level, names: list[str]) -> None:
    """The templates `rule` uses at `level`, for every change, fit one SMS in the worst case."""
    facts = templates.sample_facts(rule.kind, level, templates.widest_area(names), widest=True)
    for change in (TransitionKind.FIRED, TransitionKind.UPDATED, TransitionKind.RESOLVED):
        for language, template in rule.templates_for(level, change).items():
            text = templates.render(template, facts, language, drill=True)
            assert templates.sms_size(text).fits, (rule.id, language, text)


def test_landslide_rule_reads_three_days_and_history_keeps_them(shipped: dict[str, Rule]) -> None:
    """Antecedent rain is a 72 h sum over hill kelurahan; the daemon keeps enough history."""
    landslide = shipped["longsor-hujan-3-hari"]
    assert landslide.kind is ObservationKind.RAINFALL
    assert "sepinggan-raya" not in landslide.areas
    assert "gunung-sari-ulu" in landslide.areas
    assert "PVMBG" in landslide.description
    assert timedelta(hours=72) + landslide.keep_firing_for <= history_span(shipped.values())
    assert history_span(shipped.values()) <= timedelta(days=8)


def test_forecast_rules_speak_to_officials_only(shipped: dict[str, Rule]) -> None:
    """Every prakiraan rule sends SMS to officials and nothing else."""
    forecasts = [r for r in shipped.values() if r.kind is ObservationKind.PRAKIRAAN]
    assert forecasts
    for rule in forecasts:
        assert rule.actions == frozenset({Action.SMS})
        assert rule.recipients == ("officials",)


def test_150_mm_in_3_hours_is_awas(shipped: dict[str, Rule]) -> None:
    """The 3-hour tier: 150 mm within 3 hours of rain that fell is AWAS, for everyone."""
    tier = shipped["hujan-3-jam"]
    assert tier.kind is ObservationKind.RAINFALL
    assert [step.level for step in tier.levels] == [Level.AWAS]
    assert tier.recipients == ()


def test_the_landslide_list_names_its_official_sources_and_asks_officials_to_confirm(
    shipped: dict[str, Rule],
) -> None:
    """longsor-hujan-3-hari says where its kelurahan list comes from, honestly.

    A starting list chosen from relief and place names, to be confirmed against
    BPBD Balikpapan's records and InaRISK's landslide hazard layer.
    """
    description = shipped["longsor-hujan-3-hari"].description
    for source in ("BPBD Kota Balikpapan", "InaRISK", "PVMBG", "STARTING LIST", "must confirm"):
        assert source in description


#: A 40-character `[console] public_url`: the longest base the shipped texts leave room for.
LINK_BASE = "https://peringatan.bpbd.balikpapan.go.id"
#: BMKG's own words, relayed verbatim: a quake verdict (up to 48 characters) or a nowcast's
#: event name (up to 44) cannot be shortened by the rule's author.
BMKG_WORDS = ("{potensi}", "{event}")


def _linked_one_kelurahan_texts(
    shipped: dict[str, Rule], areas: AreaIndex
) -> list[tuple[str, Level, str, str]]:
    """(rule, level, language, widest drill text naming one kelurahan) of every linked SMS.

    An RT/RW head, a siskamling coordinator or a lurah covers one kelurahan, so their
    SMS names it: the longest kelurahan name the rule may warn stands for it.
    """
    console = ConsoleSettings()
    found = []
    for rule in shipped.values():
        if rule.recipients and not set(rule.recipients) & set(console.ack_groups):
            continue
        names = fields.area_names(areas, rule.areas or ("all",))
        area = max(names, key=len)
        for step in rule.levels:
            if step.level < Level(console.ack_level):
                continue
            for change in (TransitionKind.FIRED, TransitionKind.UPDATED):
                for lang, template in rule.templates_for(step.level, change).items():
                    if any(words in template for words in BMKG_WORDS):
                        continue
                    facts = templates.sample_facts(rule.kind, step.level, area, widest=True)
                    text = templates.render(template, facts, lang, drill=True)
                    found.append((rule.id, step.level, lang, text))
    return found


def test_linked_texts_naming_one_kelurahan_fit_one_sms_with_a_40_character_link(
    shipped: dict[str, Rule], areas: AreaIndex
) -> None:
    """The SIAGA/AWAS SMS of an RT head, siskamling or lurah keeps its instruction.

    The daemon never cuts the acknowledgement link; it cuts the text before it. With
    the widest values, the drill prefix and the longest kelurahan name, every shipped
    text but those quoting BMKG's own words fits one GSM-7 SMS beside the link of a
    40-character public_url, so nothing people must do is cut away.
    """
    room = schema.SMS_LIMIT - link_chars(LINK_BASE)
    texts = _linked_one_kelurahan_texts(shipped, areas)
    assert {rule for rule, *_ in texts} >= {"tsunami-pesisir", "hujan-per-jam", "rob"}
    too_long = [
        f"{rule} {level.word} {lang} ({units}): {text}"
        for rule, level, lang, text in texts
        if (units := templates.sms_size(text).units) > room
    ]
    assert too_long == []
