"""InaTEWS datagempa.json: tsunami warnings, levels for Balikpapan, exercises."""

from __future__ import annotations

import json

import pytest

from tests.support.feeds import AREAS, KELURAHAN, fixture, parse, utc
from warning.feeds import FeedError
from warning.model import Coverage, ObservationKind

MENTAWAI = fixture("inatews", "inatews_datagempa_20230425_mentawai_tsunami_pd1.json")
IOWAVE = fixture("inatews", "inatews_datagempa_20231025_iowave23_TES_pd4_ended.json")
KALTIM_PD1 = fixture("inatews", "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json")
KALTIM_PD4 = fixture("inatews", "synthetic_inatews_pd4_ended_kaltim_balikpapan.json")
TEST_EVENT = fixture("inatews", "synthetic_inatews_pd1_hanya_test_event_siaga_balikpapan.json")


def test_mentawai_pd1_parses_field_by_field() -> None:
    """The Mentawai PD-1 is a live tsunami warning elsewhere: no level, no Balikpapan areas."""
    [obs] = parse("inatews", MENTAWAI, areas=AREAS)
    assert obs.source == "inatews"
    assert obs.kind is ObservationKind.TSUNAMI_WARNING
    assert obs.event_id == "inatews:20230424T200057Z:-0.9,98.4"
    assert obs.time == utc(2023, 4, 24, 20, 5, 33)
    assert (obs.lon, obs.lat) == (None, None)
    assert obs.area_ids == ()
    assert obs.coverage is Coverage.AREAS
    assert not obs.exercise
    assert dict(obs.values) == {
        "level": None,
        "bulletin": 1,
        "magnitude": 7.3,
        "depth_km": 84.0,
        "epicenter_lon": 98.39,
        "epicenter_lat": -0.93,
        "origin_time": "2023-04-24T20:00:57+00:00",
        "region": "177 km BaratLaut KEP-MENTAWAI-SUMBAR",
        "names_balikpapan": False,
        "nearby_level": None,
        "nearby": None,
    }


def test_tes_pd4_is_an_exercise_that_ended() -> None:
    """The IOWave23 TES message is an exercise with level ended, never live."""
    [obs] = parse("inatews", IOWAVE, areas=AREAS)
    assert obs.exercise
    assert obs.kind is ObservationKind.TSUNAMI_WARNING
    assert obs.event_id == "inatews:20231025T020000Z:-10.4,112.8"
    assert obs.time == utc(2023, 10, 25, 10, 7, 0)
    assert obs.area_ids == ()
    assert dict(obs.values) == {
        "level": "ended",
        "bulletin": 4,
        "magnitude": 9.0,
        "depth_km": 10.0,
        "epicenter_lon": 112.8,
        "epicenter_lat": -10.4,
        "origin_time": "2023-10-25T02:00:00+00:00",
        "region": "252 km Tenggara KAB-MALANG-JATIM",
        "names_balikpapan": False,
        "nearby_level": None,
        "nearby": None,
    }


def test_balikpapan_level_wins_over_the_highest_elsewhere() -> None:
    """A PD-1 naming KALTIM/KOTA-BALIKPAPAN at SIAGA gives siaga and every kelurahan."""
    [obs] = parse("inatews", KALTIM_PD1, areas=AREAS)
    assert obs.values["level"] == "siaga"
    assert obs.area_ids == KELURAHAN
    assert len(obs.area_ids) == 34
    assert obs.time == utc(2026, 3, 10, 3, 15, 12)


def test_no_level_when_balikpapan_is_not_named() -> None:
    """Another district's AWAS is not Balikpapan's level: level absent, no areas."""
    [obs] = parse("inatews", KALTIM_PD1, areas=AREAS, district_contains="SAMARINDA")
    assert obs.values["level"] is None
    assert obs.values["names_balikpapan"] is False
    assert obs.area_ids == ()


def test_districts_around_balikpapan_give_nearby_level_and_names() -> None:
    """PPU at WASPADA and Mamuju (across the strait) at AWAS are nearby; Balikpapan is not."""
    [obs] = parse("inatews", KALTIM_PD1, areas=AREAS)
    assert obs.values["names_balikpapan"] is True
    assert obs.values["nearby_level"] == "awas"
    assert obs.values["nearby"] == "Mamuju AWAS, Penajam Paser Utara WASPADA"


def test_nearby_accepts_one_district_written_as_text() -> None:
    """`nearby = "SULBAR MAMUJU"` (a string, not a list) names that one district."""
    [obs] = parse("inatews", KALTIM_PD1, areas=AREAS, nearby="sulbar mamuju")
    assert obs.values["nearby"] == "Mamuju AWAS"


def test_sub_bulletins_pd_3_1_and_3_2_keep_their_number() -> None:
    """BMKG's PD-3.1 and PD-3.2 are bulletins 3.1 and 3.2, ordered between PD-3 and PD-4."""
    data = json.loads(KALTIM_PD1)
    data["info"]["subject"] = "Warning Tsunami PD-3.2"
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert obs.values["bulletin"] == 3.2


def test_pd4_is_ended_for_the_same_event() -> None:
    """The PD-4 without districts carries level ended and the PD-1's event id."""
    [warning] = parse("inatews", KALTIM_PD1, areas=AREAS)
    [ended] = parse("inatews", KALTIM_PD4, areas=AREAS)
    assert ended.values["level"] == "ended"
    assert ended.values["bulletin"] == 4
    assert ended.event_id == warning.event_id
    assert ended.time > warning.time


def test_point_coordinates_are_lon_then_lat() -> None:
    """InaTEWS `point.coordinates` "98.39,-0.93" is lon 98.39, lat -0.93 (opposite of BMKG)."""
    [obs] = parse("inatews", MENTAWAI, areas=AREAS)
    assert (obs.values["epicenter_lon"], obs.values["epicenter_lat"]) == (98.39, -0.93)


def test_messages_of_one_quake_share_an_event_id() -> None:
    """A felt-quake message with its own eventid groups with the PD-1 by origin and place."""
    data = json.loads(MENTAWAI)
    data["info"].update(subject="Warning Gempa dirasakan", eventid="20230425030057")
    data["identifier"] = "Indonesia-InaTEWS-20230425030057"
    [felt] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    [warning] = parse("inatews", MENTAWAI, areas=AREAS)
    assert felt.kind is ObservationKind.EARTHQUAKE
    assert felt.event_id == warning.event_id
    assert (felt.lon, felt.lat) == (98.39, -0.93)
    assert felt.time == utc(2023, 4, 24, 20, 0, 57)
    assert felt.values["tsunami_potential"] is True


def test_naming_balikpapan_without_areas_is_a_feed_error() -> None:
    """A warning for Balikpapan cannot be addressed without the areas: FeedError, not []."""
    with pytest.raises(FeedError, match="areas"):
        parse("inatews", KALTIM_PD1)


def test_unknown_wzarea_level_row_is_skipped() -> None:
    """A wzarea row with an unknown level is skipped; the other rows still count."""
    data = json.loads(KALTIM_PD1)
    data["info"]["wzarea"][0]["level"] = "MERAH"
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert obs.values["level"] == "siaga"


def test_test_event_labelled_only_in_its_text_is_an_exercise() -> None:
    """ "Hanya TEST Event, Warning Tsunami PD-1" with status Actual is an exercise, never live."""
    [obs] = parse("inatews", TEST_EVENT, areas=AREAS)
    assert json.loads(TEST_EVENT)["status"] == "Actual"
    assert obs.exercise
    assert obs.values["level"] == "siaga"
    assert obs.values["bulletin"] == 1


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("subject", "LATIHAN Warning Tsunami PD-1"),
        ("headline", "EXERCISE Peringatan Dini Tsunami untuk wilayah: KALTIM"),
        ("area", "test 160 km Tenggara PENAJAM-PASER-UTARA-KALTIM"),
    ],
)
def test_exercise_words_anywhere_in_the_text(key: str, text: str) -> None:
    """Subject, headline or area text saying TEST / LATIHAN / EXERCISE (any case): an exercise."""
    data = json.loads(KALTIM_PD1)
    data["info"][key] = text
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert obs.exercise


def test_a_word_merely_containing_test_is_live() -> None:
    """ "TESTAMENT" in the area text is no exercise label."""
    data = json.loads(KALTIM_PD1)
    data["info"]["area"] = "160 km Tenggara TESTAMENT-KALTIM"
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert not obs.exercise


def test_arrival_time_is_balikpapans_earliest_in_utc() -> None:
    """wzarea date/time (WIB) is the estimated arrival: 10:52 WIB for Balikpapan is 03:52 UTC."""
    data = json.loads(KALTIM_PD1)
    data["info"]["wzarea"].append(
        {"province": "KALTIM", "district": "KOTA-BALIKPAPAN", "level": "SIAGA",
         "date": "10-03-2026", "time": "10:58:00 WIB"}
    )  # fmt: skip
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert obs.values["arrival_time"] == "2026-03-10T03:52:00Z"


def test_no_arrival_time_when_balikpapan_is_not_named() -> None:
    """Another district's arrival is not Balikpapan's: the value is left out."""
    [obs] = parse("inatews", KALTIM_PD1, areas=AREAS, district_contains="SAMARINDA")
    assert "arrival_time" not in obs.values


def test_unreadable_arrival_keeps_the_level() -> None:
    """A row whose time cannot be read still gives Balikpapan its level, without arrival."""
    data = json.loads(KALTIM_PD1)
    for row in data["info"]["wzarea"]:
        row["time"] = "kurang lebih 10:52"
    [obs] = parse("inatews", json.dumps(data).encode(), areas=AREAS)
    assert obs.values["level"] == "siaga"
    assert "arrival_time" not in obs.values
