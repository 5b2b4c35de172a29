"""The engine after an operator cancelled an alert: the false alert does not come back."""

from __future__ import annotations

from dataclasses import replace

from tests.support.rules import Keeper, at, kinds, quake, quake_rule, rain, rain_rule
from warning.areas import AreaIndex
from warning.model import AlertState

HOUR = 60


def _cancel(keeper: Keeper, area_id: str, minutes: float) -> None:
    """What `warning alert cancel` stores: the episode is CANCELLED as of now."""
    key = (keeper.rules[0].id, area_id)
    status = keeper.states[key]
    keeper.states[key] = replace(status, state=AlertState.CANCELLED, since=at(minutes))


def test_cancelled_event_is_not_fired_again_by_its_own_reports(index: AreaIndex) -> None:
    """The same quake, re-served or revised at the same level, starts nothing after a cancel."""
    keeper = Keeper([quake_rule()], index)
    assert "fired" in kinds(keeper.step(1, [quake(6.5)]), "manggar")
    _cancel(keeper, "manggar", 2)
    assert kinds(keeper.step(3, [quake(6.5)]), "manggar") == []
    assert kinds(keeper.step(4, [quake(6.4, time=at(0.1))]), "manggar") == []


def test_cancelled_event_fires_again_above_the_cancelled_level(index: AreaIndex) -> None:
    """A revision above the cancelled level is news: it fires (the operator can cancel again)."""
    keeper = Keeper([quake_rule()], index)
    keeper.step(1, [quake(6.5)])
    _cancel(keeper, "manggar", 2)
    assert kinds(keeper.step(3, [quake(7.2, time=at(0.1))]), "manggar") == ["fired"]


def test_cancelled_reading_alert_waits_for_a_newer_reading(index: AreaIndex) -> None:
    """Readings from before the cancel start nothing; a wetter newer one does."""
    keeper = Keeper([rain_rule()], index)
    for h in range(10):
        keeper.step(h * HOUR, [rain(10, h * HOUR)])
    assert keeper.status("graha-indah").state is AlertState.FIRING
    _cancel(keeper, "graha-indah", 9 * HOUR + 5)
    assert keeper.step(9 * HOUR + 10) == []
    assert kinds(keeper.step(10 * HOUR, [rain(10, 10 * HOUR)])) == ["fired"]
