"""Open-Meteo forecast (`/v1/forecast`) and marine (`/v1/marine`) hourly series.

Quirks handled (../shared/FEEDS.md B4, C3; open-meteo docs):
- One location is an object, several (comma-separated coordinates) a list.
- `hourly.time` is local time without offset: `utc_offset_seconds` is added
  back (`timezone_abbreviation` is not stable and is ignored).
- Units come from `hourly_units`: wind in km/h, m/s, kn or mph -> m/s.
- Variable names changed in 2023: `windspeed_10m` / `windgusts_10m` (legacy)
  and `wind_speed_10m` / `wind_gusts_10m` are both read.
- `{"error": true, "reason": …}` (400, 429) becomes a FeedError with the reason.
- Marine `sea_level_height_msl` is modelled (tides included) relative to MSL,
  not observed; points on land give `null`, which is skipped.
- Precipitation is the preceding hour's sum (period 3600 s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from warning.feeds.base import (
    FeedContext,
    ItemError,
    as_list,
    as_object,
    each_item,
    in_range,
    lon_lat,
    number,
    rounded,
)
from warning.http import FeedError, HttpClient, PayloadKind, parse_json
from warning.model import AreaLevel, Observation, ObservationKind, Value

HOUR_S = 3600
#: Factors to m/s for the wind units Open-Meteo offers.
TO_MS = {"km/h": 1 / 3.6, "m/s": 1.0, "kn": 0.514444, "mph": 0.44704}
WIND = ("wind_speed_10m", "windspeed_10m")
GUST = ("wind_gusts_10m", "windgusts_10m")
MARINE_DATUM = "msl-model"

#: Default point when neither the `points` option nor the areas give any.
BALIKPAPAN = (116.83, -1.27)


def parse_forecast(payload: bytes, context: FeedContext) -> list[Observation]:
    """Hourly rainfall and wind at every location of a forecast response."""
    return [obs for loc in _locations(payload) for obs in _forecast_location(loc, context)]


def parse_marine(payload: bytes, context: FeedContext) -> list[Observation]:
    """Hourly modelled sea level and wave height at every location of a marine response."""
    return [obs for loc in _locations(payload) for obs in _marine_location(loc, context)]


def _locations(payload: bytes) -> list[Mapping[str, Any]]:
    """Each location's object; an error object raises FeedError with its reason."""
    decoded = parse_json(payload)
    if isinstance(decoded, Mapping) and decoded.get("error"):
        raise FeedError(f"Open-Meteo error: {decoded.get('reason', 'no reason given')}")
    items = decoded if isinstance(decoded, list) else [decoded]
    return [as_object(item, "location") for item in items]


@dataclass(frozen=True, slots=True)
class _Series:
    """One location's hourly arrays, with its point and UTC times."""

    source: str
    lon: float
    lat: float
    times: tuple[datetime, ...]
    hourly: Mapping[str, Any]
    units: Mapping[str, Any]

    def column(self, names: Sequence[str]) -> list[Any] | None:
        """The first present variable among `names`, checked to match `time` in length."""
        for name in names:
            if name in self.hourly:
                values = as_list(self.hourly[name], f"hourly.{name}")
                if len(values) != len(self.times):
                    raise FeedError(f"hourly.{name} and hourly.time differ in length")
                return values
        return None

    def unit(self, names: Sequence[str], default: str) -> str:
        """The unit of the first present variable among `names`."""
        return next((str(self.units[n]) for n in names if n in self.units), default)


def _series(location: Mapping[str, Any], source: str) -> _Series:
    """Parse the shared part of a location: point, offset, times."""
    try:
        lon, lat = lon_lat(location.get("longitude"), location.get("latitude"))
        seconds = number(location.get("utc_offset_seconds", 0), "utc_offset_seconds")
        offset = timedelta(seconds=in_range(seconds, -86400.0, 86400.0, "utc_offset_seconds"))
    except ItemError as exc:
        raise FeedError(f"location header: {exc}") from None
    hourly = as_object(location.get("hourly"), "hourly")
    times = tuple(_utc(t, offset) for t in as_list(hourly.get("time"), "hourly.time"))
    units = location.get("hourly_units")
    return _Series(source, lon, lat, times, hourly, units if isinstance(units, Mapping) else {})


def _utc(value: Any, offset: timedelta) -> datetime:
    """Local `2023-08-09T00:00` minus the location's UTC offset, as aware UTC."""
    try:
        return (datetime.fromisoformat(str(value)).replace(tzinfo=None) - offset).replace(
            tzinfo=UTC
        )
    except (ValueError, OverflowError):
        raise FeedError(f"hourly.time {value!r} is not a usable ISO 8601 time") from None


def _event(series: _Series, when: datetime) -> str:
    """`<source>:<lat>,<lon>:<UTC hour>`."""
    return f"{series.source}:{series.lat:.4f},{series.lon:.4f}:{when:%Y%m%dT%H%MZ}"


def _forecast_location(location: Mapping[str, Any], context: FeedContext) -> list[Observation]:
    """Rainfall and wind observations of one location, hour by hour."""
    series = _series(location, context.settings.name)
    rain = series.column(("precipitation",))
    wind, gust = series.column(WIND), series.column(GUST)
    factor = TO_MS.get(series.unit(WIND + GUST, "km/h"))
    if factor is None:
        raise FeedError(f"unknown wind unit {series.unit(WIND + GUST, '')!r}")

    def hour(index: int) -> list[Observation]:
        found: list[Observation] = []
        when = series.times[index]
        if rain is not None and rain[index] is not None:
            mm = in_range(number(rain[index], "precipitation"), 0.0, 500.0, "precipitation")
            values: dict[str, Value] = {"precipitation_mm": rounded(mm, 2), "period_s": HOUR_S}
            found.append(_obs(series, ObservationKind.RAINFALL, when, values))
        if wind is not None and wind[index] is not None:
            found.append(_obs(series, ObservationKind.WIND, when, _wind(wind, gust, index, factor)))
        return found

    return [
        obs for hourly in each_item(series.source, range(len(series.times)), hour) for obs in hourly
    ]


def _wind(wind: list[Any], gust: list[Any] | None, index: int, factor: float) -> dict[str, Value]:
    """wind_speed_ms and, when known, wind_gust_ms for one hour."""
    speed = in_range(number(wind[index], "wind speed"), 0.0, 400.0, "wind speed") * factor
    values: dict[str, Value] = {"wind_speed_ms": rounded(speed, 2)}
    if gust is not None and gust[index] is not None:
        gusts = in_range(number(gust[index], "wind gust"), 0.0, 500.0, "wind gust") * factor
        values["wind_gust_ms"] = rounded(gusts, 2)
    return values


def _obs(
    series: _Series, kind: ObservationKind, when: datetime, values: dict[str, Value]
) -> Observation:
    """A point observation at the location."""
    return Observation(
        series.source, kind, _event(series, when), when, values, series.lon, series.lat
    )


def _marine_location(location: Mapping[str, Any], context: FeedContext) -> list[Observation]:
    """Sea level (and wave height) observations of one location, hour by hour."""
    series = _series(location, context.settings.name)
    level = series.column(("sea_level_height_msl",))
    waves = series.column(("wave_height",))
    if level is None and waves is None:
        raise FeedError("marine response has neither sea_level_height_msl nor wave_height")

    def hour(index: int) -> list[Observation]:
        values: dict[str, Value] = {}
        if level is not None and level[index] is not None:
            metres = in_range(number(level[index], "sea level"), -20.0, 20.0, "sea level")
            values.update(sea_level_m=rounded(metres, 3), datum=MARINE_DATUM)
        if waves is not None and waves[index] is not None:
            metres = in_range(number(waves[index], "wave height"), 0.0, 40.0, "wave height")
            values["wave_height_m"] = rounded(metres, 2)
        when = series.times[index]
        return [_obs(series, ObservationKind.SEA_LEVEL, when, values)] if values else []

    return [
        obs for hourly in each_item(series.source, range(len(series.times)), hour) for obs in hourly
    ]


# ---------------------------------------------------------------------------
# Fetching: one request for every point (Open-Meteo takes comma-separated lists).


def points(context: FeedContext) -> list[tuple[float, float]]:
    """(lon, lat) points: the `points` option, else each kecamatan's centroid, else the city."""
    configured = context.option("points")
    if configured:
        return [(float(p[0]), float(p[1])) for p in configured]
    if context.areas is not None:
        kecamatan = [a.id for a in context.areas.areas if a.level is AreaLevel.KECAMATAN]
        return [context.areas.centroid(area_id) for area_id in kecamatan] or [BALIKPAPAN]
    return [BALIKPAPAN]


def _fetch(client: HttpClient, context: FeedContext, hourly: str) -> bytes | None:
    """One GET of `hourly` variables for every point."""
    where = points(context)
    params = {
        "latitude": ",".join(f"{lat:.4f}" for _, lat in where),
        "longitude": ",".join(f"{lon:.4f}" for lon, _ in where),
        "hourly": hourly,
        "forecast_days": str(context.option("forecast_days")),
        "timezone": "GMT",
    }
    fetched = client.get(context.settings.url, PayloadKind.JSON, params)
    return None if fetched.unchanged else fetched.body


def fetch_forecast(client: HttpClient, context: FeedContext) -> bytes | None:
    """Hourly precipitation, wind speed and gusts at every point."""
    return _fetch(client, context, "precipitation,wind_speed_10m,wind_gusts_10m")


def fetch_marine(client: HttpClient, context: FeedContext) -> bytes | None:
    """Hourly modelled sea level and wave height at every point."""
    return _fetch(client, context, "sea_level_height_msl,wave_height")
