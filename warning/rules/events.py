"""One event, one alert: merge the observations of one event across feeds and polls.

The same quake arrives from four BMKG files, InaTEWS and USGS, and again on
every poll; a tsunami warning arrives as a series of bulletins; a CAP warning
as an Alert and its Updates.  Observations are taken in the order they were
received (oldest first), so "later in the list" means "newer".

Identity is closeness, never an exact id: BMKG revises a tsunami event's
origin time (1-4 s), epicentre (up to ~15 km), magnitude and depth between
PD-1 and PD-4, and InaTEWS' `eventid` differs per message (docs/event-identity.md).
So quake solutions, and tsunami bulletins, whose origins lie within 60 s and
100 km of a member of a group are that group's event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from warning.model import Observation, ObservationKind, Value, utc

#: Kinds whose observations are events (each judged once), not readings of a series.
EVENT_KINDS = frozenset(
    {
        ObservationKind.EARTHQUAKE,
        ObservationKind.TSUNAMI_WARNING,
        ObservationKind.WEATHER_WARNING,
        # A forecast slot is an event: it holds until its slot ends, and a newer
        # forecast of the same slot (same id) replaces it.
        ObservationKind.PRAKIRAAN,
    }
)

#: The event kinds grouped by closeness (a forecast slot is one by its id alone).  A
#: tuple: membership tests identity first, where a set would hash the enum member in
#: Python for each of the thousands of observations an evaluation merges.
_GROUPED = tuple(k for k in EVENT_KINDS if k is not ObservationKind.PRAKIRAAN)

#: Two quake solutions are one event when this close in origin time and place.
SAME_QUAKE_SECONDS = 60.0
SAME_QUAKE_KM = 100.0

#: Sources whose parameters are official for Indonesia (preferred over USGS): the
#: BMKG feeds (`bmkg-*`) and InaTEWS, BMKG's tsunami warning system.
OFFICIAL_PREFIXES = ("bmkg", "inatews")

#: A rule's `public_sources` entry that lets every source reach the public.
ANY_SOURCE = "any"

_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Event:
    """A merged observation with every event id its members carried.

    `aliases` lets the engine recognise an event it already alerted on even
    when the merged id is now taken from another feed's member; `order` is
    the input position of the representative (later is newer).
    """

    observation: Observation
    aliases: frozenset[str]
    order: int
    sources: tuple[str, ...] = ()


def merge_events(observations: Iterable[Observation]) -> list[Observation]:
    """One observation per event with a stable `event_id`, in input order.

    Earthquakes whose origins lie within 60 s and 100 km are one event;
    BMKG/InaTEWS parameters win over USGS, and the latest received revision
    wins among them.  Tsunami bulletins are grouped the same way by the origin
    and epicentre they state (or by event id), weather warnings by event id;
    both keep the highest bulletin (then the latest).  The merged event keeps
    the id of its first-received member.  Other kinds pass through.
    """
    return [event.observation for event in merge(observations)]


def merge(observations: Iterable[Observation]) -> list[Event]:
    """Like `merge_events`, keeping each event's aliases and input order."""
    groups: list[list[tuple[int, Observation]]] = []
    singles: list[Event] = []
    # Forecast slots are many (34 kelurahan x dozens of slots) and one only by id:
    # grouped by a dict, not by the pairwise search quakes need.
    slots: dict[tuple[str, bool], list[tuple[int, Observation]]] = {}
    for index, observation in enumerate(observations):
        kind = observation.kind
        if kind is ObservationKind.PRAKIRAAN:
            slots.setdefault((observation.event_id, observation.exercise), []).append(
                (index, observation)
            )
            continue
        if kind not in _GROUPED:
            singles.append(single(observation, index))
            continue
        matching = [i for i, g in enumerate(groups) if _belongs(g, observation)]
        if len(matching) == 1:
            groups[matching[0]].append((index, observation))
            continue
        joined = _joined([*(groups[i] for i in matching), [(index, observation)]])
        groups = [g for i, g in enumerate(groups) if i not in matching] + [joined]
    merged = [_merged(group) for group in [*groups, *slots.values()]]
    return sorted([*singles, *merged], key=lambda e: e.order)


def single(observation: Observation, order: int) -> Event:
    """An observation that is its own event (a reading, a lone report), at position `order`."""
    return Event(observation, frozenset((observation.event_id,)), order, (observation.source,))


def _joined(groups: Sequence[list[tuple[int, Observation]]]) -> list[tuple[int, Observation]]:
    """One group of everything in `groups`, in receipt order.

    A report matching two groups joins them: a PD-4 between two revisions of
    one quake ends both at once, and the first-received member names the event.
    """
    return sorted((m for g in groups for m in g), key=lambda m: m[0])


def _belongs(group: Sequence[tuple[int, Observation]], observation: Observation) -> bool:
    """True when the observation is another report of the group's event."""
    first = group[0][1]
    if first.kind is not observation.kind or first.exercise != observation.exercise:
        return False
    return any(
        m.event_id == observation.event_id
        or same_quake(m, observation)
        or same_tsunami(m.values, observation.values)
        for _, m in group
    )


def same_quake(a: Observation, b: Observation) -> bool:
    """True for two earthquake solutions within 60 s and 100 km of each other."""
    if a.kind is not ObservationKind.EARTHQUAKE:
        return False
    # Time first: most solutions a merge compares are minutes apart, and it costs no call.
    if abs((a.time - b.time).total_seconds()) > SAME_QUAKE_SECONDS:
        return False
    return a.is_point and b.is_point and _km(_point(a), _point(b)) <= SAME_QUAKE_KM


def same_tsunami(a: Mapping[str, Value], b: Mapping[str, Value]) -> bool:
    """True for two tsunami bulletins whose quakes lie within 60 s and 100 km.

    Reads the values every InaTEWS bulletin carries (`origin_time`,
    `epicenter_lon`, `epicenter_lat`); bulletins without them match by id only.
    """
    # Quakes (most of the pairs compared) state no origin: nothing else is read for them.
    first = origin_time(a)
    second = origin_time(b) if first is not None else None
    if first is None or second is None:
        return False
    close_in_time = abs((first - second).total_seconds()) <= SAME_QUAKE_SECONDS
    here, there = _epicentre(a), _epicentre(b)
    if here is None or there is None or not close_in_time:
        return False
    return _km(here, there) <= SAME_QUAKE_KM


def origin_time(values: Mapping[str, Value]) -> datetime | None:
    """The quake's origin a bulletin states (`origin_time`, ISO), None when absent or bad."""
    return stated_time(values.get("origin_time"))


def stated_time(raw: object) -> datetime | None:
    """A time a bulletin states as an aware ISO-8601 string, None when absent or bad."""
    if not isinstance(raw, str):
        return None
    try:
        return utc(datetime.fromisoformat(raw))
    except ValueError:
        return None


def event_time(observation: Observation) -> datetime:
    """The event's own time: a bulletin's stated origin, else the observation's time."""
    return origin_time(observation.values) or observation.time


def _epicentre(values: Mapping[str, Value]) -> tuple[float, float] | None:
    """(lon, lat) of a bulletin's epicentre values, None when either is missing."""
    lon, lat = values.get("epicenter_lon"), values.get("epicenter_lat")
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        return (float(lon), float(lat))
    return None


def from_authority(source: str, allowed: Sequence[str]) -> bool:
    """True when `source` is one of `allowed` feeds or families (`bmkg` is every `bmkg-*`)."""
    return any(a in (ANY_SOURCE, source) or source.startswith(f"{a}-") for a in allowed)


def _point(o: Observation) -> tuple[float, float]:
    """An observation's (lon, lat)."""
    return (o.lon or 0.0, o.lat or 0.0)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points (a heuristic needs no ellipsoid)."""
    lat1, lat2 = math.radians(a[1]), math.radians(b[1])
    dlat = lat2 - lat1
    dlon = math.radians(b[0] - a[0])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _merged(group: Sequence[tuple[int, Observation]]) -> Event:
    """The group's representative under the id of its first-received member."""
    if len(group) == 1:
        # Most groups are one forecast slot or one lone report: it speaks for itself.
        index, only = group[0]
        return single(only, index)
    index, representative = _representative(group)
    first = group[0][1].event_id
    # Most groups (a forecast slot, a lone quake) already carry that id: no copy.
    stable = (
        representative
        if representative.event_id == first
        else replace(representative, event_id=first)
    )
    sources = tuple(dict.fromkeys(m.source for _, m in group))
    return Event(stable, frozenset(m.event_id for _, m in group), index, sources)


def _representative(group: Sequence[tuple[int, Observation]]) -> tuple[int, Observation]:
    """Which member speaks for the event."""
    if group[0][1].kind is ObservationKind.EARTHQUAKE:
        official = [m for m in group if m[1].source.startswith(OFFICIAL_PREFIXES)]
        return (official or list(group))[-1]
    return max(group, key=lambda m: (bulletin(m[1].values.get("bulletin")), m[1].time, m[0]))


def bulletin(value: object) -> float:
    """A bulletin number (1-4 for InaTEWS PD-n) as a number; 0 when absent."""
    if value is None:
        # Most events (quakes, warnings) have none: no exception raised and caught.
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return 0.0
