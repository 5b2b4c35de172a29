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

What a value stands for (issue 10): every kelurahan is asked for in one request,
at a point inside it (weather) or at sea off it (marine, coastal kelurahan
only); Open-Meteo answers a list in the order asked, so answer i is kelurahan
i's reading (`Coverage.MODELLED`, `area_ids` of that one kelurahan).  Without
the areas (`warning feeds parse` of a foreign file) answers stay points.

Hours at or before the fetch are the model's analysis, the nearest thing to a
measurement this source has: rainfall, wind and sea level readings.  Hours
ahead are forecasts: rain and wind become one `prakiraan` per hour (never a
rainfall reading), stamped at the hour's start with `lead_s` from the hour the
forecast was fetched; marine hours ahead are dropped (tides are no forecast rule
of ours yet, and a modelled future level is no reading).
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
    forecast_slot,
    in_range,
    lon_lat,
    number,
    rounded,
)
from warning.http import FeedError, HttpClient, PayloadKind, parse_json
from warning.model import Coverage, Observation, ObservationKind, Value
from warning.settings import FeedDefaults

#: Options of the Open-Meteo forecast feed: it asks for every kelurahan at once, at a
#: point inside each (computed from the areas file).
_OPEN_METEO_OPTIONS: Mapping[str, tuple[Any, str]] = {
    "forecast_days": (2, "Days of hourly forecast per request."),
}


#: The marine feed asks for each coastal kelurahan at a point at sea off its coast.
_OPEN_METEO_MARINE_OPTIONS: Mapping[str, tuple[Any, str]] = {
    **_OPEN_METEO_OPTIONS,
    "offshore_km": (
        3.0,
        "How far off each coastal kelurahan's coast its marine model point lies (km).",
    ),
}

#: [feeds.open-meteo] defaults.
FORECAST_DEFAULTS = FeedDefaults(
    url="https://api.open-meteo.com/v1/forecast",
    interval_s=900,
    max_age_s=0,
    options=_OPEN_METEO_OPTIONS,
)
#: [feeds.open-meteo-marine] defaults.
MARINE_DEFAULTS = FeedDefaults(
    url="https://marine-api.open-meteo.com/v1/marine",
    interval_s=3600,
    max_age_s=0,
    options=_OPEN_METEO_MARINE_OPTIONS,
)


HOUR_S = 3600
HOUR = timedelta(hours=1)
#: Factors to m/s for the wind units Open-Meteo offers.
TO_MS = {"km/h": 1 / 3.6, "m/s": 1.0, "kn": 0.514444, "mph": 0.44704}
WIND = ("wind_speed_10m", "windspeed_10m")
GUST = ("wind_gusts_10m", "windgusts_10m")
MARINE_DATUM = "msl-model"

#: The point asked for when the areas are not loaded (the city centre).
BALIKPAPAN = (116.83, -1.27)


def parse_forecast(payload: bytes, context: FeedContext) -> list[Observation]:
    """Hourly rainfall and wind (hours past) and forecasts (hours ahead) per kelurahan."""
    located = _located(_locations(payload), forecast_areas(context))
    return [obs for loc, area in located for obs in _forecast_location(loc, area, context)]


def parse_marine(payload: bytes, context: FeedContext) -> list[Observation]:
    """Hourly modelled sea level and wave height off every coastal kelurahan (hours past)."""
    located = _located(_locations(payload), marine_areas(context))
    return [obs for loc, area in located for obs in _marine_location(loc, area, context)]


def forecast_areas(context: FeedContext) -> list[str]:
    """The kelurahan a forecast request asks for, in order (none without the areas)."""
    return [a.id for a in context.areas.kelurahan] if context.areas is not None else []


def marine_areas(context: FeedContext) -> list[str]:
    """The coastal kelurahan a marine request asks for, in order (none without the areas)."""
    areas = context.areas.kelurahan if context.areas is not None else ()
    return [a.id for a in areas if a.coastal]


def _located(
    locations: list[Mapping[str, Any]], area_ids: Sequence[str]
) -> list[tuple[Mapping[str, Any], str | None]]:
    """Pair answer i with kelurahan i; without areas every answer stays a point.

    Open-Meteo snaps coordinates to its grid, so answers cannot be matched by
    position: their order identifies them (or `location_id`, the index of the
    point asked, which newer servers print for every point but the first), and
    a count that differs from the request's means the answer is for another
    request.
    """
    if not area_ids:
        return [(location, None) for location in locations]
    if len(locations) != len(area_ids):
        raise FeedError(
            f"{len(locations)} locations answered for {len(area_ids)} kelurahan asked: "
            "the answer does not match the request"
        )
    ordered = sorted(enumerate(locations), key=lambda pair: (_location_id(pair[1]), pair[0]))
    return [(location, area) for (_, location), area in zip(ordered, area_ids, strict=True)]


def _location_id(location: Mapping[str, Any]) -> int:
    """The answer's `location_id` (0 when absent, as Open-Meteo leaves it out for 0)."""
    value = location.get("location_id", 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedError(f"location_id {value!r} is not a whole number")
    return value


def _locations(payload: bytes) -> list[Mapping[str, Any]]:
    """Each location's object; an error object raises FeedError with its reason."""
    decoded = parse_json(payload)
    if isinstance(decoded, Mapping) and decoded.get("error"):
        raise FeedError(f"Open-Meteo error: {decoded.get('reason', 'no reason given')}")
    items = decoded if isinstance(decoded, list) else [decoded]
    return [as_object(item, "location") for item in items]


@dataclass(frozen=True, slots=True)
class _Series:
    """One location's hourly arrays, with its point (or kelurahan) and UTC times."""

    source: str
    lon: float
    lat: float
    area_id: str | None
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


def _series(location: Mapping[str, Any], source: str, area_id: str | None) -> _Series:
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
    units = units if isinstance(units, Mapping) else {}
    return _Series(source, lon, lat, area_id, times, hourly, units)


def _utc(value: Any, offset: timedelta) -> datetime:
    """Local `2023-08-09T00:00` minus the location's UTC offset, as aware UTC."""
    try:
        return (datetime.fromisoformat(str(value)).replace(tzinfo=None) - offset).replace(
            tzinfo=UTC
        )
    except (ValueError, OverflowError):
        raise FeedError(f"hourly.time {value!r} is not a usable ISO 8601 time") from None


def _event(series: _Series, when: datetime) -> str:
    """`<source>:<kelurahan>:<UTC hour>`, or `<source>:<lat>,<lon>:<UTC hour>` for a point."""
    where = series.area_id or f"{series.lat:.4f},{series.lon:.4f}"
    return f"{series.source}:{where}:{when:%Y%m%dT%H%MZ}"


def _forecast_location(
    location: Mapping[str, Any], area_id: str | None, context: FeedContext
) -> list[Observation]:
    """Readings (hours past) and forecasts (hours ahead) of one location, hour by hour."""
    series = _series(location, context.settings.name, area_id)
    # Lead times count from the hour of the fetch, so polls within one hour repeat
    # the same forecast rather than a new one with a lead a few minutes shorter.
    issued = context.fetched_at.replace(minute=0, second=0, microsecond=0)
    rain = series.column(("precipitation",))
    wind, gust = series.column(WIND), series.column(GUST)
    factor = TO_MS.get(series.unit(WIND + GUST, "km/h"))
    if factor is None:
        raise FeedError(f"unknown wind unit {series.unit(WIND + GUST, '')!r}")

    def hour(index: int) -> list[Observation]:
        found: list[Observation] = []
        when = series.times[index]
        rain_values: dict[str, Value] = {}
        if rain is not None and rain[index] is not None:
            mm = in_range(number(rain[index], "precipitation"), 0.0, 500.0, "precipitation")
            rain_values = {"precipitation_mm": rounded(mm, 2), "period_s": HOUR_S}
        wind_values = _wind(wind, gust, index, factor) if wind and wind[index] is not None else {}
        if when > context.fetched_at:
            if rain_values or wind_values:
                found.append(_forecast(series, when, issued, {**rain_values, **wind_values}))
            return found
        if rain_values:
            found.append(_obs(series, ObservationKind.RAINFALL, when, rain_values))
        if wind_values:
            found.append(_obs(series, ObservationKind.WIND, when, wind_values))
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
    """The location's reading: its kelurahan's (modelled), or a point without areas."""
    if series.area_id is not None:
        return Observation(
            series.source, kind, _event(series, when), when, values,
            area_ids=(series.area_id,), coverage=Coverage.MODELLED,
        )  # fmt: skip
    return Observation(
        series.source, kind, _event(series, when), when, values, series.lon, series.lat
    )


def _forecast(
    series: _Series, end: datetime, issued: datetime, values: dict[str, Value]
) -> Observation:
    """A `prakiraan` for the hour ending at `end`, dated at the hour's start."""
    start = end - HOUR
    slot = forecast_slot(start, end, issued)
    return _obs(series, ObservationKind.PRAKIRAAN, start, {**values, **slot})


def _marine_location(
    location: Mapping[str, Any], area_id: str | None, context: FeedContext
) -> list[Observation]:
    """Sea level (and wave height) readings of one location, hour by hour up to the fetch."""
    series = _series(location, context.settings.name, area_id)
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
        if not values or when > context.fetched_at:
            return []
        return [_obs(series, ObservationKind.SEA_LEVEL, when, values)]

    return [
        obs for hourly in each_item(series.source, range(len(series.times)), hour) for obs in hourly
    ]


# ---------------------------------------------------------------------------
# Fetching: one request for every kelurahan (Open-Meteo takes comma-separated lists).


def forecast_points(context: FeedContext) -> list[tuple[float, float]]:
    """(lon, lat) inside each kelurahan, in `forecast_areas` order; the city without areas."""
    if context.areas is None:
        return [BALIKPAPAN]
    return [context.areas.interior_point(area_id) for area_id in forecast_areas(context)]


def marine_points(context: FeedContext) -> list[tuple[float, float]]:
    """(lon, lat) at sea off each coastal kelurahan, in `marine_areas` order.

    A point inside a kelurahan is land, where the marine model answers null:
    each point lies `offshore_km` seaward of the kelurahan's coast (see
    `AreaIndex.seaward_point` for the method).
    """
    if context.areas is None:
        return [BALIKPAPAN]
    km = float(context.option("offshore_km"))
    return [context.areas.seaward_point(area_id, km) for area_id in marine_areas(context)]


def _fetch(
    client: HttpClient, context: FeedContext, hourly: str, where: list[tuple[float, float]]
) -> bytes | None:
    """One GET of `hourly` variables for every point."""
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
    """Hourly precipitation, wind speed and gusts inside every kelurahan."""
    hourly = "precipitation,wind_speed_10m,wind_gusts_10m"
    return _fetch(client, context, hourly, forecast_points(context))


def fetch_marine(client: HttpClient, context: FeedContext) -> bytes | None:
    """Hourly modelled sea level and wave height off every coastal kelurahan."""
    return _fetch(client, context, "sea_level_height_msl,wave_height", marine_points(context))
