"""CAP 1.2 documents: a pure rendering of one alert change, built with lxml.

Sections of the OASIS CAP 1.2 standard (01 July 2010) this follows:

- 3.2.1 `alert`: `identifier` without spaces, commas, `<` or `&`; `sent` with a
  numeric offset ("Alphabetic timezone designators such as Z MUST NOT be
  used"), we write WITA `+08:00`; `status` Actual, or Exercise for drills;
  `msgType` Alert for the first message of an alert, Update ("updates and
  supersedes the earlier message(s) identified in <references>") after it,
  Cancel for an operator's cancellation; `references` lists every earlier
  message as `sender,identifier,sent`, separated by whitespace.
- 3.2.2 `info`: one block per language (`id-ID`, `en-US`); a natural end
  (resolved, or a safety time-out) is an Update whose `responseType` is
  AllClear ("the subject event no longer poses a threat or concern"), which is
  how an all-clear is told apart from a retraction: Cancel means the earlier
  messages are withdrawn, which is what an operator's cancel is.
- 3.2.4 `area`: `polygon` is whitespace-separated `lat,lon` WGS 84 pairs,
  at least four, first equal to last; `geocode` is a valueName/value pair.

Mapping from kind and level (ends always: urgency Past, severity Minor,
certainty Observed, responseType AllClear):

| level   | urgency   | severity | responseType                       |
|---------|-----------|----------|------------------------------------|
| waspada | Expected  | Moderate | Monitor (tsunami: Prepare)         |
| siaga   | Immediate | Severe   | Prepare (tsunami: Evacuate)        |
| awas    | Immediate | Extreme  | Prepare (tsunami: Evacuate)        |

A tsunami warning is always urgency Immediate.  Certainty is Observed for
measured kinds (earthquake, rainfall, wind, sea level) and Likely for the
forecast and modelled ones (tsunami warning, weather warning).  Category: Geo
for earthquake, tsunami and sea level, Met for rain, wind and weather.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import shapely
from lxml import etree
from shapely.geometry.base import BaseGeometry

from warning.areas import AreaIndex
from warning.model import WITA, Level, ObservationKind, utc
from warning.plan.payloads import CapAlert, CapChange

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"

#: The languages of the info blocks: payload text key -> CAP language.
LANGUAGES = (("id", "id-ID"), ("en", "en-US"))

#: CAP allows any number of points; receivers handle at most about 100 well.
MAX_POLYGON_POINTS = 100

#: Decimal places of polygon coordinates (about a metre).
COORDINATE_DECIMALS = 5


class MsgType(enum.Enum):
    """The CAP msgType values we publish."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


CATEGORY: Mapping[ObservationKind, str] = MappingProxyType(
    {
        ObservationKind.EARTHQUAKE: "Geo",
        ObservationKind.TSUNAMI_WARNING: "Geo",
        ObservationKind.SEA_LEVEL: "Geo",
        ObservationKind.RAINFALL: "Met",
        ObservationKind.WIND: "Met",
        ObservationKind.WEATHER_WARNING: "Met",
        ObservationKind.PRAKIRAAN: "Met",
    }
)

EVENT: Mapping[ObservationKind, Mapping[str, str]] = MappingProxyType(
    {
        ObservationKind.EARTHQUAKE: {"id": "Gempa bumi", "en": "Earthquake"},
        ObservationKind.TSUNAMI_WARNING: {"id": "Peringatan dini tsunami", "en": "Tsunami"},
        ObservationKind.SEA_LEVEL: {"id": "Banjir rob", "en": "Coastal flooding"},
        ObservationKind.RAINFALL: {"id": "Hujan lebat", "en": "Heavy rain"},
        ObservationKind.WIND: {"id": "Angin kencang", "en": "Strong wind"},
        ObservationKind.WEATHER_WARNING: {"id": "Cuaca ekstrem", "en": "Severe weather"},
        ObservationKind.PRAKIRAAN: {"id": "Prakiraan cuaca", "en": "Weather forecast"},
    }
)

URGENCY = MappingProxyType(
    {Level.WASPADA: "Expected", Level.SIAGA: "Immediate", Level.AWAS: "Immediate"}
)
SEVERITY = MappingProxyType(
    {Level.WASPADA: "Moderate", Level.SIAGA: "Severe", Level.AWAS: "Extreme"}
)
FORECAST_KINDS = frozenset({ObservationKind.TSUNAMI_WARNING, ObservationKind.WEATHER_WARNING})


@dataclass(frozen=True, slots=True)
class Grading:
    """responseType, urgency, severity and certainty of one info block."""

    response: str
    urgency: str
    severity: str
    certainty: str


ALL_CLEAR = Grading("AllClear", "Past", "Minor", "Observed")


def grading(kind: ObservationKind, level: Level, change: CapChange) -> Grading:
    """The table in the module docstring, as a function of kind, level and change."""
    if change.ends:
        return ALL_CLEAR
    tsunami = kind is ObservationKind.TSUNAMI_WARNING
    acting = level >= Level.SIAGA
    response = ("Evacuate" if acting else "Prepare") if tsunami else _plain_response(acting)
    urgency = "Immediate" if tsunami else URGENCY[level]
    certainty = "Likely" if kind in FORECAST_KINDS else "Observed"
    return Grading(response, urgency, SEVERITY[level], certainty)


def _plain_response(acting: bool) -> str:
    """Prepare at siaga and above, else Monitor."""
    return "Prepare" if acting else "Monitor"


def parse_payload(payload: Mapping[str, Any], areas: AreaIndex) -> CapAlert:
    """The CapAlert of a stored payload whose areas all exist; ValueError naming what is wrong."""
    alert = CapAlert.from_json(payload)
    try:
        for area_id in alert.area_ids:
            areas.get(area_id)
    except KeyError as exc:
        raise ValueError(f"CAP payload names unknown {exc}") from None
    return alert


def cap_time(moment: datetime) -> str:
    """A CAP dateTime: WITA, whole seconds, numeric offset (never "Z")."""
    return utc(moment).astimezone(WITA).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class Header:
    """The `alert` element's own fields."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: MsgType
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who publishes, as aggregators (Google Public Alerts, national hubs) require it."""

    sender_name: str = "BPBD Kota Balikpapan"
    web: str = ""
    contact: str = ""
    default_expiry: timedelta = timedelta(hours=6)

    def complete(self, alert: CapAlert) -> CapAlert:
        """The alert with an expiry: its rule's, else `default_expiry` after it was sent."""
        if alert.expires is not None:
            return alert
        return dataclasses.replace(alert, expires=alert.sent + self.default_expiry)


#: The publisher of the embedded defaults (`[cap]` settings build the configured one).
DEFAULT_PUBLISHER = Publisher()


def render(
    header: Header, alert: CapAlert, areas: AreaIndex, publisher: Publisher = DEFAULT_PUBLISHER
) -> bytes:
    """The CAP 1.2 XML document of one alert change."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})  # type: ignore[dict-item]  # lxml-stubs lack the default namespace
    _add(root, "identifier", header.identifier)
    _add(root, "sender", header.sender)
    _add(root, "sent", cap_time(header.sent))
    _add(root, "status", "Exercise" if alert.drill else "Actual")
    _add(root, "msgType", header.msg_type.value)
    _add(root, "scope", "Public")
    if header.references:
        _add(root, "references", " ".join(header.references))
    for text_key, language in LANGUAGES:
        _add_info(root, alert, text_key, language, areas, publisher=publisher)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    """Append `<tag>text</tag>` in the CAP namespace."""
    child = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    child.text = text
    return child


def _add_info(
    root: etree._Element,
    alert: CapAlert,
    text_key: str,
    language: str,
    areas: AreaIndex,
    *,
    publisher: Publisher,
) -> None:
    """One `info` block in one language, elements in the schema's order."""
    info = etree.SubElement(root, f"{{{CAP_NS}}}info")
    grade = grading(alert.kind, alert.level, alert.change)
    _add(info, "language", language)
    _add(info, "category", CATEGORY[alert.kind])
    _add(info, "event", EVENT[alert.kind][text_key])
    for tag, value in zip(
        ("responseType", "urgency", "severity", "certainty"), _grade_values(grade), strict=True
    ):
        _add(info, tag, value)
    _add(info, "effective", cap_time(alert.sent))
    if alert.expires is not None:
        _add(info, "expires", cap_time(alert.expires))
    _add(info, "senderName", publisher.sender_name)
    for tag, texts in (
        ("headline", alert.headline),
        ("description", alert.description),
        ("instruction", alert.instruction),
    ):
        if _in_language(texts, text_key):
            _add(info, tag, _in_language(texts, text_key))
    for tag, text in (("web", publisher.web), ("contact", publisher.contact)):
        if text:
            _add(info, tag, text)
    for name, value in _parameters(alert):
        _add_pair(info, "parameter", name, value)
    _add_area(info, alert.area_ids, areas)


def _grade_values(grade: Grading) -> tuple[str, str, str, str]:
    """The grading in schema order."""
    return (grade.response, grade.urgency, grade.severity, grade.certainty)


def _in_language(texts: Mapping[str, str], language: str) -> str:
    """Text in `language`, else the Indonesian text (every message has it)."""
    return texts.get(language) or texts.get("id", "")


def _parameters(alert: CapAlert) -> Iterator[tuple[str, str]]:
    """The level, the rule, the event and the observed values: one parameter per name.

    A value named like one of the first three (a BMKG bulletin's own `level`) is left
    out: aggregators read the first parameter of a name and reject repeats.
    """
    seen: set[str] = set()
    pairs = [("level", alert.level.value), ("rule_id", alert.rule_id)]
    if alert.event_id:
        pairs.append(("event_id", alert.event_id))
    pairs += [
        (n, str(alert.values[n])) for n in sorted(alert.values) if alert.values[n] is not None
    ]
    for name, value in pairs:
        if name not in seen:
            seen.add(name)
            yield name, value


def _add_pair(parent: etree._Element, tag: str, name: str, value: str) -> None:
    """A valueName/value element (parameter, geocode)."""
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    _add(element, "valueName", name)
    _add(element, "value", value)


def _add_area(info: etree._Element, area_ids: Sequence[str], areas: AreaIndex) -> None:
    """One `area`: names, a polygon per kelurahan part, a Kemendagri geocode per kelurahan."""
    area = etree.SubElement(info, f"{{{CAP_NS}}}area")
    _add(area, "areaDesc", ", ".join(areas.names(area_ids)))
    for area_id in area_ids:
        for polygon in cap_polygons(areas.geometry(area_id)):
            _add(area, "polygon", polygon)
    for area_id in area_ids:
        _add_pair(area, "geocode", "KEMENDAGRI", areas.get(area_id).kemendagri_code)


# ---------------------------------------------------------------------------
# Polygons.


def cap_polygons(geometry: BaseGeometry, max_points: int = MAX_POLYGON_POINTS) -> list[str]:
    """CAP polygon strings ("lat,lon lat,lon ...", closed) of each part's outer ring.

    Parts that round to fewer than the four points CAP requires (slivers) are left out.
    """
    rings = (cap_ring(part, max_points) for part in shapely.get_parts(geometry))
    return [" ".join(f"{lat},{lon}" for lon, lat in ring) for ring in rings if len(ring) >= 4]


def cap_ring(polygon: BaseGeometry, max_points: int) -> list[tuple[float, float]]:
    """The outer ring as rounded, closed (lon, lat) points, simplified to <= max_points.

    The tolerance doubles from about a metre until the ring is short enough.
    """
    outline = shapely.Polygon(polygon.exterior)
    tolerance = 10.0**-COORDINATE_DECIMALS
    ring = _rounded(outline)
    while len(ring) > max_points:
        ring = _rounded(outline.simplify(tolerance, preserve_topology=True))
        tolerance *= 2
    return ring


def _rounded(polygon: BaseGeometry) -> list[tuple[float, float]]:
    """Exterior points rounded to COORDINATE_DECIMALS, repeats dropped, ring closed."""
    points: list[tuple[float, float]] = []
    for x, y in polygon.exterior.coords:
        point = (round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS))
        if not points or points[-1] != point:
            points.append(point)
    if points[0] != points[-1]:
        points.append(points[0])
    return points
