"""One event, one alert: merging reports across feeds and polls."""

from __future__ import annotations

from datetime import timedelta

from tests.support.rules import T0, at, quake, rain, tsunami
from warning.rules.events import (
    bulletin,
    merge,
    merge_events,
    origin_time,
    same_quake,
    same_tsunami,
)

LATER = T0 + timedelta(seconds=30)


def test_bmkg_parameters_win_over_usgs_under_the_first_id() -> None:
    """USGS first, then BMKG: one event keeping USGS's id and BMKG's parameters."""
    usgs = quake(6.9, (116.95, -1.3), source="usgs", event_id="us1", time=LATER)
    merged = merge_events([usgs, quake(6.7)])
    assert len(merged) == 1
    assert (merged[0].event_id, merged[0].values["magnitude"], merged[0].source) == (
        "us1",
        6.7,
        "bmkg-autogempa",
    )


def test_the_latest_official_revision_wins() -> None:
    """Of several official reports, the last received speaks for the event."""
    merged = merge([quake(6.7), quake(6.5, source="inatews", event_id="i1"), quake(6.6)])
    assert merged[0].observation.values["magnitude"] == 6.6
    assert merged[0].aliases == {"q1", "i1"}


def test_usgs_alone_still_speaks() -> None:
    """Without an official report USGS's latest revision is used."""
    merged = merge_events([quake(6.1, source="usgs"), quake(6.2, source="usgs")])
    assert merged[0].values["magnitude"] == 6.2


def test_quakes_a_minute_apart_are_two_events() -> None:
    """Origins more than 60 s apart are separate quakes."""
    later = quake(6.0, event_id="q2", time=T0 + timedelta(seconds=61))
    assert len(merge_events([quake(6.0), later])) == 2


def test_quakes_far_apart_are_two_events() -> None:
    """Origins more than 100 km apart are separate quakes, even at the same second."""
    assert len(merge_events([quake(6.0), quake(6.0, (118.0, -1.25), event_id="q2")])) == 2


def test_exercise_and_live_reports_never_merge() -> None:
    """A TES message of the same quake stays apart from the live one."""
    assert len(merge_events([quake(6.0), quake(6.0, exercise=True)])) == 2


def test_tsunami_bulletins_keep_the_highest() -> None:
    """PD-2 received before PD-1 (out of order) still wins."""
    merged = merge_events([tsunami("siaga", 2, ("manggar",)), tsunami("waspada", 1, ("manggar",))])
    assert [o.values["bulletin"] for o in merged] == [2]


def test_readings_pass_through_in_order() -> None:
    """Rainfall is not an event: every reading stays, in input order."""
    readings = [rain(5, 60), rain(5, 0), quake(6.0, time=at(0))]
    assert merge_events(readings) == readings


def test_same_quake_needs_two_quake_points() -> None:
    """Only earthquake points can be the same quake."""
    area_quake = quake(6.0)
    assert not same_quake(rain(1, 0), rain(1, 0))
    assert not same_quake(area_quake, tsunami("siaga", 1, ("manggar",)))


def test_bulletin_numbers_from_numbers_and_words() -> None:
    """2, "3" and 4.0 are bulletins; missing or words are 0; True is not a number."""
    assert [bulletin(2), bulletin("3"), bulletin(4.0)] == [2.0, 3.0, 4.0]
    assert [bulletin(None), bulletin("PD"), bulletin(True)] == [0.0, 0.0, 0.0]


def test_a_bulletin_with_an_unreadable_origin_matches_by_id_only() -> None:
    """Bulletins without a readable stated origin are grouped by event id, never guessed."""
    stated = {"epicenter_lon": 118.6, "epicenter_lat": -2.5}
    assert origin_time({"origin_time": "kemarin"}) is None
    assert not same_tsunami({**stated, "origin_time": "kemarin"}, stated)


def test_a_bulletin_without_an_epicentre_matches_by_id_only() -> None:
    """Two bulletins stating the same origin but one no epicentre are not matched by place."""
    origin = {"origin_time": "2026-03-10T05:10:00+00:00"}
    stated = {**origin, "epicenter_lon": 118.6, "epicenter_lat": -2.5}
    assert same_tsunami(stated, stated)
    assert not same_tsunami({**origin, "epicenter_lon": 118.6}, stated)
