"""BMKG forecast and Open-Meteo: slots in UTC, SI units, legacy names, error objects."""

from __future__ import annotations

import json

import pytest
import responses
from structlog.testing import capture_logs

from tests.feeds_support import AREAS, context, fixture, parse, utc
from warning.feeds import FEEDS, FeedError
from warning.http import HttpClient
from warning.model import ObservationKind
from warning.settings import HttpSettings

MANGGAR = fixture("bmkg-forecast", "synthetic_bmkg_forecast_manggar_64.71.01.1001.json")
KYOTO = fixture("open-meteo", "openmeteo_forecast_20230809_kyoto_legacy-params.json")
OPEN_METEO = fixture("open-meteo", "synthetic_openmeteo_forecast_balikpapan.json")
OM_ERROR = fixture("open-meteo", "synthetic_openmeteo_error_daily_limit.json")
MARINE = fixture("open-meteo-marine", "synthetic_openmeteo_marine_balikpapan.json")


def test_bmkg_forecast_slots_become_rainfall_and_wind_for_the_kelurahan() -> None:
    """Three slots give three rainfall and three wind observations addressed to Manggar."""
    found = parse("bmkg-forecast", MANGGAR, areas=AREAS)
    rain = [o for o in found if o.kind is ObservationKind.RAINFALL]
    wind = [o for o in found if o.kind is ObservationKind.WIND]
    assert [o.time for o in rain] == [
        utc(2026, 3, 10, 6),
        utc(2026, 3, 10, 9),
        utc(2026, 3, 10, 12),
    ]
    assert [dict(o.values) for o in rain] == [
        {"precipitation_mm": 12.4, "period_s": 10800},
        {"precipitation_mm": 3.1, "period_s": 10800},
        {"precipitation_mm": 0.0, "period_s": 10800},
    ]
    assert [o.values["wind_speed_ms"] for o in wind] == [5.0, 2.5, 1.0]
    assert all(o.area_ids == ("manggar",) and o.lon is None for o in found)
    assert rain[0].event_id == "bmkg-forecast:64.71.01.1001:20260310T0600Z"


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
    assert len(found) == 4
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
    assert len(FEEDS["bmkg-forecast"].parse(payload, ctx)) == 34 * 6


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
def test_open_meteo_fetch_asks_for_every_kecamatan_centroid_at_once() -> None:
    """One request carries the six kecamatan centroids as comma lists and the hourly variables."""
    responses.get("https://api.open-meteo.com/v1/forecast", body=OPEN_METEO)
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    ctx = context("open-meteo", areas=AREAS)
    assert FEEDS["open-meteo"].get(client, ctx) == OPEN_METEO
    [call] = responses.calls
    params = call.request.params
    assert len(params["latitude"].split(",")) == 6
    assert len(params["longitude"].split(",")) == 6
    assert params["hourly"] == "precipitation,wind_speed_10m,wind_gusts_10m"


@responses.activate
def test_open_meteo_fetch_uses_configured_points() -> None:
    """The `points` option ([[lon, lat], ...]) replaces the centroids."""
    responses.get("https://marine-api.open-meteo.com/v1/marine", body=MARINE)
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    ctx = context("open-meteo-marine", areas=AREAS, points=[[116.8, -1.3]])
    FEEDS["open-meteo-marine"].get(client, ctx)
    params = responses.calls[0].request.params
    assert (params["longitude"], params["latitude"]) == ("116.8000", "-1.3000")
    assert params["hourly"] == "sea_level_height_msl,wave_height"
