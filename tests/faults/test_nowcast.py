"""Nowcast faults: one bad CAP document, links to other hosts, a huge index, the unit's memory cap.

The real Pipeline polls `bmkg-nowcast` against a local FeedServer serving an RSS
index whose Kalimantan Timur items link to CAP documents on the same server;
the synthetic Balikpapan CAP (severity Severe) must fire the SIAGA of
`cuaca-bmkg` in the kecamatan it covers whatever else the index lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.paths import FIXTURES, ROOT
from tests.support.peers import FeedServer
from tests.support.pipeline import Clock, Rig, make_rig, write_settings
from warning.model import FeedHealth

KALTIM = (FIXTURES / "bmkg-nowcast" / "synthetic_cap_nowcast_kaltim_balikpapan.xml").read_bytes()
#: While the synthetic Kaltim CAP is live (sent 06:10 UTC, expires 09:30 UTC).
LIVE = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
#: Where the synthetic CAP warns: its polygon's share of Balikpapan Timur, and the kecamatan
#: its text names ("khususnya di Balikpapan Timur, Balikpapan Selatan, Samboja").
NAMED = {"manggar", "lamaru", "teritip", "manggar-baru"} | {
    "sepinggan",
    "sepinggan-raya",
    "sepinggan-baru",
    "sungainangka",
    "damai-baru",
    "damai-bahagia",
    "gunung-bahagia",
}


def rss(links: Sequence[str]) -> bytes:
    """An RSS index with one Kalimantan Timur item per link."""
    items = "".join(
        f"<item><title>Hujan Lebat disertai Petir di Kalimantan Timur</title>"
        f"<link>{link}</link><description>Balikpapan</description></item>"
        for link in links
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """The BMKG stand-in: the valid Balikpapan CAP at /kaltim.xml."""
    with FeedServer() as feeds:
        feeds.serve("/kaltim.xml", KALTIM, "application/xml")
        yield feeds


def rig_for(tmp_path: Path, feeds: FeedServer, links: Sequence[str]) -> Rig:
    """A pipeline polling the index listing `links` (paths on `feeds`, or full URLs)."""
    urls = [link if "://" in link else feeds.url_for(link) for link in links]
    feeds.serve("/rss.xml", rss(urls), "application/rss+xml")
    settings = write_settings(tmp_path, {"bmkg-nowcast": feeds.url_for("/rss.xml")})
    return make_rig(settings, clock=Clock(LIVE))


def siaga_areas(rig: Rig) -> set[str]:
    """Kelurahan where the BMKG weather rule fires."""
    return {area for rule, area in rig.firing() if rule == "cuaca-bmkg"}


def test_a_non_cap_or_identifier_less_document_does_not_hide_the_valid_siaga(
    tmp_path: Path, server: FeedServer
) -> None:
    """An RSS page and a CAP without <identifier> are skipped; the Balikpapan SIAGA fires."""
    no_identifier = KALTIM.replace(b"<identifier>", b"<note>").replace(b"</identifier>", b"</note>")
    server.serve("/no-identifier.xml", no_identifier, "application/xml")
    server.serve("/not-cap.xml", rss([]), "application/xml")
    rig = rig_for(tmp_path, server, ["/not-cap.xml", "/no-identifier.xml", "/kaltim.xml"])
    result = rig.pipeline.poll("bmkg-nowcast")
    print(f"injected a non-CAP and an identifier-less document; saw {result}")
    assert result.ok
    assert siaga_areas(rig) == NAMED
    assert rig.store.feed("bmkg-nowcast").health is FeedHealth.OK


def test_links_to_hosts_not_allowed_are_never_requested(tmp_path: Path, server: FeedServer) -> None:
    """Links to `localhost`, 169.254.169.254 and a private address are refused unrequested."""
    with FeedServer() as inside:
        inside.serve("/kaltim.xml", KALTIM, "application/xml")
        links = [
            f"http://localhost:{inside.port}/kaltim.xml",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://10.0.0.21/api/siren",
            "/kaltim.xml",
        ]
        rig = rig_for(tmp_path, server, links)
        result = rig.pipeline.poll("bmkg-nowcast")
        print(f"injected links to other hosts; saw {result} and {len(inside.received())} requests")
        assert inside.received() == []
    assert result.ok
    assert siaga_areas(rig) == NAMED


def test_a_huge_index_is_read_within_the_document_and_byte_caps(
    tmp_path: Path, server: FeedServer
) -> None:
    """200 listed documents of 400 kB: at most 30 requested and 5 MB held, the SIAGA still fires."""
    padding = b"<!--" + b"x" * 400_000 + b"-->"
    big = KALTIM.replace(b"<info>", padding + b"<info>", 1)
    for n in range(200):
        server.serve(f"/big-{n}.xml", big, "application/xml")
    rig = rig_for(tmp_path, server, ["/kaltim.xml", *(f"/big-{n}.xml" for n in range(200))])
    result = rig.pipeline.poll("bmkg-nowcast")
    held = sum(len(body) for body in rig.pipeline.client.kept("bmkg-nowcast").values())
    requested = len(server.received("/big-"))
    print(f"injected 200 documents of 400 kB; saw {requested} requested, {held} bytes held")
    assert result.ok
    assert requested <= 30
    assert held <= 5_000_000
    assert siaga_areas(rig) == NAMED


def test_the_unit_caps_the_daemons_memory() -> None:
    """systemd/warning.service sets MemoryMax=, so a runaway poll is killed, not the machine."""
    unit = (ROOT / "systemd" / "warning.service").read_text(encoding="utf-8")
    print("checked systemd/warning.service for MemoryMax=")
    assert "\nMemoryMax=" in unit
