"""Judge a rule's conditions on one reading: pure functions, no clock, no I/O.

A reading is one observation seen from one area: its values, its distance to
the area, and the earlier observations of the same source for the same area
(for windowed aggregates).  Windows end at the observation's own time, so a
verdict depends only on data, never on when it is computed.
"""

from __future__ import annotations

import bisect
import operator
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from warning.model import (
    Aggregation,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Expression,
    Level,
    Observation,
    Rule,
    Value,
)

#: The field that means "distance from the observation's point to the area".
DISTANCE = "distance_km"
#: The value saying how many seconds an amount covers.
PERIOD = "period_s"

#: Values about the city as a whole, not about the areas an observation names:
#: the distance from an epicentre, and what a tsunami bulletin says about the
#: districts around Balikpapan.  A rule reading one is reached everywhere.
REGIONAL = frozenset({DISTANCE, "names_balikpapan", "nearby_level", "nearby"})

_ORDER = {
    Comparison.GE: operator.ge,
    Comparison.GT: operator.gt,
    Comparison.LE: operator.le,
    Comparison.LT: operator.lt,
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation as seen from one area.

    `series` holds the observations of the same source reaching the same area,
    oldest first, one per time, this one among them: a window ends at this
    reading's time, so the later ones a shared series holds never count.  `windows`
    remembers the window aggregates already computed: every rule of a kind
    reads the same readings, and most share their windows.
    """

    observation: Observation
    area_id: str
    distance_km: float | None
    series: tuple[Observation, ...]
    windows: dict[tuple[str, timedelta, Aggregation], float | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: The level each rule (by id) gives this reading, once judged: the same
    #: readings are judged again on the next poll while their series is kept.
    levels: dict[str, Level | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def time(self) -> datetime:
        """When the observation was made."""
        return self.observation.time


#: A compiled condition: True when it holds for the reading.
Test = Callable[[Reading], bool]


def level_of(rule: Rule, reading: Reading) -> Level | None:
    """The highest ladder level whose conditions hold (with the rule's `when`), else None."""
    return Judge().level_of(rule, reading)


def holds(expression: Expression, reading: Reading) -> bool:
    """True when the expression holds for the reading; a missing value never holds."""
    return compile_test(expression)(reading)


class Judge:
    """Rules' conditions compiled once and judged on many readings.

    An evaluation judges the same hundred rules on thousands of readings:
    walking each condition tree and dispatching on its operator every time
    cost a third of it.  A Judge compiles each expression the first time it
    meets it (keyed by identity: the rules outlive the Judge) into nested
    functions that only read and compare.
    """

    def __init__(self) -> None:
        self._tests: dict[int, tuple[Expression, Test]] = {}
        self._local: dict[int, tuple[Rule, tuple[Test, ...], Test | None]] = {}
        self._ladders: dict[int, tuple[Rule, tuple[tuple[Level, Test | None], ...]]] = {}

    def prepare(self, rules: Sequence[Rule]) -> None:
        """Compile every condition of the rules now: once per configuration, not on a poll."""
        for rule in rules:
            for expression in (rule.when, rule.clear_when, *(s.when for s in rule.levels)):
                if expression is not None:
                    self.test(expression)
            self._split(rule)
            self._ladder(rule)

    def test(self, expression: Expression) -> Test:
        """The compiled form of `expression`."""
        known = self._tests.get(id(expression))
        if known is None:
            # The expression is kept with its test, so its id cannot be reused meanwhile.
            known = self._tests[id(expression)] = (expression, compile_test(expression))
        return known[1]

    def holds(self, expression: Expression, reading: Reading) -> bool:
        """`holds`, compiled once per expression."""
        return self.test(expression)(reading)

    def unmet_anywhere(self, rule: Rule, reading: Reading) -> bool:
        """True when a part of the rule's `when` that reads no regional value fails.

        Such a part (a quake's magnitude) judges the same from every area, so
        no area's reading of this observation meets the rule: a distance rule
        need not judge a far, small quake from each kelurahan in turn.
        """
        return not all(test(reading) for test in self._split(rule)[0])

    def level_where_met(self, rule: Rule, reading: Reading) -> Level | None:
        """`level_of` for a reading of an observation `unmet_anywhere` found met.

        The parts of `when` reading no regional value hold from every area: a
        distance rule judges each of a quake's 34 readings on its distance
        alone, not on the magnitude again.
        """
        rest = self._split(rule)[1]
        if rest is not None and not rest(reading):
            return None
        return self._levels(rule, reading)

    def _split(self, rule: Rule) -> tuple[tuple[Test, ...], Test | None]:
        """The rule's `when`: its parts judged alike from every area, and the rest.

        The parts are tested only when the rest reads a regional value: without
        one the whole `when` (the rest) is judged once per event anyway.
        """
        known = self._local.get(id(rule))
        if known is None:
            when = rule.when
            roots = () if when is None else when.conditions if isinstance(when, AllOf) else (when,)
            regional = [e for e in roots if _mentions(e, REGIONAL)]
            local = tuple(self.test(e) for e in roots if regional and not _mentions(e, REGIONAL))
            parts = tuple(self.test(e) for e in regional)
            rest = None if when is None else _all_of(parts) if local else self.test(when)
            known = self._local[id(rule)] = (rule, local, rest)
        return known[1], known[2]

    def level_of(self, rule: Rule, reading: Reading) -> Level | None:
        """`level_of`, with the rule's conditions compiled once."""
        if rule.when is not None and not self.test(rule.when)(reading):
            return None
        return self._levels(rule, reading)

    def _levels(self, rule: Rule, reading: Reading) -> Level | None:
        """The highest ladder level whose own conditions hold (the rule's `when` held)."""
        for level, test in self._ladder(rule):
            if test is None or test(reading):
                return level
        return None

    def _ladder(self, rule: Rule) -> tuple[tuple[Level, Test | None], ...]:
        """The rule's levels, highest first, with their compiled conditions.

        The first that holds is the highest: the lower ones are not judged, and
        no levels are compared (a comparison of levels is a Python call each).
        """
        known = self._ladders.get(id(rule))
        if known is None:
            steps = sorted(rule.levels, key=lambda s: s.level.rank, reverse=True)
            ladder = tuple((s.level, None if s.when is None else self.test(s.when)) for s in steps)
            known = self._ladders[id(rule)] = (rule, ladder)
        return known[1]


def compile_test(expression: Expression) -> Test:
    """A function telling whether the expression holds for a reading (as `holds`)."""
    if isinstance(expression, AllOf | AnyOf):
        parts = tuple(compile_test(e) for e in expression.conditions)
        return _all_of(parts) if isinstance(expression, AllOf) else _any_of(parts)
    get = _getter(expression)
    op, operand = expression.op, expression.operand
    if op in _ORDER and _is_number(operand):
        # The common case (a threshold): numbers only, the operand converted once.
        order, bound = _ORDER[op], float(operand)  # type: ignore[arg-type]

        def ordered(reading: Reading) -> bool:
            value = get(reading)
            return _is_number(value) and order(float(value), bound)  # type: ignore[arg-type]

        return ordered

    def general(reading: Reading) -> bool:
        value = get(reading)
        return value is not None and compare(op, value, operand)

    return general


def _all_of(parts: Sequence[Test]) -> Test:
    """A test holding when every part holds (stopping at the first that does not)."""

    def all_of(reading: Reading) -> bool:
        return all(part(reading) for part in parts)

    return all_of


def _any_of(parts: Sequence[Test]) -> Test:
    """A test holding when some part holds (stopping at the first that does)."""

    def any_of(reading: Reading) -> bool:
        return any(part(reading) for part in parts)

    return any_of


def _getter(condition: Condition) -> Callable[[Reading], Value]:
    """How a condition reads its value: a distance, a value, or a window aggregate."""
    if condition.field == DISTANCE:
        return _distance
    if condition.over is None:
        name = condition.field
        return lambda reading: reading.observation.values.get(name)
    return partial(_window_value, condition, condition.over)


def _distance(reading: Reading) -> Value:
    """The reading's distance to its area."""
    return reading.distance_km


def uses_distance(expressions: Sequence[Expression | None]) -> bool:
    """True when any condition reads a regional value such as `distance_km`.

    Observations then reach every area of the rule: a point by its distance,
    a tsunami bulletin by what it says about the districts around the city.
    """
    return any(_mentions(e, REGIONAL) for e in expressions if e is not None)


def _mentions(expression: Expression, names: frozenset[str]) -> bool:
    """True when a condition of the expression reads one of the fields `names`."""
    if isinstance(expression, Condition):
        return expression.field in names
    return any(_mentions(e, names) for e in expression.conditions)


def _window_value(condition: Condition, over: timedelta, reading: Reading) -> Value:
    """The aggregate over `over` a windowed condition compares, computed once per reading."""
    # Without `agg` the worst value in the window counts.
    key = (condition.field, over, condition.agg or Aggregation.MAX)
    if key not in reading.windows:
        reading.windows[key] = _window(reading, *key)
    return reading.windows[key]


def judged_values(rule: Rule, reading: Reading, level: Level | None) -> dict[str, Value]:
    """The window aggregate the rule judged at `level`, as the value its message prints.

    A windowed rule (120 mm in 3 hours) decides on the window, not on the newest
    reading: its message must say the sum it judged with the window's period, so
    the amount keeps its real period (`period_s` becomes the window's for a sum).
    The level's own condition comes first, then the rule's `when`; a `delta` is a
    change, not an amount, and is not printed as the value.
    """
    steps = [s.when for s in rule.levels if s.level is level]
    for condition in _windowed([*steps, rule.when]):
        value = _getter(condition)(reading)
        if value is None:
            continue
        judged: dict[str, Value] = {condition.field: round(float(value), 2)}
        if condition.agg is Aggregation.SUM and condition.over is not None:
            judged[PERIOD] = round(condition.over.total_seconds())
        return judged
    return {}


def threshold_values(rule: Rule, level: Level) -> dict[str, Value]:
    """The values a windowed rule judges at `level`, at its threshold (for sample messages).

    `warning rules check --show` renders a 3-hour rule's SMS with "150 mm/3 jam",
    as it reads when the rule fires, not with an hourly sample.
    """
    steps = [s.when for s in rule.levels if s.level is level]
    for condition in _windowed([*steps, rule.when]):
        if condition.agg is Aggregation.SUM and condition.over is not None:
            # A sum's operand is a number (the loader refuses lists with `over`).
            amount: Value = condition.operand  # type: ignore[assignment]
            return {condition.field: amount, PERIOD: condition.over.total_seconds()}
    return {}


def _windowed(expressions: Sequence[Expression | None]) -> list[Condition]:
    """The windowed conditions of the expressions (not deltas), depth first in writing order."""
    found: list[Condition] = []
    for expression in expressions:
        if isinstance(expression, Condition):
            if expression.over is not None and expression.agg is not Aggregation.DELTA:
                found.append(expression)
        elif expression is not None:
            found += _windowed(expression.conditions)
    return found


def _window(reading: Reading, name: str, over: timedelta, agg: Aggregation) -> float | None:
    """Fold the numbers of `name` in the window of length `over` ending at the reading."""
    # The series is oldest first and ends at this reading: bisect, not scan.
    first = bisect.bisect_right(reading.series, reading.time - over, key=_time)
    last = bisect.bisect_right(reading.series, reading.time, key=_time)
    seconds = over.total_seconds()
    values = [o.values.get(name) for o in reading.series[first:last] if _fits(o, seconds)]
    return aggregate(agg, [float(v) for v in values if _is_number(v)])  # type: ignore[arg-type]


def _fits(observation: Observation, seconds: float) -> bool:
    """An amount over a period longer than the window (`seconds`) is no part of it.

    A 3-hour total is never an hour's rain: a 1-hour window leaves it out
    rather than read 150 mm in 3 hours as 150 mm in one.
    """
    period = observation.values.get(PERIOD)
    if isinstance(period, bool) or not isinstance(period, int | float):
        return True
    return period <= seconds


def _time(observation: Observation) -> datetime:
    """Sort key: when an observation was made."""
    return observation.time


def aggregate(agg: Aggregation, numbers: Sequence[float]) -> float | None:
    """Fold a window's numbers (oldest first); None for an empty window."""
    if not numbers:
        return None
    if agg is Aggregation.SUM:
        return sum(numbers)
    if agg is Aggregation.MAX:
        return max(numbers)
    if agg is Aggregation.MIN:
        return min(numbers)
    if agg is Aggregation.MEAN:
        return statistics.fmean(numbers)
    return numbers[-1] - numbers[0]


def compare(op: Comparison, value: Value, operand: Value | tuple[Value, ...]) -> bool:
    """Compare like an official reads it: numbers as numbers, words ignoring case."""
    if op is Comparison.IN:
        choices = operand if isinstance(operand, tuple) else (operand,)
        return any(_equal(value, c) for c in choices)
    if isinstance(operand, tuple):
        return False
    if op is Comparison.EQ:
        return _equal(value, operand)
    if not (_is_number(value) and _is_number(operand)):
        return False
    return bool(_ORDER[op](float(value), float(operand)))  # type: ignore[arg-type]


def _equal(a: Value, b: Value) -> bool:
    """Equality for officials: "SIAGA" is "siaga", 1 is 1.0, but True is not 1."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if _is_number(a) and _is_number(b):
        return float(a) == float(b)  # type: ignore[arg-type]
    return type(a) is type(b) and a == b


def _is_number(value: object) -> bool:
    """True for ints and floats, not for booleans."""
    kind = type(value)
    if kind is float or kind is int:
        # The common case, without isinstance on a union: thresholds meet it per reading.
        return True
    return isinstance(value, int | float) and not isinstance(value, bool)
