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

from tests.support.paths import ROOT
from warning.areas import AreaIndex, areas_from_geojson, load_areas
from warning.model import AreaLevel, ConfigError


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


def test_share_is_measured_on_equal_areas(areas: AreaIndex) -> None:
    """Half of a kelurahan (cut at its equal-area median) is a share of 0.5, not of degrees.

    A polygon covering the western part of Graha Indah up to the longitude that
    splits its ground area in two covers it at min_share 0.5, and not at 0.51.
    """
    kel = areas.geometry("graha-indah")
    west, _south, east, _north = kel.bounds

    def share(lon: float) -> float:
        part = kel.intersection(shapely.box(west - 1, -90, lon, 90))
        return float(_geodesic_area(part) / _geodesic_area(kel))

    low, high = west, east
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if share(middle) < 0.5 else (low, middle)
    cut = ((west - 0.1, -2.0), (high, -2.0), (high, 0.0), (west - 0.1, 0.0), (west - 0.1, -2.0))
    at_half = AreaIndex(areas.areas, _geometries(areas), min_share=0.499)
    above = AreaIndex(areas.areas, _geometries(areas), min_share=0.51)
    assert "graha-indah" in at_half.covering([cut])
    assert "graha-indah" not in above.covering([cut])


def test_polygon_grazing_an_edge_covers_nothing(areas: AreaIndex) -> None:
    """Manggar Baru's outline drawn 50 m too wide grazes Manggar: it covers Manggar Baru only."""
    wide = areas.geometry("manggar-baru").buffer(0.00045)
    ring = tuple(max(getattr(wide, "geoms", [wide]), key=lambda g: g.area).exterior.coords)
    assert "manggar" in areas.intersecting([ring])
    assert areas.covering([ring]) == ("manggar-baru",)


def test_named_kecamatan_is_covered_without_any_polygon(areas: AreaIndex) -> None:
    """BMKG naming a kecamatan in its text covers every kelurahan of it."""
    named = areas.kecamatan_named("khususnya di Balikpapan Barat, BALIKPAPAN-TIMUR dan Samboja")
    assert named == ("balikpapan-timur", "balikpapan-barat")
    assert areas.covering([], named) == areas.select(["balikpapan-timur", "balikpapan-barat"])
    assert areas.kecamatan_named("Kota Balikpapan dan Balikpapan Kotabaru") == ()


def test_interior_points_lie_inside_their_kelurahan(areas: AreaIndex) -> None:
    """Each kelurahan's model point is inside it, even where the centroid is not."""
    ids = [a.id for a in areas.kelurahan]
    points = [areas.interior_point(i) for i in ids]
    assert areas.kelurahan_ids_at(points) == ids


def test_seaward_points_lie_at_sea_off_their_kelurahan(areas: AreaIndex) -> None:
    """Marine points are outside every kelurahan and within a few km of their own."""
    for area in (a for a in areas.kelurahan if a.coastal):
        lon, lat = areas.seaward_point(area.id, 3.0)
        assert areas.locate(lon, lat).kelurahan is None
        assert 0.5 < areas.distance_km(lon, lat, area.id) <= 3.5


def test_seaward_point_of_an_enclosed_kelurahan_is_its_interior(areas: AreaIndex) -> None:
    """A kelurahan with no coast of its own (all borders shared) keeps its interior point."""
    assert areas.seaward_point("gunung-sari-ilir", 3.0) == areas.interior_point("gunung-sari-ilir")


def _geometries(areas: AreaIndex) -> dict[str, Any]:
    """Every area's geometry by id, to build another index of the same areas."""
    return {a.id: areas.geometry(a.id) for a in areas.areas}


def _geodesic_area(geometry: Any) -> float:
    """Area on the WGS84 ellipsoid in m² (the reference the equal-area projection must match)."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geometry)[0])


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
