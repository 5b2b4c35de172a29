"""Conditions as officials write them, judged on one reading."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.rules import at, cond, obs, rain_rule, rule
from warning.model import (
    Aggregation,
    AllOf,
    AnyOf,
    Comparison,
    Level,
    ObservationKind,
    Value,
)
from warning.rules.judge import (
    Reading,
    aggregate,
    compare,
    holds,
    level_of,
    threshold_values,
    uses_distance,
)

RAIN = ObservationKind.RAINFALL


def _reading(values: dict[str, Value], distance: float | None = None) -> Reading:
    """One reading of the given values at T0."""
    o = obs(RAIN, values, area_ids=("manggar",))
    return Reading(o, "manggar", distance, (o,))


@pytest.mark.parametrize(
    ("op", "value", "operand", "expected"),
    [
        (">=", 6.0, 6, True),
        (">", 6.0, 6, False),
        ("<=", 5, 6.0, True),
        ("<", 7, 6.0, False),
        ("==", "SIAGA", "siaga", True),
        ("==", 1, 1.0, True),
        ("==", True, 1, False),
        ("==", True, True, True),
        ("in", "Awas", ("siaga", "awas"), True),
        ("in", "awas", "awas", True),
        ("in", 3, (1, 2), False),
        (">=", "7", 6, False),
        (">=", True, 0, False),
        (">=", 7, (6,), False),
    ],
)
def test_compare_reads_like_an_official(
    op: str, value: Value, operand: object, expected: bool
) -> None:
    """Numbers compare as numbers, words ignore case, booleans are not numbers."""
    assert compare(Comparison(op), value, operand) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agg", "expected"),
    [("sum", 6.0), ("max", 3.0), ("min", 1.0), ("mean", 2.0), ("delta", 2.0)],
)
def test_aggregations_fold_oldest_first(agg: str, expected: float) -> None:
    """sum, max, min, mean, and delta = newest minus oldest."""
    assert aggregate(Aggregation(agg), [1.0, 2.0, 3.0]) == expected


def test_empty_window_has_no_value() -> None:
    """Nothing to fold is None, never zero."""
    assert aggregate(Aggregation.SUM, []) is None


def test_missing_value_never_holds() -> None:
    """A value the observation lacks makes its condition false."""
    assert not holds(cond("precipitation_mm", ">=", 0), _reading({"period_s": 3600}))


def test_all_and_any_combine() -> None:
    """`all:` needs every condition, `any:` one of them."""
    reading = _reading({"precipitation_mm": 30, "period_s": 3600})
    wet, long = cond("precipitation_mm", ">=", 20), cond("period_s", ">", 7200)
    assert not holds(AllOf((wet, long)), reading)
    assert holds(AnyOf((wet, long)), reading)


def test_distance_reads_the_reading_distance() -> None:
    """`distance_km` is the distance to the area, not a value of the observation."""
    near = cond("distance_km", "<=", 100)
    assert holds(near, _reading({}, distance=40.0))
    assert not holds(near, _reading({}, distance=None))


def test_window_counts_only_its_own_span() -> None:
    """A 3 h sum ending at the reading ignores older rain and other values."""
    amounts: list[Value] = [50, 10, "?", 10]
    series = tuple(
        obs(RAIN, {"precipitation_mm": mm}, area_ids=("manggar",), time=at(60 * h))
        for h, mm in enumerate(amounts)
    )
    reading = Reading(series[-1], "manggar", None, series)
    three_hours = timedelta(hours=3)
    assert holds(cond("precipitation_mm", "==", 20, three_hours, "sum"), reading)
    assert holds(cond("precipitation_mm", "==", 10, three_hours), reading)


def test_level_is_the_highest_step_that_holds() -> None:
    """The ladder gives the top matching level; the rule's `when` gates every step."""
    ladder = rule(
        "r",
        RAIN,
        cond("period_s", "==", 3600),
        (("waspada", None), ("siaga", cond("precipitation_mm", ">=", 50))),
    )
    assert level_of(ladder, _reading({"precipitation_mm": 60, "period_s": 3600})) is Level.SIAGA
    assert level_of(ladder, _reading({"precipitation_mm": 10, "period_s": 3600})) is Level.WASPADA
    assert level_of(ladder, _reading({"precipitation_mm": 60, "period_s": 60})) is None


def test_uses_distance_looks_inside_combinations() -> None:
    """A `distance_km` nested in all/any counts; None expressions are skipped."""
    nested = AnyOf((cond("magnitude", ">=", 6), AllOf((cond("distance_km", "<", 50),))))
    assert uses_distance([None, nested])
    assert not uses_distance([cond("magnitude", ">=", 6), None])


def test_an_amount_over_a_longer_period_is_no_part_of_a_shorter_window() -> None:
    """150 mm in a 3-hour slot is not 150 mm in one hour; in a 3-hour window it counts whole."""
    slot = obs(RAIN, {"precipitation_mm": 150.0, "period_s": 10800}, area_ids=("manggar",))
    reading = Reading(slot, "manggar", None, (slot,))
    assert not holds(cond("precipitation_mm", ">=", 10, timedelta(hours=1), "sum"), reading)
    assert holds(cond("precipitation_mm", ">=", 150, timedelta(hours=3), "sum"), reading)


def test_sample_messages_read_a_windowed_rule_at_its_threshold_and_window() -> None:
    """`rules check --show` renders a 24 h rule at siaga as "150 mm/24 jam".

    A rule without a sum (the worst gust in 30 min) keeps the sample values as they are.
    """
    assert threshold_values(rain_rule(), Level.SIAGA) == {
        "precipitation_mm": 150,
        "period_s": 86400.0,
    }
    gusts = cond("wind_gust_ms", ">=", 17.2, timedelta(minutes=30), "max")
    assert threshold_values(rule("angin", ObservationKind.WIND, gusts), Level.WASPADA) == {}
