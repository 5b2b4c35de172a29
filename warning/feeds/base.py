"""What every adapter shares: its context, its registry entry, and checked conversions.

An adapter is a pure `parse(payload, context) -> list[Observation]`.  Anything
wrong with the payload as a whole is a `FeedError`; anything wrong with one item
is logged as `feed.item_rejected` with the reason and the item is skipped, so
one bad row never hides the good ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog

from warning.http import FeedError, HttpClient, PayloadKind
from warning.model import WITA, Area, Observation, ObservationKind, Ring, Value
from warning.settings import FeedDefaults, FeedSettings

log = structlog.get_logger()

T = TypeVar("T")
U = TypeVar("U")


class AreaLookup(Protocol):
    """The part of `warning.areas.AreaIndex` adapters use (kept narrow on purpose)."""

    @property
    def kelurahan(self) -> tuple[Area, ...]:
        """The 34 kelurahan of Kota Balikpapan."""

    @property
    def areas(self) -> tuple[Area, ...]:
        """Every kecamatan and kelurahan."""

    def covering(self, rings: Sequence[Ring], named_kecamatan: Sequence[str], /) -> tuple[str, ...]:
        """Kelurahan ids covered (a real share, or a named kecamatan) by (lon, lat) rings."""

    def select(self, selector: str | Sequence[str], /) -> tuple[str, ...]:
        """Kelurahan ids of a selector (all, coastal, an id, a kecamatan, a list)."""

    def kecamatan_named(self, text: str, /) -> tuple[str, ...]:
        """Ids of the kecamatan a text names."""

    def interior_point(self, area_id: str, /) -> tuple[float, float]:
        """(lon, lat) of a point surely inside the area."""

    def seaward_point(self, area_id: str, offshore_km: float, /) -> tuple[float, float]:
        """(lon, lat) at sea off a coastal kelurahan."""


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What a parse may know besides the payload: when, which settings, which areas.

    `fresh_only` is True when polling: items already stale at `fetched_at` (a CAP
    past its `expires`) are dropped.  `warning feeds parse` reads recorded files,
    which are old by nature, and sets it False to show everything they hold.
    """

    fetched_at: datetime
    settings: FeedSettings
    areas: AreaLookup | None = None
    fresh_only: bool = True

    def option(self, key: str) -> Any:
        """A feed-specific option (validated and defaulted by warning.settings)."""
        return self.settings.options[key]


#: Words by which BMKG labels an exercise or test in a bulletin's text ("Hanya TEST
#: Event, Warning Tsunami PD-1", 2018-07-11, with status Actual): whole words only, any
#: case, so "TESTAMENT" or "kontestan" never match.
_EXERCISE_WORDS = re.compile(
    r"(?<![A-Za-z0-9])(test|testing|latihan|exercise)(?![A-Za-z0-9])", re.IGNORECASE
)


def is_exercise(status: str | None, *texts: object) -> bool:
    """True when a message is an exercise: `status` is not Actual, or its text says so.

    `status` is None for feeds that carry none (BMKG's gempa files).  `texts`
    are the subject, headline, description, area text... of the message (None
    and non-text values are ignored).  A message labelled a test only in its
    text is never live, whatever its `status`.
    """
    if status is not None and status.strip().casefold() != "actual":
        return True
    return any(isinstance(t, str) and _EXERCISE_WORDS.search(t) for t in texts)


class ItemError(ValueError):
    """One item of a payload is unusable; the adapter skips it and logs why."""


Parser = Callable[[bytes, FeedContext], list[Observation]]
Fetcher = Callable[[HttpClient, FeedContext], "bytes | None"]


@dataclass(frozen=True, slots=True)
class Feed:
    """A registry entry: how to fetch one feed and how to parse what came back.

    `defaults` are its settings' defaults, declared in its module: adding a
    feed is that module and one registry line.  `fetch` returns the payload
    `parse` accepts, or None when the server said it is unchanged (skip
    parsing).  `future_ok` is True for forecasts, whose observation times are
    legitimately in the future; the daemon rejects future times only for the
    others.  `needs_areas` says parse uses `context.areas`.
    """

    name: str
    kinds: tuple[ObservationKind, ...]
    parse: Parser
    payload: PayloadKind
    #: The feed's [feeds.<name>] defaults and the options it accepts.
    defaults: FeedDefaults
    fetch: Fetcher | None = None
    future_ok: bool = False
    needs_areas: bool = False
    description: str = ""

    def get(self, client: HttpClient, context: FeedContext) -> bytes | None:
        """Fetch once: the feed's own fetcher, else one conditional GET of its URL."""
        if self.fetch is not None:
            return self.fetch(client, context)
        url = context.settings.url
        # BMKG serves the same data as .json and .xml; the configured URL decides.
        expect = PayloadKind.XML if url.split("?")[0].endswith(".xml") else self.payload
        fetched = client.get(url, expect)
        return None if fetched.unchanged else fetched.body


def reject(source: str, reason: str, item: object = None) -> None:
    """Log one skipped item with its reason."""
    log.warning("feed.item_rejected", source=source, reason=reason, item=_short(item))


def _short(item: object) -> str:
    """An item's repr, short enough for a log line."""
    text = repr(item)
    return text if len(text) <= 300 else text[:297] + "..."


def each_item(source: str, items: Iterable[T], convert: Callable[[T], U]) -> list[U]:
    """Convert every item, skipping (and logging) each that raises ItemError."""
    out: list[U] = []
    for item in items:
        try:
            out.append(convert(item))
        except ItemError as exc:
            reject(source, str(exc), item)
    return out


# ---------------------------------------------------------------------------
# Checked conversions: each raises ItemError naming the field.


def item_object(item: Any) -> Mapping[str, Any]:
    """An item that must be an object, or ItemError."""
    if not isinstance(item, Mapping):
        raise ItemError(f"expected an object, got {type(item).__name__}")
    return item


def field(mapping: Mapping[str, Any], key: str) -> Any:
    """`mapping[key]`, or ItemError when it is missing."""
    if not isinstance(mapping, Mapping):
        raise ItemError(f"expected an object, got {type(mapping).__name__}")
    if key not in mapping or mapping[key] is None:
        raise ItemError(f"missing {key}")
    return mapping[key]


def text(mapping: Mapping[str, Any], key: str) -> str:
    """A required string field."""
    value = field(mapping, key)
    if not isinstance(value, str):
        raise ItemError(f"{key} is not text: {value!r}")
    return value.strip()


def number(value: Any, name: str) -> float:
    """A finite number from a number or a numeric string (units after a space ignored)."""
    if isinstance(value, bool):
        raise ItemError(f"{name} is not a number: {value!r}")
    if isinstance(value, str):
        value = value.strip().split(" ")[0] if value.strip() else value
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ItemError(f"{name} is not a number: {value!r}") from None
    if not math.isfinite(result):
        raise ItemError(f"{name} is not finite: {value!r}")
    return result


def in_range(value: float, low: float, high: float, name: str) -> float:
    """`value` when low <= value <= high, else ItemError (an absurd value)."""
    if not low <= value <= high:
        raise ItemError(f"{name} {value} outside {low}..{high}")
    return value


def rounded(value: float, digits: int = 4) -> float:
    """Float noise from the feed (6.2999999999999998) rounded away."""
    return round(value, digits) + 0.0


def magnitude(value: Any) -> float:
    """A magnitude in 0-10."""
    return rounded(in_range(number(value, "magnitude"), 0.0, 10.0, "magnitude"), 2)


def depth_km(value: Any) -> float:
    """A hypocentre depth in 0-800 km."""
    return rounded(in_range(number(value, "depth_km"), 0.0, 800.0, "depth_km"), 2)


def lon_lat(lon: Any, lat: Any) -> tuple[float, float]:
    """A checked (lon, lat) pair in degrees."""
    x = in_range(number(lon, "longitude"), -180.0, 180.0, "longitude")
    y = in_range(number(lat, "latitude"), -90.0, 90.0, "latitude")
    return rounded(x), rounded(y)


def as_list(value: Any, what: str) -> list[Any]:
    """A JSON list, or FeedError (the payload's shape is wrong)."""
    if not isinstance(value, list):
        raise FeedError(f"{what} is not a list")
    return value


def as_object(value: Any, what: str) -> Mapping[str, Any]:
    """A JSON object, or FeedError (the payload's shape is wrong)."""
    if not isinstance(value, Mapping):
        raise FeedError(f"{what} is not an object")
    return value


def forecast_slot(start: datetime, end: datetime, issued: datetime | None) -> dict[str, Value]:
    """The values that place a forecast in time: its slot, period and lead time.

    `valid_from` / `valid_until` are ISO UTC; `slot_wita` is the slot as people
    read it ("10/03 14.00-17.00 WITA"); `period_s` is what the amounts cover
    (a 3-hour total stays a 3-hour total); `lead_s` counts from `issued` (the
    analysis, or the hour of the fetch) to the slot's start, and is left out
    when the issue time is unknown.
    """
    local_start, local_end = start.astimezone(WITA), end.astimezone(WITA)
    values: dict[str, Value] = {
        "period_s": int((end - start).total_seconds()),
        "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "slot_wita": f"{local_start:%d/%m %H.%M}-{local_end:%H.%M} WITA",
    }
    if issued is not None:
        values["lead_s"] = max(0, int((start - issued).total_seconds()))
    return values


def kelurahan_ids(context: FeedContext, source: str) -> tuple[str, ...]:
    """Every kelurahan id of Balikpapan; FeedError when the areas are not loaded."""
    if context.areas is None:
        raise FeedError(f"{source} needs the areas (areas.geojson) to name Balikpapan")
    return tuple(area.id for area in context.areas.kelurahan)
