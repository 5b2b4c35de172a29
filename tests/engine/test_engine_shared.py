"""The engine shares locating and windows between rules: results never depend on it."""

from __future__ import annotations

import random
from datetime import timedelta

from tests.support.rules import T0, areas, at, cond, obs, quake, quake_rule, rain_rule, rule
from warning.areas import AreaIndex
from warning.model import Observation, ObservationKind, Rule
from warning.rules.engine import evaluate

HOUR = timedelta(hours=1)


def _rules() -> list[Rule]:
    """Rules of one kind that share readings and windows, and a quake rule by distance."""
    rain = ObservationKind.RAINFALL
    wind = ObservationKind.WIND
    return [
        rain_rule(areas=("all",)),
        rule("hujan-1j", rain, cond("precipitation_mm", ">=", 20, HOUR, "sum")),
        rule("hujan-1j-maks", rain, cond("precipitation_mm", ">=", 15, HOUR, "max")),
        rule(
            "hujan-dekat",
            rain,
            cond("distance_km", "<=", 2.0),
            areas=("kecamatan:balikpapan-kota",),
        ),
        rule("angin", wind, cond("wind_gust_ms", ">=", 17.2), areas=("coastal",)),
        quake_rule(),
    ]


def _observations(seed: int) -> list[Observation]:
    """Point rain and wind in and around the city over a day, and two quakes."""
    rng = random.Random(seed)
    found = [quake(6.5, event_id="q1"), quake(7.1, (117.3, -1.6), event_id="q2")]
    for i in range(300):
        lon, lat = rng.uniform(116.7, 117.05), rng.uniform(-1.3, -1.0)
        when = T0 + timedelta(minutes=rng.randint(0, 24 * 60))
        rain = {"precipitation_mm": rng.uniform(0, 30), "period_s": 3600}
        found.append(
            obs(ObservationKind.RAINFALL, rain, event_id=f"r{i}", time=when, lon=lon, lat=lat)
        )
        gust = {"wind_gust_ms": rng.uniform(5, 25)}
        found.append(obs(ObservationKind.WIND, gust, event_id=f"w{i}", time=when, lon=lon, lat=lat))
    return found


def test_rules_evaluated_together_decide_as_each_alone(index: AreaIndex) -> None:
    """Sharing points, readings and windows across rules changes no transition."""
    observations = _observations(3)
    now = at(24 * 60)
    together = evaluate(_rules(), observations, index, {}, now)
    alone = [t for r in _rules() for t in evaluate([r], observations, index, {}, now)]
    assert together == alone
    assert len({t.rule_id for t in together}) >= 4  # the load really fires several rules


def test_a_point_is_at_distance_zero_from_the_kelurahan_containing_it() -> None:
    """Only the kelurahan containing a point is 0 km from it; its neighbours are not."""
    index = areas()
    inside = index.locate(116.83, -1.25).kelurahan
    assert inside is not None
    neighbours = [a.id for a in index.kelurahan if a.kecamatan_id == inside.kecamatan_id]
    touching = rule(
        "hujan-di-sini",
        ObservationKind.RAINFALL,
        cond("distance_km", "<=", 0.0),
        areas=tuple(neighbours),
    )
    reading = obs(ObservationKind.RAINFALL, {"precipitation_mm": 5.0}, lon=116.83, lat=-1.25)
    fired = evaluate([touching], [reading], index, {}, T0)
    assert [t.area_id for t in fired] == [inside.id]
