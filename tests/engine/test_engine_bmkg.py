"""BMKG relays: event identity across revised bulletins, authority, freshness, ends, facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tests.support.feeds import AREAS, fixture, parse
from tests.support.rules import (
    T0,
    Keeper,
    at,
    cond,
    kinds,
    obs,
    quake,
    quake_rule,
    rain,
    rain_rule,
    rule,
    tsunami,
    tsunami_rule,
    with_values,
)
from warning.areas import AreaIndex
from warning.model import (
    AlertState,
    AlertStatus,
    AllOf,
    Audience,
    EndReason,
    Level,
    Observation,
    ObservationKind,
    Rule,
    TransitionKind,
)
from warning.rules.engine import evaluate

COAST = ("manggar", "lamaru")
#: The epicentre of the tsunami events below, in the Makassar Strait off Mamuju.
STRAIT = (118.62, -2.47)


def _bulletin(
    level: str | None,
    number: float,
    *,
    origin: datetime = T0,
    where: tuple[float, float] = STRAIT,
    sent: float = 5,
    area_ids: tuple[str, ...] = COAST,
    **values: Any,
) -> Observation:
    """An InaTEWS bulletin stating its quake's origin and epicentre, with its own id."""
    o = tsunami(level or "siaga", 1, area_ids, event_id=f"inatews:{origin:%H%M%S}", time=at(sent))
    stated = {
        "level": level,
        "bulletin": number,
        "origin_time": origin.isoformat(),
        "epicenter_lon": where[0],
        "epicenter_lat": where[1],
    }
    return with_values(o, **stated, **values)


def _selat(name: str) -> Observation:
    """One of the recorded-format bulletins of the revised Makassar Strait event."""
    payload = fixture("inatews", f"synthetic_inatews_20260520_selat_makassar_{name}.json")
    [observation] = parse("inatews", payload, areas=AREAS)
    return observation


# ---------------------------------------------------------------------------
# One event across revised bulletins


def test_revised_bulletins_of_one_tsunami_are_one_event_that_pd4_ends(index: AreaIndex) -> None:
    """PD-2 and PD-3.1 revise origin (+3 s), epicentre (~12 km), M7.5 -> 7.1, depth and
    eventid: the coast's SIAGA holds quietly, and the revised PD-4 ends it, once."""
    keeper = Keeper([tsunami_rule()], index)
    pd1, pd2, pd31, pd4 = (
        _selat(n) for n in ("pd1", "pd2_revised", "pd3.1_revised", "pd4_revised")
    )
    keeper.history.extend([pd1])
    start = pd1.time
    first = evaluate(keeper.rules, keeper.history, index, {}, start)
    for t in first:
        keeper.states[(t.rule_id, t.area_id)] = t.status
    assert {t.kind for t in first} == {TransitionKind.FIRED}
    for bulletin in (pd2, pd31):
        keeper.history.append(bulletin)
        assert evaluate(keeper.rules, keeper.history, index, keeper.states, bulletin.time) == []
    keeper.history.append(pd4)
    ended = evaluate(keeper.rules, keeper.history, index, keeper.states, pd4.time)
    assert {t.kind for t in ended} == {TransitionKind.RESOLVED}
    assert {t.end_reason for t in ended} == {EndReason.ENDED_BY_SOURCE}
    assert len(ended) == len(first)
    for t in ended:
        keeper.states[(t.rule_id, t.area_id)] = t.status
    later = pd4.time + timedelta(hours=13)
    assert evaluate(keeper.rules, keeper.history, index, keeper.states, later) == []


def test_pd4_ends_the_event_even_when_its_first_bulletins_left_the_history(
    index: AreaIndex,
) -> None:
    """The stored origin and epicentre recognise a revised PD-4 without PD-1 at hand."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1)])
    keeper.history.clear()
    revised = T0 + timedelta(seconds=3)
    pd4 = _bulletin("ended", 4, origin=revised, where=(118.55, -2.39), sent=120, area_ids=())
    ended = keeper.step(120, [pd4])
    assert kinds(ended) == ["resolved", "resolved"]
    assert ended[0].end_reason is EndReason.ENDED_BY_SOURCE


def test_bulletins_of_two_quakes_minutes_apart_stay_two_events(index: AreaIndex) -> None:
    """A second quake 5 minutes later at the same place is another event, not a revision."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1)])
    other = _bulletin("siaga", 1, origin=T0 + timedelta(minutes=5), sent=10)
    assert kinds(keeper.step(10, [other]), "manggar") == ["updated"]


def test_a_pd4_matching_two_events_ends_both_at_once(index: AreaIndex) -> None:
    """Two solutions 70 s apart are two events; a PD-4 lying between them (35 s from each)
    is a bulletin of both, and ends every matching event at once."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1)])
    later = _bulletin("siaga", 1, origin=T0 + timedelta(seconds=70), sent=8)
    assert kinds(keeper.step(8, [later]), "manggar") == ["updated"]
    between = _bulletin("ended", 4, origin=T0 + timedelta(seconds=35), sent=60, area_ids=())
    ended = keeper.step(60, [between])
    assert kinds(ended) == ["resolved", "resolved"]
    assert keeper.step(13 * 60) == []


def test_bulletins_far_apart_in_place_stay_two_events(index: AreaIndex) -> None:
    """The same minute 300 km away is another event: its PD-4 ends only itself."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1)])
    far_end = _bulletin("ended", 4, where=(121.5, -2.47), sent=30, area_ids=())
    far_end = replace(far_end, event_id="inatews:far")
    assert keeper.step(30, [far_end]) == []
    assert keeper.status("manggar").state is AlertState.FIRING


def test_a_bulletin_with_a_new_arrival_time_is_an_update(index: AreaIndex) -> None:
    """Same level, new estimated arrival: people act on it, so it is UPDATED."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1, arrival_time="2025-03-01T00:40:00+00:00")])
    sooner = _bulletin("siaga", 2, sent=20, arrival_time="2025-03-01T00:33:00+00:00")
    updated = keeper.step(20, [sooner])
    assert kinds(updated) == ["updated", "updated"]
    assert updated[0].facts is not None
    assert updated[0].facts.bulletin == "PD-2"


def test_an_exercise_bulletin_never_starts_nor_ends_a_live_alert(index: AreaIndex) -> None:
    """A test event (exercise) naming Balikpapan starts nothing live, and its PD-4 ends
    nothing live, even for the same quake."""
    keeper = Keeper([tsunami_rule()], index)
    assert keeper.step(5, [replace(_bulletin("awas", 1), exercise=True)]) == []
    keeper.step(6, [_bulletin("siaga", 1, sent=6)])
    drill_end = replace(_bulletin("ended", 4, sent=30, area_ids=()), exercise=True)
    assert keeper.step(30, [drill_end]) == []
    assert keeper.status("manggar").state is AlertState.FIRING


# ---------------------------------------------------------------------------
# Neighbouring districts


def _neighbours_rule() -> Rule:
    """Officials hear of a warning next door when Balikpapan is not named, until PD-4."""
    when = cond("nearby_level", "in", ("waspada", "siaga", "awas"))
    not_us = cond("names_balikpapan", "==", False)
    return rule(
        "tetangga",
        ObservationKind.TSUNAMI_WARNING,
        AllOf((when, not_us)),
        clear_when=cond("level", "==", "ended"),
    )


def test_a_warning_for_neighbours_reaches_every_area_of_a_rule_reading_it(
    index: AreaIndex,
) -> None:
    """A bulletin naming Paser but not Balikpapan names no kelurahan, yet a rule about the
    neighbours hears it everywhere; its PD-4 ends it, and Balikpapan named later keeps it."""
    keeper = Keeper([_neighbours_rule(), tsunami_rule()], index)
    paser = _bulletin(None, 1, area_ids=(), names_balikpapan=False, nearby_level="siaga")
    fired = keeper.step(5, [paser])
    assert {t.rule_id for t in fired} == {"tetangga"}
    assert len(fired) == len(index.kelurahan)
    named = _bulletin("siaga", 2, sent=20, names_balikpapan=True, nearby_level="siaga")
    assert {t.rule_id for t in keeper.step(20, [named])} == {"tsunami"}
    pd4 = _bulletin("ended", 4, sent=90, area_ids=(), nearby=None, nearby_level=None)
    ended = [t for t in keeper.step(90, [pd4]) if t.rule_id == "tetangga"]
    assert {t.kind for t in ended} == {TransitionKind.RESOLVED}
    assert ended[0].status.values["nearby_level"] == "siaga"
    assert ended[0].status.values["level"] == "ended"


# ---------------------------------------------------------------------------
# Authority: BMKG for the public


def _usgs(magnitude: float, **fields: Any) -> Observation:
    """USGS's solution of the quake q1, a few seconds off BMKG's."""
    fields.setdefault("time", T0 + timedelta(seconds=2))
    return quake(magnitude, (116.9, -1.3), source="usgs", event_id="us7000r2kq", **fields)


def test_a_quake_known_only_from_usgs_reaches_officials_only(index: AreaIndex) -> None:
    """USGS first: officials hear it, labelled usgs; the alert is theirs alone."""
    keeper = Keeper([quake_rule()], index)
    fired = keeper.step(2, [_usgs(7.1)])
    assert kinds(fired, "manggar") == ["fired"]
    assert {t.audience for t in fired} == {Audience.OFFICIALS}
    assert fired[0].facts is not None
    assert fired[0].facts.source == "usgs"
    assert keeper.status("manggar").state is AlertState.OFFICIALS


def test_bmkg_confirming_a_usgs_quake_tells_the_public_once_with_bmkg_figures(
    index: AreaIndex,
) -> None:
    """USGS M7.1 (siaga) then BMKG M6.6 of the same quake: one alert; the public hears it
    once, at BMKG's level, and it expires silently for everyone."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(2, [_usgs(7.1)])
    confirmed = keeper.step(5, [quake(6.6)])
    assert kinds(confirmed, "manggar") == ["fired"]
    assert {t.audience for t in confirmed} == {Audience.PUBLIC}
    assert confirmed[0].level is Level.WASPADA
    assert confirmed[0].previous_level is None
    facts = confirmed[0].facts
    assert facts is not None
    assert facts.source == "bmkg-autogempa"
    assert set(facts.sources) == {"usgs", "bmkg-autogempa"}
    assert keeper.step(8, [quake(6.6, source="bmkg-gempaterkini")]) == []
    assert keeper.status("manggar").alert_id == confirmed[0].status.alert_id
    assert kinds(keeper.step(60), "manggar") == ["expired"]


def test_changes_of_an_officials_only_alert_reach_officials_only(index: AreaIndex) -> None:
    """A USGS revision escalating the quake, its reminders and its expiry stay with officials."""
    keeper = Keeper([quake_rule(repeat_every=timedelta(minutes=20))], index)
    keeper.step(2, [_usgs(6.5)])
    escalated = keeper.step(4, [_usgs(7.2, time=T0 + timedelta(seconds=1))])
    assert kinds(escalated, "manggar") == ["escalated"]
    assert {t.audience for t in escalated} == {Audience.OFFICIALS}
    reminded = keeper.step(24)
    assert kinds(reminded, "manggar") == ["reminder"]
    assert {t.audience for t in reminded} == {Audience.OFFICIALS}
    expired = keeper.step(60)
    assert {t.audience for t in expired} == {Audience.OFFICIALS}


def test_public_sources_any_lets_another_source_reach_the_public(index: AreaIndex) -> None:
    """An official rule may let USGS reach the public: written, not hidden."""
    keeper = Keeper([quake_rule(public_sources=("any",))], index)
    fired = keeper.step(2, [_usgs(7.1)])
    assert {t.audience for t in fired} == {Audience.PUBLIC}
    assert keeper.status("manggar").state is AlertState.FIRING


def test_readings_have_no_authority_by_default(index: AreaIndex) -> None:
    """Measured rain from any source reaches the public as before."""
    keeper = Keeper([rain_rule()], index)
    fired = keeper.step(0, [rain(120, 0)])
    assert {t.audience for t in fired} == {Audience.PUBLIC}


# ---------------------------------------------------------------------------
# Freshness: late events are history


def test_a_quake_first_seen_50_minutes_late_reaches_officials_only(index: AreaIndex) -> None:
    """After an outage the quake is history: officials only, marked late; BMKG's later
    revision does not make it news for the public."""
    keeper = Keeper([quake_rule()], index)
    fired = keeper.step(50, [quake(6.6)])
    assert {t.audience for t in fired} == {Audience.OFFICIALS}
    assert fired[0].facts is not None
    assert fired[0].facts.late
    assert keeper.step(52, [quake(6.5, source="bmkg-gempaterkini")]) == []
    assert keeper.status("manggar").state is AlertState.OFFICIALS


def test_a_quake_seen_within_its_freshness_is_news(index: AreaIndex) -> None:
    """Seen 14 minutes after the origin: the public hears it, not marked late."""
    fired = Keeper([quake_rule()], index).step(14, [quake(6.6)])
    assert {t.audience for t in fired} == {Audience.PUBLIC}
    assert fired[0].facts is not None
    assert not fired[0].facts.late


def test_late_after_is_the_rule_s_to_set(index: AreaIndex) -> None:
    """A rule with late_after 1h still tells the public about a 50-minute-old quake."""
    fired = Keeper([quake_rule(late_after=timedelta(hours=1))], index).step(50, [quake(6.6)])
    assert {t.audience for t in fired} == {Audience.PUBLIC}


def test_a_tsunami_warning_in_force_is_never_late_by_default(index: AreaIndex) -> None:
    """A bulletin seen 40 minutes after it was sent still warns the coast: its threat is ahead."""
    fired = Keeper([tsunami_rule()], index).step(45, [_bulletin("siaga", 1)])
    assert {t.audience for t in fired} == {Audience.PUBLIC}


# ---------------------------------------------------------------------------
# How alerts end


def test_a_nowcast_ends_at_its_cap_expires_not_at_the_rule_s_timer(index: AreaIndex) -> None:
    """BMKG holds the nowcast valid for 2 h: a rule's 1 h expire_after does not end it early."""
    values = {"severity": "Severe", "msg_type": "Alert", "expires": "2025-03-01T02:00:00+00:00"}
    cap = obs(
        ObservationKind.WEATHER_WARNING, values, area_ids=("graha-indah",), source="bmkg-nowcast"
    )
    severe = cond("severity", "==", "Severe")
    cuaca = rule("cuaca", ObservationKind.WEATHER_WARNING, severe, expire_after=timedelta(hours=1))
    keeper = Keeper([cuaca], index)
    keeper.step(1, [cap])
    assert keeper.step(90) == []
    ended = keeper.step(120)
    assert kinds(ended) == ["resolved"]
    assert ended[0].end_reason is EndReason.VALIDITY_OVER


def test_a_cap_cancel_ends_with_its_reason(index: AreaIndex) -> None:
    """BMKG's Cancel ends the nowcast and says BMKG cancelled it."""
    values = {"severity": "Severe", "msg_type": "Alert"}
    cap = obs(
        ObservationKind.WEATHER_WARNING, values, area_ids=("graha-indah",), source="bmkg-nowcast"
    )
    keeper = Keeper([rule("cuaca", ObservationKind.WEATHER_WARNING)], index)
    keeper.step(1, [cap])
    cancel = with_values(replace(cap, time=at(30)), msg_type="Cancel")
    ended = keeper.step(30, [cancel])
    assert ended[0].end_reason is EndReason.CANCELLED_BY_SOURCE
    without_expiry = keeper.step(200, [replace(cap, event_id="cap2", time=at(200))])
    assert kinds(without_expiry) == ["fired"]
    expired = keeper.step(380)
    assert expired[0].end_reason is EndReason.EXPIRED


def test_the_safety_timeout_says_so(index: AreaIndex) -> None:
    """A tsunami without PD-4 times out, with its reason, and its facts from memory."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(5, [_bulletin("siaga", 1)])
    keeper.history.clear()
    timed_out = keeper.step(12 * 60 + 5)
    assert timed_out[0].end_reason is EndReason.SAFETY_TIMEOUT
    assert timed_out[0].facts is not None
    assert timed_out[0].facts.time == T0
    assert timed_out[0].facts.bulletin == "PD-1"


def test_readings_that_stop_holding_end_as_cleared(index: AreaIndex) -> None:
    """Rain under the threshold ends the alert, and says the readings cleared."""
    keeper = Keeper([rain_rule()], index)
    keeper.step(0, [rain(120, 0)])
    ended = keeper.step(25 * 60, [rain(0, 25 * 60)])
    assert ended[0].end_reason is EndReason.CLEARED


# ---------------------------------------------------------------------------
# Facts for messages


def test_facts_carry_the_event_s_own_time_not_the_alert_s(index: AreaIndex) -> None:
    """A quake at 10:15 WITA seen at 10:17 is told as 10:15: facts.time is the origin."""
    fired = Keeper([quake_rule()], index).step(2, [quake(6.6)])
    assert fired[0].time == at(2)
    assert fired[0].facts is not None
    assert fired[0].facts.time == T0


def test_tsunami_facts_carry_the_stated_origin_bulletin_and_region(index: AreaIndex) -> None:
    """A bulletin sent at +5 min tells the quake's origin, its PD label and BMKG's region."""
    pd = _bulletin("siaga", 3.1, region="68 km BaratLaut MAMUJU-SULBAR")
    fired = Keeper([tsunami_rule()], index).step(5, [pd])
    facts = fired[0].facts
    assert facts is not None
    assert (facts.time, facts.bulletin, facts.name) == (
        T0,
        "PD-3.1",
        "68 km BaratLaut MAMUJU-SULBAR",
    )
    assert facts.source == "inatews"


def test_a_reminder_without_a_remembered_event_time_has_no_facts(index: AreaIndex) -> None:
    """A stored status that never knew its event's time cannot invent one."""
    rules = [tsunami_rule(repeat_every=timedelta(minutes=30))]
    firing = AlertStatus(
        "tsunami", "manggar", AlertState.FIRING, Level.SIAGA, "a1", since=T0, last_notified=T0
    )
    [reminder] = evaluate(rules, [], index, {("tsunami", "manggar"): firing}, at(30))
    assert reminder.kind is TransitionKind.REMINDER
    assert reminder.facts is None
