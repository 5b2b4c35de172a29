"""BMKG nowcast warnings: the RSS index, then CAP 1.2 documents (www.bmkg.go.id/alerts/nowcast).

Quirks handled (../shared/FEEDS.md B3; OASIS CAP 1.2):
- XML is parsed with defusedxml (no entities, no DTDs): the documents come
  from a web server we do not control.
- Each `<area>` may carry several `<polygon>`s, each a closed ring of
  space-separated **lat,lon** pairs; they become (lon, lat) rings.  A kelurahan
  is covered (in `area_ids`) when the polygons cover a real share of its area
  (`[areas] min_polygon_share`), or when the CAP's text (areaDesc, headline,
  description) names its kecamatan: BMKG lists affected kecamatan only there.
- An exercise is a `status` other than Actual, or TEST / LATIHAN / EXERCISE
  in the headline, description or areaDesc.
- `msgType` Alert / Update / Cancel: Update and Cancel name the original in
  `<references>` ("sender,identifier,sent ..."), whose identifier becomes the
  event id so that every message of one warning is one event.
- Alerts whose `expires` has passed at `fetched_at` are ignored when polling
  (`FeedContext.fresh_only`); `warning feeds parse` shows them.
- Fetching: the RSS index is fetched conditionally; only items whose title or
  description names the configured province are considered, and only CAP
  documents not fetched before are requested (the rest are kept in the
  client).  `fetch` returns a bundle (JSON list of CAP texts) that `parse`
  accepts, as it accepts a single CAP document.
- The index comes from a web server we do not control: links are followed only
  to the allowed hosts (`allowed_hosts`, default the index's own host), and at
  most `max_documents` documents and `max_bytes` bytes are held per poll, so a
  huge or hostile index can neither reach inside our network nor exhaust memory.
- In a bundle each document is judged alone: one that is not CAP, has no
  identifier or is not UTF-8 is logged and skipped, and the others still count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog

from warning.feeds.base import (
    FeedContext,
    ItemError,
    each_item,
    in_range,
    is_exercise,
    number,
    reject,
)
from warning.http import FeedError, HttpClient, PayloadKind, decode_text, parse_json, parse_xml
from warning.model import Observation, ObservationKind, Ring, Value, utc
from warning.settings import FeedDefaults

#: [feeds.bmkg-nowcast] defaults and options (`key: (default, doc)`).
DEFAULTS = FeedDefaults(
    url="https://www.bmkg.go.id/alerts/nowcast/id/rss.xml",
    interval_s=300,
    max_age_s=0,
    options={
        "province": (
            "Kalimantan Timur",
            "Fetch only CAP documents whose RSS title or description names this province "
            "(case-insensitive; empty: all).",
        ),
        "allowed_hosts": (
            [],
            "Hosts the RSS may link CAP documents on; empty: the host of `url` only. "
            "A link elsewhere (127.0.0.1, a private range, 169.254.169.254) is refused.",
        ),
        "max_documents": (
            30,
            "CAP documents read per poll at most (the first listed); the rest are logged.",
        ),
        "max_bytes": (
            5_000_000,
            "Bytes of CAP documents held per poll at most; documents past it are logged.",
        ),
    },
)


CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
SOURCE = "bmkg-nowcast"

log = structlog.get_logger()


def parse(payload: bytes, context: FeedContext) -> list[Observation]:
    """Weather warnings from one CAP document or a fetched bundle of them."""
    if payload.lstrip()[:1] not in (b"[", b"{"):
        return _alert(payload, context)
    return _bundle(_documents(payload), context)


def _documents(payload: bytes) -> list[bytes]:
    """The CAP documents of a JSON bundle."""
    bundle = parse_json(payload)
    if not isinstance(bundle, list) or not all(isinstance(item, str) for item in bundle):
        raise FeedError("a nowcast bundle must be a JSON list of CAP documents")
    return [item.encode("utf-8") for item in bundle]


def _bundle(documents: Sequence[bytes], context: FeedContext) -> list[Observation]:
    """Each document judged alone: a bad one is logged and skipped, the others count.

    Only when documents were listed and none could be read is the poll a
    failure: then BMKG's format or our reading of it is wrong, which is a
    feed-health matter for operators.
    """
    if context.areas is None:
        raise FeedError("bmkg-nowcast needs the areas (areas.geojson) to locate polygons")
    found: list[Observation] = []
    failed = 0
    for document in documents:
        try:
            found.extend(_alert(document, context))
        except FeedError as exc:
            failed += 1
            reject(SOURCE, f"CAP document skipped: {exc.message}", document[:200])
    if documents and failed == len(documents):
        raise FeedError(f"none of the {len(documents)} CAP documents listed could be read")
    return found


def _alert(document: bytes, context: FeedContext) -> list[Observation]:
    """The observations of one CAP `<alert>` (one per `<info>` block)."""
    root = parse_xml(document)
    if root.tag != f"{CAP}alert":
        raise FeedError(f"XML root is {root.tag}, expected a CAP 1.2 <alert>")
    header = _header(root)
    # BMKG writes one <info> per language, Indonesian first: one observation per alert.
    infos = root.findall(f"{CAP}info")[:1]
    return each_item(SOURCE, infos, lambda info: _info(header, info, context))


def _header(root: Any) -> dict[str, str]:
    """identifier, sent, status, msgType and the referenced original's identifier."""
    header = {key: (root.findtext(f"{CAP}{key}") or "").strip() for key in
              ("identifier", "sent", "status", "msgType", "references")}  # fmt: skip
    if not header["identifier"]:
        raise FeedError("CAP alert has no <identifier>")
    return header


def _original(header: dict[str, str]) -> str:
    """The first referenced identifier (the original alert), else this alert's."""
    references = header["references"].split()
    parts = references[0].split(",") if references else []
    return parts[1] if len(parts) == 3 else header["identifier"]


def _info(header: dict[str, str], info: Any, context: FeedContext) -> Observation:
    """One `<info>` block as a weather_warning with polygons and kelurahan ids."""
    expires = _time(info.findtext(f"{CAP}expires"), "expires")
    if context.fresh_only and expires <= context.fetched_at and header["msgType"] != "Cancel":
        raise ItemError(f"expired at {expires.isoformat()}")
    polygons = _polygons(info)
    if context.areas is None:
        raise FeedError("bmkg-nowcast needs the areas (areas.geojson) to locate polygons")
    values: dict[str, Value] = {
        key: (info.findtext(f"{CAP}{tag}") or "").strip() or None
        for key, tag in (("severity", "severity"), ("urgency", "urgency"),
                         ("certainty", "certainty"), ("event", "event"), ("headline", "headline"))
    }  # fmt: skip
    values["msg_type"] = header["msgType"] or None
    values["expires"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    texts = [info.findtext(f"{CAP}{tag}") or "" for tag in ("headline", "description", "event")]
    texts += [area.text or "" for area in info.iter(f"{CAP}areaDesc")]
    named = context.areas.kecamatan_named(" | ".join(texts))
    return Observation(
        source=SOURCE,
        kind=ObservationKind.WEATHER_WARNING,
        event_id=_original(header),
        time=_time(header["sent"], "sent"),
        values=values,
        area_ids=context.areas.covering(polygons, named),
        polygons=tuple(polygons),
        exercise=is_exercise(header["status"], *texts),
    )


def _time(value: str | None, name: str) -> datetime:
    """A CAP dateTime (always with an offset) as aware UTC."""
    try:
        return utc(datetime.fromisoformat((value or "").strip()))
    except (ValueError, OverflowError):
        raise ItemError(f"{name} {value!r} is not a CAP time with an offset") from None


def _polygons(info: Any) -> list[Ring]:
    """Every `<polygon>` of every `<area>`, as (lon, lat) rings; bad ones skipped."""
    rings: list[Ring] = []
    for polygon in info.iter(f"{CAP}polygon"):
        try:
            rings.append(ring(polygon.text or ""))
        except ItemError as exc:
            reject(SOURCE, f"polygon: {exc}", (polygon.text or "")[:80])
    if not rings:
        raise ItemError("no usable <polygon>")
    return rings


def ring(text: str) -> Ring:
    """`lat,lon lat,lon …` (CAP order) as a closed (lon, lat) ring of at least 4 points."""
    points: list[tuple[float, float]] = []
    for pair in text.split():
        lat_text, _, lon_text = pair.partition(",")
        lat = in_range(number(lat_text, "latitude"), -90.0, 90.0, "latitude")
        lon = in_range(number(lon_text, "longitude"), -180.0, 180.0, "longitude")
        points.append((lon, lat))
    if len(points) < 4 or points[0] != points[-1]:
        raise ItemError("a CAP polygon needs at least 4 points and must be closed")
    return tuple(points)


# ---------------------------------------------------------------------------
# Fetching: RSS index, then only CAP documents not seen before.


def fetch(client: HttpClient, context: FeedContext) -> bytes | None:
    """The bundle of CAP documents listed for the province; None when the index is unchanged."""
    index = client.get(context.settings.url, PayloadKind.XML)
    if index.unchanged:
        return None
    links = rss_links(index.body, str(context.option("province")))
    allowed = _allowed(links, _allowed_hosts(context))
    fetched = _within_budget(client, allowed, context)
    client.keep(SOURCE, fetched)
    return json.dumps([body.decode("utf-8-sig") for body in fetched.values()]).encode("utf-8")


def _allowed_hosts(context: FeedContext) -> frozenset[str]:
    """The hosts CAP links may point to: the configured ones, else the index's own."""
    configured = [str(host).strip().lower() for host in context.option("allowed_hosts")]
    return frozenset(configured or [urlsplit(context.settings.url).hostname or ""])


def _allowed(links: Sequence[str], hosts: frozenset[str]) -> list[str]:
    """The links on an allowed host; each other one is logged and never requested."""
    kept: list[str] = []
    for link in links:
        if (urlsplit(link).hostname or "") in hosts:
            kept.append(link)
        else:
            reject(SOURCE, f"CAP link to a host not in allowed_hosts ({sorted(hosts)})", link)
    return kept


def _within_budget(
    client: HttpClient, links: Sequence[str], context: FeedContext
) -> dict[str, bytes]:
    """The documents of the first links, kept or fetched, within the poll's count and byte caps."""
    most, budget = int(context.option("max_documents")), int(context.option("max_bytes"))
    if len(links) > most:
        log.warning("feed.capped", source=SOURCE, listed=len(links), read=most)
    kept = client.kept(SOURCE)
    held: dict[str, bytes] = {}
    for link in links[:most]:
        left = budget - sum(len(body) for body in held.values())
        body = kept.get(link) or (_cap(client, link, left) if left > 0 else None)
        if body is not None and len(body) <= left:
            held[link] = body
        elif body is not None or left <= 0:
            reject(SOURCE, f"CAP document past the {budget} byte budget of a poll", link)
    return held


def _cap(client: HttpClient, link: str, max_bytes: int) -> bytes | None:
    """One UTF-8 CAP document, or None (logged) when it cannot be had this time."""
    try:
        body = client.get(link, PayloadKind.XML, conditional=False, max_bytes=max_bytes).body
        decode_text(body)
    except FeedError as exc:
        reject(SOURCE, f"CAP document not fetched: {exc.message}", link)
        return None
    return body


def rss_links(index: bytes, province: str) -> Sequence[str]:
    """CAP links of the RSS items whose title or description names `province`."""
    root = parse_xml(index)
    wanted = province.strip().lower()
    links: list[str] = []
    for item in root.iter("item"):
        words = f"{item.findtext('title') or ''} {item.findtext('description') or ''}".lower()
        link = (item.findtext("link") or "").strip()
        if link.startswith(("https://", "http://")) and wanted in words:
            links.append(link)
    return links
