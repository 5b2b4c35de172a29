"""BMKG forecast and Open-Meteo: slots in UTC, SI units, legacy names, error objects."""

from __future__ import annotations

import json

import pytest
import responses
from structlog.testing import capture_logs

from tests.support.feeds import AREAS, KELURAHAN, context, fixture, parse, utc
from warning.feeds import FEEDS, FeedError
from warning.http import HttpClient
from warning.model import Basis, Coverage, ObservationKind
from warning.settings import HttpSettings

MANGGAR = fixture("bmkg-forecast", "synthetic_bmkg_forecast_manggar_64.71.01.1001.json")
KYOTO = fixture("open-meteo", "openmeteo_forecast_20230809_kyoto_legacy-params.json")
OPEN_METEO = fixture("open-meteo", "synthetic_openmeteo_forecast_balikpapan.json")
OM_ERROR = fixture("open-meteo", "synthetic_openmeteo_error_daily_limit.json")
MARINE = fixture("open-meteo-marine", "synthetic_openmeteo_marine_balikpapan.json")


def test_bmkg_forecast_slots_are_prakiraan_never_rainfall() -> None:
    """Each 3-hour slot is one forecast for Manggar: its 3-hour total, its slot and lead time.

    On main a slot was a rainfall reading, which `hujan-per-jam` read as mm per hour.
    """
    found = parse("bmkg-forecast", MANGGAR, areas=AREAS)
    assert {o.kind for o in found} == {ObservationKind.PRAKIRAAN}
    assert {o.basis for o in found} == {Basis.FORECAST}
    assert [o.time for o in found] == [
        utc(2026, 3, 10, 6),
        utc(2026, 3, 10, 9),
        utc(2026, 3, 10, 12),
    ]
    first = dict(found[0].values)
    assert first == {
        "precipitation_mm": 12.4,
        "period_s": 10800,
        "wind_speed_ms": 5.0,
        "valid_from": "2026-03-10T06:00:00Z",
        "valid_until": "2026-03-10T09:00:00Z",
        "slot_wita": "10/03 14.00-17.00 WITA",
        "lead_s": 6 * 3600,
    }
    assert [o.values["precipitation_mm"] for o in found] == [12.4, 3.1, 0.0]
    assert all(o.area_ids == ("manggar",) and o.lon is None for o in found)
    assert {o.coverage for o in found} == {Coverage.AREAS}
    assert found[0].event_id == "bmkg-forecast:64.71.01.1001:20260310T0600Z"


def test_bmkg_forecast_unknown_kelurahan_falls_back_to_its_point() -> None:
    """Without the areas, a slot is located at the forecast's lon/lat."""
    [first, *_] = parse("bmkg-forecast", MANGGAR)
    assert (first.lon, first.lat) == (116.9351, -1.2143)
    assert first.area_ids == ()


def test_bmkg_forecast_newer_analysis_replaces_the_older() -> None:
    """Slots of an older analysis_date in the same response are dropped."""
    data = json.loads(MANGGAR)
    data["data"][0]["cuaca"][1][0]["analysis_date"] = "2026-03-09T12:00:00"
    found = parse("bmkg-forecast", json.dumps(data).encode(), areas=AREAS)
    assert {o.time for o in found} == {utc(2026, 3, 10, 6), utc(2026, 3, 10, 9)}


def test_bmkg_forecast_negative_rain_is_rejected() -> None:
    """A slot with negative tp is skipped with a logged reason; the others stay."""
    data = json.loads(MANGGAR)
    data["data"][0]["cuaca"][0][0]["tp"] = -1
    with capture_logs() as logs:
        found = parse("bmkg-forecast", json.dumps(data).encode(), areas=AREAS)
    assert len(found) == 2
    assert [e["event"] for e in logs] == ["feed.item_rejected"]


@responses.activate
def test_bmkg_forecast_fetch_spaces_requests_under_the_rate_limit() -> None:
    """One request per kelurahan, 60/requests_per_minute seconds apart, bundled in a list."""
    responses.get("https://api.bmkg.go.id/publik/prakiraan-cuaca", body=MANGGAR)
    waits: list[float] = []
    client = HttpClient(HttpSettings(), sleep=waits.append)
    ctx = context("bmkg-forecast", areas=AREAS, requests_per_minute=30)
    payload = FEEDS["bmkg-forecast"].get(client, ctx)
    assert payload is not None
    assert waits == [2.0] * 33
    codes = [c.request.params["adm4"] for c in responses.calls]
    assert codes == [area.kemendagri_code for area in AREAS.kelurahan]
    assert len(FEEDS["bmkg-forecast"].parse(payload, ctx)) == 34 * 3


@responses.activate
def test_bmkg_forecast_down_service_fails_fast() -> None:
    """Three failures before any success fail the poll at once, not after 34 spaced tries."""
    responses.get("https://api.bmkg.go.id/publik/prakiraan-cuaca", status=404)
    waits: list[float] = []
    client = HttpClient(HttpSettings(), sleep=waits.append)
    ctx = context("bmkg-forecast", areas=AREAS)
    with pytest.raises(FeedError, match="first 3 kelurahan forecasts failed"):
        FEEDS["bmkg-forecast"].get(client, ctx)
    assert len(responses.calls) == 3


@responses.activate
def test_bmkg_forecast_one_missing_kelurahan_keeps_the_rest() -> None:
    """After a success, a later kelurahan's failure skips only that kelurahan."""
    url = "https://api.bmkg.go.id/publik/prakiraan-cuaca"
    responses.get(url, body=MANGGAR)
    responses.get(url, status=404)
    responses.get(url, body=MANGGAR)
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    payload = FEEDS["bmkg-forecast"].get(client, context("bmkg-forecast", areas=AREAS))
    assert payload is not None
    assert len(json.loads(payload)) == 33


def test_open_meteo_current_format_in_utc_and_metres_per_second() -> None:
    """Local times minus utc_offset_seconds; km/h -> m/s; null hours skipped."""
    found = parse("open-meteo", OPEN_METEO)
    rain = [o for o in found if o.kind is ObservationKind.RAINFALL]
    wind = [o for o in found if o.kind is ObservationKind.WIND]
    assert [o.time for o in rain] == [utc(2026, 3, 10, 6), utc(2026, 3, 10, 7)]
    assert [o.values["precipitation_mm"] for o in rain] == [22.4, 5.1]
    assert rain[0].values["period_s"] == 3600
    assert [dict(o.values) for o in wind] == [
        {"wind_speed_ms": 10.0, "wind_gust_ms": 20.0},
        {"wind_speed_ms": 5.0},
        {"wind_speed_ms": 2.0, "wind_gust_ms": 4.0},
    ]
    assert (rain[0].lon, rain[0].lat) == (116.875, -1.25)
    assert rain[0].event_id == "open-meteo:-1.2500,116.8750:20260310T0600Z"


def test_open_meteo_legacy_names_are_read() -> None:
    """The 2023 Kyoto response's legacy `windspeed_10m` gives wind; no precipitation, no rain."""
    found = parse("open-meteo", KYOTO)
    assert found
    assert {o.kind for o in found} == {ObservationKind.WIND}
    assert found[0].time == utc(2023, 8, 9, 0)
    assert (found[0].lon, found[0].lat) == (135.75, 34.9)
    speeds = json.loads(KYOTO)["hourly"]["windspeed_10m"]
    assert [o.values["wind_speed_ms"] for o in found] == [round(s / 3.6, 2) for s in speeds]


def test_open_meteo_error_object_is_a_feed_error_with_its_reason() -> None:
    """{"error": true, "reason": ...} becomes a FeedError carrying the reason."""
    with pytest.raises(FeedError, match="Daily API request limit exceeded"):
        parse("open-meteo", OM_ERROR)


def test_open_meteo_several_points_are_a_list() -> None:
    """A multi-point response (a JSON list) yields observations for each point."""
    payload = b"[" + OPEN_METEO + b"," + OPEN_METEO.replace(b"116.875", b"116.9") + b"]"
    found = parse("open-meteo", payload)
    assert {o.lon for o in found} == {116.875, 116.9}


def test_marine_sea_level_and_waves_are_modelled_sea_level() -> None:
    """Marine hours become sea_level observations with the model datum; null hours skipped."""
    found = parse("open-meteo-marine", MARINE)
    assert [o.time for o in found] == [utc(2026, 3, 9, 16), utc(2026, 3, 9, 17)]
    assert [dict(o.values) for o in found] == [
        {"sea_level_m": 0.84, "datum": "msl-model", "wave_height_m": 0.42},
        {"sea_level_m": 1.12, "datum": "msl-model", "wave_height_m": 0.5},
    ]
    assert all(o.kind is ObservationKind.SEA_LEVEL for o in found)


@responses.activate
def test_open_meteo_fetch_asks_for_every_kelurahan_inside_it_at_once() -> None:
    """One request carries 34 points, each inside its own kelurahan (main asked 6 centroids)."""
    responses.get("https://api.open-meteo.com/v1/forecast", body=OPEN_METEO)
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    ctx = context("open-meteo", areas=AREAS)
    assert FEEDS["open-meteo"].get(client, ctx) == OPEN_METEO
    [call] = responses.calls
    params = call.request.params
    lats = [float(v) for v in params["latitude"].split(",")]
    lons = [float(v) for v in params["longitude"].split(",")]
    assert len(lats) == len(lons) == 34
    located = AREAS.kelurahan_ids_at(list(zip(lons, lats, strict=True)))
    assert located == list(KELURAHAN)
    assert params["hourly"] == "precipitation,wind_speed_10m,wind_gusts_10m"


@responses.activate
def test_open_meteo_marine_asks_at_sea_off_each_coastal_kelurahan() -> None:
    """Marine points lie outside every kelurahan (at sea), a few km off their own one."""
    responses.get("https://marine-api.open-meteo.com/v1/marine", body=MARINE)
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    FEEDS["open-meteo-marine"].get(client, context("open-meteo-marine", areas=AREAS))
    params = responses.calls[0].request.params
    lats = [float(v) for v in params["latitude"].split(",")]
    lons = [float(v) for v in params["longitude"].split(",")]
    coastal = [a.id for a in AREAS.kelurahan if a.coastal]
    assert len(lats) == len(coastal) == 15
    points = list(zip(lons, lats, strict=True))
    assert AREAS.kelurahan_ids_at(points) == [None] * len(coastal)
    for area_id, (lon, lat) in zip(coastal, points, strict=True):
        assert 0.5 < AREAS.distance_km(lon, lat, area_id) <= 3.5
    assert params["hourly"] == "sea_level_height_msl,wave_height"


def _answers(count: int, times: list[str], rain: list[float]) -> bytes:
    """An Open-Meteo multi-location answer: `count` locations with the same hourly series."""
    location = json.loads(OPEN_METEO)
    location["hourly"] = {
        "time": times,
        "precipitation": rain,
        "wind_speed_10m": [10.0] * len(times),
        "wind_gusts_10m": [20.0] * len(times),
    }
    return json.dumps([location] * count).encode()


def test_open_meteo_each_answer_is_its_kelurahan_reading() -> None:
    """Answer i of the list is kelurahan i's modelled reading: all 34 hear about model rain."""
    payload = _answers(34, ["2026-03-10T14:00"], [30.0])
    found = parse("open-meteo", payload, areas=AREAS, fetched_at=utc(2026, 3, 10, 7))
    rain = [o for o in found if o.kind is ObservationKind.RAINFALL]
    assert [o.area_ids for o in rain] == [(k,) for k in KELURAHAN]
    assert {o.coverage for o in rain} == {Coverage.MODELLED}
    assert {(o.lon, o.lat) for o in rain} == {(None, None)}
    assert rain[KELURAHAN.index("graha-indah")].event_id == "open-meteo:graha-indah:20260310T0600Z"


def test_open_meteo_hours_ahead_are_prakiraan_with_lead_time() -> None:
    """Hours after the fetch are forecasts of one hour each, never rainfall readings."""
    times = ["2026-03-10T13:00", "2026-03-10T14:00", "2026-03-10T17:00"]
    payload = _answers(34, times, [2.0, 25.0, 60.0])
    found = parse("open-meteo", payload, areas=AREAS, fetched_at=utc(2026, 3, 10, 5, 20))
    ours = [o for o in found if o.area_ids == ("gunung-sari-ulu",)]
    assert [(o.kind, o.time) for o in ours] == [
        (ObservationKind.RAINFALL, utc(2026, 3, 10, 5)),
        (ObservationKind.WIND, utc(2026, 3, 10, 5)),
        (ObservationKind.PRAKIRAAN, utc(2026, 3, 10, 5)),
        (ObservationKind.PRAKIRAAN, utc(2026, 3, 10, 8)),
    ]
    ahead = ours[3]
    assert ahead.basis is Basis.FORECAST
    assert dict(ahead.values) == {
        "precipitation_mm": 60.0,
        "wind_speed_ms": 2.78,
        "wind_gust_ms": 5.56,
        "period_s": 3600,
        "lead_s": 3 * 3600,
        "valid_from": "2026-03-10T08:00:00Z",
        "valid_until": "2026-03-10T09:00:00Z",
        "slot_wita": "10/03 16.00-17.00 WITA",
    }


def test_open_meteo_location_id_orders_the_answers() -> None:
    """Answers carrying `location_id` pair with the point of that index, whatever their order."""
    answers = json.loads(_answers(34, ["2026-03-10T14:00"], [1.0]))
    for index, answer in enumerate(answers):
        answer["hourly"]["precipitation"] = [float(index)]
        if index:
            answer["location_id"] = index
    payload = json.dumps(list(reversed(answers))).encode()
    found = parse("open-meteo", payload, areas=AREAS, fetched_at=utc(2026, 3, 10, 7))
    rain = {o.area_ids[0]: o.values["precipitation_mm"] for o in found if o.values.get("period_s")}
    assert rain == {area: float(i) for i, area in enumerate(KELURAHAN)}


def test_open_meteo_answer_count_must_match_the_kelurahan_asked() -> None:
    """Six answers for 34 kelurahan asked cannot be paired: a FeedError, not a wrong area."""
    with pytest.raises(FeedError, match="6 locations answered for 34 kelurahan"):
        parse("open-meteo", _answers(6, ["2026-03-10T14:00"], [1.0]), areas=AREAS)


def test_marine_hours_ahead_are_no_reading() -> None:
    """A modelled sea level for an hour still to come is not a reading of the sea."""
    found = parse("open-meteo-marine", MARINE, fetched_at=utc(2026, 3, 9, 16, 30))
    assert [o.time for o in found] == [utc(2026, 3, 9, 16)]
