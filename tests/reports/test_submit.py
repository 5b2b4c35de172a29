"""Accepted reports: tracking code, photo without metadata, notices, duplicates, rate limits."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.support.deployment import GROUPS, settings_refusal
from tests.support.reports import MANGGAR, NOW, Desk, desk, image_bytes, jpeg
from warning.areas import AreaIndex
from warning.model import ReportStatus
from warning.reports import RateLimitedError
from warning.reports.intake import Draft
from warning.reports.submit import CODE_ALPHABET
from warning.reports.words import Refusal
from warning.store import reports as db


@pytest.fixture
def reports(tmp_path: Path, areas: AreaIndex) -> Desk:
    """A desk with the default `[reports]` settings."""
    return desk(tmp_path, areas)


def at(category: str = "banjir", kelurahan: str = "manggar", **fields: object) -> Draft:
    """A report picked on the kelurahan list."""
    text = str(fields.pop("description", "Air masuk rumah warga"))
    return Draft(category=category, kelurahan=kelurahan, description=text, **fields)  # type: ignore[arg-type]


def notice_phones(reports: Desk) -> dict[str, set[str]]:
    """Change id -> the phones its notice SMS go to."""
    found: dict[str, set[str]] = {}
    for row in reports.rows("outbox"):
        found.setdefault(row["change_id"], set()).add(row["recipient"])
    return found


def test_a_report_gets_a_short_code_and_is_received(reports: Desk) -> None:
    """Six letters/digits people cannot misread; status diterima; kept with its GPS point."""
    receipt = reports.send(
        Draft(category="banjir", lon=MANGGAR[0], lat=MANGGAR[1], description="Air naik")
    )
    assert len(receipt.code) == 6
    assert set(receipt.code) <= set(CODE_ALPHABET)
    assert (receipt.kelurahan, receipt.status) == ("manggar", ReportStatus.RECEIVED)
    kept = db.find(reports.store, receipt.code)
    assert kept is not None
    assert (kept.lon, kept.lat) == MANGGAR
    assert kept.status is ReportStatus.RECEIVED


def test_the_photo_is_kept_reencoded_without_exif_or_gps(reports: Desk) -> None:
    """A phone JPEG with its camera make and GPS position is kept as pixels only."""
    sent = jpeg((2400, 1800), make="SpyPhone X", gps=True)
    assert Image.open(io.BytesIO(sent)).getexif()
    receipt = reports.send(at(photo=sent))
    kept = db.photo(reports.store, receipt.code)
    assert kept is not None
    assert kept.media_type == "image/jpeg"
    assert b"SpyPhone" not in kept.data
    assert b"Exif" not in kept.data
    image = Image.open(io.BytesIO(kept.data))
    assert not image.getexif()
    assert max(image.size) == 1600


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_photos_are_taken_and_kept_as_jpeg(reports: Desk, fmt: str) -> None:
    """The three formats phones send are all accepted."""
    receipt = reports.send(at(photo=image_bytes(fmt, (80, 60))))
    kept = db.photo(reports.store, receipt.code)
    assert kept is not None
    assert Image.open(io.BytesIO(kept.data)).format == "JPEG"


def test_a_photo_alone_is_a_report(reports: Desk) -> None:
    """No words but a photo: accepted."""
    assert reports.send(at(description="", photo=jpeg())).code


def test_a_new_report_reaches_duty_officers_and_the_kelurahans_rt_heads(reports: Desk) -> None:
    """A flood in Manggar: every official, Manggar's RT heads; never residents or sirens."""
    receipt = reports.send(at())
    rows = reports.rows("outbox")
    assert {r["channel"] for r in rows} == {"sms"}
    people = {c.phone: c for c in reports.contacts}
    reached = {
        (people[r["recipient"]].group, next(iter(people[r["recipient"]].areas))) for r in rows
    }
    officials = {
        ("officials", next(iter(c.areas))) for c in reports.contacts if c.group == "officials"
    }
    assert reached == officials | {("rt-heads", "manggar")}
    body = json.loads(rows[0]["payload_json"])["body"]
    assert receipt.code in body
    assert "BANJIR di Manggar" in body
    assert "BELUM diverifikasi" in body
    assert "Air masuk rumah" not in body  # the reporter's own words stay out of an SMS
    assert len(body) <= 160


def test_a_suspicious_event_reaches_siskamling_not_rt_heads(reports: Desk) -> None:
    """`[reports] groups` maps mencurigakan to siskamling."""
    reports.send(at("mencurigakan", "lamaru"))
    people = {c.phone: c.group for c in reports.contacts}
    groups = {people[p] for phones in notice_phones(reports).values() for p in phones}
    assert groups == {"officials", "siskamling"}
    assert "public" in GROUPS  # the test contacts have residents: none was chosen


def test_duplicates_are_grouped_with_one_notice_and_one_count_per_device(reports: Desk) -> None:
    """Same category and kelurahan within minutes: one group, one notice; a repeat counts 0."""
    first = reports.send(at(), device="a")
    second = reports.send(at(), device="b", now=NOW + timedelta(minutes=10))
    repeat = reports.send(at(), device="a", now=NOW + timedelta(minutes=20))
    other = reports.send(at("kebakaran"), device="c", now=NOW + timedelta(minutes=21))
    assert (first.grouped, second.grouped, repeat.grouped, other.grouped) == (
        False,
        True,
        True,
        False,
    )
    rows = {r["code"]: r for r in reports.rows("reports")}
    assert rows[second.code]["group_code"] == rows[repeat.code]["group_code"] == first.code
    assert [rows[c]["counted"] for c in (first.code, second.code, repeat.code)] == [1, 1, 0]
    assert set(notice_phones(reports)) == {f"laporan-{first.code}", f"laporan-{other.code}"}


def test_a_report_after_the_group_window_starts_a_new_group(reports: Desk) -> None:
    """16 minutes after the group's newest report is a new group (and a new notice)."""
    reports.send(at(), device="a")
    later = reports.send(at(), device="b", now=NOW + timedelta(minutes=16))
    assert not later.grouped
    assert len(notice_phones(reports)) == 2


def limited(reports: Desk, draft: Draft, **sender: object) -> RateLimitedError:
    """Expect a rate limit; the refused report is not stored."""
    before = len(reports.rows("reports"))
    with pytest.raises(RateLimitedError) as caught:
        reports.send(draft, **sender)  # type: ignore[arg-type]
    assert len(reports.rows("reports")) == before
    return caught.value


def test_one_device_may_send_only_so_many_reports_an_hour(reports: Desk) -> None:
    """The sixth report within an hour from one browser is refused; an hour later it is fine."""
    for minute in range(5):
        reports.send(
            at(), device="d", address=f"10.0.0.{minute}", now=NOW + timedelta(minutes=minute)
        )
    error = limited(reports, at(), device="d", address="10.0.0.9", now=NOW + timedelta(minutes=6))
    assert error.refusal is Refusal.DEVICE_LIMIT
    assert "112" in error.message()
    assert reports.send(at(), device="d", now=NOW + timedelta(minutes=61)).code


def test_one_network_address_may_send_only_so_many_reports_an_hour(
    tmp_path: Path, areas: AreaIndex
) -> None:
    """Many browsers behind one address: refused over `address_per_hour`."""
    small = desk(tmp_path, areas, address_per_hour=3)
    for n in range(3):
        small.send(at(), device=f"phone-{n}", address="198.51.100.7")
    error = limited(small, at(), device="phone-9", address="198.51.100.7")
    assert error.refusal is Refusal.ADDRESS_LIMIT
    assert small.send(at(), device="phone-9", address="198.51.100.8").code


def test_one_kelurahan_takes_a_burst_of_reports_then_says_officers_know(
    tmp_path: Path, areas: AreaIndex
) -> None:
    """Over `kelurahan_burst` in the window: told officers are on it; other places unaffected."""
    small = desk(tmp_path, areas, kelurahan_burst=2, burst_window_s=600)
    small.send(at(), device="a", address="1")
    small.send(at("kebakaran"), device="b", address="2")
    error = limited(small, at("pohon-tumbang"), device="c", address="3")
    assert error.message() == (
        "Banyak laporan dari Manggar sudah diterima dan petugas sedang menanganinya. "
        "Bila darurat hubungi 112."
    )
    assert small.send(at(kelurahan="lamaru"), device="c", address="3").code
    later = NOW + timedelta(seconds=601)
    assert small.send(at(), device="c", address="3", now=later).code


def test_device_and_address_are_kept_only_as_hashes(reports: Desk) -> None:
    """The stored row never holds the address or the cookie token as such."""
    reports.send(at(), device="cookie-token-123", address="203.0.113.77")
    row = dict(reports.rows("reports")[0])
    assert "203.0.113.77" not in json.dumps(row)
    assert "cookie-token-123" not in json.dumps(row)


def test_settings_cannot_send_unverified_reports_to_the_public(tmp_path: Path) -> None:
    """`public` in `[reports] groups` or `duty_groups`, or an unknown category: every problem."""
    path = tmp_path / "warning.toml"
    path.write_text(
        '[reports]\ngroups = ["banjir:public", "banjr:rt-heads"]\nduty_groups = ["public"]\n',
        encoding="utf-8",
    )
    text = settings_refusal(path)
    assert text.count("unverified reports never reach the public") == 2
    assert 'unknown category "banjr" (did you mean "banjir"?)' in text
