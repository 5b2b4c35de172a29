"""Feed adapters and their registry: adding a feed is one module and one line in `FEEDS`.

Use: `feed = FEEDS[name]`; `payload = feed.get(client, context)` (None: the
server says unchanged, skip); `observations = feed.parse(payload, context)`.
Only `FeedError` ever escapes either call.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from warning.feeds import (
    big_tide,
    bmkg_forecast,
    bmkg_gempa,
    bmkg_nowcast,
    inatews,
    open_meteo,
    usgs,
)
from warning.feeds.base import AreaLookup, Feed, FeedContext
from warning.feeds.jsonio import observation_from_json, observation_to_json
from warning.http import FeedError, PayloadKind
from warning.model import ObservationKind as K

_QUAKE = (K.EARTHQUAKE,)

#: Every feed the daemon can poll, by the name used in settings and on the command line.
FEEDS: Mapping[str, Feed] = MappingProxyType(
    {
        "bmkg-autogempa": Feed(
            "bmkg-autogempa", _QUAKE, bmkg_gempa.parse, PayloadKind.JSON, bmkg_gempa.AUTOGEMPA,
            description="BMKG latest earthquake (JSON or XML)",
        ),
        "bmkg-gempaterkini": Feed(
            "bmkg-gempaterkini", _QUAKE, bmkg_gempa.parse, PayloadKind.JSON,
            bmkg_gempa.GEMPATERKINI,
            description="BMKG last 15 earthquakes M5.0+",
        ),
        "bmkg-gempadirasakan": Feed(
            "bmkg-gempadirasakan", _QUAKE, bmkg_gempa.parse, PayloadKind.JSON,
            bmkg_gempa.GEMPADIRASAKAN,
            description="BMKG last 15 felt earthquakes",
        ),
        "inatews": Feed(
            "inatews", (K.EARTHQUAKE, K.TSUNAMI_WARNING), inatews.parse, PayloadKind.JSON,
            inatews.DEFAULTS,
            needs_areas=True, description="InaTEWS latest message (tsunami warnings)",
        ),
        "usgs": Feed(
            "usgs", _QUAKE, usgs.parse, PayloadKind.JSON, usgs.DEFAULTS,
            description="USGS real-time summary GeoJSON",
        ),
        "bmkg-nowcast": Feed(
            "bmkg-nowcast", (K.WEATHER_WARNING,), bmkg_nowcast.parse, PayloadKind.XML,
            bmkg_nowcast.DEFAULTS,
            fetch=bmkg_nowcast.fetch, future_ok=True, needs_areas=True,
            description="BMKG nowcast warnings (RSS + CAP 1.2)",
        ),
        "bmkg-forecast": Feed(
            "bmkg-forecast", (K.PRAKIRAAN,), bmkg_forecast.parse, PayloadKind.JSON,
            bmkg_forecast.DEFAULTS,
            fetch=bmkg_forecast.fetch, future_ok=True, needs_areas=True,
            description="BMKG 3-hourly forecast per kelurahan (prakiraan)",
        ),
        "open-meteo": Feed(
            "open-meteo", (K.RAINFALL, K.WIND, K.PRAKIRAAN), open_meteo.parse_forecast,
            PayloadKind.JSON, open_meteo.FORECAST_DEFAULTS, fetch=open_meteo.fetch_forecast,
            future_ok=True, needs_areas=True,
            description="Open-Meteo hourly rain and wind per kelurahan (model; ahead: prakiraan)",
        ),
        "open-meteo-marine": Feed(
            "open-meteo-marine", (K.SEA_LEVEL,), open_meteo.parse_marine, PayloadKind.JSON,
            open_meteo.MARINE_DEFAULTS,
            fetch=open_meteo.fetch_marine, future_ok=True, needs_areas=True,
            description="Open-Meteo marine sea level and waves (model, not observed)",
        ),
        "big-tide": Feed(
            "big-tide", (K.SEA_LEVEL,), big_tide.parse, PayloadKind.TEXT, big_tide.DEFAULTS,
            needs_areas=True,
            description="BIG tide gauge CSV (observed)",
        ),
    }
)  # fmt: skip

__all__ = [
    "FEEDS",
    "AreaLookup",
    "Feed",
    "FeedContext",
    "FeedError",
    "observation_from_json",
    "observation_to_json",
]
