"""BMKG `autogempa`, `gempaterkini` and `gempadirasakan` (data.bmkg.go.id/DataMKG/TEWS).

The three files share one row shape, so one adapter serves the three registry
entries.  Quirks handled (sources in ../shared/FEEDS.md A1 and
infoBMKG/data-gempabumi):
- JSON and XML variants; `Infogempa.gempa` is one object (autogempa) or a list.
- `Coordinates` (JSON) and XML `point/coordinates` are **lat,lon**; when missing
  we fall back to `Lintang`/`Bujur` with LS/LU/BT/BB hemispheres (BB = west).
- `Tanggal` + `Jam` are WIB (UTC+7).  `DateTime` (UTC) used the access date in
  2021 (issue #5) and a wrong year later: when it disagrees with the WIB text
  by more than a minute, the WIB text wins and `feed.item_corrected` is logged;
  a time more than 5 minutes after `fetched_at` rejects the row.
- `Magnitude` and `Kedalaman` ("10 km") are strings; float noise is rounded.
- `Potensi`: see `seismic.tsunami_potential`; gempadirasakan rows have none.
- A row whose `Wilayah`, `Potensi` or `Dirasakan` says TEST / LATIHAN /
  EXERCISE is an exercise (the files carry no status).
- `Dirasakan` MMI lists ("II-III Bengkulu Utara, III Bima") give `mmi` (the highest
  anywhere), `felt` (the text as BMKG wrote it) and `felt_mmi_balikpapan` (the
  upper end of Balikpapan's own entry, "II-III Balikpapan" is 3); `Potensi` as
  written is `potensi`, BMKG's verdict in BMKG's words.
- No event id: revised and repeated rows of one quake (origin within 5 s and
  0.1 deg) become one event.  The feed lists newest first, so the first-listed
  row's parameters win; the event id comes from the group's earliest origin
  (the original solution stays listed), so it is stable across polls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from warning.feeds.base import (
    FeedContext,
    ItemError,
    as_list,
    as_object,
    depth_km,
    each_item,
    field,
    is_exercise,
    item_object,
    lon_lat,
    magnitude,
    text,
)
from warning.feeds.seismic import (
    hemisphere_point,
    max_mmi,
    tanggal,
    tsunami_potential,
    wib_clock,
)
from warning.http import FeedError, parse_json, parse_xml
from warning.model import Observation, ObservationKind, Value, utc
from warning.settings import FeedDefaults

#: [feeds.bmkg-autogempa] defaults: the latest earthquake.
AUTOGEMPA = FeedDefaults(
    url="https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json", interval_s=60, max_age_s=3600
)
#: [feeds.bmkg-gempaterkini] defaults: the last 15 earthquakes M5.0+.
GEMPATERKINI = FeedDefaults(
    url="https://data.bmkg.go.id/DataMKG/TEWS/gempaterkini.json", interval_s=60, max_age_s=3600
)
#: [feeds.bmkg-gempadirasakan] defaults: the last 15 felt earthquakes.
GEMPADIRASAKAN = FeedDefaults(
    url="https://data.bmkg.go.id/DataMKG/TEWS/gempadirasakan.json",
    interval_s=180,
    max_age_s=3600,
)


log = structlog.get_logger()

#: Rows of one quake: origin times this close and epicentres this close (degrees).
SAME_EVENT_S = 5.0
SAME_EVENT_DEG = 0.1
#: How far after the fetch a stamped time may be before it counts as "in the future".
FUTURE_SLACK = timedelta(minutes=5)
#: The WIB text and `DateTime` may differ by this much before one is corrected.
AGREE_S = 60.0


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """Every quake in an autogempa / gempaterkini / gempadirasakan payload (JSON or XML)."""
    source = context.settings.name
    rows = _rows(payload)
    quakes = each_item(source, rows, lambda row: _quake(source, row, context))
    return _merge_revisions(quakes)


def _rows(payload: bytes) -> list[Any]:
    """The `gempa` rows of either variant, always as a list."""
    if payload.lstrip()[:1] == b"<":
        return _xml_rows(payload)
    info = as_object(as_object(parse_json(payload), "payload").get("Infogempa"), "Infogempa")
    gempa = info.get("gempa")
    return [gempa] if isinstance(gempa, Mapping) else as_list(gempa, "Infogempa.gempa")


def _xml_rows(payload: bytes) -> list[Any]:
    """`<Infogempa><gempa>…` rows as dicts, `point/coordinates` as `Coordinates`."""
    root = parse_xml(payload)
    if root.tag != "Infogempa":
        raise FeedError(f"XML root is <{root.tag}>, expected <Infogempa>")
    rows: list[Any] = []
    for gempa in root.findall("gempa"):
        row: dict[str, Any] = {child.tag: (child.text or "").strip() for child in gempa}
        coordinates = gempa.findtext("point/coordinates")
        if coordinates is not None:
            row["Coordinates"] = coordinates.strip()
        rows.append(row)
    return rows


def _quake(source: str, row: Any, context: FeedContext) -> Observation:
    """One row as an earthquake observation."""
    row = item_object(row)
    when = _origin(source, row)
    if when > context.fetched_at + FUTURE_SLACK:
        raise ItemError(f"origin {when.isoformat()} is in the future")
    lon, lat = _where(row)
    values: dict[str, Value] = {
        "magnitude": magnitude(field(row, "Magnitude")),
        "depth_km": depth_km(field(row, "Kedalaman")),
        "tsunami_potential": tsunami_potential(_optional(row, "Potensi")),
        "region": _optional(row, "Wilayah"),
    }
    felt = _optional(row, "Dirasakan")
    mmi = max_mmi(felt)
    if mmi is not None:
        values["mmi"] = mmi
    here = felt_mmi(felt, CITY)
    if here is not None and felt is not None:
        values["felt"] = felt
    if here is not None:
        values["felt_mmi_balikpapan"] = here
    if (potensi := _optional(row, "Potensi")) is not None:
        values["potensi"] = potensi
    return Observation(
        source=source,
        kind=ObservationKind.EARTHQUAKE,
        event_id=event_id(when, lon, lat),
        time=when,
        values=values,
        lon=lon,
        lat=lat,
        # The files have no status: a test quake is known only by its text.
        exercise=is_exercise(None, *(row.get(k) for k in ("Wilayah", "Potensi", "Dirasakan"))),
    )


#: The place name of our city in BMKG's `Dirasakan` lists.
CITY = "Balikpapan"


def felt_mmi(felt: str | None, place: str) -> int | None:
    """MMI BMKG reports for `place` in a `Dirasakan` list ("II-III Balikpapan, III Penajam").

    Entries are comma-separated "<roman or range> <place>"; a range counts as its
    upper end.  The place must be the entry's whole name (any case), so "Penajam
    Paser Utara" is not Balikpapan.  None when the place is not listed.
    """
    for entry in (felt or "").split(","):
        match = re.fullmatch(r"\s*([IVX]+(?:\s*-\s*[IVX]+)?)\s+(.+?)\s*", entry)
        if match and match.group(2).lower() == place.lower():
            return max_mmi(match.group(1))
    return None


def _optional(row: Mapping[str, Any], key: str) -> str | None:
    """A text field that may be missing."""
    value = row.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _origin(source: str, row: Any) -> datetime:
    """Origin time: `Tanggal`+`Jam` (WIB), cross-checked against `DateTime` (UTC)."""
    stamped = _stamped(row)
    if "Tanggal" not in row or "Jam" not in row:
        if stamped is None:
            raise ItemError("no Tanggal/Jam and no DateTime")
        return stamped
    local = wib_clock(tanggal(text(row, "Tanggal")), text(row, "Jam"))
    if stamped is not None and abs((stamped - local).total_seconds()) > AGREE_S:
        log.warning(
            "feed.item_corrected",
            source=source,
            reason="DateTime disagrees with Tanggal+Jam (WIB); using Tanggal+Jam",
            date_time=stamped.isoformat(),
            wib=local.isoformat(),
        )
    return local


def _stamped(row: Any) -> datetime | None:
    """`DateTime` as aware UTC, or None when absent or unreadable."""
    value = row.get("DateTime") if isinstance(row, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return utc(datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):
        return None


def _where(row: Any) -> tuple[float, float]:
    """(lon, lat) from lat,lon `Coordinates`, else from the hemisphere texts."""
    coordinates = row.get("Coordinates")
    if isinstance(coordinates, str) and coordinates.count(",") == 1:
        lat, lon = coordinates.split(",")
        return lon_lat(lon, lat)
    return hemisphere_point(text(row, "Lintang"), text(row, "Bujur"))


def event_id(when: datetime, lon: float, lat: float) -> str:
    """`bmkg:<UTC origin>:<lat>,<lon>` with coordinates to 0.1 degree."""
    return f"bmkg:{when:%Y%m%dT%H%M%SZ}:{lat:.1f},{lon:.1f}"


def _same_quake(a: Observation, b: Observation) -> bool:
    """Origins within 5 s and 0.1 degree: a revision or a repeat of one quake."""
    close_in_time = abs((a.time - b.time).total_seconds()) <= SAME_EVENT_S
    return close_in_time and _near(a.lon, b.lon) and _near(a.lat, b.lat)


def _near(one: float | None, other: float | None) -> bool:
    """Two coordinates within 0.1 degree (with room for float representation)."""
    return one is not None and other is not None and abs(one - other) <= SAME_EVENT_DEG + 1e-9


def _merge_revisions(quakes: list[Observation]) -> list[Observation]:
    """One observation per quake: first-listed parameters, id of the earliest origin."""
    groups: list[list[Observation]] = []
    for quake in quakes:
        group = next((g for g in groups if _same_quake(g[0], quake)), None)
        if group is None:
            groups.append([quake])
        else:
            group.append(quake)
    return [_merged(group) for group in groups]


def _merged(group: list[Observation]) -> Observation:
    """The newest (first-listed) row under the id of the group's earliest origin."""
    newest = group[0]
    original = min(group, key=lambda q: q.time)
    if len(group) > 1:
        log.debug("feed.rows_merged", source=newest.source, rows=len(group), id=original.event_id)
    return Observation(
        source=newest.source,
        kind=newest.kind,
        event_id=original.event_id,
        time=newest.time,
        values=newest.values,
        lon=newest.lon,
        lat=newest.lat,
        exercise=any(q.exercise for q in group),
    )
