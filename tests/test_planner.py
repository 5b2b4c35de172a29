"""The pure planner: who gets what for a set of transitions."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import timedelta

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from warning.model import (
    Action,
    Audience,
    ChannelKind,
    EventFacts,
    Level,
    LevelStep,
    ObservationKind,
    Rule,
    Transition,
    TransitionKind,
)
from warning.plan.planner import plan
from warning.settings import SirenSettings

FIVE = ["manggar", "lamaru", "teritip", "manggar-baru", "batu-ampar"]
SIRENS = (
    SirenSettings(id="sirene-timur", areas=("balikpapan-timur",), duration_s=120),
    SirenSettings(id="sirene-barat", areas=("kariangau",)),
)


def _plan(ts, rules, contacts=(), sirens=(), **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("drill", False)
    return plan(ts, rules, contacts, sirens, city(), now=NOW, **kw)


def test_one_sms_per_person_per_change_across_five_areas() -> None:
    """A contact covering five affected kelurahan gets one SMS naming them compactly."""
    planned = _plan(transitions(FIVE), [rule()], [contact("+6281200000001", FIVE)])
    assert len(planned) == 1
    assert "di Balikpapan Timur dan Batu Ampar." in planned[0].payload["body"]


def test_english_contacts_get_english_area_naming() -> None:
    """The compact naming follows the recipient's language."""
    planned = _plan(transitions(FIVE), [rule()], [contact("+6281200000001", FIVE, language="en")])
    assert "in Balikpapan Timur and Batu Ampar." in planned[0].payload["body"]


def test_contacts_outside_the_areas_get_nothing() -> None:
    """Never sent to areas it does not concern."""
    planned = _plan(transitions(["manggar"]), [rule()], [contact("+6281200000001", ["kariangau"])])
    assert planned == []


def test_only_the_rule_groups_are_messaged() -> None:
    """rule.recipients limits the groups; an empty tuple means every group."""
    people = [
        contact("+6281200000001", ["manggar"], "officials"),
        contact("+6281200000002", ["manggar"], "public"),
    ]
    planned = _plan(transitions(["manggar"]), [rule(recipients=["officials"])], people)
    assert [p.recipient for p in planned] == ["+6281200000001"]


def test_sirens_come_first_then_groups_by_priority_then_cap() -> None:
    """Order: siren 0, officials 10, rt-heads 20, public 30, CAP 40."""
    people = [
        contact("+6281200000003", ["manggar"], "public"),
        contact("+6281200000002", ["manggar"], "rt-heads"),
        contact("+6281200000001", ["manggar"], "officials"),
    ]
    actions = [Action.SMS, Action.SIREN, Action.CAP]
    planned = _plan(transitions(["manggar"]), [rule(actions=actions)], people, SIRENS)
    assert [(p.channel, p.priority) for p in planned] == [
        (ChannelKind.SIREN, 0),
        (ChannelKind.SMS, 10),
        (ChannelKind.SMS, 20),
        (ChannelKind.SMS, 30),
        (ChannelKind.CAP, 40),
    ]


def test_one_siren_trigger_for_several_areas_with_the_level_command() -> None:
    """A siren covering three affected kelurahan gets one `attack` at awas."""
    ts = transitions(["manggar", "lamaru", "teritip"], level=Level.AWAS)
    planned = _plan(ts, [rule(actions=[Action.SIREN])], sirens=SIRENS)
    assert len(planned) == 1
    assert planned[0].recipient == "sirene-timur"
    assert planned[0].payload == {
        "command": "attack",
        "duration_s": 120,
        "change_id": planned[0].change_id,
        "drill": False,
    }


def test_sirens_stay_silent_below_siaga_unless_the_rule_allows() -> None:
    """Waspada sounds no siren by default; allow_siren_below_siaga makes it `alert`."""
    ts = transitions(["manggar"], level=Level.WASPADA)
    assert _plan(ts, [rule(actions=[Action.SIREN])], sirens=SIRENS) == []
    loud = _plan(ts, [rule(actions=[Action.SIREN], allow_siren_below_siaga=True)], sirens=SIRENS)
    assert loud[0].payload["command"] == "alert"


def test_a_resolution_sounds_all_clear_and_says_what_ended() -> None:
    """Resolved: sirens get all-clear, SMS say the rule's ending, nothing of the warning."""
    ts = transitions(["manggar"], kind=TransitionKind.RESOLVED)
    people = [contact("+6281200000001", ["manggar"])]
    planned = _plan(ts, [rule(actions=[Action.SIREN, Action.SMS])], people, SIRENS)
    assert planned[0].payload["command"] == "all-clear"
    assert planned[1].payload["body"] == "Peringatan gempa untuk Manggar berakhir."


def test_drills_reach_only_drill_contacts_with_the_drill_prefix() -> None:
    """In a drill only drill=true contacts get SMS, each starting LATIHAN:."""
    people = [
        contact("+6281200000001", ["manggar"], drill=True),
        contact("+6281200000002", ["manggar"], drill=False),
    ]
    planned = _plan(transitions(["manggar"], drill=True), [rule()], people, drill=True)
    assert [p.recipient for p in planned] == ["+6281200000001"]
    assert planned[0].payload["body"].startswith("LATIHAN: ")
    everyone = _plan(transitions(["manggar"]), [rule()], people, drill=True, drill_all=True)
    assert len(everyone) == 2


def test_drill_sirens_get_the_configured_test_command() -> None:
    """Drill sirens get test, silent-test, or nothing with `none`."""
    ts = transitions(["manggar"], drill=True)
    siren_rule = [rule(actions=[Action.SIREN])]
    silent = _plan(ts, siren_rule, sirens=SIRENS, drill=True, drill_siren_command="silent-test")
    assert silent[0].payload == {
        "command": "silent-test",
        "duration_s": 120,
        "change_id": silent[0].change_id,
        "drill": True,
    }
    assert _plan(ts, siren_rule, sirens=SIRENS, drill=True, drill_siren_command="none") == []


def test_opted_out_numbers_are_skipped() -> None:
    """A number on the opt-out list gets no SMS."""
    people = [contact("+6281200000001", ["manggar"]), contact("+6281200000002", ["manggar"])]
    planned = _plan(transitions(["manggar"]), [rule()], people, opted_out={"+6281200000001"})
    assert [p.recipient for p in planned] == ["+6281200000002"]


def test_replanning_gives_the_same_dedup_keys() -> None:
    """The same transitions always plan the same keys; another event's warning other keys."""
    people = [contact("+6281200000001", ["manggar"])]
    first = _plan(transitions(["manggar"]), [rule()], people)
    again = _plan(transitions(["manggar"]), [rule()], people)
    moved = transitions(["manggar"], at=NOW + timedelta(minutes=5))
    later = _plan(moved, [rule()], people)
    other = [replace(t, status=replace(t.status, event_id="ev-2")) for t in moved]
    assert [p.dedup_key for p in first] == [p.dedup_key for p in again]
    assert first[0].dedup_key == later[0].dedup_key  # the same event firing again: no repeat
    assert first[0].dedup_key != _plan(other, [rule()], people)[0].dedup_key


def test_each_level_and_kind_is_its_own_change() -> None:
    """Transitions to different levels in one evaluation are separate changes (and CAP)."""
    ts = transitions(["manggar"], level=Level.SIAGA) + transitions(["lamaru"], level=Level.AWAS)
    people = [contact("+6281200000001", ["manggar", "lamaru"])]
    planned = _plan(ts, [rule(actions=[Action.SMS, Action.CAP])], people)
    assert len({p.change_id for p in planned if p.channel is ChannelKind.CAP}) == 2
    # One event change, one SMS to the person: the more severe one.
    [sms] = [p for p in planned if p.channel is ChannelKind.SMS]
    assert sms.payload["body"].startswith("AWAS GEMPA")


def test_pending_transitions_notify_nobody() -> None:
    """Only kinds that notify reach people."""
    ts = transitions(["manggar"], kind=TransitionKind.PENDING)
    assert _plan(ts, [rule()], [contact("+6281200000001", ["manggar"])]) == []


def test_the_cap_payload_follows_the_contract() -> None:
    """CAP rows carry every contract field, texts in id and en."""
    planned = _plan(transitions(["manggar", "lamaru"]), [rule(actions=[Action.CAP])])
    payload = planned[0].payload
    assert planned[0].recipient == "cap"
    assert payload["dedup_key"] == planned[0].dedup_key
    assert payload["area_ids"] == ["manggar", "lamaru"]
    assert payload["transition"] == "fired"
    assert payload["level"] == "siaga"
    assert set(payload["headline"]) == {"id", "en"}
    assert {"instruction", "description", "expires", "sent", "values"} <= set(payload)


def _fell(level: Level, previous: Level, drill: bool = False) -> list[Transition]:
    """A de-escalation of manggar from `previous` to `level`."""
    [fell] = transitions(["manggar"], kind=TransitionKind.DEESCALATED, level=level, drill=drill)
    return [replace(fell, previous_level=previous)]


def test_falling_from_siaga_to_waspada_tells_sirens_all_clear() -> None:
    """A siren means act now: when the level falls below siaga, sirens get all-clear."""
    planned = _plan(_fell(Level.WASPADA, Level.SIAGA), [rule(actions=[Action.SIREN])], (), SIRENS)
    assert [(p.recipient, p.payload["command"]) for p in planned] == [("sirene-timur", "all-clear")]


def test_falling_from_awas_to_siaga_sounds_alert_again() -> None:
    """AWAS -> SIAGA still means act now: sirens go from attack back to alert."""
    planned = _plan(_fell(Level.SIAGA, Level.AWAS), [rule(actions=[Action.SIREN])], (), SIRENS)
    assert [p.payload["command"] for p in planned] == ["alert"]


def test_a_drill_falling_below_siaga_sounds_nothing() -> None:
    """A drill sounded its test once; its de-escalation sends the sirens nothing."""
    ts = _fell(Level.WASPADA, Level.SIAGA, drill=True)
    assert _plan(ts, [rule(actions=[Action.SIREN])], (), SIRENS, drill=True) == []


def test_a_rule_allowing_waspada_sirens_keeps_them_on_alert_when_falling_there() -> None:
    """With allow_siren_below_siaga, waspada is a siren level: SIAGA -> WASPADA is `alert`."""
    loud = rule(actions=[Action.SIREN], allow_siren_below_siaga=True)
    planned = _plan(_fell(Level.WASPADA, Level.SIAGA), [loud], (), SIRENS)
    assert [p.payload["command"] for p in planned] == ["alert"]


def _ladder() -> Rule:
    """A rule whose siaga step has its own message and whose waspada uses the rule's."""
    return rule(
        actions=[Action.SMS, Action.CAP],
        levels=(
            LevelStep(Level.WASPADA),
            LevelStep(Level.SIAGA, messages={"id": "{level} langkah siaga di {area}."}),
        ),
        messages={"id": "{level} umum di {area}."},
    )


def test_each_ladder_step_speaks_with_its_own_template() -> None:
    """SMS and CAP description use the step's templates at that level, else the rule's."""
    people = [contact("+6281200000001", ["manggar"])]
    siaga = _plan(transitions(["manggar"], level=Level.SIAGA), [_ladder()], people)
    assert siaga[0].payload["body"] == "SIAGA langkah siaga di Manggar."
    assert siaga[1].payload["description"]["id"].startswith("SIAGA langkah siaga di Manggar.")
    waspada = _plan(transitions(["manggar"], level=Level.WASPADA), [_ladder()], people)
    assert waspada[0].payload["body"].startswith("WASPADA umum di Manggar.")


def test_an_all_clear_speaks_with_the_end_message_of_the_level_that_ended() -> None:
    """Ending at siaga: the siaga step's end message, never the warning's words."""
    ladder = _ladder()
    siaga = dataclasses.replace(ladder.levels[1], end_messages={"id": "Siaga di {area} usai."})
    ended = transitions(["manggar"], kind=TransitionKind.RESOLVED, level=Level.SIAGA)
    people = [contact("+6281200000001", ["manggar"])]
    planned = _plan(ended, [dataclasses.replace(ladder, levels=(ladder.levels[0], siaga))], people)
    [sms] = [p for p in planned if p.channel is ChannelKind.SMS]
    assert sms.payload["body"] == "Siaga di Manggar usai."


def test_no_sms_when_the_rule_wrote_no_text_for_the_change() -> None:
    """A rule without an end message ends without an SMS (nothing is invented)."""
    ended = transitions(["manggar"], kind=TransitionKind.RESOLVED)
    silent = rule(end_messages={})
    assert _plan(ended, [silent], [contact("+6281200000001", ["manggar"])]) == []


def test_a_relayed_bmkg_warning_names_bmkg_in_its_cap_text_and_a_city_rule_does_not() -> None:
    """CAP descriptions of tsunami relays say BMKG is the source; the city's own rules do not."""
    relay = replace(rule(actions=[Action.CAP]), kind=ObservationKind.TSUNAMI_WARNING)
    (tsunami,) = _plan(transitions(["manggar"]), [relay])
    assert "Sumber: BMKG" in tsunami.payload["description"]["id"]
    assert "Source: BMKG" in tsunami.payload["description"]["en"]
    (quake,) = _plan(transitions(["manggar"]), [rule(actions=[Action.CAP])])
    assert "BMKG" not in quake.payload["description"]["id"]


def test_a_quake_reads_its_distance_from_the_nearest_warned_kelurahan() -> None:
    """Each kelurahan carries its own distance; "km dari Balikpapan" is the nearest of them."""
    far, near = transitions(["manggar", "lamaru"])
    far = replace(far, status=replace(far.status, values={"magnitude": 6.1, "distance_km": 41.7}))
    near = replace(
        near, status=replace(near.status, values={"magnitude": 6.1, "distance_km": 38.2})
    )
    quake = rule(messages={"id": "{level} GEMPA M{magnitude}, {distance_km} km dari Balikpapan."})
    [sms] = _plan([far, near], [quake], [contact("+6281200000001", ["manggar"])])
    assert sms.payload["body"] == "SIAGA GEMPA M6,1, 38 km dari Balikpapan."


def _shipped() -> dict[str, Rule]:
    """The shipped rules by id."""
    from tests.support.paths import ROOT  # noqa: PLC0415 - only these tests read rules/
    from warning.rules import load_rules  # noqa: PLC0415

    return {r.id: r for r in load_rules([ROOT / "rules"], city())}


def _rain(
    rule_id: str, areas: list[str], level: Level, mm: float, period_s: int
) -> list[Transition]:
    """One rain rule's transitions at one evaluation, carrying the sum it judged."""
    values = {"precipitation_mm": mm, "period_s": period_s}
    return [
        replace(t, status=replace(t.status, values=values, event_id=None))
        for t in transitions(areas, rule_id=rule_id, level=level)
    ]


NORTH = ["batu-ampar", "gunung-samarinda", "karang-joang", "muara-rapak", "graha-indah"]


def test_one_rain_evaluation_reaches_a_person_once_across_rain_rules() -> None:
    """24 h SIAGA and landslide WASPADA at once: the Pusdalops official reads one SMS, the SIAGA.

    In the shipped flood scenario the 24 h rule's escalation and the landslide
    rule fire in the same evaluation; one person hears the rain event once per
    change, the most severe text, its areas summarised by kecamatan.
    """
    rules = _shipped()
    ts = _rain("hujan-24-jam", NORTH, Level.SIAGA, 100, 86400)
    ts += _rain("longsor-hujan-3-hari", NORTH[:3], Level.WASPADA, 100, 259200)
    pusdalops = contact("+6281200000001", [a.id for a in city().kelurahan], "officials")
    planned = _plan(ts, rules, [pusdalops])
    assert [p.payload["body"] for p in planned if p.channel is ChannelKind.SMS] == [
        "SIAGA HUJAN 100 mm/24 jam s.d. 01/03 10.30 WITA, 5 kelurahan di Balikpapan Utara. "
        "Jauhi sungai & lereng"
    ]


def test_a_rain_warning_wins_over_the_end_of_another_rain_rule_at_the_same_time() -> None:
    """The hourly rule ends while the 24 h rule escalates: the person reads the warning only."""
    rules = _shipped()
    ts = _rain("hujan-24-jam", ["graha-indah"], Level.AWAS, 160, 86400)
    ts += transitions(
        ["graha-indah"], rule_id="hujan-per-jam", kind=TransitionKind.RESOLVED, level=Level.SIAGA
    )
    rt = contact("+6281200000002", ["graha-indah"], "rt-heads")
    [sms] = [p for p in _plan(ts, rules, [rt]) if p.channel is ChannelKind.SMS]
    assert sms.payload["body"].startswith("AWAS HUJAN 160 mm/24 jam")


def test_two_rules_timing_out_for_one_tsunami_send_an_official_one_notice() -> None:
    """The coast's rule and the officials' AWAS rule time out together: one notice per official."""
    tsunami = dataclasses.replace(rule("tsunami-pesisir"), kind=ObservationKind.TSUNAMI_WARNING)
    awas = dataclasses.replace(rule("tsunami-awas-pejabat"), kind=ObservationKind.TSUNAMI_WARNING)
    ts = transitions(
        ["manggar"], rule_id="tsunami-pesisir", kind=TransitionKind.TIMED_OUT, level=Level.AWAS
    )
    ts += transitions(
        ["manggar", "kariangau"],
        rule_id="tsunami-awas-pejabat",
        kind=TransitionKind.TIMED_OUT,
        level=Level.AWAS,
    )
    official = contact("+6281200000001", ["manggar"], "officials")
    planned = _plan(ts, [tsunami, awas], [official])
    assert len(planned) == 1
    assert planned[0].payload["body"].startswith("PETUGAS: TSUNAMI AWAS")


def test_a_quake_known_only_from_usgs_names_usgs_and_says_bmkg_has_not_judged() -> None:
    """Officials hear USGS's figures labelled USGS, and no invented tsunami verdict."""
    usgs = [
        replace(
            t,
            audience=Audience.OFFICIALS,
            facts=EventFacts(NOW, source="usgs"),
            status=replace(t.status, values={"magnitude": 6.1, "depth_km": 10, "distance_km": 28}),
        )
        for t in transitions(["manggar"], rule_id="gempa-dekat-pejabat")
    ]
    official = contact("+6281200000001", ["manggar"], "officials")
    [sms] = _plan(usgs, _shipped(), [official])
    assert sms.payload["body"] == (
        "SIAGA (pejabat) GEMPA M6,1 USGS 01/03 10.30 WITA, 28 km dari Balikpapan. "
        "BMKG: belum ada info tsunami. Siagakan posko."
    )


def test_two_rain_rules_at_one_level_over_different_kelurahan_are_one_sms_about_all() -> None:
    """Hourly SIAGA over two kelurahan and 24 h SIAGA over three: one SMS naming all five."""
    rules = _shipped()
    ts = _rain("hujan-per-jam", NORTH[3:], Level.SIAGA, 25, 3600)
    ts += _rain("hujan-24-jam", NORTH[:3], Level.SIAGA, 110, 86400)
    pusdalops = contact("+6281200000001", [a.id for a in city().kelurahan], "officials")
    [sms] = [p for p in _plan(ts, rules, [pusdalops]) if p.channel is ChannelKind.SMS]
    assert "5 kelurahan di Balikpapan Utara" in sms.payload["body"]
    assert set(sms.area_ids) == set(NORTH)
