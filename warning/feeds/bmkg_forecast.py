"""BMKG public forecast `api.bmkg.go.id/publik/prakiraan-cuaca?adm4=…` for each kelurahan.

Quirks handled (../shared/FEEDS.md B1; no real Balikpapan response exists,
tests use a synthetic one in the documented shape):
- `data[].cuaca` is a list per day of lists of 3-hour slots; times are taken
  from `utc_datetime` ("2026-10-08 06:00:00", UTC) because `local_datetime`
  and `timezone` vary by region.
- `tp` is precipitation in mm per 3-hour slot; `ws` is wind speed in km/h
  (converted to m/s); negative rain is rejected.
- Every slot is a forecast, even one already past: one `prakiraan` per slot
  (kind PRAKIRAAN, never rainfall), dated at the slot's start (`utc_datetime`,
  e.g. 06:00 UTC = 14.00-17.00 WITA), with `period_s` 10800 (a 3-hour total,
  never an hourly rate), `valid_from` / `valid_until` and `lead_s` from the
  analysis (`analysis_date`, read as UTC) to the slot's start.
- A forecast version is (`adm4`, `analysis_date`): when a payload holds more
  than one analysis for a kelurahan, only the newest is used.  Event ids are
  (adm4, slot time), so a newer analysis replaces the older one's slots.
- The API allows 60 requests per minute per IP: `fetch` spaces its 34
  requests by `60 / requests_per_minute` seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from warning.feeds.base import (
    FeedContext,
    ItemError,
    as_list,
    as_object,
    each_item,
    field,
    forecast_slot,
    in_range,
    lon_lat,
    number,
    reject,
    rounded,
    text,
)
from warning.http import FeedError, HttpClient, PayloadKind, parse_json
from warning.model import Observation, ObservationKind, Value, utc
from warning.settings import FeedDefaults

#: [feeds.bmkg-forecast] defaults and options (`key: (default, doc)`).
DEFAULTS = FeedDefaults(
    url="https://api.bmkg.go.id/publik/prakiraan-cuaca",
    interval_s=3600,
    max_age_s=0,
    options={
        "requests_per_minute": (
            50,
            "Requests spread to at most this many per minute (BMKG allows 60 per IP).",
        ),
    },
)


log = structlog.get_logger()

SLOT_S = 3 * 3600
SLOT = timedelta(seconds=SLOT_S)
KMH = 1 / 3.6


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """Rainfall and wind per slot for every kelurahan in one response or a bundle of them."""
    decoded = parse_json(payload)
    responses = decoded if isinstance(decoded, list) else [decoded]
    found: list[Observation] = []
    for response in responses:
        for location in as_list(as_object(response, "response").get("data"), "data"):
            found.extend(_location(location, context))
    return found


def _location(location: Any, context: FeedContext) -> list[Observation]:
    """The newest analysis of one adm4's slots."""
    source = context.settings.name
    place = as_object(as_object(location, "data[]").get("lokasi"), "data[].lokasi")
    slots = [
        slot for day in as_list(location.get("cuaca"), "cuaca") for slot in as_list(day, "day")
    ]
    newest = max((_analysis(s) for s in slots), default="")
    current = [s for s in slots if _analysis(s) == newest]
    where = _where(place, context)
    pairs = each_item(source, current, lambda slot: _slot(source, slot, place, where))
    return [obs for pair in pairs for obs in pair]


def _analysis(slot: Any) -> str:
    """A slot's `analysis_date` as text ("" when missing), for picking the newest."""
    return str(slot.get("analysis_date") or "") if isinstance(slot, Mapping) else ""


def _where(place: Mapping[str, Any], context: FeedContext) -> tuple[str, ...] | tuple[float, float]:
    """The kelurahan id with this adm4 code, else the forecast point (lon, lat)."""
    code = str(place.get("adm4", ""))
    areas = context.areas.kelurahan if context.areas else ()
    match = tuple(area.id for area in areas if area.kemendagri_code == code)
    if match:
        return match
    try:
        return lon_lat(field(place, "lon"), field(place, "lat"))
    except ItemError as exc:
        raise FeedError(
            f"forecast for {code!r} has no known kelurahan and no point: {exc}"
        ) from None


def _slot(
    source: str, slot: Any, place: Mapping[str, Any], where: tuple[Any, ...]
) -> tuple[Observation]:
    """The prakiraan of one 3-hour slot (rain total and wind)."""
    start = _utc(text(slot, "utc_datetime"))
    rain = in_range(number(field(slot, "tp"), "tp"), 0.0, 1000.0, "tp (mm)")
    wind = in_range(number(field(slot, "ws"), "ws"), 0.0, 400.0, "ws (km/h)")
    event = f"bmkg-forecast:{place.get('adm4')}:{start:%Y%m%dT%H%MZ}"
    located: dict[str, Any] = (
        {"area_ids": where} if isinstance(where[0], str) else {"lon": where[0], "lat": where[1]}
    )
    values: dict[str, Value] = {
        "precipitation_mm": rounded(rain, 2),
        "wind_speed_ms": rounded(wind * KMH, 2),
        **forecast_slot(start, start + SLOT, _analysed(slot)),
    }
    return (Observation(source, ObservationKind.PRAKIRAAN, event, start, values, **located),)


def _analysed(slot: Mapping[str, Any]) -> datetime | None:
    """`analysis_date` "2026-10-08T00:00:00" as UTC, None when missing or unreadable."""
    try:
        moment = datetime.fromisoformat(str(slot.get("analysis_date")))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else utc(moment)


def _utc(value: str) -> datetime:
    """`2026-10-08 06:00:00` (UTC, naive in the payload) as aware UTC."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ItemError(f"utc_datetime {value!r} is not YYYY-MM-DD hh:mm:ss") from None


#: Consecutive failures, before any success, that mean the service itself is down.
GIVE_UP_AFTER = 3


def fetch(client: HttpClient, context: FeedContext) -> bytes | None:
    """One request per kelurahan, spaced to stay under the rate limit; a JSON list."""
    if context.areas is None:
        raise FeedError("bmkg-forecast needs the areas (areas.geojson) for the adm4 codes")
    codes = [area.kemendagri_code for area in context.areas.kelurahan]
    spacing = 60.0 / max(1.0, float(context.option("requests_per_minute")))
    responses: list[Any] = []
    for index, code in enumerate(codes):
        if index:
            client.sleep(spacing)
        try:
            body = client.get(context.settings.url, PayloadKind.JSON, {"adm4": code}, False).body
        except FeedError as exc:
            reject(context.settings.name, f"adm4 {code}: {exc.message}", code)
            if not responses and index + 1 >= GIVE_UP_AFTER:
                # The service is down, not one kelurahan: fail the poll now rather than
                # spend a minute asking 34 times.
                raise FeedError(
                    f"first {GIVE_UP_AFTER} kelurahan forecasts failed: {exc.message}",
                    transient=exc.transient,
                ) from None
            continue
        responses.append(parse_json(body))
    if not responses:
        raise FeedError("no kelurahan forecast could be fetched", transient=True)
    return json.dumps(responses).encode("utf-8")
