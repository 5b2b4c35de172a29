"""Areas: the shipped file agrees with the shared boundaries; locate, distance, select."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, shape

from warning.areas import AreaIndex, areas_from_geojson, load_areas
from warning.model import AreaLevel, ConfigError

from .conftest import ROOT


def _shared(shared_data: Path, name: str) -> list[dict[str, Any]]:
    """Features of one shared boundary file."""
    features: list[dict[str, Any]] = json.loads(
        (shared_data / f"balikpapan-{name}.geojson").read_text(encoding="utf-8")
    )["features"]
    return features


def _geodesic_reference_km(geometry: Any, lon: float, lat: float) -> float:
    """Independent distance: min WGS84 geodesic to the boundary densified to ~50 m."""
    if geometry.covers(Point(lon, lat)):
        return 0.0
    coords = shapely.get_coordinates(shapely.segmentize(geometry.boundary, 0.0005))
    n = len(coords)
    _, _, metres = Geod(ellps="WGS84").inv(
        np.full(n, lon), np.full(n, lat), coords[:, 0], coords[:, 1]
    )
    return float(np.min(metres)) / 1000.0


def test_forty_areas_with_six_properties(areas: AreaIndex) -> None:
    """34 kelurahan and 6 kecamatan, each with id, name, level, code, coastal (+ parent)."""
    assert len(areas.kelurahan) == 34
    assert len(areas.kecamatan) == 6
    raw = json.loads((ROOT / "areas.geojson").read_text(encoding="utf-8"))
    for feature in raw["features"]:
        keys = set(feature["properties"])
        expected = {"id", "name", "level", "kemendagri_code", "coastal"}
        if feature["properties"]["level"] == "kelurahan":
            expected.add("kecamatan_id")
        assert keys == expected


@pytest.mark.parametrize("name", ["kelurahan", "kecamatan"])
def test_agrees_with_shared_boundaries(areas: AreaIndex, shared_data: Path, name: str) -> None:
    """Ids, Kemendagri codes, coastal flags and geometry equal the shared source data."""
    for feature in _shared(shared_data, name):
        props = feature["properties"]
        area = areas.get(props["id"])
        assert area.kemendagri_code == props["kemendagri_code"]
        assert area.coastal == props["coastal"]
        assert area.level is AreaLevel(name)
        assert areas.geometry(area.id).is_valid
        assert areas.geometry(area.id).equals(shape(feature["geometry"]))


def test_kecamatan_is_union_of_its_kelurahan(areas: AreaIndex) -> None:
    """Each kecamatan equals the union of its kelurahan within 0.1 % of its area."""
    for kec in areas.kecamatan:
        parts = [areas.geometry(k.id) for k in areas.kelurahan if k.kecamatan_id == kec.id]
        union = shapely.union_all(parts)
        difference = areas.geometry(kec.id).symmetric_difference(union).area
        assert difference <= 0.001 * areas.geometry(kec.id).area, kec.id


def test_kecamatan_code_prefixes_its_kelurahan(areas: AreaIndex) -> None:
    """A kelurahan's Kemendagri code starts with its kecamatan's code."""
    for kel in areas.kelurahan:
        assert kel.kecamatan_id is not None
        assert kel.kemendagri_code.startswith(areas.get(kel.kecamatan_id).kemendagri_code + ".")


# Points in the bay, at sea off Manggar, far at sea, in the city, and quake epicentres.
POINTS = [
    (116.83, -1.27),
    (116.96, -1.17),
    (116.79, -1.25),
    (116.95, -1.30),
    (117.50, -0.50),
    (118.90, -2.70),
    (98.39, -0.93),
    (122.26, -7.59),
]


@pytest.mark.parametrize(("lon", "lat"), POINTS)
def test_distance_matches_geodesic_reference(
    areas: AreaIndex, shared_data: Path, lon: float, lat: float
) -> None:
    """distance_km is within 0.5 % (or 10 m) of a densified pyproj.Geod computation."""
    km = areas.distances_km(lon, lat)
    for feature in _shared(shared_data, "kelurahan") + _shared(shared_data, "kecamatan"):
        expected = _geodesic_reference_km(shape(feature["geometry"]), lon, lat)
        got = km[feature["properties"]["id"]]
        assert got == pytest.approx(expected, rel=0.005, abs=0.01), feature["properties"]["id"]


@settings(max_examples=150, deadline=None)
@given(
    lon=st.floats(min_value=116.70, max_value=117.10),
    lat=st.floats(min_value=-1.35, max_value=-0.95),
)
def test_locate_agrees_with_brute_force(areas: AreaIndex, lon: float, lat: float) -> None:
    """locate() names the kelurahan whose shared polygon contains the point, or none."""
    point = Point(lon, lat)
    containing = [a.id for a in areas.kelurahan if areas.geometry(a.id).covers(point)]
    found = areas.locate(lon, lat)
    if not containing:
        assert found.kelurahan is None
        assert found.kecamatan is None
    else:
        assert found.kelurahan is not None
        assert found.kelurahan.id in containing
        assert found.kecamatan is not None
        assert found.kecamatan.id == found.kelurahan.kecamatan_id
        assert areas.distance_km(lon, lat, found.kelurahan.id) == 0.0


def test_bulk_locating_agrees_with_locate(areas: AreaIndex) -> None:
    """One tree query for many points gives what `locate` gives each: borders, outside."""
    rng = np.random.default_rng(11)
    points = [
        (float(x), float(y)) for x, y in rng.uniform((116.6, -1.45), (117.15, -0.85), (400, 2))
    ]
    for kelurahan in areas.kelurahan:
        # Polygon vertices lie on borders between kelurahan: the tie rule must match too.
        coords = shapely.get_coordinates(areas.geometry(kelurahan.id))
        points += [(float(x), float(y)) for x, y in coords[::97]]
    points.append((120.0, 5.0))
    expected = [areas.locate(lon, lat).kelurahan for lon, lat in points]
    assert areas.kelurahan_ids_at(points) == [k.id if k else None for k in expected]
    assert areas.kelurahan_ids_at([]) == []


def test_selectors_resolve_to_kelurahan(areas: AreaIndex) -> None:
    """all, coastal, kecamatan:<id>, a kecamatan id, a kelurahan id and lists."""
    assert len(areas.select("all")) == 34
    coastal = areas.select("coastal")
    assert "manggar" in coastal
    assert "karang-joang" not in coastal
    assert all(areas.get(i).coastal for i in coastal)
    utara = areas.select("kecamatan:balikpapan-utara")
    assert set(utara) == {
        "batu-ampar",
        "gunung-samarinda",
        "karang-joang",
        "muara-rapak",
        "gunung-samarinda-baru",
        "graha-indah",
    }
    assert areas.select("balikpapan-utara") == utara
    assert areas.select(["manggar", "manggar", "lamaru"]) == ("manggar", "lamaru")


@pytest.mark.parametrize("selector", ["atlantis", "kecamatan:manggar", "kecamatan:nowhere"])
def test_unknown_selector_raises_key_error(areas: AreaIndex, selector: str) -> None:
    """A typo in a selector is an error, never an empty selection."""
    with pytest.raises(KeyError):
        areas.select(selector)


def test_polygon_reaches_only_the_kelurahan_it_touches(areas: AreaIndex) -> None:
    """A small CAP polygon around Manggar's shore touches Manggar, not Karang Joang."""
    ring = ((116.93, -1.23), (116.95, -1.23), (116.95, -1.21), (116.93, -1.21), (116.93, -1.23))
    touched = areas.intersecting([ring])
    assert "manggar" in touched
    assert "karang-joang" not in touched
    assert areas.intersecting([((100.0, 0.0), (100.1, 0.0), (100.1, 0.1))]) == ()


def _broken_document() -> dict[str, Any]:
    """An areas file with one of every mistake."""
    good = json.loads((ROOT / "areas.geojson").read_text(encoding="utf-8"))
    features = good["features"]
    kel = next(f for f in features if f["properties"]["level"] == "kelurahan")
    swapped = json.loads(json.dumps(kel))
    swapped["properties"]["id"] = "swapped"
    swapped["geometry"]["coordinates"] = [
        [[lat, lon] for lon, lat in ring] for ring in kel["geometry"]["coordinates"]
    ]
    bowtie = json.loads(json.dumps(kel))
    bowtie["properties"]["id"] = "bowtie"
    bowtie["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    }
    orphan = json.loads(json.dumps(kel))
    orphan["properties"]["id"] = "orphan"
    orphan["properties"]["kecamatan_id"] = "balikpapan-nowhere"
    nameless = json.loads(json.dumps(kel))
    nameless["properties"] = {"id": "nameless", "level": "kelurahan"}
    empty = json.loads(json.dumps(kel))
    empty["properties"]["id"] = "empty"
    empty["geometry"] = {"type": "Polygon", "coordinates": []}
    return {
        "type": "FeatureCollection",
        "features": [*features, kel, swapped, bowtie, orphan, nameless, empty],
    }


def test_broken_file_reports_every_problem_at_once() -> None:
    """Duplicate id, lat/lon order, invalid and empty geometry, missing properties, orphan."""
    with pytest.raises(ConfigError) as caught:
        areas_from_geojson(_broken_document(), "areas.geojson")
    text = str(caught.value)
    assert 'duplicate id "manggar"' in text
    assert "feature 41 (swapped): coordinates out of range (coordinates look like lat,lon" in text
    assert "feature 42 (bowtie): invalid geometry: Self-intersection" in text
    assert 'unknown kecamatan_id "balikpapan-nowhere"' in text
    assert "feature 44 (nameless): missing property 'name'" in text
    assert "feature 45 (empty): geometry must be a non-empty (Multi)Polygon" in text
    assert len(caught.value.problems) >= 7


@pytest.mark.parametrize("text", ["", "{", "[]", '{"type": "FeatureCollection", "features": []}'])
def test_unreadable_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    """Empty, truncated or featureless files give a ConfigError, never a traceback."""
    path = tmp_path / "areas.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_areas(path)
