"""`/lapor`, `/api/reports` and the operators' queue over HTTP, against a real `warning console`.

The contract of issue 13 is checked exactly: 201 `{"code", "kelurahan", "status"}`,
422 `{"error"}`, 429 when rate-limited, `GET /api/reports/CODE` for the status;
the plain form post (JavaScript off) answers with the status page; phones are
shown to operators only and masked in exports; the page with its assets is
under 100 KB.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.console.test_security import Site
from tests.support.console import deployment, running_console, state_rows
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from tests.support.reports import JAKARTA, MANGGAR, jpeg
from warning.reports.submit import CODE_ALPHABET

pytestmark = pytest.mark.slow

#: One device may send this many reports an hour in this deployment.
DEVICE_LIMIT = 4


@dataclass
class Desk(Site):
    """The site, plus what the reports tests read."""

    def rows(self, table: str) -> list[sqlite3.Row]:
        """Rows of a table of the console's database."""
        return state_rows(self.deployment, f"SELECT * FROM {table}")  # noqa: S608 - test names

    def api(self, body: object, session: requests.Session | None = None) -> requests.Response:
        """POST /api/reports as JSON from a fresh device (or `session`)."""
        sender = session or requests.Session()
        return sender.post(self.console.url + "/api/reports", json=body, timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A console whose device limit is small and address limit large (all tests share 127.0.0.1)."""
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        found = deployment(tmp_path_factory.mktemp("reports"), feeds, twilio, sirens)
        settings = found.config.read_text(encoding="utf-8")
        found.config.write_text(
            settings + f"\n[reports]\ndevice_per_hour = {DEVICE_LIMIT}\naddress_per_hour = 10000\n"
            "kelurahan_burst = 10000\n",
            encoding="utf-8",
        )
        with running_console(found) as served:
            yield Desk(found, served)


FLOOD = {"category": "banjir", "lon": MANGGAR[0], "lat": MANGGAR[1], "description": "Air naik"}


def test_a_json_report_answers_201_with_code_kelurahan_and_status(site: Desk) -> None:
    """The contract's exact body; the code then reads `diterima` at /api/reports/CODE."""
    reply = site.api(FLOOD)
    assert reply.status_code == 201
    body = reply.json()
    assert set(body) == {"code", "kelurahan", "status"}
    assert (body["kelurahan"], body["status"]) == ("manggar", "diterima")
    status = requests.get(f"{site.console.url}/api/reports/{body['code']}", timeout=10)
    assert status.status_code == 200
    assert status.json()["status"] == "diterima"
    assert "description" not in status.json()


def test_a_kelurahan_instead_of_gps_is_accepted(site: Desk) -> None:
    """`kelurahan` stands in for lon/lat."""
    reply = site.api({"category": "longsor", "kelurahan": "lamaru", "description": "Tebing runtuh"})
    assert reply.status_code == 201
    assert reply.json()["kelurahan"] == "lamaru"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**FLOOD, "lon": JAKARTA[0], "lat": JAKARTA[1]}, "di luar Kota Balikpapan"),
        ({**FLOOD, "category": "tsunami"}, "Jenis laporan tidak dikenal"),
        ({**FLOOD, "description": ""}, "Laporan kosong"),
        ({**FLOOD, "description": "x" * 501}, "terlalu panjang"),
        ({**FLOOD, "description": "<script>alert(1)</script>"}, "tanda < >"),
        ({**FLOOD, "phone": "<b>1</b>"}, "Nomor HP tidak sah"),
        (["not", "an", "object"], "Laporan tidak terbaca"),
    ],
)
def test_bad_input_answers_422_with_the_reason_and_stores_nothing(
    site: Desk, body: object, words: str
) -> None:
    """422 `{"error": ...}` in Bahasa Indonesia; no report row, no notice."""
    before = (len(site.rows("reports")), len(site.rows("outbox")))
    reply = site.api(body)
    assert reply.status_code == 422
    assert list(reply.json()) == ["error"]
    assert words in reply.json()["error"]
    assert (len(site.rows("reports")), len(site.rows("outbox"))) == before


def test_refusals_read_in_english_for_an_english_reader(site: Desk) -> None:
    """The `lang` cookie chooses the reporter's language."""
    session = requests.Session()
    session.cookies.set("lang", "en")
    reply = site.api({**FLOOD, "category": "tsunami"}, session)
    assert reply.json()["error"].startswith("Unknown report category.")


def test_one_device_is_rate_limited_with_429(site: Desk) -> None:
    """The device cookie counts: the fifth report within an hour answers 429."""
    phone = requests.Session()
    for _ in range(DEVICE_LIMIT):
        assert site.api({**FLOOD, "category": "pohon-tumbang"}, phone).status_code == 201
    before = len(site.rows("reports"))
    reply = site.api({**FLOOD, "category": "pohon-tumbang"}, phone)
    assert reply.status_code == 429
    assert "Terlalu banyak laporan dari perangkat ini" in reply.json()["error"]
    assert len(site.rows("reports")) == before


def test_an_unknown_code_answers_404(site: Desk) -> None:
    """A well-formed code nobody was given: 404 with a reason; the issued code still answers."""
    issued = site.api(FLOOD).json()["code"]
    unknown = "".join(next(c for c in CODE_ALPHABET if c != letter) for letter in issued)
    reply = requests.get(f"{site.console.url}/api/reports/{unknown}", timeout=10)
    assert reply.status_code == 404
    assert reply.json() == {"error": "kode laporan tidak dikenal"}
    known = requests.get(f"{site.console.url}/api/reports/{issued}", timeout=10)
    assert known.status_code == 200


def test_the_plain_form_post_leads_to_the_status_page(site: Desk) -> None:
    """JavaScript off: multipart with a photo -> 303 -> a page with the code and `Diterima`."""
    session = requests.Session()
    session.get(site.console.url + "/lapor", timeout=10)
    fields = {"category": "kebakaran", "kelurahan": "teritip", "description": "Asap hitam"}
    files = {"photo": ("foto.jpg", jpeg(make="SpyPhone", gps=True), "image/jpeg")}
    reply = session.post(
        site.console.url + "/lapor", data=fields, files=files, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 303
    code = reply.headers["location"].rsplit("/", 1)[1]
    page = session.get(site.console.url + reply.headers["location"], timeout=10)
    assert code in page.text
    assert "Diterima" in page.text
    assert "Teritip" in page.text


def test_a_refused_form_post_shows_the_form_again_with_the_reason(site: Desk) -> None:
    """JavaScript off: the same form, the reason on top, what was typed kept."""
    fields = {"category": "banjir", "kelurahan": "", "description": "Air naik di gang"}
    reply = requests.post(site.console.url + "/lapor", data=fields, timeout=10)
    assert reply.status_code == 422
    assert "Lokasi belum ada" in reply.text
    assert "Air naik di gang" in reply.text


def test_a_post_from_another_site_is_refused(site: Desk) -> None:
    """An Origin that is not ours: 403, nothing stored."""
    before = len(site.rows("reports"))
    reply = requests.post(
        site.console.url + "/api/reports",
        json=FLOOD,
        headers={"origin": "http://evil.example"},
        timeout=10,
    )
    assert reply.status_code == 403
    assert len(site.rows("reports")) == before


def test_the_page_with_its_assets_is_under_100_kb(site: Desk) -> None:
    """/lapor, its stylesheet and scripts (not the manifest's icons) weigh under 100 KB."""
    page = requests.get(site.console.url + "/lapor", timeout=10)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page.text)
    assert set(assets) == {"/static/lapor.css", "/static/lapor-queue.js", "/static/lapor.js"}
    total = len(page.content) + sum(
        len(requests.get(site.console.url + a, timeout=10).content) for a in assets
    )
    assert total < 100_000
    assert 'lang="id"' in page.text
    assert "Kirim laporan" in page.text


def test_the_manifest_and_service_worker_make_it_installable(site: Desk) -> None:
    """A manifest with icons starting at /lapor, and a service worker served from the root."""
    manifest = requests.get(site.console.url + "/lapor.webmanifest", timeout=10)
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == "/lapor"
    for icon in manifest.json()["icons"]:
        assert requests.get(site.console.url + icon["src"], timeout=10).status_code == 200
    worker = requests.get(site.console.url + "/lapor-sw.js", timeout=10)
    assert "text/javascript" in worker.headers["content-type"]


def test_phones_are_for_operators_only_and_masked_in_exports(site: Desk) -> None:
    """An operator sees the number; a viewer and every export see it masked."""
    site.api({**FLOOD, "category": "lainnya", "phone": "0812-9999-7766"})
    operator = site.log_in("ops1").get(site.console.url + "/laporan", timeout=10).text
    viewer = site.log_in("viewer").get(site.console.url + "/laporan", timeout=10).text
    assert "+6281299997766" in operator
    assert "+6281299997766" not in viewer
    assert "+62*********66" in viewer
    export = site.log_in("ops1").get(site.console.url + "/laporan.csv", timeout=10).text
    assert "+6281299997766" not in export
    assert "+62*********66" in export
    anonymous = requests.get(site.console.url + "/laporan", timeout=10, allow_redirects=False)
    assert anonymous.status_code in (303, 401)


def test_an_operator_verifies_with_the_csrf_token_and_it_is_audited(site: Desk) -> None:
    """Without the token: 403, unchanged. With it: diverifikasi, and an audit entry."""
    code = site.api({**FLOOD, "category": "gempa-terasa"}).json()["code"]
    operator = site.log_in("ops1")
    url = f"{site.console.url}/laporan/{code}"
    assert operator.post(url, data={"status": "diverifikasi"}, timeout=10).status_code == 403
    token = re.search(
        r'name="csrf" value="([^"]+)"', operator.get(site.console.url + "/laporan").text
    )
    assert token is not None
    form = {"status": "diverifikasi", "csrf": token.group(1)}
    assert operator.post(url, data=form, allow_redirects=False, timeout=10).status_code == 303
    status = requests.get(f"{site.console.url}/api/reports/{code}", timeout=10).json()
    assert status["status"] == "diverifikasi"
    audit = [r for r in site.rows("audit_log") if code in r["detail_json"]]
    assert [(r["actor"], r["action"]) for r in audit] == [("ops1", "report.verified")]


def test_a_rejection_without_a_reason_is_refused(site: Desk) -> None:
    """422 with the operator's words; the report stays diterima."""
    code = site.api({**FLOOD, "category": "mencurigakan"}).json()["code"]
    operator = site.log_in("ops1")
    token = re.search(
        r'name="csrf" value="([^"]+)"', operator.get(site.console.url + "/laporan").text
    )
    assert token is not None
    reply = operator.post(
        f"{site.console.url}/laporan/{code}",
        data={"status": "ditolak", "reason": "", "csrf": token.group(1)},
        timeout=10,
    )
    assert reply.status_code == 422
    assert "alasan wajib diisi" in reply.json()["message"]
    assert requests.get(f"{site.console.url}/api/reports/{code}", timeout=10).json()["status"] == (
        "diterima"
    )


def test_a_viewer_cannot_decide(site: Desk) -> None:
    """The viewer role gets 403 even with its own token."""
    code = site.api({**FLOOD, "category": "banjir"}).json()["code"]
    viewer = site.log_in("viewer")
    token = site.csrf(viewer)
    reply = viewer.post(
        f"{site.console.url}/laporan/{code}", data={"status": "diverifikasi", "csrf": token}
    )
    assert reply.status_code == 403
