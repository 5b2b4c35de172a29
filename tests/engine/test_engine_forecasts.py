"""Forecasts (kind prakiraan): one event per slot, warned ahead, ended by the slot's end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.rules import Keeper, areas, at, cond, kinds, obs, rain, rule
from warning.model import Level, Observation, ObservationKind, Value
from warning.rules.events import merge

PRAKIRAAN = ObservationKind.PRAKIRAAN


def forecast(
    mm: float, start_minutes: float, area: str = "gunung-sari-ulu", **fields: Any
) -> Observation:
    """A BMKG 3-hour slot forecast of `mm` for one kelurahan, starting T0 + minutes."""
    start, end = at(start_minutes), at(start_minutes + 180)
    values: dict[str, Value] = {
        "precipitation_mm": mm,
        "period_s": 10800,
        "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fields.setdefault("source", "bmkg-forecast")
    fields.setdefault("event_id", f"bmkg-forecast:{area}:{start_minutes}")
    return obs(PRAKIRAAN, values, area_ids=(area,), time=start, **fields)


def forecast_rule() -> Any:
    """WASPADA from 50 mm per slot, SIAGA from 100 mm."""
    levels = (("waspada", None), ("siaga", cond("precipitation_mm", ">=", 100)))
    when = cond("precipitation_mm", ">=", 50)
    return rule("prakiraan", PRAKIRAAN, when, levels, areas=("gunung-sari-ulu",))


def test_a_forecast_warns_ahead_and_ends_with_its_slot() -> None:
    """A slot 5 h ahead fires now; it holds through the slot and resolves at its end."""
    keeper = Keeper([forecast_rule()], areas())
    assert kinds(keeper.step(0, [forecast(150.0, 300)])) == ["fired"]
    assert keeper.status("gunung-sari-ulu").level is Level.SIAGA
    assert keeper.step(479) == []
    assert kinds(keeper.step(480)) == ["resolved"]


def test_a_newer_forecast_of_the_same_slot_replaces_the_older() -> None:
    """The next analysis lowers the slot to 60 mm: the alert de-escalates, not a second one."""
    keeper = Keeper([forecast_rule()], areas())
    keeper.step(0, [forecast(150.0, 300)])
    assert kinds(keeper.step(60, [forecast(60.0, 300)])) == ["deescalated"]
    assert keeper.status("gunung-sari-ulu").level is Level.WASPADA


def test_forecasts_are_grouped_by_slot_id_and_exercise() -> None:
    """Slots merge by id (the latest received speaks), exercises apart from live ones."""
    events = merge(
        [forecast(10.0, 0), forecast(20.0, 180), forecast(30.0, 0), forecast(5.0, 0, exercise=True)]
    )
    assert [e.observation.values["precipitation_mm"] for e in events] == [20.0, 30.0, 5.0]


def test_a_forecast_never_reaches_a_rainfall_rule() -> None:
    """Rules on measured rain read rainfall only: a 150 mm forecast fires nothing there."""
    hourly = rule(
        "hujan", ObservationKind.RAINFALL,
        cond("precipitation_mm", ">=", 10, timedelta(hours=1), "sum"),
        areas=("gunung-sari-ulu",),
    )  # fmt: skip
    keeper = Keeper([hourly], areas())
    assert keeper.step(0, [forecast(150.0, 0)]) == []
    assert kinds(keeper.step(60, [rain(30.0, 60, "gunung-sari-ulu")])) == ["fired"]
