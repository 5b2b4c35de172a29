"""BMKG nowcast: CAP 1.2 documents, polygons in lat,lon, expiry, the RSS-then-CAP fetch."""

from __future__ import annotations

import json
import re

import pytest
import responses

from tests.support.feeds import AREAS, context, fixture, parse, utc
from tests.support.paths import AREAS_FILE
from warning.areas import load_areas
from warning.feeds import FEEDS, FeedError
from warning.http import HttpClient
from warning.model import Coverage, ObservationKind
from warning.settings import HttpSettings

BANTEN = fixture("bmkg-nowcast", "bmkg_cap_nowcast_20260216_banten_hujan-lebat.xml")
RSS = fixture("bmkg-nowcast", "bmkg_nowcast_rss_20260216.xml")
KALTIM = fixture("bmkg-nowcast", "synthetic_cap_nowcast_kaltim_balikpapan.xml")
UTARA = fixture("bmkg-nowcast", "synthetic_cap_nowcast_balikpapan_utara_only.xml")
UTARA_LIVE = utc(2026, 1, 20, 6, 30)
BANTEN_LIVE = utc(2026, 2, 16, 16, 0)
KALTIM_LIVE = utc(2026, 3, 10, 7, 0)
RSS_URL = "https://www.bmkg.go.id/alerts/nowcast/id/rss.xml"
CAP_URL = "https://www.bmkg.go.id/alerts/nowcast/id/CBT20260216004_alert.xml"


def test_banten_cap_parses_field_by_field() -> None:
    """The Banten CAP is one live weather warning with both polygons as (lon, lat) rings."""
    [obs] = parse("bmkg-nowcast", BANTEN, fetched_at=BANTEN_LIVE, areas=AREAS)
    assert obs.source == "bmkg-nowcast"
    assert obs.kind is ObservationKind.WEATHER_WARNING
    assert obs.event_id == "2.49.0.1.360.0.2026.02.16.16.36.004"
    assert obs.time == utc(2026, 2, 16, 15, 50)
    assert (obs.lon, obs.lat) == (None, None)
    assert obs.area_ids == ()
    assert not obs.exercise
    assert len(obs.polygons) == 2
    assert obs.polygons[0][0] == (105.994, -5.981)
    assert obs.polygons[1][-1] == (106.416, -6.559)
    assert dict(obs.values) == {
        "severity": "Moderate",
        "urgency": "Immediate",
        "certainty": "Observed",
        "event": "Hujan Lebat dan Petir",
        "headline": "Hujan Lebat disertai Petir di Banten",
        "msg_type": "Alert",
        "expires": "2026-02-16T19:00:00Z",
    }


def test_polygon_and_named_kecamatan_give_the_kelurahan() -> None:
    """The Kaltim CAP's polygon covers Balikpapan Timur; its text names Balikpapan Selatan too.

    BMKG lists the affected kecamatan ("khususnya di Balikpapan Timur, Balikpapan
    Selatan, Samboja") only in the description: each named kecamatan is covered whole.
    """
    [obs] = parse("bmkg-nowcast", KALTIM, fetched_at=KALTIM_LIVE, areas=AREAS)
    selatan = AREAS.select("balikpapan-selatan")
    assert obs.area_ids == AREAS.select(["balikpapan-timur", *selatan])
    assert obs.coverage is Coverage.POLYGON
    assert obs.values["severity"] == "Severe"
    assert obs.values["expires"] == "2026-03-10T09:30:00Z"
    assert obs.time == utc(2026, 3, 10, 6, 10)


def test_expired_alert_is_ignored() -> None:
    """A CAP whose expires has passed at fetch time yields nothing."""
    assert parse("bmkg-nowcast", BANTEN, fetched_at=utc(2026, 2, 17, 0), areas=AREAS) == []


def test_update_and_cancel_share_the_original_event_id() -> None:
    """An Update referencing the original alert carries the original's identifier."""
    update = KALTIM.replace(
        b"<msgType>Alert</msgType>",
        b"<msgType>Update</msgType>"
        b"<references>cuaca.ekstrem@bmkg.go.id,2.49.0.1.360.0.2026.03.10.14.10.007,"
        b"2026-03-10T14:10:00+08:00</references>",
    ).replace(b".007</identifier>", b".008</identifier>")
    [obs] = parse("bmkg-nowcast", update, fetched_at=KALTIM_LIVE, areas=AREAS)
    assert obs.event_id == "2.49.0.1.360.0.2026.03.10.14.10.007"
    assert obs.values["msg_type"] == "Update"


def test_needs_the_areas() -> None:
    """Without the areas the polygons cannot be located: FeedError."""
    with pytest.raises(FeedError, match="areas"):
        parse("bmkg-nowcast", KALTIM, fetched_at=KALTIM_LIVE)


def test_an_rss_index_is_not_a_cap_document() -> None:
    """Parsing the RSS index itself is a FeedError naming the expected root."""
    with pytest.raises(FeedError, match="CAP"):
        parse("bmkg-nowcast", RSS, fetched_at=BANTEN_LIVE, areas=AREAS)


@responses.activate
def test_fetch_reads_the_index_then_only_unseen_cap_documents() -> None:
    """The first poll fetches the province's CAP; a byte-identical index then means unchanged."""
    responses.get(RSS_URL, body=RSS, content_type="application/rss+xml")
    responses.get(CAP_URL, body=BANTEN, content_type="application/xml")
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    ctx = context("bmkg-nowcast", fetched_at=BANTEN_LIVE, areas=AREAS, province="Banten")
    feed = FEEDS["bmkg-nowcast"]
    first = feed.get(client, ctx)
    second = feed.get(client, ctx)
    assert first is not None
    assert second is None
    assert [c.request.url for c in responses.calls].count(CAP_URL) == 1
    assert len(json.loads(first)) == 1
    [obs] = feed.parse(first, ctx)
    assert obs.event_id == "2.49.0.1.360.0.2026.02.16.16.36.004"


def test_polygon_grazing_a_kelurahan_edge_does_not_cover_it() -> None:
    """A polygon drawn around Balikpapan Utara reaches its six kelurahan, not its neighbours.

    It touches 19 kelurahan in all five neighbouring kecamatan along their edges; on
    main every one of them counted.
    """
    [obs] = parse("bmkg-nowcast", UTARA, fetched_at=UTARA_LIVE, areas=AREAS)
    assert obs.area_ids == AREAS.select("balikpapan-utara")
    assert len(AREAS.intersecting(obs.polygons)) == 19


def test_minimum_share_is_configurable() -> None:
    """With [areas] min_polygon_share 0.01 a sliver counts; the default 0.20 needs a real share."""
    sliver = load_areas(AREAS_FILE, min_share=0.01)
    [obs] = parse("bmkg-nowcast", UTARA, fetched_at=UTARA_LIVE, areas=sliver)
    assert len(obs.area_ids) > 6


def test_kecamatan_named_in_the_text_is_covered_whole() -> None:
    """ "khususnya di Balikpapan Tengah" covers its kelurahan even where no polygon reaches."""
    named = UTARA.replace(
        b"di sebagian wilayah Kalimantan Timur.",
        b"di sebagian wilayah Kalimantan Timur, khususnya di Balikpapan Utara, balikpapan-tengah.",
    )
    [obs] = parse("bmkg-nowcast", named, fetched_at=UTARA_LIVE, areas=AREAS)
    assert obs.area_ids == AREAS.select(["balikpapan-utara", "balikpapan-tengah"])


def test_the_city_name_is_not_the_kecamatan_balikpapan_kota() -> None:
    """ "Kota Balikpapan" (the city) is not "Balikpapan Kota" (one kecamatan)."""
    named = UTARA.replace(b"Kalimantan Timur.", b"Kalimantan Timur, termasuk Kota Balikpapan.")
    [obs] = parse("bmkg-nowcast", named, fetched_at=UTARA_LIVE, areas=AREAS)
    assert obs.area_ids == AREAS.select("balikpapan-utara")


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        ("headline", "TEST Hujan Lebat disertai Petir di Kalimantan Timur"),
        ("description", "Hanya TEST Event. Hujan lebat disertai petir."),
        ("areaDesc", "LATIHAN Kalimantan Timur"),
        ("headline", "Exercise: Hujan Lebat di Kalimantan Timur"),
        ("headline", "TESTING sistem: Hujan Lebat di Kalimantan Timur"),
    ],
)
def test_exercise_named_in_the_text_is_never_live(tag: str, text: str) -> None:
    """status Actual, but the text says TEST / LATIHAN / EXERCISE: an exercise."""
    document = re.sub(
        rf"<{tag}>[^<]*</{tag}>".encode(), f"<{tag}>{text}</{tag}>".encode(), UTARA, count=1
    )
    [obs] = parse("bmkg-nowcast", document, fetched_at=UTARA_LIVE, areas=AREAS)
    assert obs.exercise


def test_words_containing_test_are_not_an_exercise() -> None:
    """ "Kontestan" or "TESTAMENT" in the text do not make a live warning a test."""
    document = UTARA.replace(b"Kalimantan Timur.", b"Kalimantan Timur, TESTAMENT kontestan.")
    [obs] = parse("bmkg-nowcast", document, fetched_at=UTARA_LIVE, areas=AREAS)
    assert not obs.exercise


@responses.activate
def test_configured_allowed_hosts_replace_the_index_host() -> None:
    """With allowed_hosts = ["cap.bmkg.example"], a link on the index's own host is not fetched."""
    responses.get(RSS_URL, body=RSS, content_type="application/rss+xml")
    responses.get(CAP_URL, body=BANTEN, content_type="application/xml")
    client = HttpClient(HttpSettings(), sleep=lambda _s: None)
    ctx = context(
        "bmkg-nowcast",
        fetched_at=BANTEN_LIVE,
        areas=AREAS,
        province="Banten",
        allowed_hosts=["cap.bmkg.example"],
    )
    bundle = FEEDS["bmkg-nowcast"].get(client, ctx)
    assert bundle is not None
    assert json.loads(bundle) == []
    assert [c.request.url for c in responses.calls] == [RSS_URL]


def test_a_bundle_of_only_unreadable_documents_is_a_feed_failure() -> None:
    """Documents were listed and none is CAP: BMKG's format changed, operators must hear of it."""
    bundle = json.dumps([RSS.decode("utf-8"), "<alert/>"]).encode("utf-8")
    with pytest.raises(FeedError, match="none of the 2 CAP documents"):
        parse("bmkg-nowcast", bundle, fetched_at=BANTEN_LIVE, areas=AREAS)
