"""Growth with the map: the same evaluation over the city, a province-sized and a nation-sized grid.

Three maps: Balikpapan's 34 kelurahan (`areas.geojson`), and synthetic maps of
square kelurahan (0.01 degree, about 1.1 km) grouped ten by ten into
kecamatan, about 1,000 and about 80,000 kelurahan, the west column coastal.
On each, the same load: 60 generated rules (rainfall, wind, sea level and
weather warnings over random selectors, through the real loader) and 2,000
point readings scattered over a city's worth of it (Balikpapan's bounding box;
a grid's south-west 6 x 6 kelurahan), evaluated from the states the first
evaluation left (what the daemon holds at the next poll).  The load stays the
same; the map around it grows, with rules over `all`, `coastal`, kecamatan
and lists of kelurahan.  Quakes are left
out: a rule measuring distance reaches every area by definition, so its cost
is linear in the areas it names, whatever the engine does.

The figure is the median evaluation time per observation; the target is
growth at most logarithmic: from 34 to N areas the cost per observation may
grow at most by log(N) / log(34).

Run: `python -m bench.scale [--quick]` (quick: the city and a 100-area grid).
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, emit, machine, quick_flag, say, verdict
from bench.evaluate import NOW, rules_for
from warning.areas import AreaIndex, areas_from_geojson, load_areas
from warning.model import Observation, ObservationKind
from warning.rules.engine import evaluate

CELL = 0.01
BLOCK = 10
ORIGIN = (110.0, -6.0)
OBSERVATIONS = 2_000
RULES = 60


def grid(side: int) -> AreaIndex:
    """A side x side grid of kelurahan, in kecamatan of BLOCK x BLOCK, the west column coastal."""
    features: list[dict[str, Any]] = []
    blocks = math.ceil(side / BLOCK)
    for bx in range(blocks):
        for by in range(blocks):
            width = min(BLOCK, side - bx * BLOCK) * CELL
            height = min(BLOCK, side - by * BLOCK) * CELL
            x, y = ORIGIN[0] + bx * BLOCK * CELL, ORIGIN[1] + by * BLOCK * CELL
            features.append(_feature(f"kec-{bx}-{by}", "kecamatan", (x, y, width, height), None))
    for ix in range(side):
        for iy in range(side):
            x, y = ORIGIN[0] + ix * CELL, ORIGIN[1] + iy * CELL
            parent = f"kec-{ix // BLOCK}-{iy // BLOCK}"
            features.append(_feature(f"kel-{ix}-{iy}", "kelurahan", (x, y, CELL, CELL), parent))
    return areas_from_geojson({"type": "FeatureCollection", "features": features}, "grid")


def _feature(
    area_id: str, level: str, box: tuple[float, float, float, float], parent: str | None
) -> dict[str, Any]:
    """One square area as a GeoJSON feature with the properties the loader requires."""
    x, y, w, h = box
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    props: dict[str, Any] = {"id": area_id, "name": area_id.replace("-", " ").title()}
    props |= {"level": level, "kemendagri_code": area_id, "coastal": x == ORIGIN[0]}
    if parent is not None:
        props["kecamatan_id"] = parent
    return {"type": "Feature", "properties": props, "geometry": _polygon(ring)}


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def city_bounds(areas: AreaIndex) -> tuple[float, float, float, float]:
    """West, south, east, north of every kelurahan of the map."""
    boxes = [areas.geometry(a.id).bounds for a in areas.kelurahan]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


#: Where a grid's readings fall: its south-west 6 x 6 kelurahan, a city's worth (36).
GRID_CITY = (ORIGIN[0], ORIGIN[1], ORIGIN[0] + 6 * CELL, ORIGIN[1] + 6 * CELL)


def readings(bounds: tuple[float, float, float, float], count: int, seed: int) -> list[Observation]:
    """`count` rain, wind and sea-level readings at random points within `bounds`, now."""
    rng = random.Random(seed)
    west, south, east, north = bounds
    found = []
    for i in range(count):
        lon, lat = round(rng.uniform(west, east), 5), round(rng.uniform(south, north), 5)
        pick = rng.random()
        if pick < 0.5:
            kind, values = ObservationKind.RAINFALL, {"precipitation_mm": rng.uniform(0, 60)}
        elif pick < 0.8:
            kind, values = ObservationKind.WIND, {"wind_gust_ms": rng.uniform(2, 28)}
        else:
            values = {"sea_level_m": rng.uniform(0, 2), "datum": "msl-model"}
            kind = ObservationKind.SEA_LEVEL
        eid = f"point-{i}"
        found.append(Observation("open-meteo", kind, eid, NOW, values, lon, lat))
    return found


def measure(
    name: str,
    areas: AreaIndex,
    bounds: tuple[float, float, float, float],
    repeats: int,
    seed: int = 7,
) -> dict[str, Any]:
    """The median evaluation per observation of the same load on one map."""
    every = rules_for(areas, seed, RULES, shipped=False)
    rules = tuple(r for r in every if r.kind is not ObservationKind.EARTHQUAKE)
    window = readings(bounds, OBSERVATIONS, seed)
    first = evaluate(rules, window, areas, {}, NOW)
    states = {t.status.key: t.status for t in first}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        evaluate(rules, window, areas, states, NOW)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {
        "bench": "scale",
        "case": name,
        "areas": len(areas.kelurahan),
        "observations": len(window),
        "rules": len(rules),
        "evaluate_ms": round(median * 1000, 2),
        "us_per_observation": round(median * 1e6 / len(window), 2),
        "repeats": repeats,
    }


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """The city, then the grids (a 100-area grid only with `quick`); print every line."""
    repeats = 3 if quick else 7
    sides = [10] if quick else [32, 283]
    areas = load_areas(ROOT / "areas.geojson")
    city = emit(measure("balikpapan", areas, city_bounds(areas), repeats))
    results = [city]
    for side in sides:
        result = measure(f"grid {side}x{side}", grid(side), GRID_CITY, repeats)
        limit = math.log(result["areas"]) / math.log(city["areas"])
        growth = result["us_per_observation"] / city["us_per_observation"]
        result |= {
            "growth_vs_city": round(growth, 2),
            "log_bound": round(limit, 2),
            "targets": {"growth_vs_city <= log(areas) / log(34)": verdict(growth <= limit)},
        }
        results.append(emit(result))
    _summary(results)
    return results


def _summary(results: Sequence[dict[str, Any]]) -> None:
    """The human summary."""
    say(f"scale on {machine()}:")
    for r in results:
        extra = ""
        if "targets" in r:
            extra = f", {r['growth_vs_city']}x the city (bound {r['log_bound']}x): "
        say(
            f"  {r['areas']} areas: {r['us_per_observation']} us per observation "
            f"({r['evaluate_ms']} ms for {r['observations']}){extra}{r.get('targets', '')}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration."""
    run(quick=quick_flag(argv, __doc__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
