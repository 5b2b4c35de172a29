"""USGS summary GeoJSON: preferred ids, epoch ms, lon/lat/depth, float noise, dedup, bbox."""

from __future__ import annotations

import json

from tests.support.feeds import fixture, parse, utc
from warning.model import ObservationKind

PARIAMAN = fixture("usgs", "usgs_summary_significant_month_20220405_pariaman_m6.7.geojson")
NOISE = fixture("usgs", "usgs_summary_significant_month_20191026_float-repr-quirk.geojson")
WORLD = [-180.0, -90.0, 180.0, 90.0]


def test_pariaman_is_the_only_event_in_indonesia() -> None:
    """Of twelve significant quakes, only us6000h48e lies in the default Indonesia bbox."""
    [obs] = parse("usgs", PARIAMAN)
    assert obs.source == "usgs"
    assert obs.kind is ObservationKind.EARTHQUAKE
    assert obs.event_id == "us6000h48e"
    assert obs.time == utc(2022, 3, 13, 21, 9, 22).replace(microsecond=254000)
    assert (obs.lon, obs.lat) == (98.6294, -0.63)
    assert dict(obs.values) == {
        "magnitude": 6.7,
        "depth_km": 28.0,
        "mmi": 6.47,
        "region": "165 km W of Pariaman, Indonesia",
    }


def test_2019_float_noise_is_rounded() -> None:
    """API 1.8.1's "mag":6.2999999999999998 reads as 6.3."""
    assert b"6.2999999999999998" in NOISE
    found = {o.event_id: o for o in parse("usgs", NOISE, bbox=WORLD)}
    assert len(found) == 10
    assert found["us70005xr7"].values["magnitude"] == 6.3
    assert found["us70005xr7"].values["depth_km"] == 10.0


def test_2019_indonesian_bbox_event() -> None:
    """In the 2019 file only us70005nbb (5.69 N) is inside the Indonesia box."""
    [obs] = parse("usgs", NOISE)
    assert obs.event_id == "us70005nbb"
    assert (obs.lon, obs.lat) == (126.5495, 5.6929)
    assert obs.values["magnitude"] == 6.2
    assert obs.values["depth_km"] == 73.0


def test_overlapping_ids_keep_the_latest_update() -> None:
    """Two features sharing an id in `ids` are one event; the larger `updated` wins."""
    data = json.loads(PARIAMAN)
    original = next(f for f in data["features"] if f["id"] == "us6000h48e")
    revised = json.loads(json.dumps(original))
    revised["id"] = "at00r8zzzz"
    revised["properties"].update(ids=",at00r8zzzz,us6000h48e,", mag=6.8, updated=1649095011263)
    data["features"] = [original, revised]
    [obs] = parse("usgs", json.dumps(data).encode())
    assert obs.event_id == "at00r8zzzz"
    assert obs.values["magnitude"] == 6.8


def test_epoch_milliseconds_are_utc() -> None:
    """`time` 1647205762254 is 2022-03-13T21:09:22.254Z."""
    [obs] = parse("usgs", PARIAMAN)
    assert obs.time.isoformat() == "2022-03-13T21:09:22.254000+00:00"
