"""Messages people can act on: the official's words, the event's facts, one SMS.

Each case of issue 10's list is a specification here: an all-clear never repeats
the warning's instruction, nothing generic is appended, `{distance_km}` and
`{event}` print the event's facts, quake SMS carry BMKG's verdict, and
`warning rules check` reports a message that could go wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.areas import city
from tests.support.builders import NOW, contact
from tests.support.paths import ROOT
from warning.areas import AreaIndex
from warning.feeds.bmkg_gempa import felt_mmi
from warning.model import (
    AlertState,
    AlertStatus,
    ChannelKind,
    EndReason,
    Level,
    Problem,
    Rule,
    Transition,
    TransitionKind,
)
from warning.plan.planner import plan
from warning.rules import check_rules, load_rules, templates

BAD = ROOT / "tests" / "fixtures" / "rules" / "bad"


@pytest.fixture(scope="module")
def shipped(areas: AreaIndex) -> dict[str, Rule]:
    """The shipped rules by id."""
    return {rule.id: rule for rule in load_rules([ROOT / "rules"], areas)}


def _facts(rule: Rule, level: Level, **values: object) -> templates.Facts:
    """Sample facts of the rule's kind with some values replaced."""
    sample = templates.sample_facts(rule.kind, level, "Manggar", widest=False)
    merged = {**sample.values, **values}
    moment = datetime(2026, 3, 10, 2, 15, tzinfo=UTC)
    return templates.Facts(level, "Manggar", moment, merged)  # type: ignore[arg-type]


def test_tsunami_all_clear_says_what_ended_without_the_evacuation_instruction(
    shipped: dict[str, Rule],
) -> None:
    """PD-4 at SIAGA reads the end message: no "menjauh dari pantai", no AMAN prefix added."""
    rule = shipped["tsunami-pesisir"]
    [template] = [rule.templates_for(Level.SIAGA, TransitionKind.RESOLVED)["id"]]
    text = templates.render(template, _facts(rule, Level.SIAGA), "id")
    assert "berakhir" in text
    assert "menjauh dari pantai" not in text
    assert "Jauhi pantai" not in text
    assert "Segera" not in text
    assert "EVAKUASI" not in text


def test_nothing_generic_is_appended_to_the_officials_text(shipped: dict[str, Rule]) -> None:
    """The rendered SMS is exactly the template filled: no "Siapkan evakuasi" tail."""
    rule = shipped["tsunami-pesisir"]
    template = rule.templates_for(Level.SIAGA)["id"]
    text = templates.render(template, _facts(rule, Level.SIAGA), "id")
    assert text.endswith("Jauhi pantai, ke tempat tinggi!")
    assert "Siapkan evakuasi, ikuti arahan petugas." not in text


def test_tsunami_siaga_says_when_the_wave_is_expected_in_wita(shipped: dict[str, Rule]) -> None:
    """InaTEWS arrival 02:47 UTC reads 10.47 WITA."""
    rule = shipped["tsunami-pesisir"]
    facts = _facts(rule, Level.SIAGA, arrival_time="2026-03-10T02:47:00+00:00")
    text = templates.render(rule.templates_for(Level.SIAGA)["id"], facts, "id")
    assert "tiba 10.47 WITA" in text


def test_distance_prints_whole_km_and_magnitude_a_decimal_comma(shipped: dict[str, Rule]) -> None:
    """`{distance_km}` is the event's distance, never "?"; M5.6 reads M5,6."""
    rule = shipped["tsunami-potensi-pejabat"]
    facts = _facts(rule, Level.SIAGA, distance_km=287.6, magnitude=6.9, tsunami_potential=True)
    text = templates.render(rule.templates_for(Level.SIAGA)["id"], facts, "id")
    assert "288 km dari Balikpapan" in text
    assert "M6,9" in text
    assert "?" not in text


def test_quake_sms_names_bmkg_and_carries_its_verdict(shipped: dict[str, Rule]) -> None:
    """BMKG's own words, also when a report gave only the flag."""
    rule = shipped["gempa-dekat"]
    facts = _facts(rule, Level.SIAGA, potensi=None, tsunami_potential=False)
    text = templates.render(rule.templates_for(Level.SIAGA)["id"], facts, "id")
    assert "BMKG: Tidak berpotensi tsunami." in text


def test_event_is_bmkgs_event_name_not_the_rules_name(shipped: dict[str, Rule]) -> None:
    """A nowcast SMS names BMKG's CAP event and its validity end in WITA."""
    rule = shipped["cuaca-bmkg"]
    facts = _facts(
        rule, Level.WASPADA, event="Hujan Lebat dan Petir", expires="2026-03-10T05:30:00+00:00"
    )
    text = templates.render(rule.templates_for(Level.WASPADA)["id"], facts, "id")
    assert "Hujan Lebat dan Petir" in text
    assert rule.name not in text
    assert "s.d. 13.30 WITA" in text


def test_a_quake_alert_has_no_all_clear(shipped: dict[str, Rule]) -> None:
    """No AMAN for aftershocks: quake rules have no end text, so an expiry sends nothing."""
    for rule_id in ("gempa-dekat", "tsunami-potensi-pejabat", "gempa-dirasakan"):
        rule = shipped[rule_id]
        assert not rule.templates_for(rule.levels[0].level, TransitionKind.RESOLVED)


def test_the_whole_city_and_whole_kecamatan_read_by_name(areas: AreaIndex) -> None:
    """34 kelurahan are "seluruh Balikpapan"; a kecamatan's kelurahan its name."""
    assert templates.area_text(areas.select("all"), areas) == "seluruh Balikpapan"
    utara = areas.select("kecamatan:balikpapan-utara")
    assert templates.area_text(utara, areas) == "Balikpapan Utara"
    assert templates.area_text([*utara, "manggar"], areas) == "Balikpapan Utara dan Manggar"


def test_gsm7_extension_counts_two_and_other_characters_make_ucs2() -> None:
    """`€` takes two septets; an emoji makes the SMS UCS-2 of 70 characters."""
    assert templates.sms_size("€" * 80).units == 160
    assert templates.sms_size("€" * 81).fits is False
    assert templates.sms_size("Awas 🌊").limit == 70


def test_felt_intensity_is_read_per_place() -> None:
    """ "II-III Balikpapan" is III; Penajam's entry is not Balikpapan's."""
    assert felt_mmi("III-IV Paser, II-III Balikpapan", "Balikpapan") == 3
    assert felt_mmi("III Penajam Paser Utara", "Balikpapan") is None


#: A quake rule without its messages: each test adds the message it checks.
QUAKE_RULE = (
    "- id: gempa\n  name: Gempa\n  description: Test.\n  kind: earthquake\n"
    '  when: {value: magnitude, ">=": 5}\n  level: waspada\n'
)


def _only_problem(directory: Path, areas: AreaIndex, text: str) -> Problem:
    """The one problem `rules check` finds in a rule file holding `text`."""
    path = directory / "rule.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = check_rules([path], areas)
    return problem


@pytest.mark.parametrize(
    ("text", "fragment", "where"),
    [
        (
            '  message: {id: "{level}: Gempa M{magnitude} {distance_km} km, {felt}."}\n',
            '"{felt}" can be empty for earthquake',
            (7, 64),
        ),
        (
            '  message: {id: "{level}: Gempa M{magnitude}, {depth_km} km ' + "x" * 140 + '"}\n',
            "more than one SMS (160)",
            (7, 17),
        ),
        (
            '  message: {id: "{level}: Gempa M{magnitude} 🌊"}\n',
            "is not a GSM-7 character",
            (7, 17),
        ),
    ],
)
def test_rules_check_refuses_a_message_that_could_go_wrong(
    tmp_path: Path, areas: AreaIndex, text: str, fragment: str, where: tuple[int, int]
) -> None:
    """Empty-able placeholders, overlong and UCS-2 texts are errors with file:line:col."""
    problem = _only_problem(tmp_path, areas, QUAKE_RULE + text)
    assert fragment in problem.message
    assert (problem.line, problem.col) == where


def test_rules_check_requires_an_end_message_for_kinds_that_end(
    tmp_path: Path, areas: AreaIndex
) -> None:
    """A rain rule without end_message is refused: an all-clear must say what ended."""
    problem = _only_problem(
        tmp_path,
        areas,
        "- id: hujan\n  name: Hujan\n  description: Test.\n  kind: rainfall\n"
        '  when: {value: precipitation_mm, ">=": 50}\n  level: siaga\n'
        '  message: {id: "{level}: Hujan lebat di {area}."}\n',
    )
    assert 'missing "end_message"' in problem.message


@pytest.mark.parametrize(
    ("kind", "reason", "said"),
    [
        (TransitionKind.RESOLVED, EndReason.ENDED_BY_SOURCE, "berakhir: diakhiri BMKG (PD-4)."),
    ],
)
def test_a_tsunami_ending_says_that_bmkg_ended_it(
    shipped: dict[str, Rule], kind: TransitionKind, reason: EndReason, said: str
) -> None:
    """The planner fills {end_reason}: BMKG's PD-4 is named as what ended the warning."""
    status = AlertStatus(
        "tsunami-pesisir", "manggar", AlertState.RESOLVED, alert_id="a-1", event_id="ev-1"
    )
    ending = Transition(kind, status, NOW, Level.SIAGA, end_reason=reason)
    people = [contact("+6281200000001", ["manggar"], "public")]
    rules = [shipped["tsunami-pesisir"]]
    [sms] = [
        p
        for p in plan([ending], rules, people, (), city(), drill=False, now=NOW)
        if p.channel is ChannelKind.SMS
    ]
    assert sms.payload["body"] == (
        f"Peringatan tsunami di Manggar {said} Pulang atas izin BPBD/lurah."
    )


def test_rules_check_refuses_end_reason_outside_an_ending(tmp_path: Path, areas: AreaIndex) -> None:
    """{end_reason} has no text while an alert is raised: the check says it renders "?"."""
    problem = _only_problem(
        tmp_path,
        areas,
        QUAKE_RULE + '  message: {id: "{level}: Gempa M{magnitude} {end_reason}."}\n',
    )
    assert 'renders "?"' in problem.message


def test_a_safety_timeout_tells_the_public_nothing(shipped: dict[str, Rule]) -> None:
    """12 h without PD-4: residents get no SMS (never an all-clear), officials a notice."""
    status = AlertStatus(
        "tsunami-pesisir", "manggar", AlertState.RESOLVED, alert_id="a-1", event_id="ev-1"
    )
    ending = Transition(
        TransitionKind.TIMED_OUT, status, NOW, Level.SIAGA, end_reason=EndReason.SAFETY_TIMEOUT
    )
    people = [
        contact("+6281200000001", ["manggar"], "public"),
        contact("+6281200000002", ["manggar"], "officials"),
    ]
    planned = plan([ending], [shipped["tsunami-pesisir"]], people, (), city(), drill=False, now=NOW)
    [sms] = [p for p in planned if p.channel is ChannelKind.SMS]
    assert sms.recipient == "+6281200000002"
    assert "akhir resmi BMKG tidak diterima" in sms.payload["body"]


def test_officials_hear_bmkg_verdict_or_that_bmkg_has_not_judged_yet(
    shipped: dict[str, Rule],
) -> None:
    """gempa-dekat-pejabat: BMKG's own words when BMKG reported, "belum ada info" before.

    USGS often reports first: the officials' SMS must not invent a verdict, nor print "?".
    """
    rule = shipped["gempa-dekat-pejabat"]
    template = rule.templates_for(Level.SIAGA)["id"]
    bmkg = _facts(rule, Level.SIAGA, potensi="Tidak berpotensi tsunami", tsunami_potential=False)
    assert "BMKG: Tidak berpotensi tsunami." in templates.render(template, bmkg)
    usgs = _facts(rule, Level.SIAGA, potensi=None, tsunami_potential=None)
    assert "BMKG: belum ada info tsunami." in templates.render(template, usgs)


@pytest.mark.parametrize(
    ("rule_id", "level", "judged", "said"),
    [
        ("hujan-3-jam", Level.AWAS, (152.4, 10800), "AWAS HUJAN EKSTREM 152,4 mm/3 jam s.d. 10/03"),
        ("hujan-24-jam", Level.SIAGA, (120.0, 86400), "SIAGA HUJAN 120 mm/24 jam s.d. 10/03"),
        ("longsor-hujan-3-hari", Level.WASPADA, (104.0, 259200), "LONGSOR: hujan 104 mm/3 hari"),
        ("hujan-per-jam", Level.SIAGA, (31.5, 3600), "SIAGA HUJAN 31,5 mm/1 jam s.d. 10/03"),
    ],
)
def test_rain_messages_say_the_amount_judged_with_its_period_and_until_when(
    shipped: dict[str, Rule], rule_id: str, level: Level, judged: tuple[float, int], said: str
) -> None:
    """A windowed rain rule's SMS gives the window's sum, its real period and the time (WITA)."""
    rule = shipped[rule_id]
    facts = _facts(rule, level, precipitation_mm=judged[0], period_s=judged[1])
    text = templates.render(rule.templates_for(level)["id"], facts)
    assert said in text
    assert "10.15 WITA" in text


def test_bmkg_long_verdict_fits_the_officials_sms_whole(shipped: dict[str, Rule]) -> None:
    """BMKG writes "Potensi tsunami untuk diteruskan pada masyarakat": the SMS keeps its end.

    The drill of tsunami-tetangga showed the officials' text cut at 160 mid-word
    ("pantau Ina"); `rules check` now measures the longest verdict BMKG writes.
    """
    rule = shipped["tsunami-potensi-pejabat"]
    verdict = "Potensi tsunami untuk diteruskan pada masyarakat"
    facts = _facts(rule, Level.SIAGA, potensi=verdict, tsunami_potential=True, distance_km=239)
    text = templates.render(rule.templates_for(Level.SIAGA)["id"], facts, drill=True)
    assert f"BMKG: {verdict}." in text
    assert text.endswith("Pantau InaTEWS.")
    assert templates.sms_size(text).fits


def test_a_felt_report_is_no_tsunami_verdict(shipped: dict[str, Rule]) -> None:
    """A felt report's Potensi ("Gempa ini dirasakan ...") reads "belum ada info tsunami"."""
    rule = shipped["gempa-dekat-pejabat"]
    felt = "Gempa ini dirasakan untuk diteruskan pada masyarakat"
    facts = _facts(rule, Level.WASPADA, potensi=felt, tsunami_potential=None)
    text = templates.render(rule.templates_for(Level.WASPADA)["id"], facts)
    assert "BMKG: belum ada info tsunami." in text
    assert felt not in text
