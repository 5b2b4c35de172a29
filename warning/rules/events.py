"""One event, one alert: merge the observations of one event across feeds and polls.

The same quake arrives from four BMKG files, InaTEWS and USGS, and again on
every poll; a tsunami warning arrives as a series of bulletins; a CAP warning
as an Alert and its Updates.  Observations are taken in the order they were
received (oldest first), so "later in the list" means "newer".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from warning.model import Observation, ObservationKind

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

#: Two quake solutions are one event when this close in origin time and place.
SAME_QUAKE_SECONDS = 60.0
SAME_QUAKE_KM = 100.0

#: Sources whose parameters are official for Indonesia (preferred over USGS).
OFFICIAL_PREFIXES = ("bmkg", "inatews")

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


def merge_events(observations: Iterable[Observation]) -> list[Observation]:
    """One observation per event with a stable `event_id`, in input order.

    Earthquakes whose origins lie within 60 s and 100 km are one event;
    BMKG/InaTEWS parameters win over USGS, and the latest received revision
    wins among them.  Tsunami and weather warnings are grouped by event id,
    keeping the highest bulletin (then the latest).  The merged event keeps
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
        if observation.kind not in EVENT_KINDS:
            singles.append(Event(observation, frozenset({observation.event_id}), index))
            continue
        if observation.kind is ObservationKind.PRAKIRAAN:
            slots.setdefault((observation.event_id, observation.exercise), []).append(
                (index, observation)
            )
            continue
        group = next((g for g in groups if _belongs(g, observation)), None)
        if group is None:
            groups.append([(index, observation)])
        else:
            group.append((index, observation))
    merged = [_merged(group) for group in [*groups, *slots.values()]]
    return sorted([*singles, *merged], key=lambda e: e.order)


def _belongs(group: Sequence[tuple[int, Observation]], observation: Observation) -> bool:
    """True when the observation is another report of the group's event."""
    first = group[0][1]
    if first.kind is not observation.kind or first.exercise != observation.exercise:
        return False
    return any(m.event_id == observation.event_id or same_quake(m, observation) for _, m in group)


def same_quake(a: Observation, b: Observation) -> bool:
    """True for two earthquake solutions within 60 s and 100 km of each other."""
    if a.kind is not ObservationKind.EARTHQUAKE or not (a.is_point and b.is_point):
        return False
    close_in_time = abs((a.time - b.time).total_seconds()) <= SAME_QUAKE_SECONDS
    return close_in_time and _km(a, b) <= SAME_QUAKE_KM


def _km(a: Observation, b: Observation) -> float:
    """Great-circle distance between two points (a heuristic needs no ellipsoid)."""
    lat1, lat2 = math.radians(a.lat or 0.0), math.radians(b.lat or 0.0)
    dlat = lat2 - lat1
    dlon = math.radians((b.lon or 0.0) - (a.lon or 0.0))
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _merged(group: Sequence[tuple[int, Observation]]) -> Event:
    """The group's representative under the id of its first-received member."""
    index, representative = _representative(group)
    first = group[0][1].event_id
    # Most groups (a forecast slot, a lone quake) already carry that id: no copy.
    stable = (
        representative
        if representative.event_id == first
        else replace(representative, event_id=first)
    )
    return Event(stable, frozenset(m.event_id for _, m in group), index)


def _representative(group: Sequence[tuple[int, Observation]]) -> tuple[int, Observation]:
    """Which member speaks for the event."""
    if group[0][1].kind is ObservationKind.EARTHQUAKE:
        official = [m for m in group if m[1].source.startswith(OFFICIAL_PREFIXES)]
        return (official or list(group))[-1]
    return max(group, key=lambda m: (bulletin(m[1].values.get("bulletin")), m[1].time, m[0]))


def bulletin(value: object) -> float:
    """A bulletin number (1-4 for InaTEWS PD-n) as a number; 0 when absent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return 0.0
