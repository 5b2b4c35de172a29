"""InaTEWS `datagempa.json`: the latest InaTEWS message (felt quake, M>5, tsunami warning).

Quirks handled (../shared/FEEDS.md A2, recorded payloads in tests/fixtures/inatews):
- `subject` "Warning Tsunami PD-n" is a tsunami warning (bulletin n); anything
  else is an earthquake message.  PD-4 means the warning ended (`level: ended`,
  with or without districts).
- `wzarea` rows give a level per district (AWAS > SIAGA > WASPADA) and may be
  duplicated.  Which rows mean Balikpapan is a setting (province KALTIM and a
  district containing BALIKPAPAN, case-insensitive).  A tsunami warning's
  `level` is Balikpapan's when named (and `area_ids` every kelurahan), else
  absent (and no areas); `names_balikpapan` says which.  The districts around
  the city (setting `nearby`) give `nearby_level` (their highest) and `nearby`
  (them with their levels), so officials hear of a warning next door.  It has
  no point: the epicentre goes into `epicenter_lon` / `epicenter_lat`, the
  stated origin into `origin_time` (later bulletins revise both: events.py
  groups them by closeness).  Subjects `PD-3.1`, `PD-3.2` give bulletin 3.1, 3.2.
- `status` other than "Actual" ("TES" in the IOWave23 exercise) is an exercise,
  and so is a message whose subject, headline, description or area text says
  TEST / LATIHAN / EXERCISE ("Hanya TEST Event, Warning Tsunami PD-1", 2018).
- `wzarea` `date`/`time` (WIB) is the estimated arrival in each district:
  Balikpapan's earliest becomes `arrival_time` (ISO UTC, `…Z`); it is absent
  when Balikpapan is not named or its rows carry no readable time.
- `point.coordinates` is **lon,lat** (the opposite of data.bmkg); times are
  non-ISO WIB: `date` "25-04-23" + `time` "03:00:57 WIB", `sent` "…T03:05:33WIB".
- `eventid` differs per message of one quake, so the event id comes from the
  origin time and place; a tsunami warning's `time` is when the bulletin was
  sent, so later bulletins of one event order after earlier ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warning.feeds.base import (
    FeedContext,
    ItemError,
    as_object,
    depth_km,
    field,
    is_exercise,
    kelurahan_ids,
    lon_lat,
    magnitude,
    reject,
    text,
)
from warning.feeds.seismic import hemisphere_point, tsunami_potential, wib_clock
from warning.http import FeedError, parse_json
from warning.model import Level, Observation, ObservationKind, Value
from warning.settings import FeedDefaults

#: [feeds.inatews] defaults and options (`key: (default, doc)`).
DEFAULTS = FeedDefaults(
    url="https://bmkg-content-inatews.storage.googleapis.com/datagempa.json",
    # Every 5 s: 12 requests a minute (BMKG asks for at most 60 per minute per IP) to
    # the Google Cloud Storage bucket BMKG publishes through, each a conditional GET of
    # a ~2 KB file; publish -> siren then waits 2.5 s on average for the poll.
    interval_s=5,
    max_age_s=6 * 3600,
    options={
        "province": ("KALTIM", "wzarea province that can mean Balikpapan (case-insensitive)."),
        "district_contains": (
            "BALIKPAPAN",
            "wzarea district text that means Balikpapan (case-insensitive substring).",
        ),
        "nearby": (
            [
                "KALTIM PENAJAM-PASER-UTARA",
                "KALTIM PASER",
                "KALTIM KUTAI-KARTANEGARA",
                "KALTIM SAMARINDA",
                "SULBAR PASANGKAYU",
                "SULBAR MAMUJU",
                "SULBAR MAJENE",
                "SULTENG DONGGALA",
                "SULTENG PALU",
            ],
            "Districts around Balikpapan whose warnings officials hear about even when "
            "Balikpapan is not named: 'PROVINCE DISTRICT' (case-insensitive; the district "
            "text matches BMKG's as a substring, '-' and ' ' alike).",
        ),
    },
)


_BULLETIN = re.compile(r"tsunami\s+PD\s*-?\s*(\d+(?:\.\d+)?)", re.I)
_DMY = re.compile(r"^\s*(\d{1,2})[-/](\d{1,2})[-/](\d{2}|\d{4})\s*$")
_SENT = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})\s*WIB\s*$", re.I)
ENDED = "ended"
#: PD-4 ends a warning; there is no later bulletin.
_LAST_BULLETIN = 4
#: Nearby districts named in `nearby` before "dan N lain".
_NEARBY_SHOWN = 2


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """The one message of a datagempa.json payload as an observation (or none)."""
    source = context.settings.name
    message = as_object(parse_json(payload), "payload")
    info = as_object(message.get("info"), "info")
    try:
        return [_observation(source, message, info, context)]
    except ItemError as exc:
        reject(source, str(exc), message.get("identifier"))
        return []


def _observation(
    source: str, message: Mapping[str, Any], info: Mapping[str, Any], context: FeedContext
) -> Observation:
    """A tsunami_warning for PD-n subjects, an earthquake otherwise."""
    origin = wib_clock(_date(text(info, "date")), text(info, "time"))
    lon, lat = _epicentre(info)
    event = f"inatews:{origin:%Y%m%dT%H%M%SZ}:{lat:.1f},{lon:.1f}"
    exercise = is_exercise(
        str(message.get("status", "")),
        *(info.get(k) for k in ("subject", "headline", "description", "area", "event")),
        *(row.get("district") for row in _rows(info.get("wzarea"))),
    )
    bulletin = _bulletin(info.get("subject"))
    if bulletin is None:
        values: dict[str, Value] = {
            "magnitude": magnitude(field(info, "magnitude")),
            "depth_km": depth_km(field(info, "depth")),
            "tsunami_potential": tsunami_potential(_str(info.get("potential"))),
            "region": _str(info.get("area")),
        }
        return Observation(
            source, ObservationKind.EARTHQUAKE, event, origin, values, lon, lat, exercise=exercise
        )
    rows = _zones(source, info.get("wzarea"))
    level, area_ids, arrival = _tsunami_level(source, rows, bulletin, context)
    values = {
        "level": level,
        "bulletin": bulletin,
        "magnitude": magnitude(field(info, "magnitude")),
        "depth_km": depth_km(field(info, "depth")),
        "epicenter_lon": lon,
        "epicenter_lat": lat,
        "origin_time": origin.isoformat(),
        "region": _str(info.get("area")),
        "names_balikpapan": bool(area_ids),
        **_nearby(rows, context),
    }
    if arrival is not None:
        values["arrival_time"] = arrival.strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = _sent(message.get("sent")) or origin
    return Observation(
        source,
        ObservationKind.TSUNAMI_WARNING,
        event,
        sent,
        values,
        area_ids=area_ids,
        exercise=exercise,
    )


def _str(value: Any) -> str | None:
    """A non-empty string or None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _date(value: str) -> tuple[int, int, int]:
    """`25-04-23` or `25-04-2023` (day first) -> (2023, 4, 25)."""
    match = _DMY.match(value)
    if not match:
        raise ItemError(f"date {value!r} is not DD-MM-YY")
    day, month, year = (int(g) for g in match.groups())
    return (year + 2000 if year < 100 else year), month, day


def _sent(value: Any) -> datetime | None:
    """`2023-04-25T03:05:33WIB` as aware UTC, None when absent or unreadable."""
    match = _SENT.match(value) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups()[:3])
    return wib_clock((year, month, day), match.group(4))


def _epicentre(info: Mapping[str, Any]) -> tuple[float, float]:
    """(lon, lat) from lon,lat `point.coordinates`, else from the hemisphere texts."""
    point = info.get("point")
    coordinates = point.get("coordinates") if isinstance(point, Mapping) else None
    if isinstance(coordinates, str) and coordinates.count(",") == 1:
        lon, lat = coordinates.split(",")
        return lon_lat(lon, lat)
    return hemisphere_point(text(info, "latitude"), text(info, "longitude"))


def _bulletin(subject: Any) -> int | float | None:
    """n of "Warning Tsunami PD-n" (1-4, and 3.1 for PD-3.1), None for other subjects."""
    match = _BULLETIN.search(subject) if isinstance(subject, str) else None
    if not match:
        return None
    number = float(match.group(1))
    if not 1 <= number < _LAST_BULLETIN + 1:
        raise ItemError(f"tsunami bulletin PD-{match.group(1)} is not 1-4")
    return int(number) if number.is_integer() else number


def _tsunami_level(
    source: str, rows: list[_Zone], bulletin: float, context: FeedContext
) -> tuple[str | None, tuple[str, ...], datetime | None]:
    """(level, area_ids, arrival): ended for PD-4; Balikpapan's level when named, else none;
    Balikpapan's earliest estimated arrival (None when not named or not given)."""
    ours = [row for row in rows if _is_balikpapan(row.province, row.district, context)]
    area_ids = kelurahan_ids(context, source) if ours else ()
    arrival = min((r.arrival for r in ours if r.arrival is not None), default=None)
    if int(bulletin) == _LAST_BULLETIN:
        return ENDED, area_ids, arrival
    return (max(r.level for r in ours).value if ours else None), area_ids, arrival


def _nearby(rows: list[_Zone], context: FeedContext) -> dict[str, Value]:
    """`nearby_level` and `nearby` from the rows naming a district around Balikpapan.

    Districts read as people write them ("Penajam Paser Utara SIAGA"), highest
    level first, at most two named so the text fits an SMS.
    """
    option = context.option("nearby")
    entries = [option] if isinstance(option, str) else option
    wanted = [_key(str(entry)).split(" ", 1) for entry in entries]
    near: list[tuple[str, Level]] = []
    for row in rows:
        named = any(
            len(w) == 2 and _key(row.province) == w[0] and w[1] in _key(row.district)
            for w in wanted
        )
        if named and not _is_balikpapan(row.province, row.district, context):
            near.append((row.district.replace("-", " ").title(), row.level))
    ranked = sorted(dict.fromkeys(near), key=lambda pair: pair[1], reverse=True)
    if not ranked:
        return {"nearby_level": None, "nearby": None}
    shown = [f"{district} {level.word}" for district, level in ranked[:_NEARBY_SHOWN]]
    rest = len(ranked) - _NEARBY_SHOWN
    text = ", ".join(shown) + (f" dan {rest} lain" if rest > 0 else "")
    return {"nearby_level": ranked[0][1].value, "nearby": text}


def _key(text: str) -> str:
    """Upper case with '-' as ' ' and single spaces: BMKG writes both."""
    return " ".join(text.upper().replace("-", " ").split())


@dataclass(frozen=True, slots=True)
class _Zone:
    """One wzarea row: a district, its level and its estimated arrival (UTC)."""

    province: str
    district: str
    level: Level
    arrival: datetime | None


def _rows(raw: Any) -> list[Mapping[str, Any]]:
    """The wzarea rows that are objects (the rest are rejected by `_zones`)."""
    return [row for row in raw if isinstance(row, Mapping)] if isinstance(raw, list) else []


def _zones(source: str, raw: Any) -> list[_Zone]:
    """Distinct wzarea rows; bad rows skipped with a reason."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FeedError("info.wzarea is not a list")
    rows: list[_Zone] = []
    for item in raw:
        try:
            row = _Zone(
                text(item, "province"),
                text(item, "district"),
                _level(text(item, "level")),
                _arrival(source, item),
            )
        except ItemError as exc:
            reject(source, f"wzarea row: {exc}", item)
            continue
        if row not in rows:
            rows.append(row)
    return rows


def _arrival(source: str, row: Mapping[str, Any]) -> datetime | None:
    """A row's estimated arrival, `date` "25-04-2023" + `time` "03:09:54 WIB", as UTC.

    A row without a readable time still counts for its level (the arrival is
    an estimate BMKG may leave out); the reason is logged.
    """
    if row.get("date") is None and row.get("time") is None:
        return None
    try:
        return wib_clock(_date(text(row, "date")), text(row, "time"))
    except ItemError as exc:
        reject(source, f"wzarea arrival time unreadable: {exc}", row)
        return None


def _level(word: str) -> Level:
    """AWAS / SIAGA / WASPADA as a Level."""
    try:
        return Level(word.strip().lower())
    except ValueError:
        raise ItemError(f"unknown warning level {word!r}") from None


def _is_balikpapan(province: str, district: str, context: FeedContext) -> bool:
    """Whether a wzarea row names Balikpapan, per the feed's settings."""
    wanted_province = str(context.option("province")).strip().lower()
    wanted_district = str(context.option("district_contains")).strip().lower()
    same_province = not wanted_province or province.lower() == wanted_province
    return same_province and wanted_district in district.lower()
