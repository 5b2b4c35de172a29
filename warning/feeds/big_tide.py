"""BIG tide-gauge CSV (`tides.big.go.id:8888/kacrut/<station>/temp.csv`).

Quirks handled (../shared/FEEDS.md C1; syahperdana/BIGTIDE):
- Rows are `2019/03/11 13:23:00,0000.70,0000.68`: a timestamp and two sensor
  columns in metres, zero-padded.  The file names neither station nor time
  zone: the zone is the `timezone` option (UTC by default, also WIB / WITA).
- Gauges spike: a sensor's value counts only when it agrees (within
  `spike_tolerance_m`) with that sensor's previous reading; a row counts when
  at least one sensor does, and its level is the mean of the agreeing sensors.
- Values are relative to the gauge's zero, named in `datum`.
- The station lies in Balikpapan bay, outside every kelurahan: a reading
  stands for the coastal kelurahan set in the `areas` option (ids or
  selectors), which is what it reaches; the station's point is kept for
  information.  Without the areas loaded it stays a point.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone

from warning.feeds.base import FeedContext, ItemError, in_range, lon_lat, number, reject, rounded
from warning.http import FeedError, decode_text
from warning.model import WIB, WITA, Coverage, Observation, ObservationKind, Value, utc
from warning.settings import FeedDefaults

#: [feeds.big-tide] defaults and options (`key: (default, doc)`).
DEFAULTS = FeedDefaults(
    url="http://tides.big.go.id:8888/kacrut/0020BLPP02/temp.csv",
    interval_s=300,
    max_age_s=6 * 3600,
    options={
        "station": ("0020BLPP02", "BIG tide-gauge station code (0020BLPP02 = Balikpapan)."),
        "timezone": ("UTC", "Time zone of the CSV's timestamps: UTC, WIB or WITA."),
        "spike_tolerance_m": (
            0.1,
            "A sensor reading counts when it is within this many metres of the previous one.",
        ),
        "station_lon": (116.79, "Longitude of the gauge (approximate: Balikpapan harbour)."),
        "station_lat": (-1.27, "Latitude of the gauge (approximate: Balikpapan harbour)."),
        "areas": (
            [
                "kariangau",
                "baru-tengah",
                "baru-ulu",
                "marga-sari",
                "karang-jati",
                "prapatan",
                "klandasan-ulu",
                "klandasan-ilir",
                "damai",
            ],
            "Kelurahan whose coast the gauge's readings stand for (ids or selectors). "
            "Default: the shore of Balikpapan bay and the harbour, from Kariangau to "
            "Klandasan; the open coast east of the city lies beyond what a bay gauge "
            "tells reliably.",
        ),
    },
)


ZONES = {"UTC": UTC, "WIB": WIB, "WITA": WITA}
#: Sensor readings outside this range (metres) are instrument garbage.
PLAUSIBLE_M = (-10.0, 20.0)

_Reading = tuple[datetime, tuple[float | None, ...]]
#: `YYYY/MM/DD hh:mm:ss` as `strptime("%Y/%m/%d %H:%M:%S")` reads it (one- or two-digit
#: fields, any run of blanks between date and time) at a tenth of its cost: a file
#: holds ~10,000 rows and strptime was half of parsing it.
_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})")


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """Spike-filtered sea levels, one observation per agreeing reading."""
    source = context.settings.name
    zone = _zone(str(context.option("timezone")))
    readings = _readings(source, decode_text(payload), zone)
    if not readings:
        raise FeedError("no tide-gauge rows in the payload")
    return _filtered(source, readings, context)


def _zone(name: str) -> timezone:
    """The configured time zone of the file."""
    try:
        return ZONES[name.strip().upper()]
    except KeyError:
        raise FeedError(f"big-tide timezone {name!r} is not one of {', '.join(ZONES)}") from None


def _readings(source: str, content: str, zone: timezone) -> list[_Reading]:
    """Rows as (UTC time, per-sensor metres or None); unreadable rows skipped with a reason."""
    readings: list[_Reading] = []
    for line in content.splitlines():
        if not line.strip():
            continue
        try:
            readings.append(_row(line, zone))
        except ItemError as exc:
            reject(source, str(exc), line)
    return readings


def _row(line: str, zone: timezone) -> _Reading:
    """`2019/03/11 13:23:00,0000.70,0000.68` as (UTC time, (0.70, 0.68))."""
    cells = [cell.strip() for cell in line.split(",")]
    if len(cells) < 2:
        raise ItemError("expected a time and at least one sensor column")
    bad = f"time {cells[0]!r} is not YYYY/MM/DD hh:mm:ss"
    found = _TIME.fullmatch(cells[0])
    if found is None:
        raise ItemError(bad)
    year, month, day, hour, minute, second = (int(field) for field in found.groups())
    try:
        # The file's clock reads in `zone`: its wall time, in that zone.
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        raise ItemError(bad) from None
    try:
        when = utc(local)
    except OverflowError:
        raise ItemError(f"time {cells[0]!r} is out of range") from None
    return when, tuple(_sensor(cell) for cell in cells[1:])


def _sensor(cell: str) -> float | None:
    """A sensor value in metres, None when blank or implausible."""
    if not cell:
        return None
    try:
        return in_range(number(cell, "sensor"), *PLAUSIBLE_M, "sensor")
    except ItemError:
        return None


def _filtered(source: str, readings: list[_Reading], context: FeedContext) -> list[Observation]:
    """Observations for rows where some sensor agrees with its previous reading."""
    tolerance = float(context.option("spike_tolerance_m"))
    station = str(context.option("station"))
    lon, lat = lon_lat(context.option("station_lon"), context.option("station_lat"))
    area_ids = _represented(context)
    coverage = Coverage.AREAS if area_ids else Coverage.POINT
    found: list[Observation] = []
    previous: tuple[float | None, ...] = ()
    for when, sensors in sorted(readings, key=lambda r: r[0]):
        agreeing = [
            v for i, v in enumerate(sensors) if v is not None and _agrees(v, previous, i, tolerance)
        ]
        if not agreeing:
            if previous:
                reject(source, "spike: no sensor agrees with its previous reading", when)
            previous = sensors
            continue
        previous = sensors
        values: dict[str, Value] = {
            "sea_level_m": rounded(sum(agreeing) / len(agreeing), 3),
            "datum": "gauge zero",
        }
        event = f"big-tide:{station}:{when:%Y%m%dT%H%M%SZ}"
        found.append(
            Observation(
                source, ObservationKind.SEA_LEVEL, event, when, values, lon, lat,
                area_ids=area_ids, coverage=coverage,
            )
        )  # fmt: skip
    return found


def _represented(context: FeedContext) -> tuple[str, ...]:
    """The kelurahan the gauge stands for (the `areas` option), () without the areas."""
    if context.areas is None:
        return ()
    try:
        return context.areas.select([str(a) for a in context.option("areas")])
    except KeyError as exc:
        raise FeedError(f"[feeds.{context.settings.name}] areas: {exc.args[0]}") from None


def _agrees(value: float, previous: tuple[float | None, ...], index: int, tol: float) -> bool:
    """Whether a sensor's value agrees with the same sensor's previous reading."""
    before = previous[index] if index < len(previous) else None
    return before is not None and abs(value - before) <= tol
