"""The incremental evaluator decides what the pure engine decides, on random sequences of polls.

Each sequence mixes quakes (new ones, BMKG revisions that move the epicentre
or change the magnitude, USGS reports of the same quake), InaTEWS bulletins
PD-1 to PD-4 naming changing coastal areas, rain and wind readings that cross
thresholds, history pruning, operators' cancels between polls and clock ticks.
The incremental `Evaluator` and `engine.evaluate` (the reference) get the same
window at the same times.  On a poll, every transition the evaluator emits is
the pure engine's for that pair (same order), and the pure engine may emit
more only for pairs that are not up (a timer of a pair no news reached, which
the next tick emits); at every tick both chains of stored states are identical.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.rules import CITY, T0, quake_rule, rain_rule, tsunami_rule
from warning.areas import AreaIndex
from warning.model import (
    AlertState,
    AlertStatus,
    Observation,
    ObservationKind,
    Rule,
    Transition,
)
from warning.rules import load_rules
from warning.rules.engine import StateKey, evaluate
from warning.rules.incremental import Evaluator

K = ObservationKind
RULES = Path(__file__).resolve().parents[2] / "rules"
#: Kelurahan the readings fall on (inland and coastal).
RAINY = ("graha-indah", "manggar", "lamaru", "damai", "karang-joang", "sepinggan")
_UP = frozenset({AlertState.PENDING, AlertState.FIRING, AlertState.OFFICIALS})
_LIVE = _UP - {AlertState.PENDING}


def _rules(index: AreaIndex) -> list[Rule]:
    """The shipped rules, and rules with `for`, reminders, `keep_firing_for` and distance."""
    shipped = list(load_rules([RULES], index))
    made = [
        quake_rule(),
        replace(tsunami_rule(repeat_every=timedelta(minutes=20)), id="tsunami-uji"),
        rain_rule(
            areas=RAINY,
            for_duration=timedelta(minutes=10),
            repeat_every=timedelta(minutes=30),
            keep_firing_for=timedelta(minutes=15),
        ),
    ]
    return shipped + made


class _Sequence:
    """A random stream of feed news in the adapters' shapes."""

    def __init__(self, rng: random.Random, index: AreaIndex, *, future: bool) -> None:
        self.rng = rng
        self.coastal = [a.id for a in index.kelurahan if a.coastal]
        self.quakes: list[Observation] = []
        self.tsunami = 0  # the current InaTEWS event's number
        self.bulletin = 0  # its last bulletin (4: ended)
        self.future = future
        self.step = 0

    def poll(self, now: timedelta) -> list[Observation]:
        """What the feeds bring at T0 + now."""
        rng, self.step = self.rng, self.step + 1
        when = T0 + now
        found: list[Observation] = []
        if rng.random() < 0.3:
            found.append(self._quake(when))
        if self.quakes and rng.random() < 0.3:
            found.append(self._revision(rng.choice(self.quakes)))
        if rng.random() < 0.25:
            found.append(self._bulletin(when))
        for n in range(rng.randint(0, 4)):
            found.append(self._reading(when, n))
        return found

    def _quake(self, when: datetime) -> Observation:
        rng = self.rng
        near = rng.random() < 0.7
        lon = CITY[0] + rng.uniform(-0.6, 0.6) if near else rng.uniform(118.5, 120.0)
        lat = CITY[1] + rng.uniform(-0.6, 0.6) if near else rng.uniform(-2.0, 0.0)
        time = when - timedelta(minutes=rng.uniform(0, 25))
        values = {"magnitude": round(rng.uniform(4.5, 7.6), 1), "depth_km": 10.0}
        quake = Observation(
            "bmkg-autogempa", K.EARTHQUAKE, f"q{self.step}", time, values, lon=lon, lat=lat
        )
        self.quakes.append(quake)
        return quake

    def _revision(self, quake: Observation) -> Observation:
        """BMKG revises (magnitude, epicentre), or USGS reports the same quake."""
        rng = self.rng
        assert quake.lon is not None
        assert quake.lat is not None
        lon, lat = quake.lon + rng.uniform(-0.5, 0.5), quake.lat + rng.uniform(-0.5, 0.5)
        values = {**quake.values, "magnitude": round(rng.uniform(4.5, 7.6), 1)}
        if rng.random() < 0.3:
            time = quake.time + timedelta(seconds=rng.randint(-20, 20))
            eid = f"us{self.step}"
            return Observation("usgs", K.EARTHQUAKE, eid, time, values, lon=lon, lat=lat)
        return replace(quake, values=values, lon=lon, lat=lat)

    def _bulletin(self, when: datetime) -> Observation:
        """The next InaTEWS bulletin: PD-1 of a new event after PD-4, else the next one."""
        rng = self.rng
        if self.bulletin in (0, 4):
            self.tsunami, self.bulletin = self.tsunami + 1, 0
        self.bulletin += 1
        level = "ended" if self.bulletin == 4 else rng.choice(["waspada", "siaga", "awas"])
        origin = T0 + timedelta(hours=self.tsunami)
        values = {
            "level": level,
            "bulletin": self.bulletin,
            "magnitude": 7.6,
            "origin_time": origin.isoformat(),
            "epicenter_lon": 118.45,
            "epicenter_lat": -2.1,
        }
        named = tuple(rng.sample(self.coastal, rng.randint(1, len(self.coastal))))
        eid = f"inatews:{self.tsunami}:{self.bulletin}"
        return Observation("inatews", K.TSUNAMI_WARNING, eid, when, values, area_ids=named)

    def _reading(self, when: datetime, n: int) -> Observation:
        """Rain or wind over one kelurahan; with `future`, sometimes dated ahead."""
        rng = self.rng
        ahead = self.future and rng.random() < 0.2
        time = when + timedelta(minutes=rng.uniform(1, 20) if ahead else -rng.uniform(0, 30))
        area = (rng.choice(RAINY),)
        eid = f"r{self.step}.{n}"
        if rng.random() < 0.7:
            rain = {"precipitation_mm": round(rng.expovariate(1 / 35), 1), "period_s": 3600}
            return Observation("open-meteo", K.RAINFALL, eid, time, rain, area_ids=area)
        gust = round(rng.uniform(5, 30), 1)
        wind = {"wind_speed_ms": round(gust / 2, 1), "wind_gust_ms": gust}
        return Observation("open-meteo", K.WIND, eid, time, wind, area_ids=area)


def _commit(states: dict[StateKey, AlertStatus], transitions: list[Transition]) -> None:
    """What the pipeline stores: each transition's status."""
    for t in transitions:
        states[t.status.key] = t.status


def _cancel(rng: random.Random, states: dict[StateKey, AlertStatus], now: datetime) -> StateKey:
    """An operator cancels one live alert (as `warning alert cancel` stores it)."""
    live = sorted(k for k, s in states.items() if s.state in _LIVE)
    key = rng.choice(live)
    s = states[key]
    states[key] = replace(s, state=AlertState.CANCELLED, since=now, last_notified=now)
    return key


def _replay(index: AreaIndex, seed: int, *, future: bool, steps: int = 50) -> int:
    """Run one random sequence through both paths; return how many transitions it made."""
    rng = random.Random(seed)
    rules = _rules(index)
    news = _Sequence(rng, index, future=future)
    evaluator = Evaluator(rules, index)
    window: list[Observation] = []
    ours: dict[StateKey, AlertStatus] = {}
    pure: dict[StateKey, AlertStatus] = {}
    elapsed = timedelta(0)
    made = 0
    for step in range(steps):
        elapsed += timedelta(minutes=rng.uniform(1, 7))
        now = T0 + elapsed
        if step % 4 == 3:
            # The clock tick: a full evaluation in both; the chains must agree.
            tick = evaluator.evaluate(window, ours, now, full=True)
            assert tick == evaluate(rules, window, index, ours, now), f"tick {step}"
            _commit(ours, tick)
            _commit(pure, evaluate(rules, window, index, pure, now))
            # With readings dated ahead, the pure chain fired some a poll earlier.
            assert future or ours == pure, f"states differ after the tick at step {step}"
            made += len(tick)
            continue
        if rng.random() < 0.15 and any(s.state in _LIVE for s in ours.values()):
            key = _cancel(rng, ours, now)
            pure[key] = ours[key]
        if rng.random() < 0.2:
            # The pipeline's history forgets what is older than its span.
            window = [o for o in window if o.time >= now - timedelta(hours=2)]
        window = window + news.poll(elapsed)
        expected = evaluate(rules, window, index, ours, now)
        got = evaluator.evaluate(window, ours, now)
        judged = {t.status.key for t in got}
        assert got == [t for t in expected if t.status.key in judged], f"poll {step}"
        for extra in (t for t in expected if t.status.key not in judged):
            before = ours.get(extra.status.key)
            assert before is None or before.state not in _UP, f"missed {extra} at {step}"
            assert future, f"a pure-only transition without future readings: {extra}"
        _commit(ours, got)
        _commit(pure, evaluate(rules, window, index, pure, now))
        made += len(got)
    return made


@pytest.mark.parametrize("seed", range(5))
def test_polls_and_ticks_match_the_pure_engine(index: AreaIndex, seed: int) -> None:
    """Same transitions on every poll, same states after every tick (no future readings)."""
    assert _replay(index, seed, future=False) > 0


@pytest.mark.parametrize("seed", range(100, 103))
def test_readings_dated_ahead_wait_for_the_tick_and_nothing_else_differs(
    index: AreaIndex, seed: int
) -> None:
    """With readings dated ahead, the pure engine's extras are only unreached pairs' timers."""
    assert _replay(index, seed, future=True) > 0


def _rain(mm: float, minutes: float, *, exercise: bool = False) -> Observation:
    """An hour of rain over Graha Indah, `minutes` after T0."""
    values = {"precipitation_mm": mm, "period_s": 3600}
    when = T0 + timedelta(minutes=minutes)
    eid = f"r{minutes}{'x' if exercise else ''}"
    return Observation(
        "open-meteo", K.RAINFALL, eid, when, values, area_ids=("graha-indah",), exercise=exercise
    )


def test_a_drill_after_live_polls_sees_the_exercise_readings_live_polls_ignored(
    index: AreaIndex,
) -> None:
    """Switching to drill mode starts afresh: exercise readings count, as in the pure engine."""
    rules = [rain_rule()]
    window = [_rain(60, 0, exercise=True), _rain(70, 30, exercise=True)]
    evaluator = Evaluator(rules, index)
    now = T0 + timedelta(minutes=40)
    assert evaluator.evaluate(window, {}, now) == []
    window = [*window, _rain(80, 35, exercise=True)]
    assert evaluator.evaluate(window, {}, now) == []
    drill = evaluator.evaluate(window, {}, now, drill=True, run="d1")
    assert drill == evaluate(rules, window, index, {}, now, drill=True, run="d1")
    assert [t.kind.value for t in drill] == ["fired"]


def test_a_state_dropped_from_the_store_is_judged_again_on_the_next_poll(
    index: AreaIndex,
) -> None:
    """A live alert whose state vanished (a reload's carry-over) fires again, as the pure engine."""
    rules = [rain_rule()]
    window = [_rain(120, 0)]
    evaluator = Evaluator(rules, index)
    now = T0 + timedelta(minutes=5)
    states: dict[StateKey, AlertStatus] = {}
    _commit(states, evaluator.evaluate(window, states, now))
    assert states
    later = now + timedelta(minutes=1)
    again = evaluator.evaluate(window, {}, later)
    assert again == evaluate(rules, window, index, {}, later)
    assert [t.kind.value for t in again] == ["fired"]


def test_an_earlier_clock_rebuilds_the_readings_it_filters(index: AreaIndex) -> None:
    """Evaluating at an earlier time than the last one ignores readings after it, as pure."""
    rules = [rain_rule()]
    window = [_rain(60, 0), _rain(70, 60)]
    evaluator = Evaluator(rules, index)
    late = T0 + timedelta(minutes=90)
    assert evaluator.evaluate(window, {}, late) == evaluate(rules, window, index, {}, late)
    early = T0 + timedelta(minutes=30)
    assert evaluator.evaluate(window, {}, early, full=True) == []


def test_live_pairs_without_last_true_are_judged_when_their_reminder_is_due(
    index: AreaIndex,
) -> None:
    """A firing state without `last_true` (hand-written) still reminds on time, as pure."""
    rule = replace(tsunami_rule(repeat_every=timedelta(minutes=20)), areas=("manggar",))
    bulletin = Observation(
        "inatews", K.TSUNAMI_WARNING, "ts1", T0, {"level": "siaga", "bulletin": 1},
        area_ids=("manggar",),
    )  # fmt: skip
    evaluator = Evaluator([rule], index)
    states: dict[StateKey, AlertStatus] = {}
    _commit(states, evaluator.evaluate([bulletin], states, T0))
    key = (rule.id, "manggar")
    states[key] = replace(states[key], last_true=None)
    for minutes in (5, 10, 25):
        now = T0 + timedelta(minutes=minutes)
        got = evaluator.evaluate([bulletin], states, now)
        assert got == evaluate([rule], [bulletin], index, states, now)
        _commit(states, got)
    assert states[key].last_notified == T0 + timedelta(minutes=25)
