"""BMKG autogempa / gempaterkini / gempadirasakan: recorded payloads and named quirks."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from tests.support.feeds import fixture, parse, utc
from warning.feeds import FeedError
from warning.model import ObservationKind

TAMBRAUW = fixture("bmkg-autogempa", "bmkg_autogempa_20211013_tambrauw_m5.3.json")
TERNATE = fixture("bmkg-autogempa", "bmkg_autogempa_20211004_ternate_m4.7.xml")
FLORES = fixture("bmkg-gempaterkini", "bmkg_gempaterkini_20211214_flores_m7.4_tsunami.json")
FELT = fixture("bmkg-gempadirasakan", "bmkg_gempadirasakan_20251224_sample.json")


def _row(**changes: str) -> bytes:
    """The Tambrauw autogempa with some fields changed (or removed when empty)."""
    gempa = json.loads(TAMBRAUW)["Infogempa"]["gempa"]
    gempa.update(changes)
    gempa = {k: v for k, v in gempa.items() if v != ""}
    return json.dumps({"Infogempa": {"gempa": gempa}}).encode()


def test_autogempa_json_parses_field_by_field() -> None:
    """The Tambrauw M5.3 autogempa.json is one earthquake with every field as recorded."""
    [obs] = parse("bmkg-autogempa", TAMBRAUW)
    assert obs.source == "bmkg-autogempa"
    assert obs.kind is ObservationKind.EARTHQUAKE
    assert obs.event_id == "bmkg:20211013T030842Z:-0.1,133.0"
    assert obs.time == utc(2021, 10, 13, 3, 8, 42)
    assert (obs.lon, obs.lat) == (133.02, -0.14)
    assert obs.area_ids == ()
    assert not obs.exercise
    assert dict(obs.values) == {
        "magnitude": 5.3,
        "depth_km": 10.0,
        "tsunami_potential": False,
        "region": "99 km TimurLaut TAMBRAUW-PAPUABRT",
        "potensi": "Tidak berpotensi tsunami",
    }


def test_autogempa_xml_parses_field_by_field() -> None:
    """The Ternate M4.7 autogempa.xml (point/coordinates) is one felt earthquake, MMI III."""
    [obs] = parse("bmkg-autogempa", TERNATE)
    assert obs.event_id == "bmkg:20211004T105919Z:1.0,127.0"
    assert obs.time == utc(2021, 10, 4, 10, 59, 19)
    assert (obs.lon, obs.lat) == (126.96, 1.04)
    assert dict(obs.values) == {
        "magnitude": 4.7,
        "depth_km": 17.0,
        "tsunami_potential": None,
        "region": "Pusat gempa berada di laut 54 km BaratLaut Ternate",
        "potensi": "Gempa ini dirasakan untuk diteruskan pada masyarakat",
        "mmi": 3,
    }


def test_gempaterkini_repeated_and_revised_rows_become_one_event() -> None:
    """Flores 2021: four rows of one quake become one event with the newest (M7.4) parameters."""
    found = parse("bmkg-gempaterkini", FLORES)
    assert len(found) == 12
    flores = [o for o in found if o.values["tsunami_potential"] is True]
    assert len(flores) == 1
    [quake] = flores
    assert quake.event_id == "bmkg:20211214T032022Z:-7.6,122.3"
    assert quake.time == utc(2021, 12, 14, 3, 20, 23)
    assert (quake.lon, quake.lat) == (122.24, -7.59)
    assert quake.values["magnitude"] == 7.4
    assert quake.values["depth_km"] == 10.0
    assert quake.values["region"] == "113 km BaratLaut LARANTUKA-NTT"


def test_gempaterkini_every_row_as_recorded() -> None:
    """Every distinct Flores-list quake keeps its time, point, magnitude and depth."""
    expected = [
        (utc(2021, 12, 14, 5, 46, 41), 121.78, -7.54, 5.0, 10.0),
        (utc(2021, 12, 14, 3, 20, 23), 122.24, -7.59, 7.4, 10.0),
        (utc(2021, 12, 14, 3, 47, 2), 121.75, -7.55, 5.5, 10.0),
        (utc(2021, 12, 14, 3, 41, 56), 122.34, -7.81, 5.6, 10.0),
        (utc(2021, 12, 13, 5, 46, 56), 113.67, -9.81, 5.3, 10.0),
        (utc(2021, 12, 12, 22, 36, 58), 101.22, -4.18, 5.0, 10.0),
        (utc(2021, 12, 11, 15, 29, 47), 128.68, -6.98, 5.6, 10.0),
        (utc(2021, 12, 10, 18, 39, 20), 122.96, -0.10, 5.1, 141.0),
        (utc(2021, 12, 8, 19, 0, 53), 123.44, -7.85, 5.1, 249.0),
        (utc(2021, 12, 7, 16, 26, 26), 123.07, -8.01, 5.2, 275.0),
        (utc(2021, 12, 5, 1, 10, 56), 140.64, -1.80, 5.3, 10.0),
        (utc(2021, 12, 4, 23, 47, 58), 128.00, 3.99, 6.2, 156.0),
    ]
    found = parse("bmkg-gempaterkini", FLORES)
    got = [(o.time, o.lon, o.lat, o.values["magnitude"], o.values["depth_km"]) for o in found]
    assert got == expected
    assert all(o.values["tsunami_potential"] is False for o in found if o.values["magnitude"] < 7)


def test_gempadirasakan_every_felt_quake_with_its_highest_mmi() -> None:
    """The 15 felt quakes keep time, point, magnitude, depth and the highest MMI named."""
    expected = [
        (utc(2025, 12, 24, 5, 30, 34), 102.60, -4.46, 4.6, 30.0, 3),
        (utc(2025, 12, 23, 4, 10, 36), 119.24, -8.06, 4.0, 17.0, 3),
        (utc(2025, 12, 21, 12, 21, 46), 126.34, 1.47, 5.6, 27.0, 3),
        (utc(2025, 12, 21, 12, 21, 14), 104.58, -5.32, 2.6, 14.0, 3),
        (utc(2025, 12, 20, 22, 59, 21), 121.63, -2.56, 4.7, 2.0, 3),
        (utc(2025, 12, 20, 13, 13, 26), 102.50, -5.23, 4.6, 7.0, 3),
        (utc(2025, 12, 20, 10, 33, 27), 121.96, 0.47, 5.2, 102.0, 4),
        (utc(2025, 12, 19, 0, 45, 34), 127.36, -2.86, 4.8, 15.0, 3),
        (utc(2025, 12, 18, 13, 48, 1), 95.73, 2.56, 4.0, 10.0, 2),
        (utc(2025, 12, 18, 5, 30, 19), 125.83, 1.38, 4.6, 43.0, 3),
        (utc(2025, 12, 18, 5, 23, 39), 105.46, -6.74, 4.0, 10.0, 3),
        (utc(2025, 12, 18, 4, 22, 46), 110.31, -8.82, 4.8, 13.0, 3),
        (utc(2025, 12, 18, 3, 40, 38), 96.06, 4.85, 4.4, 11.0, 2),
        (utc(2025, 12, 17, 4, 2, 5), 124.76, -8.32, 3.8, 5.0, 3),
        (utc(2025, 12, 16, 5, 41, 28), 122.71, -4.71, 4.1, 7.0, 4),
    ]
    found = parse("bmkg-gempadirasakan", FELT)
    got = [
        (o.time, o.lon, o.lat, o.values["magnitude"], o.values["depth_km"], o.values["mmi"])
        for o in found
    ]
    assert got == expected
    assert all(o.values["tsunami_potential"] is None for o in found)


def test_wib_text_time_wins_over_a_wrong_datetime() -> None:
    """The 2021 DateTime bug (access date instead of event date) is corrected from Tanggal+Jam."""
    payload = _row(DateTime="2021-10-27T16:43:28+00:00")
    with capture_logs() as logs:
        [obs] = parse("bmkg-autogempa", payload)
    assert obs.time == utc(2021, 10, 13, 3, 8, 42)
    assert any(entry["event"] == "feed.item_corrected" for entry in logs)


def test_wib_is_utc_plus_seven() -> None:
    """Without DateTime, `Jam` 10:08:42 WIB is 03:08:42 UTC."""
    [obs] = parse("bmkg-autogempa", _row(DateTime=""))
    assert obs.time == utc(2021, 10, 13, 3, 8, 42)


def test_future_origin_is_rejected_with_a_reason() -> None:
    """A wrong-year origin after the fetch time is rejected and logged, not used."""
    payload = _row(Tanggal="13 Okt 2031", DateTime="2031-10-13T03:08:42+00:00")
    with capture_logs() as logs:
        assert parse("bmkg-autogempa", payload) == []
    [entry] = [e for e in logs if e["event"] == "feed.item_rejected"]
    assert "future" in entry["reason"]


def test_coordinates_are_lat_then_lon() -> None:
    """`Coordinates` "-0.14,133.02" is lat -0.14, lon 133.02."""
    [obs] = parse("bmkg-autogempa", _row(Coordinates="-1.27,116.83"))
    assert (obs.lon, obs.lat) == (116.83, -1.27)


def test_bb_longitudes_are_west() -> None:
    """Without Coordinates, `Bujur` "10.50 BB" is longitude -10.5 and `LU` is north."""
    [obs] = parse("bmkg-autogempa", _row(Coordinates="", Lintang="2.00 LU", Bujur="10.50 BB"))
    assert (obs.lon, obs.lat) == (-10.5, 2.0)


@pytest.mark.parametrize(
    ("wording", "expected"),
    [
        ("Potensi tsunami untuk diteruskan pada masyarakat", True),
        ("Tidak berpotensi tsunami", False),
        ("Gempa ini dirasakan untuk diteruskan pada masyarakat", None),
        ("Berpotensi tsunami", True),
    ],
)
def test_tsunami_wording(wording: str, expected: bool | None) -> None:
    """Potensi classifies by "tidak" first, then "potensi tsunami", else unknown."""
    [obs] = parse("bmkg-autogempa", _row(Potensi=wording))
    assert obs.values["tsunami_potential"] is expected


@pytest.mark.parametrize(
    ("field", "value"),
    [("Magnitude", "11.2"), ("Kedalaman", "900 km"), ("Coordinates", "-95.0,120.0")],
)
def test_absurd_values_reject_the_row(field: str, value: str) -> None:
    """Magnitude outside 0-10, depth outside 0-800 km or latitude past 90 rejects the row."""
    with capture_logs() as logs:
        assert parse("bmkg-autogempa", _row(**{field: value})) == []
    assert [e["event"] for e in logs] == ["feed.item_rejected"]


def test_one_bad_row_does_not_hide_the_others() -> None:
    """A gempaterkini list with one broken row still yields the other quakes."""
    data = json.loads(FLORES)
    data["Infogempa"]["gempa"][0]["Magnitude"] = "besar"
    found = parse("bmkg-gempaterkini", json.dumps(data).encode())
    assert len(found) == 11


def test_wrong_schema_is_a_feed_error() -> None:
    """A JSON payload without Infogempa is a FeedError."""
    with pytest.raises(FeedError, match="Infogempa"):
        parse("bmkg-autogempa", b'{"gempa": []}')


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("Wilayah", "Hanya TEST Event, 99 km TimurLaut TAMBRAUW-PAPUABRT"),
        ("Potensi", "LATIHAN: Berpotensi tsunami"),
        ("Dirasakan", "Exercise III Balikpapan"),
    ],
)
def test_quake_labelled_a_test_in_its_text_is_an_exercise(field: str, text: str) -> None:
    """The gempa files carry no status: TEST / LATIHAN / EXERCISE in their text marks a test."""
    [obs] = parse("bmkg-autogempa", _row(**{field: text}))
    assert obs.exercise


def test_exercise_survives_the_merge_of_revised_rows() -> None:
    """A test row merged with its revision stays a test."""
    gempa = json.loads(TAMBRAUW)["Infogempa"]["gempa"]
    revised = {**gempa, "Wilayah": "Hanya TEST Event", "Magnitude": "5.4"}
    payload = json.dumps({"Infogempa": {"gempa": [gempa, revised]}}).encode()
    [obs] = parse("bmkg-gempaterkini", payload)
    assert obs.exercise
