"""The engine on readings: rainfall, wind and sea level series per area."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.rules import Keeper, at, cond, kinds, obs, rain, rain_rule, rule
from warning.areas import AreaIndex
from warning.model import AlertState, AnyOf, Level, ObservationKind, Rule

HOUR = 60


def _wet_day(keeper: Keeper, mm_per_hour: float = 10, hours: int = 12) -> list[str]:
    """Rain every hour from T0; returns the kinds of the last evaluation."""
    last: list[str] = []
    for h in range(hours):
        last = kinds(keeper.step(h * HOUR, [rain(mm_per_hour, h * HOUR)]))
    return last


def test_rain_fires_when_24h_sum_reaches_100mm(index: AreaIndex) -> None:
    """The tenth 10 mm hour makes 100 mm: waspada for the kelurahan it fell on."""
    keeper = Keeper([rain_rule()], index)
    for h in range(9):
        assert keeper.step(h * HOUR, [rain(10, h * HOUR)]) == []
    fired = keeper.step(9 * HOUR, [rain(10, 9 * HOUR)])
    assert kinds(fired) == ["fired"]
    assert (fired[0].area_id, fired[0].level) == ("graha-indah", Level.WASPADA)


def test_rain_over_another_kelurahan_does_not_reach(index: AreaIndex) -> None:
    """An area-id reading reaches only the kelurahan it names."""
    keeper = Keeper([rain_rule()], index)
    assert keeper.step(0, [rain(200, 0, area="manggar")]) == []


def test_repassing_history_does_not_double_count(index: AreaIndex) -> None:
    """The same reading passed again, even from history, counts once in a sum."""
    keeper = Keeper([rain_rule()], index)
    for h in range(5):
        keeper.step(h * HOUR, [rain(10, h * HOUR), rain(10, h * HOUR)])
    assert keeper.status("graha-indah").state is AlertState.INACTIVE


def test_future_readings_wait_for_their_time(index: AreaIndex) -> None:
    """A forecast slot counts once the clock reaches it, not before."""
    keeper = Keeper([rain_rule()], index)
    assert keeper.step(0, [rain(120, 3 * HOUR)]) == []
    assert kinds(keeper.step(3 * HOUR)) == ["fired"]


def test_feed_outage_never_resolves_rain(index: AreaIndex) -> None:
    """No readings for two days: the alert stays firing."""
    keeper = Keeper([rain_rule()], index)
    _wet_day(keeper)
    for h in range(12, 60, 6):
        assert keeper.step(h * HOUR) == []
    keeper.history.clear()
    assert keeper.step(70 * HOUR) == []
    assert keeper.status("graha-indah").state is AlertState.FIRING


def test_rain_resolves_when_the_window_dries(index: AreaIndex) -> None:
    """Dry readings after the wet day let the 24 h sum fall below 100 mm."""
    keeper = Keeper([rain_rule()], index)
    _wet_day(keeper)
    results = [kinds(keeper.step(h * HOUR, [rain(0, h * HOUR)])) for h in range(12, 40)]
    assert ["resolved"] in results
    assert keeper.status("graha-indah").state is AlertState.RESOLVED


def test_escalation_to_siaga_at_150mm(index: AreaIndex) -> None:
    """The ladder moves up as the sum passes 150 mm."""
    keeper = Keeper([rain_rule()], index)
    kinds_seen = [kinds(keeper.step(h * HOUR, [rain(20, h * HOUR)])) for h in range(8)]
    assert kinds_seen[4] == ["fired"]
    assert kinds_seen[7] == ["escalated"]
    assert keeper.status("graha-indah").level is Level.SIAGA


def _hourly_rule(**options: Any) -> Rule:
    """Waspada at 20 mm/h, siaga at 50 mm/h (an hourly reading, no window)."""
    levels = (
        ("waspada", cond("precipitation_mm", ">=", 20)),
        ("siaga", cond("precipitation_mm", ">=", 50)),
    )
    options.setdefault("areas", ("graha-indah",))
    return rule("hujan-1j", ObservationKind.RAINFALL, None, levels, **options)


def test_deescalation_waits_for_keep_firing_for(index: AreaIndex) -> None:
    """A lighter hour after siaga de-escalates only after keep_firing_for."""
    keeper = Keeper([_hourly_rule(keep_firing_for=timedelta(hours=2))], index)
    keeper.step(0, [rain(60, 0)])
    assert keeper.step(HOUR, [rain(30, HOUR)]) == []
    assert kinds(keeper.step(2 * HOUR, [rain(30, 2 * HOUR)])) == ["deescalated"]


def test_resolution_waits_for_keep_firing_for(index: AreaIndex) -> None:
    """A dry hour resolves only once nothing held for keep_firing_for."""
    keeper = Keeper([_hourly_rule(keep_firing_for=timedelta(hours=2))], index)
    keeper.step(0, [rain(25, 0)])
    assert keeper.step(HOUR, [rain(0, HOUR)]) == []
    assert keeper.status("graha-indah").level is Level.WASPADA
    assert kinds(keeper.step(2 * HOUR)) == ["resolved"]


def test_keep_firing_for_counts_from_the_stored_last_true_after_history_is_gone(
    index: AreaIndex,
) -> None:
    """A restart that lost the reading that held still waits keep_firing_for from it."""
    keeper = Keeper([_hourly_rule(keep_firing_for=timedelta(hours=2))], index)
    keeper.step(0, [rain(25, 0)])
    keeper.history.clear()
    assert keeper.step(HOUR, [rain(0, HOUR)]) == []
    assert keeper.status("graha-indah").state is AlertState.FIRING
    assert kinds(keeper.step(2 * HOUR)) == ["resolved"]


def test_clear_when_gives_hysteresis(index: AreaIndex) -> None:
    """Between `when` and `clear_when` the alert holds; only clear_when ends it."""
    rules = [_hourly_rule(clear_when=cond("precipitation_mm", "<", 5))]
    keeper = Keeper(rules, index)
    keeper.step(0, [rain(25, 0)])
    assert keeper.step(HOUR, [rain(10, HOUR)]) == []
    assert kinds(keeper.step(2 * HOUR, [rain(2, 2 * HOUR)])) == ["resolved"]


def test_a_reading_meeting_clear_when_never_fires(index: AreaIndex) -> None:
    """When `when` and `clear_when` overlap, clear_when wins: nothing starts."""
    rules = [_hourly_rule(clear_when=cond("precipitation_mm", "<", 40))]
    keeper = Keeper(rules, index)
    assert keeper.step(0, [rain(30, 0)]) == []


def test_for_makes_rain_pending_first(index: AreaIndex) -> None:
    """With `for: 1h` a heavy hour is pending; a second one fires."""
    keeper = Keeper([_hourly_rule(for_duration=timedelta(hours=1))], index)
    assert kinds(keeper.step(0, [rain(30, 0)])) == ["pending"]
    assert keeper.status("graha-indah").state is AlertState.PENDING
    assert kinds(keeper.step(HOUR, [rain(30, HOUR)])) == ["fired"]


def test_pending_rain_is_cancelled_by_a_dry_reading(index: AreaIndex) -> None:
    """The condition stopping before `for` cancels quietly."""
    keeper = Keeper([_hourly_rule(for_duration=timedelta(hours=1))], index)
    keeper.step(0, [rain(30, 0)])
    assert kinds(keeper.step(30, [rain(0, 30)])) == ["cancelled"]


def test_pending_holds_without_data(index: AreaIndex) -> None:
    """No data neither fires nor cancels a pending alert."""
    keeper = Keeper([_hourly_rule(for_duration=timedelta(hours=1))], index)
    keeper.step(0, [rain(30, 0)])
    keeper.history.clear()
    assert keeper.step(2 * HOUR) == []


def test_two_sources_at_once_take_the_higher_level(index: AreaIndex) -> None:
    """Two feeds reporting the same hour: the worse reading decides."""
    keeper = Keeper([_hourly_rule()], index)
    fired = keeper.step(0, [rain(60, 0, source="bmkg"), rain(25, 0)])
    assert fired[0].level is Level.SIAGA
    assert fired[0].status.values["precipitation_mm"] == 60


def test_wind_point_reading_reaches_the_kelurahan_containing_it(index: AreaIndex) -> None:
    """A point forecast without a distance condition speaks for its own kelurahan."""
    gale = rule("angin", ObservationKind.WIND, cond("wind_gust_ms", ">=", 17.2), areas=("all",))
    lon, lat = index.centroid("sepinggan")
    reading = obs(ObservationKind.WIND, {"wind_gust_ms": 20.0}, lon=lon, lat=lat)
    assert [t.area_id for t in Keeper([gale], index).step(0, [reading])] == ["sepinggan"]


def test_polygon_reading_without_area_ids_reaches_nothing(index: AreaIndex) -> None:
    """Polygons reach areas only through the area ids the adapter intersected."""
    gale = rule("angin", ObservationKind.WIND, cond("wind_gust_ms", ">=", 17.2))
    ring = ((116.8, -1.3), (116.9, -1.3), (116.9, -1.2))
    reading = obs(ObservationKind.WIND, {"wind_gust_ms": 20.0}, polygons=(ring,))
    assert Keeper([gale], index).step(0, [reading]) == []


def test_sudden_sea_level_rise_by_delta(index: AreaIndex) -> None:
    """A 0.5 m rise within 10 minutes (delta) fires for the coastal kelurahan."""
    window = timedelta(minutes=10)
    surge = rule(
        "rob-mendadak",
        ObservationKind.SEA_LEVEL,
        cond("sea_level_m", ">=", 0.5, window, "delta"),
        areas=("manggar",),
    )
    keeper = Keeper([surge], index)
    levels = [1.0, 1.05, 1.1, 1.7]
    results = [
        kinds(
            keeper.step(
                m * 5,
                [
                    obs(
                        ObservationKind.SEA_LEVEL,
                        {"sea_level_m": v},
                        area_ids=("manggar",),
                        time=at(m * 5),
                    )
                ],
            )
        )
        for m, v in enumerate(levels)
    ]
    assert results == [[], [], [], ["fired"]]


def test_a_windowed_rule_remembers_the_sum_it_judged_with_the_window_period(
    index: AreaIndex,
) -> None:
    """100 mm over ten hours fires the 24 h rule: its status says 100 mm in 86400 s, not 10 mm/h.

    The message prints what the rule decided on (the window's sum, with its real
    period), never the newest hour's reading.
    """
    keeper = Keeper([rain_rule()], index)
    _wet_day(keeper, hours=10)
    values = keeper.status("graha-indah").values
    assert (values["precipitation_mm"], values["period_s"]) == (100.0, 86400)


def test_an_escalation_carries_the_sum_of_its_own_level(index: AreaIndex) -> None:
    """At siaga the status holds the 24 h sum that reached 150 mm."""
    keeper = Keeper([rain_rule()], index)
    _wet_day(keeper, mm_per_hour=25, hours=6)
    status = keeper.status("graha-indah")
    assert status.level is Level.SIAGA
    assert (status.values["precipitation_mm"], status.values["period_s"]) == (150.0, 86400)


def test_a_window_of_worst_values_prints_the_worst_without_a_period(index: AreaIndex) -> None:
    """A gust rule over 30 min (max) prints the strongest gust it judged; a delta prints nothing.

    The ladder's own window (siaga: the max over 30 min) comes before the rule's
    `when`; a sea-level change (delta) is a change, not a value to print.
    """
    half = timedelta(minutes=30)
    gusts = rule(
        "angin",
        ObservationKind.WIND,
        AnyOf((cond("wind_gust_ms", ">=", 99, half, "delta"), cond("wind_speed_ms", ">=", 0))),
        (("waspada", None), ("siaga", cond("wind_gust_ms", ">=", 20, half, "max"))),
        areas=("graha-indah",),
    )
    keeper = Keeper([gusts], index)
    values = {"wind_speed_ms": 5, "wind_gust_ms": 25}
    keeper.step(0, [obs(ObservationKind.WIND, values, area_ids=("graha-indah",), time=at(0))])
    values = {"wind_speed_ms": 5, "wind_gust_ms": 12}
    keeper.step(10, [obs(ObservationKind.WIND, values, area_ids=("graha-indah",), time=at(10))])
    status = keeper.status("graha-indah")
    assert (status.level, status.values["wind_gust_ms"]) == (Level.SIAGA, 25.0)
    assert "period_s" not in status.values


def test_a_window_without_numbers_leaves_the_reading_as_it_is(index: AreaIndex) -> None:
    """A windowed value the readings lack is skipped: the next condition, or the reading, speaks."""
    hour = timedelta(hours=1)
    when = AnyOf((cond("wind_speed_ms", ">=", 1, hour, "max"), cond("wind_gust_ms", ">=", 10)))
    keeper = Keeper([rule("angin", ObservationKind.WIND, when, areas=("graha-indah",))], index)
    reading = obs(ObservationKind.WIND, {"wind_gust_ms": 15}, area_ids=("graha-indah",))
    keeper.step(0, [reading])
    assert dict(keeper.status("graha-indah").values) == {"wind_gust_ms": 15}
