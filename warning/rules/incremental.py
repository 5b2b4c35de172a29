"""A stateful evaluator: what a poll did not change is kept, and only what it may change is judged.

`engine.evaluate` is the reference: a pure function of (observations, stored
states, now) that merges the whole window and judges every (rule, area) some
observation reaches or some state names, about 1,400 pairs for a 13-hour
window.  A poll brings a few observations; judging everything again costs the
window, not the poll.  An `Evaluator` belongs to one configuration (rules and
areas; the pipeline builds a new one on reload) and keeps between calls:

* the observations of each kind it was last given, and their merged events:
  a kind whose observations did not change is not merged again;
* which events reach which areas (per kind and reach), updated by the
  observations that came or went, and each area's readings series (rebuilt
  for the areas those reach only; their window sums are kept otherwise);
* the compiled conditions (`Judge`) and each point's kelurahan and distances;
* what it last saw stored for each (rule, area) and what it produced since.

On a poll (`full=False`) it judges only these pairs, because only they can
change: an unjudged pair's inputs (its events or readings, its stored state)
are the same as when it was last judged, and `now` only matters through a
timer, which the pairs below all have or the tick covers:

* the pairs reached by the observations that came or went: for a reading,
  the areas it reaches; for an event kind, the areas reached by every event
  containing one (now and before the revision moved it), and every pair with a
  stored state of a rule of that kind (a revised epicentre can end an alert
  elsewhere);
* every pending pair (PENDING: `for`), and every live pair (FIRING,
  OFFICIALS) whose timer may be due: when such a pair was last judged and
  changed nothing, the evaluator noted the first time the clock alone could
  change its verdict (`_sleep`: a deadline of an event of its kind, expiry
  and the tsunami safety timeout included, its reminder, `keep_firing_for`
  after a reading); until then, with the same inputs and state, it would
  yield nothing again.  A live pair of a kind holding readings dated ahead
  is judged on every poll;
* every pair whose stored status differs from what the evaluator last saw or
  produced: an operator's cancel committed by another process, a commit that
  failed after the evaluation.

The clock tick (`full=True`) judges every pair `engine.evaluate` judges, with
the same functions.  What only the tick can emit are time-based changes of
pairs that are not up and got no new data: a reading dated in the future that
has now become current (forecast-like readings).  Everything else that time
does to a pair that is not up is to let an event expire, which ends nothing
for a pair that is not up.  A pair whose inputs did not change and whose state has
no timer yields nothing at `now` if it yielded nothing when last judged: the
engine is a function of those inputs and of `now`, and `now` reaches it only
through the timers above (`tests/engine/test_incremental.py` checks this
against `engine.evaluate` on random sequences of polls, cancels and ticks).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from warning.areas import AreaIndex
from warning.model import (
    AlertState,
    AlertStatus,
    Level,
    Observation,
    ObservationKind,
    Rule,
    Transition,
    utc,
)
from warning.rules.engine import (
    Context,
    ReachKey,
    StateKey,
    areas_reached,
    deadline,
    judge_rule,
    reach,
    reach_key,
    reach_readings,
    stored_areas,
)
from warning.rules.events import EVENT_KINDS, Event, merge
from warning.rules.judge import Judge, Reading

__all__ = ["Evaluator"]

_K = TypeVar("_K", tuple[str, int], tuple[str, int, float | None])
_V = TypeVar("_V")

#: States with a timer: judged on a poll when it may be due, whatever the poll brought.
#: (Tuples: membership tests identity first, where a set hashes the member in Python.)
_TIMED = (AlertState.PENDING, AlertState.FIRING, AlertState.OFFICIALS)
#: Live states: a pending one is judged on every poll (its verdict is not remembered).
_LIVE = (AlertState.FIRING, AlertState.OFFICIALS)

#: The wake of a live pair no time can change (only news or a changed state do).
_NEVER = datetime.max.replace(tzinfo=UTC)

#: What identifies a stored status for "changed since the evaluator saw it" (the
#: values are left out: a store's JSON round trip may change their Python types).
_Signature = tuple[
    AlertState,
    Level | None,
    str,
    datetime | None,
    datetime | None,
    datetime | None,
    datetime | None,
    str | None,
    str,
]


def _signature(status: AlertStatus) -> _Signature:
    """The fields of a status an evaluation or an operator changes."""
    s = status
    return (
        s.state,
        s.level,
        s.alert_id,
        s.since,
        s.active_since,
        s.last_true,
        s.last_notified,
        s.event_id,
        s.fingerprint,
    )


class Evaluator:
    """`engine.evaluate` for one configuration, judging on a poll only what it may change.

    Not thread-safe: the pipeline calls it under its lock.
    """

    def __init__(self, rules: Sequence[Rule], areas: AreaIndex) -> None:
        self.rules = tuple(rules)
        self.areas = areas
        self._keys = {rule.id: reach_key(rule) for rule in self.rules}
        self._kind_keys: dict[ObservationKind, set[ReachKey]] = {}
        for key in self._keys.values():
            self._kind_keys.setdefault(key[0], set()).add(key)
        self._kind_of = {rule.id: rule.kind for rule in self.rules}
        self._every = tuple(a.id for a in areas.kelurahan)
        self._judge = Judge()
        self._judge.prepare(self.rules)
        self._distances: dict[tuple[float, float], dict[str, float]] = {}
        self._kelurahan: dict[tuple[float, float], str | None] = {}
        self._forget(drill=False)

    def _forget(self, *, drill: bool) -> None:
        """Start from an empty window in a mode (drill or live: their observations differ)."""
        self._drill = drill
        self._held: dict[ObservationKind, list[Observation]] = {}
        self._events: dict[ObservationKind, list[Event]] = {}
        #: The readings of each reading kind (never merged: no `Event` each).
        self._observed: dict[ObservationKind, list[Observation]] = {}
        self._latest: dict[ObservationKind, datetime] = {}
        self._reaches: dict[ReachKey, dict[str, list[Event]]] = {}
        self._reading_reaches: dict[ReachKey, dict[str, list[Observation]]] = {}
        self._readings: dict[ReachKey, dict[str, list[Reading]]] = {}
        self._possible: dict[tuple[str, int], tuple[datetime | None, bool]] = {}
        self._event_levels: dict[tuple[str, int, float | None], Level | None] = {}
        self._owners: dict[ObservationKind, dict[str | None, Event]] = {}
        self._seen: dict[StateKey, _Signature] = {}
        self._ids: set[int] = set()
        #: When each quiet live pair may next change by time alone (see `_sleep`).
        self._wakes: dict[StateKey, datetime] = {}
        self._now: datetime | None = None

    def evaluate(
        self,
        observations: Iterable[Observation],
        states: Mapping[StateKey, AlertStatus],
        now: datetime,
        *,
        full: bool = False,
        drill: bool = False,
        run: str = "",
    ) -> list[Transition]:
        """The transitions at `now` (as `engine.evaluate` gives them, for the pairs judged).

        `observations` is the whole window, oldest received first, as for
        `engine.evaluate`; what changed since the last call is found here.
        `full` judges every pair the pure engine judges (the clock tick);
        `drill` and `run` are `engine.evaluate`'s (a change of mode starts afresh).
        """
        if drill != self._drill:
            self._forget(drill=drill)
        ctx = Context(
            self.areas,
            utc(now),
            drill,
            run,
            distances=self._distances,
            kelurahan=self._kelurahan,
            reaches=self._reaches,
            reading_reaches=self._reading_reaches,
            readings=self._readings,
            event_levels=self._event_levels,
            owners=self._owners,
            judge=self._judge,
            possible=self._possible,
        )
        touched, kinds = self._take(observations, ctx)
        stored = stored_areas(states)
        recheck = self._recheck(states, ctx.now, full=full)
        transitions: list[Transition] = []
        for rule in self.rules:
            of_kind = self._events.get(rule.kind, [])
            observed = self._observed.get(rule.kind, [])
            key = self._keys[rule.id]
            if full:
                near = (
                    reach(key, of_kind, ctx)
                    if rule.kind in EVENT_KINDS
                    else reach_readings(key, observed, ctx)
                )
                candidates = [*near, *stored.get(rule.id, ())]
            else:
                candidates = [*touched.get(key, ()), *recheck.get(rule.id, ())]
                if rule.kind in kinds:
                    candidates += stored.get(rule.id, ())
                if not candidates:
                    continue
            chosen = self.areas.among(rule.areas, candidates)
            made = judge_rule(rule, chosen, of_kind, states, ctx, key=key, readings=observed)
            self._sleep(rule, chosen, made, states, ctx)
            transitions += made
        self._seen.update((t.status.key, _signature(t.status)) for t in transitions)
        return transitions

    def _recheck(
        self, states: Mapping[StateKey, AlertStatus], now: datetime, *, full: bool
    ) -> dict[str, list[str]]:
        """Per rule, the areas judged whatever the poll brought: changed states, due timers.

        Notes what is stored now, to tell on the next poll what changed meanwhile.
        """
        recheck: dict[str, list[str]] = {}
        seen, wakes = self._seen, self._wakes
        fresh = {key: _signature(status) for key, status in states.items()}
        self._seen = fresh
        if full:
            return recheck
        for key, status in states.items():
            changed = seen.get(key) != fresh[key]
            if changed or (status.state in _TIMED and now >= wakes.get(key, now)):
                recheck.setdefault(key[0], []).append(key[1])
        for rule_id, area_id in seen.keys() - states.keys():
            # A state gone from the store (a reload's carry-over) is judged from scratch.
            recheck.setdefault(rule_id, []).append(area_id)
        return recheck

    # -- timers -------------------------------------------------------------------------

    def _sleep(
        self,
        rule: Rule,
        chosen: Sequence[str],
        made: Sequence[Transition],
        states: Mapping[StateKey, AlertStatus],
        ctx: Context,
    ) -> None:
        """Remember when each judged live pair that changed nothing can next change by time.

        Until then, with the same inputs and state, judging it again yields
        nothing: the clock reaches a live pair only through a deadline of an
        event of its kind (or of its remembered event), its reminder, and for
        readings `keep_firing_for` after a reading or after it last held.  A
        pending pair, or one whose kind holds readings dated ahead, is judged
        on every poll.
        """
        moved = {t.area_id for t in made}
        every: list[datetime] | None = None
        for area_id in chosen:
            key = (rule.id, area_id)
            self._wakes.pop(key, None)
            status = states.get(key)
            if area_id in moved or status is None or status.state not in _LIVE:
                continue
            # Once per rule, and only for a rule with a quiet live pair.
            every = self._clock(rule, ctx) if every is None else every
            if self._ahead(rule, ctx):
                continue
            self._wakes[key] = self._wake(rule, status, every, ctx)

    def _clock(self, rule: Rule, ctx: Context) -> list[datetime]:
        """The deadlines of the events of the rule's kind (none for readings)."""
        if rule.kind not in EVENT_KINDS:
            return []
        return [
            deadline(rule, e.observation.kind, e.observation.time, e.observation.values)
            for e in self._events.get(rule.kind, ())
        ]

    def _ahead(self, rule: Rule, ctx: Context) -> bool:
        """The rule reads a kind of readings holding one dated after now (judged every poll)."""
        return rule.kind not in EVENT_KINDS and self._latest.get(rule.kind, ctx.now) > ctx.now

    def _wake(
        self, rule: Rule, status: AlertStatus, every: Sequence[datetime], ctx: Context
    ) -> datetime:
        """The first time after now at which the clock may change this live pair."""
        times = list(every)
        if rule.repeat_every is not None:
            times.append((status.last_notified or status.since or ctx.now) + rule.repeat_every)
        if status.last_true is not None:
            if rule.kind in EVENT_KINDS:
                times.append(deadline(rule, rule.kind, status.last_true, status.values))
            else:
                times.append(status.last_true + rule.keep_firing_for)
        if rule.kind not in EVENT_KINDS:
            # The first reading whose `keep_firing_for` runs past now: the series is in order.
            series = self._readings.get(self._keys[rule.id], {}).get(status.area_id, [])
            since = ctx.now - rule.keep_firing_for
            first = bisect.bisect_right(series, since, key=_reading_time)
            times += [r.time + rule.keep_firing_for for r in series[first : first + 1]]
        # What is due already has been judged: only what lies ahead can change the verdict.
        return min((t for t in times if t > ctx.now), default=_NEVER)

    # -- what changed -------------------------------------------------------------------

    def _take(
        self, observations: Iterable[Observation], ctx: Context
    ) -> tuple[dict[ReachKey, set[str]], set[ObservationKind]]:
        """Hold the window; the areas touched per reach, and the event kinds that changed."""
        split = self._split(list(observations))
        if self._now is not None and ctx.now < self._now:
            # Readings were filtered at a later `now`: none is known to be valid.
            self._readings.clear()
        touched: dict[ReachKey, set[str]] = {}
        kinds: set[ObservationKind] = set()
        for kind in {*split, *self._held}:
            now_held = split.get(kind, [])
            before = self._held.get(kind, [])
            if now_held != before:
                self._held[kind] = now_held
                self._latest[kind] = max((o.time for o in now_held), default=ctx.now)
                if kind in EVENT_KINDS:
                    kinds.add(kind)
                    self._events_changed(kind, before, now_held, touched, ctx)
                else:
                    self._readings_changed(kind, before, now_held, touched, ctx)
            elif kind not in EVENT_KINDS and self._future(kind, ctx.now):
                # A reading dated after the last `now` may have become current.
                for key in self._kind_keys.get(kind, ()):
                    self._readings.pop(key, None)
        self._now = ctx.now
        return touched, kinds

    def _split(self, window: list[Observation]) -> dict[ObservationKind, list[Observation]]:
        """The window by kind (exercises only in drill mode), oldest received first.

        The pipeline's history appends what is new and forgets what is old: when
        the window is the last one without some and with new ones at its end,
        only those are sorted (a poll's news, not the 13-hour window again).
        """
        ids = set(map(id, window))
        added = ids - self._ids
        tail = window[len(window) - len(added) :] if added else []
        drill = self._drill
        if not self._ids or set(map(id, tail)) != added:
            split: dict[ObservationKind, list[Observation]] = {}
            for o in window:
                if drill or not o.exercise:
                    split.setdefault(o.kind, []).append(o)
        else:
            gone = self._ids - ids
            split = {
                kind: [o for o in held if id(o) not in gone] if gone else held
                for kind, held in self._held.items()
            }
            news: dict[ObservationKind, list[Observation]] = {}
            for o in tail:
                if drill or not o.exercise:
                    news.setdefault(o.kind, []).append(o)
            for kind, found in news.items():
                split[kind] = split.get(kind, []) + found
        self._ids = ids
        return split

    def _future(self, kind: ObservationKind, now: datetime) -> bool:
        """Some reading of `kind` lies after the last `now` and `now` moved on."""
        return self._now is not None and now > self._now and self._latest[kind] > self._now

    def _readings_changed(
        self,
        kind: ObservationKind,
        before: Sequence[Observation],
        now_held: Sequence[Observation],
        touched: dict[ReachKey, set[str]],
        ctx: Context,
    ) -> None:
        """Readings came or went: their areas' reach and series are updated, the rest kept."""
        added, gone = _difference(before, now_held)
        kept = self._observed.get(kind, [])
        if gone:
            kept = [o for o in kept if id(o) not in gone]
        self._observed[kind] = kept + added
        removed = [o for o in before if id(o) in gone]
        for key in self._kind_keys.get(kind, ()):
            if key in self._reading_reaches:
                areas = self._touch(key, removed, added, gone, ctx)
            else:
                # Nothing held yet (the first poll): every area it reaches is touched.
                areas = set(reach_readings(key, self._observed[kind], ctx))
            touched.setdefault(key, set()).update(areas)
            series = self._readings.get(key)
            if series is not None:
                for area_id in areas:
                    series.pop(area_id, None)
            if self._future(kind, ctx.now):
                self._readings.pop(key, None)

    def _touch(
        self,
        key: ReachKey,
        removed: Sequence[Observation],
        fresh: Sequence[Observation],
        gone: set[int],
        ctx: Context,
    ) -> set[str]:
        """Update one reach map by the readings that came or went; the areas they reach."""
        everywhere = key[1]
        areas: set[str] = set()
        for o in removed:
            areas.update(areas_reached(o, self._every, everywhere, ctx))
        by_area = self._reading_reaches[key]
        for area_id in areas:
            left = [o for o in by_area.get(area_id, ()) if id(o) not in gone]
            if left:
                by_area[area_id] = left
            else:
                by_area.pop(area_id, None)
        for o in fresh:
            reached = areas_reached(o, self._every, everywhere, ctx)
            areas.update(reached)
            for area_id in reached:
                by_area.setdefault(area_id, []).append(o)
        return areas

    def _events_changed(
        self,
        kind: ObservationKind,
        before: Sequence[Observation],
        now_held: Sequence[Observation],
        touched: dict[ReachKey, set[str]],
        ctx: Context,
    ) -> None:
        """Events of a kind changed: merge the kind again; the areas its changed events reach.

        A changed event is one containing an observation that came or went, and
        an event such a one joined or split from; it is followed before and
        after the merge, so an area the revision no longer reaches is judged.
        """
        added, gone = _difference(before, now_held)
        ids = {o.event_id for o in added}
        ids.update(o.event_id for o in before if id(o) in gone)
        old = self._events.get(kind, [])
        new = merge(now_held)
        self._events[kind] = new
        # What was judged of an event (by its position) holds while the event at that
        # position is the same observation: most of a re-merge leaves events as they were.
        self._owners.pop(kind, None)
        was = {e.order: e.observation for e in old}
        same = {e.order for e in new if was.get(e.order) == e.observation}
        _drop_rules_of(self._possible, self._kind_of, kind, same)
        _drop_rules_of(self._event_levels, self._kind_of, kind, same)
        for _ in range(2):
            # Twice: an event joining two (or split from one) carries the others' ids.
            for event in (*old, *new):
                if event.aliases & ids:
                    ids.update(event.aliases)
        changed = [e.observation for e in (*old, *new) if e.aliases & ids]
        for key in self._kind_keys.get(kind, ()):
            self._reaches.pop(key, None)
            areas = touched.setdefault(key, set())
            for o in changed:
                areas.update(areas_reached(o, self._every, key[1], ctx))


def _reading_time(reading: Reading) -> datetime:
    """A reading's time (the key its series is ordered by)."""
    return reading.time


def _drop_rules_of(
    judged: dict[_K, _V],
    kind_of: Mapping[str, ObservationKind],
    kind: ObservationKind,
    same: set[int],
) -> None:
    """Forget, in place (the evaluation's context holds the dict), a kind's changed judgements.

    Kept: those of an event position whose event is the same as before.
    """
    for stale in [k for k in judged if kind_of[k[0]] is kind and k[1] not in same]:
        del judged[stale]


def _difference(
    before: Sequence[Observation], after: Sequence[Observation]
) -> tuple[list[Observation], set[int]]:
    """The observations of `after` that `before` did not hold, and the ids of those that went.

    By identity: the pipeline's history hands the same objects from poll to poll.
    """
    held = {id(o) for o in before}
    now = {id(o) for o in after}
    return [o for o in after if id(o) not in held], held - now
