"""The alert engine: rules x observations x previous states -> transitions (pure).

For every (rule, kelurahan) the engine keeps a Prometheus-like state machine:
inactive -> pending (`for`) -> firing -> resolved, with escalation and
de-escalation between ladder levels, reminders (`repeat_every`) and an
all-clear.  It reads no clock (`now` is an argument), no database and no
network; each transition carries the status after the change, and the caller
stores them.  Evaluating again with the stored statuses at the same `now`
yields nothing, and re-passing observations already evaluated is harmless.

Two kinds of observations:

* Events (earthquake, tsunami_warning, weather_warning, prakiraan) are merged first
  (`events.merge`: one event, one alert, even across revised bulletins and
  feeds) and judged once each; they end by a later bulletin (PD-4 `level:
  ended`, CAP Cancel), by a revision that no longer meets the rule (never for
  quakes), by `clear_when`, or by time: a weather warning at its CAP `expires`
  (else `expire_after`, else 3 h), a forecast at the end of its slot
  (`valid_until`), a quake `expire_after` from its origin
  (default 1 h) without a word (EXPIRED: there is no all-clear for
  aftershocks), a tsunami warning without PD-4 after 12 h (TIMED_OUT).  With
  `clear_when`, a revision that no longer meets the rule ends nothing: the alert
  keeps its level until `clear_when` holds or the event ends or times out.
  A same-level bulletin is news (UPDATED) only when what people act on changed
  (a tsunami's arrival time, a warning's validity); a new event at the same
  level is news too.
* Authority and freshness: BMKG is the authority for the public.  An event
  whose figures come from a source outside the rule's `public_sources`
  (default: BMKG and InaTEWS for events), or whose time was older than the
  rule's `late_after` (default 15 min for quakes) when the rule first saw it,
  fires for officials only (state OFFICIALS, audience OFFICIALS, facts marked
  late).  When BMKG then reports a fresh event, the public hears it once (FIRED).
* Readings (rainfall, wind, sea_level) form a series per area; the newest
  reading at or before `now` decides (windows end at each reading's time).
  Firing ends when the newest reading no longer holds (or `clear_when` holds)
  and no reading held for `keep_firing_for`.

An operator's cancel (state CANCELLED, see `warning alert cancel`) keeps the
cancelled event from starting the alert again, except at a higher level, and
keeps readings up to the cancel from starting it again.

Absence of data never resolves a reading alert and never clears anything but
the time-based end of events.  How observations reach areas: an observation
with `area_ids` reaches exactly those; a point reaches every area of the rule
when a condition reads `distance_km`, else only the kelurahan containing it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from warning.areas import AreaIndex
from warning.model import (
    AlertState,
    AlertStatus,
    Audience,
    EndReason,
    EventFacts,
    Expression,
    Level,
    Observation,
    ObservationKind,
    Rule,
    Transition,
    TransitionKind,
    Value,
    utc,
)
from warning.rules.events import (
    EVENT_KINDS,
    OFFICIAL_PREFIXES,
    Event,
    bulletin,
    event_time,
    from_authority,
    merge,
    merge_events,
    origin_time,
    same_tsunami,
    stated_time,
)
from warning.rules.judge import Judge, Reading, judged_values, uses_distance

__all__ = [
    "DEFAULT_EXPIRY",
    "DEFAULT_LATE_AFTER",
    "DEFAULT_PUBLIC_SOURCES",
    "Context",
    "ReachKey",
    "StateKey",
    "areas_reached",
    "carry_over",
    "deadline",
    "evaluate",
    "events_by_kind",
    "fingerprint",
    "judge_rule",
    "merge_events",
    "reach",
    "reach_key",
    "reach_readings",
    "readings_by_kind",
    "stored_areas",
]

StateKey = tuple[str, str]

#: How long an event holds without a rule's `expire_after`, from the event's time.
DEFAULT_EXPIRY: Mapping[ObservationKind, timedelta] = {
    ObservationKind.EARTHQUAKE: timedelta(hours=1),
    ObservationKind.TSUNAMI_WARNING: timedelta(hours=12),
    ObservationKind.WEATHER_WARNING: timedelta(hours=3),
    ObservationKind.PRAKIRAAN: timedelta(hours=3),
}

#: The value that says when an event of a kind ends.
_EXPIRES: Mapping[ObservationKind, str] = {
    ObservationKind.WEATHER_WARNING: "expires",
    ObservationKind.PRAKIRAAN: "valid_until",
}

#: Which sources may reach the public without a rule's `public_sources`: BMKG is
#: Indonesia's authority for quakes, tsunami and weather warnings, so an event
#: known only from USGS (or EMSC) reaches officials only until BMKG reports it.
#: Readings (rain, wind, sea level) have no such authority: every source counts.
DEFAULT_PUBLIC_SOURCES: Mapping[ObservationKind, tuple[str, ...]] = {
    kind: OFFICIAL_PREFIXES for kind in EVENT_KINDS
}

#: How old an event may be when a rule first fires on it and still reach the
#: public, without a rule's `late_after`.  A quake is over in a minute: one first
#: seen 50 minutes late (a restart after an outage) is history for officials, not
#: news for everyone.  Warnings in force (tsunami until PD-4, weather until CAP
#: `expires`) have no default: their threat lies ahead however late we see them.
DEFAULT_LATE_AFTER: Mapping[ObservationKind, timedelta] = {
    ObservationKind.EARTHQUAKE: timedelta(minutes=15),
}

#: Values whose change makes a same-level bulletin news that people act on (the
#: rule's own level changes are escalations).  A revised magnitude, depth or
#: epicentre in PD-2/PD-3 changes nothing anyone does, so it stays quiet.
_NEWS: Mapping[ObservationKind, tuple[str, ...]] = {
    ObservationKind.TSUNAMI_WARNING: ("arrival_time",),
    ObservationKind.WEATHER_WARNING: ("event", "severity", "urgency", "certainty", "expires"),
}

#: States in which an alert is up (for everyone, or for officials only).
_LIVE = frozenset({AlertState.FIRING, AlertState.OFFICIALS})

_TSUNAMI_TIMEOUT_REASON = (
    "no end bulletin (PD-4) from BMKG within {hours:g} h: safety timeout; "
    "officials must confirm that the tsunami threat is over"
)


#: Which events reach an area depends only on their kind and on whether the rule
#: measures distance (points then reach every area), so rules share it.
ReachKey = tuple[ObservationKind, bool]


@dataclass(frozen=True, slots=True)
class Context:
    """What one evaluation shares: the areas, the clock, the mode, caches per point.

    Every rule of a kind sees the same points, so each point is located and
    measured once per evaluation, not once per rule.  Only `readings` (filtered
    at `now`) and the deadline comparison in `_possible` depend on the clock:
    an `incremental.Evaluator` passes its own caches to keep the rest between
    polls, dropping a kind's when its events change.
    """

    areas: AreaIndex
    now: datetime
    drill: bool
    run: str = ""
    distances: dict[tuple[float, float], dict[str, float]] = field(default_factory=dict)
    kelurahan: dict[tuple[float, float], str | None] = field(default_factory=dict)
    reaches: dict[ReachKey, dict[str, list[Event]]] = field(default_factory=dict)
    #: Which readings reach which kelurahan (`reach_readings`): observations, not events.
    reading_reaches: dict[ReachKey, dict[str, list[Observation]]] = field(default_factory=dict)
    readings: dict[ReachKey, dict[str, list[Reading]]] = field(default_factory=dict)
    event_levels: dict[tuple[str, int, float | None], Level | None] = field(default_factory=dict)
    owners: dict[ObservationKind, dict[str | None, Event]] = field(default_factory=dict)
    judge: Judge = field(default_factory=Judge)
    possible: dict[tuple[str, int], tuple[datetime | None, bool]] = field(default_factory=dict)
    #: Each event's reading from each area, by the observation's identity: the rules
    #: of a kind judge the same few hundred, where a reading each cost thousands of
    #: objects (and the collections they trigger).  Per evaluation: it keeps its
    #: observations alive, so no identity is reused meanwhile.
    event_readings: dict[tuple[int, str], Reading] = field(default_factory=dict)

    def event_reading(self, observation: Observation, area_id: str) -> Reading:
        """An event's observation as seen from one area (its distance to it), made once."""
        key = (id(observation), area_id)
        reading = self.event_readings.get(key)
        if reading is None:
            distance = self.distance(observation, area_id)
            reading = Reading(observation, area_id, distance, (observation,))
            self.event_readings[key] = reading
        return reading

    def own(self, of_kind: Sequence[Event], status: AlertStatus) -> Event | None:
        """The first event of `of_kind` that is the remembered one (`_is_own`).

        Every area of every rule of a kind looks its event up among the same
        events: by an index of their ids, built once, not by a scan each.  A
        tsunami bulletin is also its event's by what it states: those few scan.
        """
        if not of_kind:
            return None
        kind = of_kind[0].observation.kind
        if kind is ObservationKind.TSUNAMI_WARNING:
            return next((e for e in of_kind if _is_own(e, status)), None)
        if kind not in self.owners:
            index: dict[str | None, Event] = {}
            for event in of_kind:
                for alias in event.aliases:
                    index.setdefault(alias, event)
            self.owners[kind] = index
        return self.owners[kind].get(status.event_id)

    def distance(self, observation: Observation, area_id: str) -> float | None:
        """Geodesic km from a point to the area; 0 for an area the observation names."""
        if observation.lon is None or observation.lat is None:
            return 0.0 if area_id in observation.area_ids else None
        point = (observation.lon, observation.lat)
        if point not in self.distances:
            if self.kelurahan_at(*point) == area_id:
                # Inside: no need to measure the distance to all 40 areas.
                return 0.0
            self.distances[point] = self.areas.distances_km(*point)
        return self.distances[point][area_id]

    def locate_all(self, observations: Iterable[Observation]) -> None:
        """Locate the points of many observations at once (one tree query)."""
        points = {(o.lon, o.lat) for o in observations if o.lon is not None and o.lat is not None}
        todo = [p for p in points if p not in self.kelurahan]
        self.kelurahan.update(zip(todo, self.areas.kelurahan_ids_at(todo), strict=True))

    def kelurahan_at(self, lon: float, lat: float) -> str | None:
        """The id of the kelurahan containing the point (None outside the city)."""
        point = (lon, lat)
        if point not in self.kelurahan:
            self.kelurahan[point] = self.areas.kelurahan_ids_at([point])[0]
        return self.kelurahan[point]


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What the data say about one (rule, area) now.

    `known` is False when there is nothing to judge (no data): the state then
    holds.  `level` is the level the alert should have (None: the condition
    does not hold); `end` is set when a firing alert must end now.
    """

    known: bool
    level: Level | None = None
    observation: Observation | None = None
    last_true: datetime | None = None
    end: TransitionKind | None = None
    reason: str = ""
    new_event: bool = False
    audience: Audience = Audience.PUBLIC
    late: bool = False
    end_reason: EndReason | None = None
    sources: tuple[str, ...] = ()
    distance_km: float | None = None  # from the event's point to this area
    #: The window aggregate a reading rule judged (its message prints it, not the newest).
    judged: Mapping[str, Value] = field(default_factory=dict)


_UNKNOWN = _Verdict(known=False)
#: Data to judge, and no level holds: what most (rule, area) pairs hear on a poll.
_NOTHING_HOLDS = _Verdict(known=True)


def evaluate(
    rules: Sequence[Rule],
    observations: Iterable[Observation],
    areas: AreaIndex,
    previous_states: Mapping[StateKey, AlertStatus],
    now: datetime,
    *,
    drill: bool = False,
    run: str = "",
) -> list[Transition]:
    """The transitions of every (rule, kelurahan) at `now`, given what was stored before.

    `observations` are the new ones plus the recent history the caller keeps,
    oldest received first.  Exercise observations count only when `drill`.
    `run` names one drill run (`warning drill`): its new alert ids carry it, so
    two runs of the same scenario never share an episode or a dedup key.
    """
    ctx = Context(areas, utc(now), drill, run)
    taken = [o for o in observations if drill or not o.exercise]
    by_kind = events_by_kind(merge(o for o in taken if o.kind in _EVENT_KINDS))
    series = readings_by_kind(taken)
    stored = stored_areas(previous_states)
    transitions: list[Transition] = []
    for rule in rules:
        of_kind = by_kind.get(rule.kind, [])
        observed = series.get(rule.kind, [])
        key = reach_key(rule)
        is_event = rule.kind in EVENT_KINDS
        reaching = reach(key, of_kind, ctx) if is_event else reach_readings(key, observed, ctx)
        # A (rule, area) that nothing reaches and that has no stored state stays
        # inactive: only the others are judged, so a poll costs what it brings,
        # not the size of the map.
        chosen = areas.among(rule.areas, [*reaching, *stored.get(rule.id, ())])
        transitions += judge_rule(
            rule, chosen, of_kind, previous_states, ctx, key=key, readings=observed
        )
    return transitions


#: The event kinds as a tuple: membership tests identity first, where a set would
#: hash the enum member in Python for each of the thousands of observations a window holds.
_EVENT_KINDS = tuple(EVENT_KINDS)


def readings_by_kind(
    observations: Iterable[Observation],
) -> dict[ObservationKind, list[Observation]]:
    """The observations of the reading kinds (not events), by kind, each in input order.

    Readings never merge: each is its own, so no `Event` is made for them (a
    window holds thousands, and an object each cost the collector's time).
    """
    by_kind: dict[ObservationKind, list[Observation]] = {}
    for o in observations:
        if o.kind not in _EVENT_KINDS:
            by_kind.setdefault(o.kind, []).append(o)
    return by_kind


def events_by_kind(events: Iterable[Event]) -> dict[ObservationKind, list[Event]]:
    """Merged events grouped by their kind, each group in input order."""
    by_kind: dict[ObservationKind, list[Event]] = {}
    for event in events:
        by_kind.setdefault(event.observation.kind, []).append(event)
    return by_kind


def stored_areas(states: Iterable[StateKey]) -> dict[str, list[str]]:
    """The areas each rule has a stored state for."""
    stored: dict[str, list[str]] = {}
    for rule_id, area_id in states:
        stored.setdefault(rule_id, []).append(area_id)
    return stored


def judge_rule(
    rule: Rule,
    area_ids: Iterable[str],
    of_kind: Sequence[Event],
    states: Mapping[StateKey, AlertStatus],
    ctx: Context,
    *,
    key: ReachKey,
    readings: Sequence[Observation] = (),
) -> list[Transition]:
    """The transitions of one rule in the given areas, judged on the data of its kind.

    `of_kind` holds the merged events of an event kind, `readings` the
    observations of a reading kind (`readings_by_kind`).  `key` is the rule's
    `reach_key`, computed once per configuration by the caller: walking every
    condition tree again cost a millisecond per call.
    """
    # Looked up once per rule, not per area: hashing a kind is a Python call.
    if rule.kind in EVENT_KINDS:
        verdict_of = _event_verdicts(rule, of_kind, ctx, key)
    else:
        verdict_of = _reading_verdicts(rule, readings, ctx, key)
    transitions: list[Transition] = []
    for area_id in area_ids:
        status = _status(states, rule.id, area_id, ctx.drill)
        transition = _step(rule, status, verdict_of(status), ctx)
        if transition is not None:
            transitions.append(transition)
    return transitions


def _event_verdicts(
    rule: Rule, of_kind: Sequence[Event], ctx: Context, key: ReachKey
) -> Callable[[AlertStatus], _Verdict]:
    """How a rule of an event kind judges each of its areas (by its stored status)."""
    reaching = reach(key, of_kind, ctx)
    heard: list[Event] | None = None

    def verdict(status: AlertStatus) -> _Verdict:
        nonlocal heard
        near = reaching.get(status.area_id, [])
        if key[1] and near:
            # A rule measuring distance hears every event of its kind from each area:
            # those no area can hear (a small quake, an ended one) are left out once.
            if heard is None:
                heard = [e for e in near if _possible(rule, e, status.area_id, ctx)]
            near = heard
        return _judge_events(rule, near, of_kind, status, ctx)

    return verdict


def _reading_verdicts(
    rule: Rule, readings: Sequence[Observation], ctx: Context, key: ReachKey
) -> Callable[[AlertStatus], _Verdict]:
    """How a rule of a reading kind judges each of its areas (by its stored status)."""
    observed = reach_readings(key, readings, ctx)
    # Each area's series is built once for the rules of the same kind and reach.
    series = ctx.readings.setdefault(key, {})

    def verdict(status: AlertStatus) -> _Verdict:
        area_id = status.area_id
        if area_id not in series:
            series[area_id] = _readings(area_id, observed.get(area_id, []), ctx)
        return _judge_readings(rule, series[area_id], status, ctx)

    return verdict


def _status(
    states: Mapping[StateKey, AlertStatus], rule_id: str, area_id: str, drill: bool
) -> AlertStatus:
    """The stored status of (rule, area) in this mode, or a fresh inactive one."""
    status = states.get((rule_id, area_id))
    if status is None:
        return AlertStatus(rule_id, area_id, drill=drill)
    return status if status.drill == drill else replace(status, drill=drill)


def reach_key(rule: Rule) -> ReachKey:
    """The rule's kind, and whether a condition reads `distance_km`."""
    return (rule.kind, uses_distance([rule.when, *(s.when for s in rule.levels), rule.clear_when]))


def reach(key: ReachKey, events: Sequence[Event], ctx: Context) -> dict[str, list[Event]]:
    """Which events of a kind reach which kelurahan (input order kept), once per key."""
    if key not in ctx.reaches:
        ctx.reaches[key] = _by_area(key, events, [e.observation for e in events], ctx)
    return ctx.reaches[key]


def reach_readings(
    key: ReachKey, readings: Sequence[Observation], ctx: Context
) -> dict[str, list[Observation]]:
    """Which readings of a kind reach which kelurahan (input order kept), once per key."""
    if key not in ctx.reading_reaches:
        ctx.reading_reaches[key] = _by_area(key, readings, readings, ctx)
    return ctx.reading_reaches[key]


_Item = TypeVar("_Item", Event, Observation)


def _by_area(
    key: ReachKey, items: Sequence[_Item], observations: Sequence[Observation], ctx: Context
) -> dict[str, list[_Item]]:
    """Each item under the kelurahan its observation (`observations`, alike) reaches."""
    by_area: dict[str, list[_Item]] = {}
    everywhere = key[1]
    every = tuple(a.id for a in ctx.areas.kelurahan) if items else ()
    if not everywhere:
        ctx.locate_all(observations)
    for item, observation in zip(items, observations, strict=True):
        for area_id in areas_reached(observation, every, everywhere, ctx):
            by_area.setdefault(area_id, []).append(item)
    return by_area


def areas_reached(
    observation: Observation, selected: Sequence[str], everywhere: bool, ctx: Context
) -> Sequence[str]:
    """Regional rules are reached everywhere; else named areas, or a point's kelurahan.

    A rule reading a regional value (distance, the districts around the city)
    judges every observation from each of its areas; named areas are 0 km
    from their observation and unmeasured from others, so nothing leaks.
    """
    if everywhere:
        return selected
    if observation.area_ids:
        return observation.area_ids
    if observation.lon is None or observation.lat is None:
        return ()
    kelurahan = ctx.kelurahan_at(observation.lon, observation.lat)
    return () if kelurahan is None else (kelurahan,)


# ---------------------------------------------------------------------------
# Readings: rainfall, wind, sea level.


def _readings(area_id: str, reaching: Sequence[Observation], ctx: Context) -> list[Reading]:
    """One reading per (source, time) at or before now, oldest first; repeats collapse."""
    now = ctx.now
    latest: dict[tuple[str, datetime], Observation] = {}
    for o in reaching:
        if o.time <= now:
            latest[(o.source, o.time)] = o
    ordered = sorted(latest.values(), key=_observation_time)
    by_source: dict[str, list[Observation]] = {}
    for o in ordered:
        by_source.setdefault(o.source, []).append(o)
    # One series per source, shared by its readings (each window ends at its own
    # reading): a copy of the series so far for each reading cost the square of it.
    series = {source: tuple(found) for source, found in by_source.items()}
    return [Reading(o, area_id, ctx.distance(o, area_id), series[o.source]) for o in ordered]


def _judge_readings(
    rule: Rule, readings: Sequence[Reading], status: AlertStatus, ctx: Context
) -> _Verdict:
    """The newest readings decide; old ones tell when the condition last held."""
    if not readings:
        return _UNKNOWN
    if _cancelled_readings(readings, status):
        return _NOTHING_HOLDS
    levels = _Levels(rule, readings, ctx.judge)
    newest_time = readings[-1].time
    first_newest = bisect.bisect_left(readings, newest_time, key=_reading_time)
    newest = [(readings[i], levels.at(i)) for i in range(first_newest, len(readings))]
    level = max((lv for _, lv in newest if lv is not None), default=None)
    if level is None and status.state is not AlertState.FIRING:
        # Nothing holds and nothing is firing: no transition reads more than that (a
        # pending pair is cancelled, others stay), so most pairs share one verdict.
        return _NOTHING_HOLDS
    driver = next((r for r, lv in newest if lv == level), newest[-1][0])
    # When the last time it held counts: a holding newest reading (found at once) or a
    # firing alert (bounded by its own last_true).  An alert that is not up and does not
    # hold now never reads it, and scanning its whole history cost most of an evaluation.
    wanted = level is not None or status.state is AlertState.FIRING
    held = levels.latest(Level.WASPADA, after=status.last_true) if wanted else None
    last_true = max([t for t in (held, status.last_true) if t is not None], default=None)
    cleared = _cleared(rule, [r for r, _ in newest], level, ctx.judge)
    judged = judged_values(rule, driver, level)
    base = _Verdict(True, level, driver.observation, last_true, judged=judged)
    if status.state is not AlertState.FIRING:
        # Most pairs that are not up hold nothing: their verdict needs no copy.
        return base if not cleared or base.level is None else replace(base, level=None)
    return _firing_readings(rule, base, levels, status, ctx, cleared=cleared)


class _Levels:
    """The level each reading gives a rule, judged only when asked, newest first.

    Every kelurahan has days of readings (a landslide rule sums three days), yet
    a verdict needs only the newest and the latest that held: judging all of
    them on every evaluation would cost more with every hour of history.
    """

    def __init__(self, rule: Rule, readings: Sequence[Reading], judge: Judge) -> None:
        self._rule = rule
        self._judge = judge
        self._readings = readings

    def at(self, index: int) -> Level | None:
        """The level reading `index` gives (None: the rule does not hold)."""
        reading = self._readings[index]
        known = reading.levels
        rule_id = self._rule.id
        if rule_id not in known:
            known[rule_id] = self._judge.level_of(self._rule, reading)
        return known[rule_id]

    def latest(self, least: Level, after: datetime | None) -> datetime | None:
        """Time of the newest reading later than `after` at `least` or above, else None."""
        for index in range(len(self._readings) - 1, -1, -1):
            if after is not None and self._readings[index].time <= after:
                return None
            level = self.at(index)
            if level is not None and level >= least:
                return self._readings[index].time
        return None


def _reading_time(reading: Reading) -> datetime:
    """A reading's time (the key readings are ordered by)."""
    return reading.time


#: An observation's time (a sort key in C: a series sorts thousands of readings).
_observation_time = operator.attrgetter("time")


def _cancelled_readings(readings: Sequence[Reading], status: AlertStatus) -> bool:
    """An operator cancelled the alert after the newest reading: that reading starts nothing."""
    cancelled_at = status.since if status.state is AlertState.CANCELLED else None
    return cancelled_at is not None and readings[-1].time <= cancelled_at


def _cleared(rule: Rule, newest: Sequence[Reading], level: Level | None, judge: Judge) -> bool:
    """The newest readings allow resolution: clear_when holds on all, or nothing holds."""
    if rule.clear_when is not None:
        return all(judge.holds(rule.clear_when, r) for r in newest)
    return level is None


def _firing_readings(
    rule: Rule,
    base: _Verdict,
    levels: _Levels,
    status: AlertStatus,
    ctx: Context,
    *,
    cleared: bool,
) -> _Verdict:
    """A firing alert ends, keeps its level, or moves to the newest level."""
    quiet_since = base.last_true or ctx.now
    if cleared and ctx.now - quiet_since >= rule.keep_firing_for:
        cleared_now = replace(base, level=None, end=TransitionKind.RESOLVED)
        return replace(cleared_now, reason="condition cleared", end_reason=EndReason.CLEARED)
    if base.level is None or status.level is None or base.level > status.level:
        # Hysteresis, or keep_firing_for not yet over: stay at the current level.
        return replace(base, level=base.level or status.level)
    if levels.latest(status.level, after=ctx.now - rule.keep_firing_for) is not None:
        return replace(base, level=status.level)
    return base


# ---------------------------------------------------------------------------
# Events: earthquakes, tsunami warnings, weather warnings.


def _judge_events(
    rule: Rule,
    reaching: Sequence[Event],
    of_kind: Sequence[Event],
    status: AlertStatus,
    ctx: Context,
) -> _Verdict:
    """The highest holding event decides; the remembered event ends by data or time."""
    area_id = status.area_id
    # The level first: it is known per event (most give none), staleness per area.
    holding = [
        (e, lv)
        for e in reaching
        if (lv := _event_level(rule, e, area_id, ctx)) and not _stale(e, status)
    ]
    own = ctx.own(of_kind, status)
    own = None if own is None or _stale(own, status) else own
    if status.state not in _LIVE:
        pending = status.state is AlertState.PENDING
        fresh = [
            (e, lv)
            for e, lv in holding
            if pending or not (_seen(e, status) or _cancelled_event(e, lv, status))
        ]
        return _choose(rule, fresh, None, status, ctx) if fresh else _NOTHING_HOLDS
    if holding:
        return _choose(rule, holding, own, status, ctx)
    return _event_end(rule, own, status, ctx)


def _event_level(rule: Rule, event: Event, area_id: str, ctx: Context) -> Level | None:
    """The level an unexpired, unended event gives this area, with clear_when unmet."""
    if not _possible(rule, event, area_id, ctx):
        return None
    o = event.observation
    distance = ctx.distance(o, area_id)
    # A rule judges an event by its values and its distance alone: every area at the
    # same distance (all of them, for rules that measure none) shares one judgement.
    key = (rule.id, event.order, distance)
    if key in ctx.event_levels:
        return ctx.event_levels[key]
    level: Level | None = None
    reading = ctx.event_reading(o, area_id)
    if rule.clear_when is None or not ctx.judge.holds(rule.clear_when, reading):
        # `_possible` found the parts of `when` that read no distance met.
        level = ctx.judge.level_where_met(rule, reading)
    ctx.event_levels[key] = level
    return level


def _possible(rule: Rule, event: Event, area_id: str, ctx: Context) -> bool:
    """The event may give some area a level now: decided once per (rule, event), not per area.

    Not when it ended or is past the rule's deadline (a CAP `expires` is
    parsed once), nor when a part of the rule that reads no distance fails
    (a distance rule judges each event from every area; a small quake is too
    small from all of them).  Any area's reading tells the latter.  Only the
    deadline's comparison reads the clock: the rest holds for as long as the
    event does (an `incremental.Evaluator` keeps it between polls).
    """
    key = (rule.id, event.order)
    known = ctx.possible.get(key)
    if known is None:
        o = event.observation
        until = None if _ended(o) else deadline(rule, o.kind, o.time, o.values)
        # Any area's reading, unmeasured: the parts that decide read no distance, and an
        # event that cannot matter (a small, far quake) is never measured from each area.
        reading = Reading(o, area_id, None, (o,))
        known = ctx.possible[key] = (until, not ctx.judge.unmet_anywhere(rule, reading))
    until, met = known
    return met and until is not None and ctx.now < until


def _choose(
    rule: Rule,
    holding: Sequence[tuple[Event, Level]],
    own: Event | None,
    status: AlertStatus,
    ctx: Context,
) -> _Verdict:
    """The highest level wins, then the latest event (the remembered one on a tie).

    The verdict says who may hear it: the public only when the event's figures
    come from a source the rule lets reach the public and it is not late.
    """
    event, level = max(
        holding, key=lambda p: (p[1], p[0].observation.time, p[0] is own, p[0].order)
    )
    o = event.observation
    late = _late(rule, event, status, ctx)
    public = from_authority(o.source, _public_sources(rule)) and not late
    audience = Audience.PUBLIC if public else Audience.OFFICIALS
    return _Verdict(
        True,
        level,
        o,
        o.time,
        new_event=event is not own,
        audience=audience,
        late=late,
        sources=event.sources,
        distance_km=ctx.distance(o, status.area_id) if o.is_point else None,
    )


def _public_sources(rule: Rule) -> tuple[str, ...]:
    """The sources whose events may reach the public under this rule."""
    if rule.public_sources is not None:
        return rule.public_sources
    return DEFAULT_PUBLIC_SOURCES.get(rule.kind, ("any",))


def _late(rule: Rule, event: Event, status: AlertStatus, ctx: Context) -> bool:
    """True when the event was older than the rule's freshness when the rule first saw it.

    "First saw" is the start of the current episode for the remembered event
    (so a later revision or BMKG's confirmation does not make it late), else now.
    """
    limit = rule.late_after or DEFAULT_LATE_AFTER.get(rule.kind)
    if limit is None:
        return False
    started = ctx.now
    if status.state in _STARTED and status.active_since and _is_own(event, status):
        started = status.active_since
    return started - event.observation.time > limit


#: States whose `active_since` is when the rule first saw the remembered event.
_STARTED = _LIVE | {AlertState.PENDING}


def _is_own(event: Event, status: AlertStatus) -> bool:
    """The remembered event: one of its ids, or a bulletin of the same tsunami.

    The stored values identify a tsunami event even when its first bulletins
    have left the history (PD-4 may come hours after PD-1, with revised ids).
    """
    if status.event_id in event.aliases:
        return True
    o = event.observation
    return o.kind is ObservationKind.TSUNAMI_WARNING and same_tsunami(o.values, status.values)


def _stale(event: Event, status: AlertStatus) -> bool:
    """An older bulletin of the remembered event (a CDN may serve PD-1 after PD-4)."""
    if not _is_own(event, status):
        return False
    older = bulletin(event.observation.values.get("bulletin"))
    return older < bulletin(status.values.get("bulletin"))


def _seen(event: Event, status: AlertStatus) -> bool:
    """The remembered event exactly as already judged: it starts nothing again."""
    return _is_own(event, status) and fingerprint(event.observation) == status.fingerprint


def _cancelled_event(event: Event, level: Level, status: AlertStatus) -> bool:
    """The event an operator cancelled, at no higher level: revisions start nothing again.

    A bulletin of that event above the cancelled level is news worth hearing
    (the operator can cancel again); anything at or below it is the false alert.
    """
    if status.state is not AlertState.CANCELLED or not _is_own(event, status):
        return False
    return status.level is None or level <= status.level


def _event_end(rule: Rule, own: Event | None, status: AlertStatus, ctx: Context) -> _Verdict:
    """Why a live event alert ends now, or an unknown verdict that holds it."""
    if own is None:
        if status.last_true is None:
            return _UNKNOWN
        expires = deadline(rule, rule.kind, status.last_true, status.values)
        return _expiry(rule, expires, status.values, ctx) if ctx.now >= expires else _UNKNOWN
    o = own.observation
    verdict = _Verdict(True, None, o, o.time, TransitionKind.RESOLVED, sources=own.sources)
    if _ended(o):
        return _source_end(o, verdict)
    if ctx.now >= (expires := deadline(rule, o.kind, o.time, o.values)):
        timed = _expiry(rule, expires, o.values, ctx)
        return replace(timed, observation=o, last_true=o.time, sources=own.sources)
    return _revision_end(rule, o, verdict, status, ctx)


def _source_end(o: Observation, verdict: _Verdict) -> _Verdict:
    """BMKG itself ended the event: InaTEWS PD-4, or a CAP Cancel."""
    if _word(o.values.get("level")) == "ended":
        return replace(
            verdict, reason="BMKG ended the warning (PD-4)", end_reason=EndReason.ENDED_BY_SOURCE
        )
    return replace(
        verdict, reason="BMKG cancelled the warning", end_reason=EndReason.CANCELLED_BY_SOURCE
    )


def _revision_end(
    rule: Rule, o: Observation, verdict: _Verdict, status: AlertStatus, ctx: Context
) -> _Verdict:
    """A live revision `o` that no longer meets the rule ends it, unless it must be held.

    Held: with clear_when (hysteresis: only it, or the event's end, resolves, so
    a bulletin de-escalating below `when` never sends an all-clear while the
    threat lasts), and quakes without clear_when, which only expire: a revised
    magnitude below the rule is no all-clear, and there is none for aftershocks.
    """
    if rule.clear_when is None and rule.kind is ObservationKind.EARTHQUAKE:
        return _UNKNOWN
    if rule.clear_when is not None and not _clears(rule.clear_when, o, status.area_id, ctx):
        return _UNKNOWN
    if status.area_id not in o.area_ids and not o.is_point:
        return replace(
            verdict,
            reason="the latest bulletin no longer names this area",
            end_reason=EndReason.NO_LONGER_NAMED,
        )
    return replace(
        verdict,
        reason="the latest report no longer meets the rule",
        end_reason=EndReason.NO_LONGER_MET,
    )


def _clears(clear_when: Expression, o: Observation, area_id: str, ctx: Context) -> bool:
    """True when the rule's `clear_when` holds on the observation, seen from the area."""
    return ctx.judge.holds(clear_when, Reading(o, area_id, ctx.distance(o, area_id), (o,)))


def _expiry(rule: Rule, expires: datetime, values: Mapping[str, Value], ctx: Context) -> _Verdict:
    """The time-based end of an event, by kind.

    A tsunami without PD-4 times out (officials must confirm); a quake expires
    silently (EXPIRED: no all-clear for aftershocks); a weather warning ends when
    its CAP `expires` passes (or the rule's time, without one).
    """
    when = expires.astimezone(ctx.now.tzinfo).isoformat()
    if rule.kind is ObservationKind.TSUNAMI_WARNING:
        hours = (rule.expire_after or DEFAULT_EXPIRY[rule.kind]) / timedelta(hours=1)
        reason = _TSUNAMI_TIMEOUT_REASON.format(hours=hours)
        return _ending(TransitionKind.TIMED_OUT, reason, EndReason.SAFETY_TIMEOUT)
    if rule.kind is ObservationKind.EARTHQUAKE:
        reason = f"the quake's alert expired at {when} (no all-clear for aftershocks)"
        return _ending(TransitionKind.EXPIRED, reason, EndReason.EXPIRED)
    if _cap_expires(rule.kind, values) is not None:
        reason = f"the warning's validity ended at {when}"
        return _ending(TransitionKind.RESOLVED, reason, EndReason.VALIDITY_OVER)
    return _ending(TransitionKind.RESOLVED, f"the event expired at {when}", EndReason.EXPIRED)


def _ending(kind: TransitionKind, reason: str, why: EndReason) -> _Verdict:
    """A verdict that ends a live alert."""
    return _Verdict(True, end=kind, reason=reason, end_reason=why)


def _ended(observation: Observation) -> bool:
    """A bulletin that ends its event: InaTEWS PD-4 (`level: ended`) or a CAP Cancel."""
    values = observation.values
    return _word(values.get("level")) == "ended" or _word(values.get("msg_type")) == "cancel"


def _word(value: object) -> str:
    """A value as a lower-case word ('' for non-words)."""
    return value.casefold() if isinstance(value, str) else ""


def deadline(
    rule: Rule, kind: ObservationKind, time: datetime, values: Mapping[str, object]
) -> datetime:
    """When an event stops holding: a CAP `expires`, expire_after, or the kind's default.

    A relayed warning ends when BMKG says it does: a CAP's own `expires` wins
    over the rule's time, so no rule ends a nowcast BMKG still holds valid.
    """
    cap = _cap_expires(kind, values)
    if cap is not None:
        return cap
    if rule.expire_after is not None:
        return time + rule.expire_after
    return time + DEFAULT_EXPIRY[kind]


def _cap_expires(kind: ObservationKind, values: Mapping[str, object]) -> datetime | None:
    """The source's own end of an event: a CAP `expires`, a forecast slot's `valid_until`."""
    return stated_time(values.get(_EXPIRES.get(kind, "")))


# ---------------------------------------------------------------------------
# The state machine.


def _step(rule: Rule, status: AlertStatus, verdict: _Verdict, ctx: Context) -> Transition | None:
    """At most one transition for one (rule, area)."""
    if status.state in _LIVE:
        return _step_firing(rule, status, verdict, ctx)
    if not verdict.known:
        return None
    if status.state is AlertState.PENDING:
        return _step_pending(rule, status, verdict, ctx)
    if verdict.level is None:
        return None
    if rule.for_duration > timedelta(0):
        return _start(status, verdict, ctx, TransitionKind.PENDING)
    return _start(status, verdict, ctx, TransitionKind.FIRED)


def _step_pending(
    rule: Rule, status: AlertStatus, verdict: _Verdict, ctx: Context
) -> Transition | None:
    """Pending fires once the condition held for `for`, or is cancelled when it stops."""
    if verdict.level is None:
        ended = replace(status, state=AlertState.INACTIVE, level=None, since=ctx.now)
        return Transition(TransitionKind.CANCELLED, ended, ctx.now, reason="condition stopped")
    if ctx.now - (status.active_since or ctx.now) >= rule.for_duration:
        return _start(status, verdict, ctx, TransitionKind.FIRED)
    return None


def _start(
    status: AlertStatus, verdict: _Verdict, ctx: Context, kind: TransitionKind
) -> Transition:
    """A new episode goes pending or fires; firing from pending keeps its alert id.

    It fires for officials only (state OFFICIALS) when the verdict says so.
    """
    pending = status.state is AlertState.PENDING
    fired = kind is TransitionKind.FIRED
    state = AlertState.PENDING
    if fired:
        officials = verdict.audience is Audience.OFFICIALS
        state = AlertState.OFFICIALS if officials else AlertState.FIRING
    after = replace(
        _remember(status, verdict),
        state=state,
        level=verdict.level,
        alert_id=status.alert_id if pending else _alert_id(status, ctx),
        since=ctx.now,
        active_since=status.active_since if pending else ctx.now,
        last_notified=ctx.now if fired else None,
    )
    return _transition(kind, after, ctx, verdict, previous=None, audience=verdict.audience)


def _step_firing(
    rule: Rule, status: AlertStatus, verdict: _Verdict, ctx: Context
) -> Transition | None:
    """A live alert ends, reaches the public, changes level, follows a new event, or reminds."""
    audience = _audience(status, verdict)
    if verdict.end is not None:
        ended = _remember(status, verdict)
        # An end bulletin (PD-4) repeats no zones: what ended stays nameable in its message.
        kept = {**status.values, **{k: v for k, v in ended.values.items() if v is not None}}
        after = replace(ended, state=AlertState.RESOLVED, level=None, since=ctx.now, values=kept)
        return _transition(
            verdict.end, after, ctx, verdict, previous=status.level, audience=audience
        )
    if _confirmed(status, verdict):
        # BMKG now reports what officials alone knew: the public hears it once, as news,
        # with BMKG's figures (the episode and its alert id stay the same).
        after = replace(_remember(status, verdict), state=AlertState.FIRING)
        after = replace(after, level=verdict.level, last_notified=ctx.now)
        return _transition(
            TransitionKind.FIRED, after, ctx, verdict, previous=None, audience=Audience.PUBLIC
        )
    change = _change(status, verdict)
    if change is not None:
        after = replace(_remember(status, verdict), level=verdict.level, last_notified=ctx.now)
        return _transition(change, after, ctx, verdict, previous=status.level, audience=audience)
    return _reminder(rule, status, ctx)


def _audience(status: AlertStatus, verdict: _Verdict) -> Audience:
    """Officials only while the alert is theirs alone, or for an event they alone may hear."""
    if status.state is AlertState.OFFICIALS:
        return Audience.OFFICIALS
    return verdict.audience


def _confirmed(status: AlertStatus, verdict: _Verdict) -> bool:
    """An officials-only alert whose event the public may now hear."""
    officials_only = status.state is AlertState.OFFICIALS
    holds_now = verdict.known and verdict.level is not None
    return officials_only and holds_now and verdict.audience is Audience.PUBLIC


def _change(status: AlertStatus, verdict: _Verdict) -> TransitionKind | None:
    """Escalation, de-escalation, or an update for a new event or news in a bulletin."""
    if not verdict.known or verdict.level is None or status.level is None:
        return None
    if verdict.level > status.level:
        return TransitionKind.ESCALATED
    if verdict.level < status.level:
        return TransitionKind.DEESCALATED
    if verdict.new_event or _news(status, verdict):
        return TransitionKind.UPDATED
    return None


def _news(status: AlertStatus, verdict: _Verdict) -> bool:
    """A bulletin of the same event changing what people act on (arrival time, validity)."""
    o = verdict.observation
    names = _NEWS.get(o.kind, ()) if o is not None else ()
    return o is not None and any(o.values.get(n) != status.values.get(n) for n in names)


def _reminder(rule: Rule, status: AlertStatus, ctx: Context) -> Transition | None:
    """A reminder when `repeat_every` has passed since people last heard."""
    if rule.repeat_every is None:
        return None
    if ctx.now - (status.last_notified or status.since or ctx.now) < rule.repeat_every:
        return None
    after = replace(status, last_notified=ctx.now)
    audience = _audience(status, _UNKNOWN)
    reminder = replace(_UNKNOWN, reason="still in force")
    return _transition(
        TransitionKind.REMINDER, after, ctx, reminder, previous=status.level, audience=audience
    )


def _transition(
    kind: TransitionKind,
    after: AlertStatus,
    ctx: Context,
    verdict: _Verdict,
    *,
    previous: Level | None,
    audience: Audience,
) -> Transition:
    """A transition carrying the event's facts, its audience and (for ends) the reason."""
    return Transition(
        kind,
        after,
        ctx.now,
        previous,
        verdict.reason or _because(verdict),
        audience=audience,
        facts=_facts(verdict, after),
        end_reason=verdict.end_reason if kind.ends else None,
    )


def _facts(verdict: _Verdict, status: AlertStatus) -> EventFacts | None:
    """The event's own facts: from the observation behind the verdict, else as remembered."""
    o = verdict.observation
    if o is not None:
        name, label = _name(o.values), _label(o.values)
        sources = verdict.sources or (o.source,)
        return EventFacts(event_time(o), o.source, name, label, verdict.late, sources)
    when = origin_time(status.values) or status.last_true
    if when is None:
        return None
    return EventFacts(when, name=_name(status.values), bulletin=_label(status.values))


def _name(values: Mapping[str, Value]) -> str:
    """The source's own name for the event: a CAP event, else BMKG's region text."""
    for key in ("event", "region"):
        value = values.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _label(values: Mapping[str, Value]) -> str:
    """ "PD-2" for InaTEWS bulletin 2 (PD-3.1 stays PD-3.1), else ""."""
    number = bulletin(values.get("bulletin"))
    return f"PD-{number:g}" if number else ""


def _remember(status: AlertStatus, verdict: _Verdict) -> AlertStatus:
    """The status with the observation that drove the verdict.

    A point event's values gain this area's `distance_km`, so that its message
    says how far the quake was from the kelurahan it warns; a reading rule's, the
    window sum it judged with the window's period.
    """
    o = verdict.observation
    if o is None:
        return status
    values = {**o.values, **verdict.judged} if verdict.judged else o.values
    if verdict.distance_km is not None:
        values = {**values, "distance_km": round(verdict.distance_km, 1)}
    return replace(
        status,
        event_id=o.event_id,
        fingerprint=fingerprint(o),
        values=values,
        last_true=verdict.last_true or status.last_true,
    )


def _because(verdict: _Verdict) -> str:
    """A short reason naming the observation behind a change."""
    o = verdict.observation
    return "" if o is None else f"{o.source} {o.event_id} at {o.time.isoformat()}"


def _alert_id(status: AlertStatus, ctx: Context) -> str:
    """A stable id for one episode of one (rule, area)."""
    prefix = "drill:" if ctx.drill else ""
    if ctx.drill and ctx.run:
        prefix += f"{ctx.run}:"
    return f"{prefix}{status.rule_id}:{status.area_id}:{ctx.now:%Y%m%dT%H%M%SZ}"


def fingerprint(observation: Observation) -> str:
    """What identifies an observation's content (its merged id aside)."""
    o = observation
    body: list[object] = [o.source, o.kind.value, o.time.isoformat()]
    body += [sorted(o.values.items(), key=str), o.lon, o.lat, list(o.area_ids), o.exercise]
    return hashlib.sha256(json.dumps(body, default=str).encode()).hexdigest()[:16]


def carry_over(
    old_rules: Iterable[Rule], new_rules: Iterable[Rule], states: Mapping[StateKey, AlertStatus]
) -> dict[StateKey, AlertStatus]:
    """The states a reload keeps: those of rules that did not change (position aside).

    States of removed or edited rules are dropped, so an edited rule starts
    afresh instead of continuing an episode its old thresholds began.
    """
    before = {rule.id: rule for rule in old_rules}
    unchanged = {rule.id for rule in new_rules if before.get(rule.id) == rule}
    return {key: status for key, status in states.items() if key[0] in unchanged}
