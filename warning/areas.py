"""Balikpapan's kelurahan and kecamatan: load, validate, locate, measure, select.

Kelurahan are the unit of alerting: every selector resolves to kelurahan ids.
Containment and intersection are tested on the WGS84 polygons as published;
distances are geodesic (WGS84 ellipsoid): the nearest point of each polygon is
found in UTM zone 50S, where the city lies, and the distance to it is then
measured on the ellipsoid with `pyproj.Geod`.  The nearest point is a
polygon's own (conformal projection, city-sized polygons), so the result
agrees with a densified geodesic search to 1e-5 even 15,000 km away.

Shares of area (how much of a kelurahan a warning polygon covers) are measured
in a Lambert azimuthal equal-area projection centred on the city: equal-area by
construction, so a share is a true share of ground on the ellipsoid (UTM is
conformal, not equal-area), and planar so that shapely can intersect the shapes.
At city scale its shape distortion is far below the precision of the polygons.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from warning.model import Area, AreaLevel, ConfigError, Problem, Ring

_GEOD = Geod(ellps="WGS84")
# UTM 50S holds Balikpapan (116.8 E, 1.3 S): metres for finding nearest points.
_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True)
_FROM_UTM = Transformer.from_crs("EPSG:32750", "EPSG:4326", always_xy=True)
# Equal-area projection centred on Balikpapan, for shares of a kelurahan's area.
_TO_EQUAL_AREA = Transformer.from_crs(
    "EPSG:4326", "+proj=laea +lat_0=-1.2 +lon_0=116.9 +datum=WGS84 +units=m", always_xy=True
)

#: A warning polygon covers a kelurahan when it covers at least this share of its area.
DEFAULT_MIN_SHARE = 0.20
#: Points whose kelurahan and distances an index remembers: the daemon's history
#: (hours of readings from fixed stations and grid points) fits many times over.
POINT_CACHE = 100_000
#: How far off the coast a marine model point is put (km), and the farthest tried.
OFFSHORE_KM = 3.0
_OFFSHORE_TRIES = (1.0, 1.5, 2.0, 3.0)

REQUIRED = ("id", "name", "level", "kemendagri_code", "coastal")


@dataclass(frozen=True, slots=True)
class Location:
    """The kelurahan and kecamatan containing a point (None outside the city)."""

    kelurahan: Area | None
    kecamatan: Area | None


class AreaIndex:
    """The city's areas with prepared geometries in an STRtree; immutable once built.

    Where a point lies and how far it is from each area never change, and every
    evaluation sees the same history points again: both are remembered per
    point (up to `POINT_CACHE` points, then forgotten all at once and refilled).
    """

    def __init__(
        self,
        areas: Sequence[Area],
        geometries: Mapping[str, BaseGeometry],
        min_share: float = DEFAULT_MIN_SHARE,
    ) -> None:
        self.min_share = min_share
        self.areas: tuple[Area, ...] = tuple(areas)
        self.kelurahan: tuple[Area, ...] = tuple(
            a for a in self.areas if a.level is AreaLevel.KELURAHAN
        )
        self.kecamatan: tuple[Area, ...] = tuple(
            a for a in self.areas if a.level is AreaLevel.KECAMATAN
        )
        self._by_id = {a.id: a for a in self.areas}
        #: Each kelurahan's place in `kelurahan`: what orders a selection.
        self._rank = {a.id: i for i, a in enumerate(self.kelurahan)}
        #: Selectors resolved before (the index never changes: a rule's areas are fixed).
        self._selected: dict[tuple[str, ...], tuple[tuple[str, ...], frozenset[str]]] = {}
        #: (lon, lat) -> kelurahan id (None outside), and -> km to every area.
        self._kelurahan_of: dict[tuple[float, float], str | None] = {}
        self._distances: dict[tuple[float, float], dict[str, float]] = {}
        #: (area id, offshore km) -> a seaward point: a few geometric unions each, and the
        #: marine feed asks for every coastal kelurahan at every poll.
        self._seaward: dict[tuple[str, float], tuple[float, float]] = {}
        #: Area id -> its representative point (the forecast feed asks at every poll).
        self._centroids: dict[str, tuple[float, float]] = {}
        #: Area position -> its open edge (UTM): every seaward point needs every coastal one.
        self._edges: dict[int, BaseGeometry] = {}
        self._ids = [a.id for a in self.areas]
        self._geoms = np.array([geometries[a.id] for a in self.areas], dtype=object)
        shapely.prepare(self._geoms)
        self._utm = np.array([shapely.transform(g, _utm_xy) for g in self._geoms], dtype=object)
        self._tree = STRtree(self._geoms)
        self._equal_area = np.array(
            [shapely.transform(g, _equal_area_xy) for g in self._geoms], dtype=object
        )

    def __contains__(self, area_id: object) -> bool:
        return area_id in self._by_id

    def get(self, area_id: str) -> Area:
        """The area with this id; KeyError naming it when unknown."""
        try:
            return self._by_id[area_id]
        except KeyError:
            raise KeyError(f'unknown area "{area_id}"') from None

    def geometry(self, area_id: str) -> BaseGeometry:
        """The WGS84 (lon, lat) polygon(s) of an area."""
        return self._geoms[self._ids.index(self.get(area_id).id)]

    def centroid(self, area_id: str) -> tuple[float, float]:
        """(lon, lat) of a point inside the area's largest part, for point forecasts."""
        found = self._centroids.get(area_id)
        if found is None:
            point = self.geometry(area_id).representative_point()
            found = self._centroids[area_id] = (round(point.x, 5), round(point.y, 5))
        return found

    def interior_point(self, area_id: str) -> tuple[float, float]:
        """(lon, lat) of a point surely inside the area (shapely `representative_point`).

        A centroid can fall outside a crescent-shaped kelurahan or in the sea;
        a representative point never does, so a model value asked for there
        stands for that kelurahan.
        """
        return self.centroid(area_id)

    def seaward_point(self, area_id: str, offshore_km: float = OFFSHORE_KM) -> tuple[float, float]:
        """(lon, lat) at sea off a coastal kelurahan, outside every land polygon we know.

        Found once per (area, distance) and remembered: the geometry never changes.
        """
        key = (area_id, offshore_km)
        found = self._seaward.get(key)
        if found is None:
            found = self._seaward[key] = self._find_seaward(area_id, offshore_km)
        return found

    def _find_seaward(self, area_id: str, offshore_km: float) -> tuple[float, float]:
        """The seaward point off `area_id`, computed.

        Method: a kelurahan's open edge is the part of its boundary it shares with
        no other kelurahan: its shore, but also the city limit where it borders
        another regency on land (Teritip and Samboja).  The shore runs on from
        one coastal kelurahan to the next, so the open edge's points are tried
        nearest to the other coastal kelurahan's open edges first (the city limit
        lies away from them).  From the kelurahan's interior point, the direction
        to the edge point is followed past the edge by `offshore_km` (shorter
        steps when that lands on other land, e.g. across a narrow bay); the first
        candidate outside every kelurahan is taken.  A kelurahan with no open
        edge (enclosed by others) keeps its interior point.
        """
        index = self._ids.index(self.get(area_id).id)
        edge = self._open_edge(index)
        if edge.is_empty:
            return self.interior_point(area_id)
        centre = shapely.transform(self.geometry(area_id).representative_point(), _utm_xy)
        shore = shapely.union_all(
            [
                self._open_edge(i)
                for i, a in enumerate(self.areas)
                if a.level is AreaLevel.KELURAHAN and a.coastal and i != index
            ]
        )
        land = self._land
        steps = [offshore_km * f / 3.0 for f in _OFFSHORE_TRIES[::-1]]
        for along in _edge_samples(edge, shore if not shore.is_empty else centre):
            direction = np.array([along.x - centre.x, along.y - centre.y])
            length = float(np.hypot(*direction))
            for km in steps:
                x, y = np.array([along.x, along.y]) + direction / max(length, 1.0) * km * 1000.0
                if not land.intersects(Point(x, y)):
                    lon, lat = _FROM_UTM.transform(x, y)
                    return (round(float(lon), 5), round(float(lat), 5))
        return self.interior_point(area_id)

    def _kelurahan_rows(self) -> list[int]:
        """Positions of the kelurahan among all areas."""
        return [i for i, a in enumerate(self.areas) if a.level is AreaLevel.KELURAHAN]

    @functools.cached_property
    def _land(self) -> BaseGeometry:
        """Every kelurahan as one shape (UTM metres), prepared: what a seaward point avoids."""
        land = shapely.union_all(self._utm[self._kelurahan_rows()])
        shapely.prepare(land)
        return land

    def _open_edge(self, index: int) -> BaseGeometry:
        """The boundary (UTM metres) area `index` shares with no other kelurahan (remembered)."""
        edge = self._edges.get(index)
        if edge is None:
            rows = [i for i in self._kelurahan_rows() if i != index]
            # Only kelurahan within the 25 m tolerance can cover part of the boundary:
            # the union of those few is the same cut as the union of all.
            near = shapely.dwithin(self._utm[rows], self._utm[index], 25.0)
            others = shapely.union_all(self._utm[rows][near])
            edge = self._edges[index] = self._utm[index].boundary.difference(others.buffer(25.0))
        return edge

    def locate(self, lon: float, lat: float) -> Location:
        """The kelurahan and kecamatan containing (lon, lat); borders count as inside."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        found = [self.areas[i] for i in sorted(hits)]
        kel = next((a for a in found if a.level is AreaLevel.KELURAHAN), None)
        kec = next((a for a in found if a.level is AreaLevel.KECAMATAN), None)
        return Location(kelurahan=kel, kecamatan=kec)

    def kelurahan_ids_at(self, points: Sequence[tuple[float, float]]) -> list[str | None]:
        """`locate(...).kelurahan` of many (lon, lat) points in one tree query: ids or None."""
        known = self._kelurahan_of
        if len(known) + len(points) > POINT_CACHE:
            known.clear()
        todo = list(dict.fromkeys(p for p in points if p not in known))
        if todo:
            known.update(zip(todo, self._locate_kelurahan(todo), strict=True))
        return [known[p] for p in points]

    def _locate_kelurahan(self, points: Sequence[tuple[float, float]]) -> list[str | None]:
        """The kelurahan ids of (lon, lat) points by one tree query, not remembered."""
        lon, lat = np.asarray(points, dtype=float).T
        inputs, hits = self._tree.query(shapely.points(lon, lat), predicate="intersects")
        # As in `locate`, a point on a border belongs to the first kelurahan in index order.
        first: dict[int, int] = {}
        for i, hit in zip(inputs.tolist(), hits.tolist(), strict=True):
            if self.areas[hit].level is AreaLevel.KELURAHAN and hit < first.get(i, hit + 1):
                first[i] = hit
        return [self.areas[first[i]].id if i in first else None for i in range(len(points))]

    def distance_km(self, lon: float, lat: float, area_id: str) -> float:
        """Geodesic distance from (lon, lat) to the area's nearest point; 0 inside."""
        self.get(area_id)
        return self.distances_km(lon, lat)[area_id]

    def distances_km(self, lon: float, lat: float) -> dict[str, float]:
        """Geodesic distance in km from (lon, lat) to every area (0 inside)."""
        known = self._distances.get((lon, lat))
        if known is None:
            known = self._measure(lon, lat)
            if len(self._distances) >= POINT_CACHE:
                self._distances.clear()
            self._distances[(lon, lat)] = known
        return dict(known)  # a copy: the caller may change it, the remembered one stays

    def _measure(self, lon: float, lat: float) -> dict[str, float]:
        """`distances_km`, measured."""
        _check_lon_lat(lon, lat)
        point = Point(lon, lat)
        inside = shapely.intersects(self._geoms, point)
        near_lon, near_lat = self._nearest_points(lon, lat)
        _, _, metres = _GEOD.inv(
            np.full(len(near_lon), lon), np.full(len(near_lat), lat), near_lon, near_lat
        )
        km = np.where(inside, 0.0, np.asarray(metres) / 1000.0)
        return dict(zip(self._ids, (float(v) for v in km), strict=True))

    def _nearest_points(self, lon: float, lat: float) -> tuple[Any, Any]:
        """(lon, lat) arrays of each area's point nearest to (lon, lat)."""
        x, y = _TO_UTM.transform(lon, lat)
        lines = shapely.shortest_line(self._utm, Point(x, y))
        start = shapely.get_point(lines, 0)
        return _FROM_UTM.transform(shapely.get_x(start), shapely.get_y(start))

    def intersecting(self, rings: Iterable[Ring]) -> tuple[str, ...]:
        """Kelurahan ids a set of (lon, lat) polygons touches, in Kemendagri order."""
        hit: set[str] = set()
        for ring in rings:
            polygon = _polygon(ring)
            if polygon is None:
                continue
            for i in self._tree.query(polygon, predicate="intersects"):
                if self.areas[i].level is AreaLevel.KELURAHAN:
                    hit.add(self.areas[i].id)
        return tuple(a.id for a in self.kelurahan if a.id in hit)

    def covering(
        self, rings: Iterable[Ring], named_kecamatan: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """Kelurahan a warning covers, in Kemendagri order.

        A kelurahan is covered when the union of the (lon, lat) polygons covers
        at least `min_share` of its area (a polygon grazing its edge does not
        count), or when its kecamatan is among `named_kecamatan` (the warning's
        text names it: BMKG's own word for the place).
        """
        polygons = [p for p in (_polygon(r) for r in rings) if p is not None]
        named = set(named_kecamatan)
        hit = {a.id for a in self.kelurahan if a.kecamatan_id in named}
        if polygons:
            union = shapely.union_all(polygons)
            projected = shapely.transform(union, _equal_area_xy)
            for i in self._tree.query(union, predicate="intersects"):
                area = self.areas[i]
                if area.level is not AreaLevel.KELURAHAN or area.id in hit:
                    continue
                whole = self._equal_area[i]
                share = shapely.area(shapely.intersection(whole, projected)) / shapely.area(whole)
                if share >= self.min_share:
                    hit.add(area.id)
        return tuple(a.id for a in self.kelurahan if a.id in hit)

    def kecamatan_named(self, text: str) -> tuple[str, ...]:
        """Ids of the kecamatan whose name the text contains as whole words (any case).

        "Balikpapan Timur" and "balikpapan-timur" match; "Kota Balikpapan" (the
        city) does not match the kecamatan "Balikpapan Kota".
        """
        found: list[str] = []
        for area in self.kecamatan:
            words = r"[\s\-]+".join(re.escape(w) for w in area.name.split())
            if re.search(rf"(?<!\w){words}(?!\w)", text, re.IGNORECASE):
                found.append(area.id)
        return tuple(found)

    def select(self, selector: str | Sequence[str]) -> tuple[str, ...]:
        """Kelurahan ids of a selector: all, coastal, kecamatan:<id>, an area id, or a list.

        A kecamatan id stands for its kelurahan. Unknown names raise KeyError.
        """
        return self._selection(selector)[0]

    def among(self, selector: str | Sequence[str], area_ids: Iterable[str]) -> tuple[str, ...]:
        """The kelurahan of `area_ids` that the selector names, in `select`'s order.

        Costs the size of `area_ids`, not of the map: the engine judges only
        the areas some observation reaches or some stored state names.
        """
        chosen = self._selection(selector)[1]
        return tuple(sorted({a for a in area_ids if a in chosen}, key=self._rank.__getitem__))

    def _selection(self, selector: str | Sequence[str]) -> tuple[tuple[str, ...], frozenset[str]]:
        """The ids of a selector in map order and as a set, resolved once per selector."""
        names = (selector,) if isinstance(selector, str) else tuple(selector)
        if names not in self._selected:
            chosen: set[str] = set()
            for name in names:
                chosen.update(self._select_one(name))
            ordered = tuple(a.id for a in self.kelurahan if a.id in chosen)
            self._selected[names] = (ordered, frozenset(ordered))
        return self._selected[names]

    def _select_one(self, name: str) -> Iterable[str]:
        """Kelurahan ids of one selector word."""
        if name == "all":
            return (a.id for a in self.kelurahan)
        if name == "coastal":
            return (a.id for a in self.kelurahan if a.coastal)
        area = self.get(name.removeprefix("kecamatan:"))
        if name.startswith("kecamatan:") and area.level is not AreaLevel.KECAMATAN:
            raise KeyError(f'"{area.id}" is a kelurahan, not a kecamatan')
        if area.level is AreaLevel.KECAMATAN:
            return (a.id for a in self.kelurahan if a.kecamatan_id == area.id)
        return (area.id,)

    def names(self, area_ids: Iterable[str]) -> list[str]:
        """Display names of areas, in the order given."""
        return [self.get(i).name for i in area_ids]


def _utm_xy(coords: Any) -> Any:
    """shapely.transform callback: (lon, lat) rows to UTM 50S metres."""
    x, y = _TO_UTM.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _equal_area_xy(coords: Any) -> Any:
    """shapely.transform callback: (lon, lat) rows to equal-area metres."""
    x, y = _TO_EQUAL_AREA.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _edge_samples(edge: BaseGeometry, near: BaseGeometry) -> list[Point]:
    """Points every 250 m along an edge (UTM metres), nearest to `near` first."""
    lines: list[LineString] = [
        g for g in shapely.get_parts(shapely.line_merge(edge)) if g.geom_type == "LineString"
    ]
    samples = [
        line.interpolate(d) for line in lines for d in np.arange(0.0, line.length + 1.0, 250.0)
    ]
    return sorted(samples, key=near.distance)


def _polygon(ring: Ring) -> BaseGeometry | None:
    """A valid polygon from a (lon, lat) ring, or None when it has no area."""
    if len(ring) < 3:
        return None
    polygon = shapely.make_valid(Polygon(ring))
    return None if polygon.is_empty else polygon


def _check_lon_lat(lon: float, lat: float) -> None:
    """Refuse coordinates off the globe."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"coordinates out of range: lon {lon}, lat {lat}")


# ---------------------------------------------------------------------------
# Loading and validation.


def load_areas(path: Path, min_share: float = DEFAULT_MIN_SHARE) -> AreaIndex:
    """Read and validate an areas GeoJSON; ConfigError with every problem at once.

    `min_share` is the share of a kelurahan's area a warning polygon must cover.
    """
    where = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(Problem(where, "areas file not found")) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(Problem(where, f"not readable GeoJSON: {exc}")) from None
    return areas_from_geojson(document, where, min_share)


def areas_from_geojson(
    document: Any, where: str, min_share: float = DEFAULT_MIN_SHARE
) -> AreaIndex:
    """Validate a parsed GeoJSON FeatureCollection and index it."""
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        raise ConfigError(Problem(where, "expected a GeoJSON FeatureCollection with features"))
    problems: list[Problem] = []
    areas: list[Area] = []
    geometries: dict[str, BaseGeometry] = {}
    for index, feature in enumerate(features):
        parsed = _feature(feature, f"{where}: feature {index}", problems)
        if parsed is None:
            continue
        area, geometry = parsed
        if area.id in geometries:
            problems.append(Problem(where, f'feature {index}: duplicate id "{area.id}"'))
            continue
        areas.append(area)
        geometries[area.id] = geometry
    problems += _check_parents(areas, where)
    if not any(a.level is AreaLevel.KELURAHAN for a in areas) and not problems:
        problems.append(Problem(where, "no kelurahan: alerts need at least one"))
    if problems:
        raise ConfigError(problems)
    ordered = sorted(areas, key=lambda a: (a.level.value, a.kemendagri_code))
    return AreaIndex(ordered, geometries, min_share)


def _feature(feature: Any, label: str, problems: list[Problem]) -> tuple[Area, BaseGeometry] | None:
    """One feature's Area and geometry, or None after recording its problems."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict):
        problems.append(Problem("", f"{label}: not a GeoJSON Feature with properties"))
        return None
    label = f"{label} ({props.get('id', '?')})"
    before = len(problems)
    area = _area(props, label, problems)
    geometry = _geometry(feature.get("geometry"), label, problems)
    if len(problems) > before or area is None or geometry is None:
        return None
    return area, geometry


def _area(props: dict[str, Any], label: str, problems: list[Problem]) -> Area | None:
    """The Area described by a feature's properties."""
    missing = [k for k in REQUIRED if k not in props]
    if props.get("level") == "kelurahan" and "kecamatan_id" not in props:
        missing.append("kecamatan_id")
    for key in missing:
        problems.append(Problem("", f"{label}: missing property {key!r}"))
    if missing:
        return None
    try:
        level = AreaLevel(props["level"])
    except ValueError:
        problems.append(Problem("", f"{label}: level must be kelurahan or kecamatan"))
        return None
    if not isinstance(props["coastal"], bool):
        problems.append(Problem("", f"{label}: coastal must be true or false"))
        return None
    return Area(
        id=str(props["id"]),
        name=str(props["name"]),
        level=level,
        kemendagri_code=str(props["kemendagri_code"]),
        coastal=props["coastal"],
        kecamatan_id=str(props["kecamatan_id"]) if level is AreaLevel.KELURAHAN else None,
    )


def _geometry(raw: Any, label: str, problems: list[Problem]) -> BaseGeometry | None:
    """A valid, non-empty (multi)polygon in lon/lat order, or None after a problem."""
    try:
        geometry = shape(raw)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        problems.append(Problem("", f"{label}: unreadable geometry ({exc})"))
        return None
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        problems.append(Problem("", f"{label}: geometry must be a non-empty (Multi)Polygon"))
        return None
    min_x, min_y, max_x, max_y = geometry.bounds
    if abs(min_y) > 90 or abs(max_y) > 90 or abs(min_x) > 180 or abs(max_x) > 180:
        swapped = abs(min_x) <= 90 and abs(max_x) <= 90
        hint = " (coordinates look like lat,lon: GeoJSON wants lon,lat)" if swapped else ""
        problems.append(Problem("", f"{label}: coordinates out of range{hint}"))
        return None
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        problems.append(Problem("", f"{label}: invalid geometry: {reason}"))
        return None
    return geometry


def _check_parents(areas: Sequence[Area], where: str) -> list[Problem]:
    """Every kelurahan names a kecamatan that exists."""
    kecamatan = {a.id for a in areas if a.level is AreaLevel.KECAMATAN}
    return [
        Problem(where, f'area "{a.id}": unknown kecamatan_id "{a.kecamatan_id}"')
        for a in areas
        if a.level is AreaLevel.KELURAHAN and a.kecamatan_id not in kecamatan
    ]
