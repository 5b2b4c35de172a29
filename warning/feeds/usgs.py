"""USGS real-time summary GeoJSON (and the FDSN `query?format=geojson` used for catch-up).

Quirks handled (../shared/FEEDS.md A3/A4; geojson.php field list):
- `time` / `updated` are epoch **milliseconds** UTC; `geometry.coordinates` is
  `[lon, lat, depth_km]`.
- `event_id` is the feature's preferred `id`; features whose comma-wrapped
  `ids` overlap are one event (the one with the larger `updated` is the
  revision and wins).
- API 1.8.1 (2019) emitted float noise (`"mag":6.2999999999999998`): rounded.
- `tsunami` is a flag for large oceanic events, not a warning: not carried.
- Only events inside the `bbox` option (default Indonesia) are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from warning.feeds.base import (
    FeedContext,
    ItemError,
    as_list,
    as_object,
    depth_km,
    each_item,
    field,
    lon_lat,
    magnitude,
    number,
    rounded,
    text,
)
from warning.http import FeedError, parse_json
from warning.model import Observation, ObservationKind, Value
from warning.settings import FeedDefaults

#: [feeds.usgs] defaults and options (`key: (default, doc)`).
DEFAULTS = FeedDefaults(
    url="https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/4.5_day.geojson",
    interval_s=60,
    max_age_s=3600,
    options={
        "bbox": (
            [95.0, -11.0, 141.0, 6.0],
            "Only events inside [min_lon, min_lat, max_lon, max_lat] (default: Indonesia).",
        ),
    },
)


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """Earthquakes inside the bbox, one per event (latest revision)."""
    source = context.settings.name
    collection = as_object(parse_json(payload), "payload")
    features = as_list(collection.get("features"), "features")
    bbox = _bbox(context.option("bbox"))
    parsed = each_item(source, features, lambda f: _feature(source, f))
    inside = [(obs, ids, updated) for obs, ids, updated in parsed if _inside(obs, bbox)]
    return _dedup(inside)


def _bbox(value: Any) -> tuple[float, float, float, float]:
    """[min_lon, min_lat, max_lon, max_lat] from the settings."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise FeedError("usgs bbox must be [min_lon, min_lat, max_lon, max_lat]")
    try:
        west, south, east, north = (float(v) for v in value)
    except (TypeError, ValueError):
        raise FeedError("usgs bbox must hold four numbers") from None
    return west, south, east, north


def _inside(obs: Observation, bbox: tuple[float, float, float, float]) -> bool:
    """Whether an epicentre lies in the bounding box."""
    west, south, east, north = bbox
    if obs.lon is None or obs.lat is None:
        return False
    return west <= obs.lon <= east and south <= obs.lat <= north


_Parsed = tuple[Observation, frozenset[str], float]


def _feature(source: str, feature: Any) -> _Parsed:
    """(observation, all associated ids, updated ms) of one feature."""
    props = as_properties(feature)
    coordinates = field(as_geometry(feature), "coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 3:
        raise ItemError("geometry.coordinates is not [lon, lat, depth]")
    lon, lat = lon_lat(coordinates[0], coordinates[1])
    preferred = text(feature, "id")
    values: dict[str, Value] = {
        "magnitude": magnitude(field(props, "mag")),
        "depth_km": depth_km(coordinates[2]),
    }
    if props.get("mmi") is not None:
        values["mmi"] = rounded(number(props["mmi"], "mmi"), 2)
    if isinstance(props.get("place"), str):
        values["region"] = props["place"]
    obs = Observation(
        source, ObservationKind.EARTHQUAKE, preferred, _ms(props, "time"), values, lon, lat
    )
    ids = frozenset(i for i in str(props.get("ids") or "").split(",") if i) | {preferred}
    updated = number(props.get("updated", props["time"]), "updated")
    return obs, ids, updated


def as_properties(feature: Any) -> Mapping[str, Any]:
    """A feature's `properties`."""
    props = field(feature, "properties")
    if not isinstance(props, Mapping):
        raise ItemError("properties is not an object")
    return props


def as_geometry(feature: Any) -> Mapping[str, Any]:
    """A feature's `geometry`."""
    geometry = field(feature, "geometry")
    if not isinstance(geometry, Mapping):
        raise ItemError("geometry is not an object")
    return geometry


def _ms(props: Mapping[str, Any], key: str) -> datetime:
    """Epoch milliseconds as aware UTC."""
    millis = number(field(props, key), key)
    try:
        return datetime.fromtimestamp(millis / 1000.0, UTC)
    except (OverflowError, OSError, ValueError):
        raise ItemError(f"{key} {millis} is not a plausible epoch in ms") from None


def _dedup(parsed: list[_Parsed]) -> list[Observation]:
    """One observation per event: features sharing any id collapse to the latest update."""
    kept: list[_Parsed] = []
    for item in parsed:
        clash = next((k for k in kept if k[1] & item[1]), None)
        if clash is None:
            kept.append(item)
        elif item[2] > clash[2]:
            kept[kept.index(clash)] = (item[0], clash[1] | item[1], item[2])
    return [obs for obs, _, _ in kept]
