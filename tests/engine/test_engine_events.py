"""The engine on events: earthquakes, tsunami warnings, weather warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from tests.support.rules import (
    FAR,
    T0,
    Keeper,
    at,
    cond,
    kinds,
    obs,
    quake,
    quake_rule,
    rule,
    tsunami,
    tsunami_rule,
    with_values,
)
from warning.areas import AreaIndex
from warning.model import (
    AlertState,
    EndReason,
    Level,
    Observation,
    ObservationKind,
    Rule,
    TransitionKind,
)
from warning.rules.engine import evaluate

COASTAL_ONLY = ("manggar", "lamaru")


def test_strong_nearby_quake_fires_for_every_area_within_reach(index: AreaIndex) -> None:
    """M 6.5 under the city fires waspada at once for all 34 kelurahan."""
    keeper = Keeper([quake_rule()], index)
    transitions = keeper.step(1, [quake(6.5)])
    assert kinds(transitions) == ["fired"] * 34
    status = keeper.status("graha-indah")
    assert (status.state, status.level, status.event_id) == (AlertState.FIRING, Level.WASPADA, "q1")
    assert status.alert_id == f"gempa-kuat:graha-indah:{at(1):%Y%m%dT%H%M%SZ}"


def test_far_quake_fires_nothing(index: AreaIndex) -> None:
    """A quake 300 km away is beyond the 100 km condition for every area."""
    assert Keeper([quake_rule()], index).step(1, [quake(7.5, FAR)]) == []


def test_one_quake_from_several_feeds_fires_once(index: AreaIndex) -> None:
    """BMKG, InaTEWS and USGS reports, repeated on every poll, make one alert per area."""
    keeper = Keeper([quake_rule()], index)
    usgs = quake(
        6.6, (116.9, -1.3), source="usgs", event_id="us7000abcd", time=T0 + timedelta(seconds=3)
    )
    first = keeper.step(1, [usgs, quake(6.5), quake(6.5, source="inatews", event_id="20250301")])
    assert kinds(first, "manggar") == ["fired"]
    assert keeper.step(2, [quake(6.5), usgs]) == []
    assert keeper.status("manggar").values["magnitude"] == 6.5


def test_exercise_quake_fires_only_in_drill_mode(index: AreaIndex) -> None:
    """A TES message makes no live transition; in drill mode it fires a drill alert."""
    drill_quake = quake(6.5, exercise=True)
    assert Keeper([quake_rule()], index).step(1, [drill_quake]) == []
    keeper = Keeper([quake_rule()], index, drill=True)
    transitions = keeper.step(1, [drill_quake])
    assert transitions[0].status.drill
    assert transitions[0].status.alert_id.startswith("drill:gempa-kuat:")


def test_quake_alert_expires_an_hour_after_the_quake_without_an_all_clear(
    index: AreaIndex,
) -> None:
    """Earthquakes are instantaneous: 1 h after the origin the alert expires, silently.

    There is no all-clear for aftershocks: EXPIRED ends the alert but reaches no one.
    """
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    assert keeper.step(59) == []
    expired = keeper.step(60)
    assert kinds(expired, "manggar") == ["expired"]
    assert expired[0].previous_level is Level.WASPADA
    assert "expired" in expired[0].reason
    assert expired[0].end_reason is EndReason.EXPIRED
    assert not expired[0].kind.notifies
    assert expired[0].kind.ends
    assert keeper.status("manggar").state is AlertState.RESOLVED
    assert keeper.step(61) == []


def test_expire_after_overrides_the_default(index: AreaIndex) -> None:
    """A rule's `expire_after` counts from the event's time."""
    keeper = Keeper([quake_rule(expire_after=timedelta(minutes=20))], index)
    keeper.step(1, [quake(6.5)])
    assert kinds(keeper.step(20), "manggar") == ["expired"]


def test_quake_alert_expires_even_when_the_quake_is_no_longer_passed(index: AreaIndex) -> None:
    """The caller may trim its history: expiry is computed from the stored status."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    keeper.history.clear()
    assert keeper.step(30) == []
    assert kinds(keeper.step(61), "lamaru") == ["expired"]


def test_same_level_revision_of_a_quake_is_quiet(index: AreaIndex) -> None:
    """BMKG revising M 6.5 to 6.4 changes nothing people need to hear."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    assert keeper.step(3, [quake(6.4)]) == []


def test_revision_to_a_higher_level_escalates(index: AreaIndex) -> None:
    """M 6.8 revised to M 7.1 moves the alert from waspada to siaga."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.8)])
    transitions = keeper.step(3, [quake(7.1)])
    assert kinds(transitions, "manggar") == ["escalated"]
    assert (transitions[0].previous_level, transitions[0].level) == (Level.WASPADA, Level.SIAGA)


def test_revision_below_the_threshold_holds_the_quake_alert_until_it_expires(
    index: AreaIndex,
) -> None:
    """A revision to M 5.8 no longer meets the rule, but a quake gets no all-clear.

    The shaking is over either way: the alert stays (no SMS) and expires silently.
    """
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.1)])
    assert keeper.step(3, [quake(5.8)]) == []
    assert keeper.status("manggar").state is AlertState.FIRING
    assert kinds(keeper.step(60), "manggar") == ["expired"]


def test_a_resolved_event_seen_again_stays_resolved(index: AreaIndex) -> None:
    """Once resolved by a revision, the identical revision passed again fires nothing."""
    rules = [quake_rule(clear_when=cond("magnitude", "<", 6.2))]
    keeper = Keeper(rules, index)
    keeper.step(1, [quake(6.5)])
    assert kinds(keeper.step(2, [quake(6.1)]), "manggar") == ["resolved"]
    assert keeper.step(3, [quake(6.1)]) == []


def test_another_quake_at_the_same_level_updates_the_alert(index: AreaIndex) -> None:
    """A second strong quake while the first still holds is an update, not silence."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    second = quake(6.3, (116.7, -1.1), event_id="q2", time=at(20))
    transitions = keeper.step(21, [second])
    assert kinds(transitions, "manggar") == ["updated"]
    assert transitions[0].status.event_id == "q2"


def test_quake_point_without_distance_condition_reaches_its_kelurahan_only(
    index: AreaIndex,
) -> None:
    """With no `distance_km` condition a point reaches the kelurahan containing it."""
    felt = rule("gempa-dirasakan", ObservationKind.EARTHQUAKE, cond("magnitude", ">=", 4.0))
    lon, lat = index.centroid("karang-joang")
    transitions = Keeper([felt], index).step(1, [quake(4.5, (lon, lat))])
    assert [t.area_id for t in transitions] == ["karang-joang"]


def test_point_outside_the_city_without_distance_condition_reaches_nothing(
    index: AreaIndex,
) -> None:
    """A felt quake far away is in no kelurahan."""
    felt = rule("gempa-dirasakan", ObservationKind.EARTHQUAKE, cond("magnitude", ">=", 4.0))
    assert Keeper([felt], index).step(1, [quake(4.5, FAR)]) == []


def test_pending_quake_rule_fires_after_for(index: AreaIndex) -> None:
    """An event rule with `for` waits before firing, keeping one alert id."""
    keeper = Keeper([quake_rule(for_duration=timedelta(minutes=5))], index)
    pending = keeper.step(1, [quake(6.5)])
    assert kinds(pending, "manggar") == ["pending"]
    assert keeper.step(3) == []
    fired = keeper.step(6)
    assert kinds(fired, "manggar") == ["fired"]
    assert fired[0].status.alert_id == pending[0].status.alert_id


def test_pending_event_alert_is_cancelled_when_revised_away(index: AreaIndex) -> None:
    """A pending alert whose event is revised below the rule never fires."""
    keeper = Keeper([quake_rule(for_duration=timedelta(minutes=5))], index)
    keeper.step(1, [quake(6.5)])
    cancelled = keeper.step(3, [quake(5.0)])
    assert kinds(cancelled, "manggar") == ["cancelled"]
    assert keeper.status("manggar").state is AlertState.INACTIVE


def test_tsunami_siaga_for_balikpapan_reaches_only_the_areas_it_names(index: AreaIndex) -> None:
    """An area-id observation never reaches areas it does not name."""
    keeper = Keeper([tsunami_rule()], index)
    transitions = keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    assert sorted(t.area_id for t in transitions) == sorted(COASTAL_ONLY)
    assert {t.level for t in transitions} == {Level.SIAGA}


def test_pd4_ends_the_tsunami_alert(index: AreaIndex) -> None:
    """PD-4 (`level: ended`) resolves, even when it names no district."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    transitions = keeper.step(90, [tsunami("ended", 4, ())])
    assert kinds(transitions) == ["resolved", "resolved"]
    assert transitions[0].reason == "BMKG ended the warning (PD-4)"
    assert transitions[0].end_reason is EndReason.ENDED_BY_SOURCE
    assert transitions[0].level is Level.SIAGA


def test_an_older_bulletin_served_again_after_pd4_fires_nothing(index: AreaIndex) -> None:
    """A CDN serving PD-1 again after PD-4 must not restart the alert."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    keeper.step(90, [tsunami("ended", 4, ())])
    keeper.history.clear()
    assert keeper.step(95, [tsunami("siaga", 1, COASTAL_ONLY)]) == []


def test_an_older_bulletin_while_firing_changes_nothing(index: AreaIndex) -> None:
    """PD-1 WASPADA served after PD-2 SIAGA neither de-escalates nor updates."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("waspada", 1, COASTAL_ONLY)])
    assert kinds(keeper.step(5, [tsunami("siaga", 2, COASTAL_ONLY)]), "manggar") == ["escalated"]
    keeper.history.clear()
    assert keeper.step(7, [tsunami("waspada", 1, COASTAL_ONLY)]) == []


def test_a_same_level_bulletin_with_only_revised_figures_is_quiet(index: AreaIndex) -> None:
    """PD-2 repeating SIAGA with a revised magnitude changes nothing anyone does."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    revised = tsunami("siaga", 2, COASTAL_ONLY, time=at(20))
    revised = replace(revised, values={**revised.values, "magnitude": 7.4, "depth_km": 73})
    assert keeper.step(20, [revised]) == []


def test_a_same_level_bulletin_with_a_new_arrival_time_updates(index: AreaIndex) -> None:
    """PD-2 at SIAGA with a new estimated arrival is news: an update, marked UPDATED."""
    keeper = Keeper([tsunami_rule()], index)
    first = tsunami("siaga", 1, COASTAL_ONLY)
    keeper.step(
        1, [replace(first, values={**first.values, "arrival_time": "2025-03-01T00:40:00+00:00"})]
    )
    second = tsunami("siaga", 2, COASTAL_ONLY, time=at(20))
    second = replace(second, values={**second.values, "arrival_time": "2025-03-01T00:35:00+00:00"})
    transitions = keeper.step(20, [second])
    assert kinds(transitions, "manggar") == ["updated"]
    assert transitions[0].facts is not None
    assert transitions[0].facts.bulletin == "PD-2"


def test_a_bulletin_no_longer_naming_balikpapan_resolves_there(index: AreaIndex) -> None:
    """When BMKG's latest bulletin drops Balikpapan, its alert resolves with that reason."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    transitions = keeper.step(30, [tsunami("siaga", 2, ("manggar",))])
    assert kinds(transitions) == ["resolved"]
    assert transitions[0].reason == "the latest bulletin no longer names this area"
    assert transitions[0].end_reason is EndReason.NO_LONGER_NAMED


def test_tsunami_without_pd4_times_out_after_12_hours(index: AreaIndex) -> None:
    """No end bulletin: a 12 h safety timeout tells officials to confirm."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    assert keeper.step(11 * 60) == []
    transitions = keeper.step(12 * 60)
    assert kinds(transitions) == ["timed_out", "timed_out"]
    assert "officials must confirm" in transitions[0].reason
    assert keeper.status("manggar").state is AlertState.RESOLVED


def test_tsunami_times_out_even_when_its_bulletins_are_gone(index: AreaIndex) -> None:
    """The safety timeout does not need the bulletins to be passed again."""
    keeper = Keeper([tsunami_rule(expire_after=timedelta(hours=6))], index)
    keeper.step(1, [tsunami("awas", 1, COASTAL_ONLY)])
    keeper.history.clear()
    transitions = keeper.step(6 * 60)
    assert kinds(transitions) == ["timed_out", "timed_out"]
    assert "6 h" in transitions[0].reason


def test_feed_outage_never_ends_a_tsunami_alert_early(index: AreaIndex) -> None:
    """No bulletins for hours: the alert holds until PD-4 or the timeout."""
    keeper = Keeper([tsunami_rule()], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    keeper.history.clear()
    for hour in range(1, 12):
        assert keeper.step(hour * 60) == []


def test_reminders_follow_repeat_every(index: AreaIndex) -> None:
    """A firing alert reminds every `repeat_every`, even while feeds are silent."""
    keeper = Keeper([tsunami_rule(repeat_every=timedelta(minutes=30))], index)
    keeper.step(0, [tsunami("siaga", 1, COASTAL_ONLY)])
    assert keeper.step(29) == []
    reminders = keeper.step(30)
    assert kinds(reminders) == ["reminder", "reminder"]
    assert reminders[0].level is Level.SIAGA
    keeper.history.clear()
    assert kinds(keeper.step(61)) == ["reminder", "reminder"]


def _weather(
    msg_type: str = "Alert", expires: str | None = "2025-03-01T02:00:00+00:00", **f: Any
) -> Observation:
    """A CAP nowcast warning over graha-indah."""
    values = {
        "severity": "Severe",
        "event": "Hujan Lebat",
        "msg_type": msg_type,
        "expires": expires,
    }
    f.setdefault("event_id", "cap1")
    return obs(
        ObservationKind.WEATHER_WARNING,
        values,
        area_ids=("graha-indah",),
        source="bmkg-nowcast",
        **f,
    )


def _weather_rule() -> Rule:
    """Severe CAP warnings are siaga."""
    return rule(
        "cuaca",
        ObservationKind.WEATHER_WARNING,
        cond("severity", "in", ("Severe", "Extreme")),
        (("siaga", None),),
    )


def test_weather_warning_ends_at_its_cap_expires(index: AreaIndex) -> None:
    """A CAP warning holds until its own `expires`."""
    keeper = Keeper([_weather_rule()], index)
    assert kinds(keeper.step(1, [_weather()])) == ["fired"]
    assert keeper.step(119) == []
    assert kinds(keeper.step(120)) == ["resolved"]


def test_weather_update_extends_and_cancel_ends(index: AreaIndex) -> None:
    """A CAP Update is relayed and moves the expiry; a Cancel resolves."""
    keeper = Keeper([_weather_rule()], index)
    keeper.step(1, [_weather()])
    update = _weather("Update", "2025-03-01T04:00:00+00:00", time=at(60))
    assert kinds(keeper.step(61, [update])) == ["updated"]
    assert keeper.step(150) == []
    cancelled = keeper.step(160, [_weather("Cancel", None, time=at(155))])
    assert kinds(cancelled) == ["resolved"]


def test_weather_warning_without_a_readable_expiry_lasts_three_hours(index: AreaIndex) -> None:
    """An unreadable `expires` falls back to the kind's default."""
    keeper = Keeper([_weather_rule()], index)
    keeper.step(1, [_weather(expires="soon")])
    assert keeper.step(179) == []
    assert kinds(keeper.step(180)) == ["resolved"]


def test_a_higher_event_takes_over_and_the_lower_one_returns(index: AreaIndex) -> None:
    """A stronger second quake escalates; when it expires the first one de-escalates back."""
    keeper = Keeper([quake_rule(expire_after=timedelta(minutes=30))], index)
    keeper.step(1, [quake(6.5)])
    strong = quake(7.2, (116.9, -1.2), event_id="q2", time=at(10))
    assert kinds(keeper.step(11, [strong]), "manggar") == ["escalated"]
    assert kinds(keeper.step(25, [with_values(quake(6.5), magnitude=6.6)]), "manggar") == []
    late = keeper.step(41, [quake(6.6, time=at(20))])
    assert kinds(late, "manggar") == ["deescalated"]


def test_a_status_without_an_event_time_holds(index: AreaIndex) -> None:
    """A firing event status stored without `last_true` never expires by guesswork."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    keeper.states = {k: replace(s, last_true=None) for k, s in keeper.states.items()}
    keeper.history.clear()
    assert keeper.step(300) == []


def test_transition_kinds_that_reach_people(index: AreaIndex) -> None:
    """Updates notify; pending and cancelled do not."""
    assert TransitionKind.UPDATED.notifies
    assert not TransitionKind.CANCELLED.notifies


def _awas_only(**options: Any) -> Rule:
    """Officials' rule: fires at AWAS only, ends with PD-4 (clear_when)."""
    return rule(
        "awas",
        ObservationKind.TSUNAMI_WARNING,
        cond("level", "==", "awas"),
        (("awas", None),),
        clear_when=cond("level", "==", "ended"),
        **options,
    )


def test_with_clear_when_a_deescalating_bulletin_keeps_the_alert_until_pd4(
    index: AreaIndex,
) -> None:
    """AWAS then SIAGA: an AWAS-only rule with clear_when holds at AWAS, and PD-4 ends it once."""
    keeper = Keeper([_awas_only()], index)
    keeper.step(1, [tsunami("awas", 2, COASTAL_ONLY)])
    assert keeper.step(30, [tsunami("siaga", 3, COASTAL_ONLY)]) == []
    assert keeper.status("manggar").state is AlertState.FIRING
    assert keeper.status("manggar").level is Level.AWAS
    ended = keeper.step(90, [tsunami("ended", 4, ())])
    assert kinds(ended) == ["resolved", "resolved"]
    assert ended[0].level is Level.AWAS


def test_with_clear_when_a_bulletin_dropping_the_area_keeps_it_firing(index: AreaIndex) -> None:
    """A bulletin no longer naming Balikpapan is not clear_when: the alert waits for PD-4."""
    keeper = Keeper([tsunami_rule(clear_when=cond("level", "==", "ended"))], index)
    keeper.step(1, [tsunami("siaga", 1, COASTAL_ONLY)])
    assert keeper.step(30, [tsunami("siaga", 2, ("manggar",))]) == []
    assert keeper.status("lamaru").state is AlertState.FIRING


def test_with_clear_when_the_safety_timeout_still_ends_a_held_alert(index: AreaIndex) -> None:
    """A held alert still times out 12 h after its latest bulletin when PD-4 never comes."""
    keeper = Keeper([_awas_only()], index)
    keeper.step(1, [tsunami("awas", 2, COASTAL_ONLY)])
    keeper.step(30, [tsunami("siaga", 3, COASTAL_ONLY, time=at(30))])
    assert keeper.step(12 * 60 + 29) == []
    assert kinds(keeper.step(12 * 60 + 30)) == ["timed_out", "timed_out"]


def test_drill_run_id_is_part_of_drill_alert_ids(index: AreaIndex) -> None:
    """Each drill run has its own alert ids, so a rerun never joins an earlier run's alerts."""
    drill_quake = replace(quake(6.5), exercise=True)
    [first, *_] = evaluate([quake_rule()], [drill_quake], index, {}, at(1), drill=True, run="r1")
    assert first.status.alert_id.startswith("drill:r1:gempa-kuat:")
    [live, *_] = evaluate([quake_rule()], [quake(6.5)], index, {}, at(1))
    assert live.status.alert_id.startswith("gempa-kuat:")
