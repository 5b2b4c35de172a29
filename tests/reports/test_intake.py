"""Bad input gets a clear answer in the reporter's language and nothing half-stored.

Every refusal is tested through `submit` on a real store: the message the
reporter reads, and that no report, photo or outbox row was written.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.support.reports import JAKARTA, MANGGAR, Desk, desk, image_bytes, jpeg
from warning.areas import AreaIndex
from warning.reports import RefusedError
from warning.reports.intake import Draft, mask_phone
from warning.reports.words import Refusal


@pytest.fixture
def reports(tmp_path: Path, areas: AreaIndex) -> Desk:
    """A desk with the default `[reports]` settings."""
    return desk(tmp_path, areas)


def refused(reports: Desk, draft: Draft) -> RefusedError:
    """Submit `draft`, expect a refusal, and check nothing at all was stored."""
    with pytest.raises(RefusedError) as caught:
        reports.send(draft)
    for table in ("reports", "report_photos", "outbox"):
        assert reports.rows(table) == [], table
    return caught.value


def flood(**fields: object) -> Draft:
    """A valid flood report at Manggar, with `fields` changed."""
    base: dict[str, object] = {
        "category": "banjir",
        "lon": MANGGAR[0],
        "lat": MANGGAR[1],
        "description": "Air setinggi lutut di jalan depan masjid",
    }
    return Draft(**{**base, **fields})  # type: ignore[arg-type]


def test_a_location_outside_balikpapan_is_refused(reports: Desk) -> None:
    """A GPS position in Jakarta: told the service covers Balikpapan only (and 112)."""
    error = refused(reports, flood(lon=JAKARTA[0], lat=JAKARTA[1]))
    assert error.refusal is Refusal.OUTSIDE
    assert "di luar Kota Balikpapan" in error.message()
    assert "outside Balikpapan" in error.message("en")


def test_coordinates_that_are_not_numbers_are_refused(reports: Desk) -> None:
    """NaN, text or a boolean is no coordinate."""
    for lon in ("nan", "timur", True, "1e999"):
        assert refused(reports, flood(lon=lon)).refusal is Refusal.BAD_COORDINATES


def test_no_location_at_all_is_refused(reports: Desk) -> None:
    """Neither GPS nor a kelurahan: asked to allow GPS or pick one."""
    error = refused(reports, flood(lon=None, lat=None, kelurahan=""))
    assert error.message() == "Lokasi belum ada. Izinkan GPS atau pilih kelurahan."


def test_an_unknown_kelurahan_or_a_kecamatan_is_refused(reports: Desk) -> None:
    """The picker names a kelurahan: a made-up id or a kecamatan id is refused."""
    for chosen in ("atlantis", "balikpapan-timur"):
        error = refused(reports, flood(lon=None, lat=None, kelurahan=chosen))
        assert error.refusal is Refusal.KELURAHAN


def test_an_unknown_category_is_refused_with_the_valid_ones(reports: Desk) -> None:
    """`tsunami` is no category: the answer lists the eight ids."""
    error = refused(reports, flood(category="tsunami"))
    assert error.refusal is Refusal.CATEGORY
    assert "banjir, longsor, kebakaran, pohon-tumbang" in error.message()


def test_an_empty_report_is_refused(reports: Desk) -> None:
    """No words and no photo: asked to say what happened."""
    error = refused(reports, flood(description="   \n "))
    assert error.message().startswith("Laporan kosong.")


def test_text_over_the_limit_is_refused_with_its_length(reports: Desk) -> None:
    """501 characters where 500 fit: the answer says both numbers."""
    error = refused(reports, flood(description="a" * 501))
    assert error.message() == "Keterangan terlalu panjang (501 huruf). Paling banyak 500 huruf."


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "banjir <img src=x onerror=alert(1)>",
        "lihat </b>",
        "<!-- komentar -->",
        "klik javascript:alert(1)",
        "< svg onload=alert(1)>",
    ],
)
def test_markup_or_script_in_the_text_is_refused(reports: Desk, text: str) -> None:
    """Markup is refused, not escaped: the reporter is told to use plain words."""
    error = refused(reports, flood(description=text))
    assert error.refusal is Refusal.MARKUP
    assert "tanda < >" in error.message()


def test_plain_comparisons_with_angle_brackets_are_not_markup(reports: Desk) -> None:
    """`air < 1 m` is words, not a tag: accepted."""
    receipt = reports.send(flood(description="air < 1 m, arus > deras"))
    assert receipt.kelurahan == "manggar"


def test_control_characters_are_refused(reports: Desk) -> None:
    """A NUL or a right-to-left override hides what the text says: refused."""
    for text in ("banjir\x00", "banjir \u202eadbc"):
        assert refused(reports, flood(description=text)).refusal is Refusal.CONTROL


def test_markup_in_the_phone_field_is_refused(reports: Desk) -> None:
    """Any text in the phone field that is not a number is refused."""
    assert refused(reports, flood(phone="<b>0812</b>")).refusal is Refusal.PHONE


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "+62 812 abc",
        "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667",
        "+6281234567890123",
    ],
)
def test_a_phone_that_is_not_e164_in_ascii_digits_is_refused(reports: Desk, phone: str) -> None:
    """Arabic-Indic digits look like a number to a person but are refused."""
    error = refused(reports, flood(phone=phone))
    assert "0812xxxxxxx" in error.message()


def test_a_local_phone_is_kept_as_e164_and_masked_in_exports(reports: Desk) -> None:
    """0812-3456-789 is kept as +628123456789; exports show +62*******89."""
    reports.send(flood(phone="0812-3456-789"))
    kept = reports.rows("reports")[0]["phone"]
    assert kept == "+628123456789"
    assert mask_phone(kept) == "+62********89"


def test_a_file_that_is_not_an_image_is_refused(reports: Desk) -> None:
    """Text named like a photo is refused: send a JPEG, PNG or WebP."""
    error = refused(reports, flood(photo=b"<html>not a photo</html>"))
    assert error.message() == "Foto tidak terbaca. Kirim foto JPEG, PNG atau WebP."


def test_a_truncated_jpeg_is_refused(reports: Desk) -> None:
    """Half a JPEG is not a photo."""
    whole = jpeg((400, 300))
    assert refused(reports, flood(photo=whole[: len(whole) // 2])).refusal is Refusal.PHOTO_TYPE


def test_an_image_of_another_format_is_refused(reports: Desk) -> None:
    """A real GIF (or BMP) is an image, but not one of the three formats taken."""
    for fmt in ("GIF", "BMP"):
        assert refused(reports, flood(photo=image_bytes(fmt))).refusal is Refusal.PHOTO_TYPE


def test_a_photo_over_the_size_limit_is_refused(tmp_path: Path, areas: AreaIndex) -> None:
    """Over `photo_max_bytes`: the answer gives its size and the limit in MB."""
    small = desk(tmp_path, areas, photo_max_bytes=1_000_000)
    error = refused(small, flood(photo=b"\xff\xd8" + b"0" * 1_500_000))
    assert error.message() == "Foto terlalu besar (1,5 MB). Paling besar 1 MB."


def test_a_decompression_bomb_is_refused_before_decoding(reports: Desk) -> None:
    """A 20 kB PNG of 12000 x 12000 pixels (144 million) is refused, never unpacked."""
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    error = refused(reports, flood(photo=out.getvalue()))
    assert error.refusal is Refusal.PHOTO_PIXELS


def test_a_bomb_under_pillows_own_limit_but_over_ours_is_refused(
    tmp_path: Path, areas: AreaIndex
) -> None:
    """Our pixel limit applies whatever Pillow's global default is."""
    strict = desk(tmp_path, areas, photo_max_pixels=1_000_000)
    error = refused(strict, flood(photo=image_bytes("PNG", (2000, 1000), mode="1")))
    assert error.refusal is Refusal.PHOTO_PIXELS


def test_refusals_read_in_english_on_request(reports: Desk) -> None:
    """Bahasa Indonesia first; English for a reader who chose it."""
    error = refused(reports, flood(description=""))
    assert (
        error.message("en") == "The report is empty. Say briefly what happened or attach a photo."
    )
