"""Residents' reports in a real headless Chromium at phone width (issue 13, Done when).

One deployment for the module (feed, Twilio and siren peers, a `warning console`
process).  The tests run in this file's order: three residents report a flood
in Manggar with a mocked GPS position, an operator verifies them in the queue,
and `warning run --once` fires the shipped corroboration rule to Manggar's RT
heads; then a report made while the console was unreachable is sent from the
offline queue when it returns; last, the form works with JavaScript disabled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.support.console import (
    SCREENSHOTS,
    SIZES,
    Console,
    chromium,
    click,
    deployment,
    log_in,
    run_once,
    state_tuples,
    wait,
)
from tests.support.deployment import Deployment
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from tests.support.processes import QUIET
from tests.support.reports import MANGGAR

pytestmark = pytest.mark.slow

PHONE = SIZES["phone"]
#: An InaTEWS bulletin long over: the daemon's poll succeeds and finds nothing to do.
QUIET_INATEWS = QUIET


@dataclass
class Site:
    """The module's deployment, Twilio peer and (restartable) console."""

    deployment: Deployment
    twilio: TwilioServer
    console: Console

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows of the state database as plain tuples."""
        return state_tuples(self.deployment, sql, *args)

    def status(self, code: str) -> str:
        """The report's status from the public API."""
        reply = requests.get(f"{self.console.url}/api/reports/{code}", timeout=10)
        return str(reply.json()["status"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A running console on a fresh deployment."""
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        found = deployment(tmp_path_factory.mktemp("lapor"), feeds, twilio, sirens)
        feeds.serve("/inatews", QUIET_INATEWS)
        served = Console(found)
        current = Site(found, twilio, served)
        try:
            yield current
        finally:
            current.console.stop()


def at_manggar(driver: WebDriver, url: str) -> None:
    """Allow geolocation for the console and place the phone in Manggar."""
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": url, "permissions": ["geolocation"]}
    )
    driver.execute_cdp_cmd(
        "Emulation.setGeolocationOverride",
        {"longitude": MANGGAR[0], "latitude": MANGGAR[1], "accuracy": 10},
    )


def report_with_gps(driver: WebDriver, site: Site, text: str) -> str:
    """A resident's flood report from a fresh phone (new device), located by GPS; its code."""
    driver.delete_all_cookies()
    driver.get(site.console.url + "/lapor")
    driver.find_element(By.CSS_SELECTOR, "input[value=banjir]").click()
    driver.find_element(By.ID, "gps").click()
    wait(driver).until(lambda d: d.execute_script("return document.body.dataset.located"))
    driver.find_element(By.ID, "description").send_keys(text)
    driver.find_element(By.ID, "send").click()
    wait(driver).until(lambda d: "/lapor/" in d.current_url)
    return driver.find_element(By.ID, "code").text


def card_text(driver: WebDriver, code: str) -> str | None:
    """The text of a report's card in the queue (None while the page reloads)."""
    found: str | None = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e && e.innerText;",
        f"report-{code}",
    )
    return found


def status_in_queue(driver: WebDriver, code: str) -> str | None:
    """The status the queue shows for a report (None while the page reloads)."""
    found: str | None = driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e && e.dataset.status;",
        f"report-{code}",
    )
    return found


def open_queue(driver: WebDriver, site: Site, name: str) -> None:
    """Log in through the form, then open the reports queue."""
    log_in(driver, site.console.url, name)
    driver.get(site.console.url + "/laporan")


def test_three_gps_reports_verified_fire_the_corroboration_rule(site: Site) -> None:
    """Phone width: GPS report -> code -> queue -> verified, three times -> WASPADA to RT heads."""
    with chromium(PHONE) as driver:
        assert isinstance(driver, WebDriver)
        at_manggar(driver, site.console.url)
        driver.get(site.console.url + "/lapor")
        driver.save_screenshot(str(SCREENSHOTS / "lapor-phone.png"))
        codes = [
            report_with_gps(driver, site, f"Air setinggi lutut di gang {n}") for n in (1, 2, 3)
        ]
        assert "Diterima" in driver.find_element(By.ID, "status").text
        driver.save_screenshot(str(SCREENSHOTS / "lapor-status-phone.png"))
        open_queue(driver, site, "ops1")
        for code in codes:
            card = wait(driver).until(lambda d, c=code: card_text(d, c))
            assert "Manggar" in card
            assert "-1.21529, 116.93626" in card
            click(driver, f"#report-{code} button.verify")
            wait(driver).until(lambda d, c=code: status_in_queue(d, c) == "diverifikasi")
        wait(driver).until(lambda d: d.execute_script("return document.body.dataset.mapped"))
        markers = driver.execute_script(
            "return [...document.querySelectorAll('path[data-code]')].map(p => p.dataset.code)"
        )
        assert set(codes) <= set(markers)
        driver.save_screenshot(str(SCREENSHOTS / "laporan-queue-phone.png"))
    assert [site.status(c) for c in codes] == ["diverifikasi"] * 3
    run_once(site.deployment)
    firing = site.rows("SELECT rule_id, area_id, level FROM alert_states WHERE state = 'firing'")
    assert firing == [("laporan-banjir-terverifikasi", "manggar", "waspada")]
    rt_heads = site.deployment.phones(["manggar"], ["rt-heads"])
    bodies = {m.form["To"]: m.form["Body"] for m in site.twilio.messages()}
    assert rt_heads <= set(bodies)
    assert all(bodies[p].startswith("WASPADA BANJIR: 3 laporan warga") for p in rt_heads)
    public = site.deployment.phones(["manggar"], ["public"])
    assert not public & set(bodies)


def test_a_report_made_offline_is_sent_when_the_console_returns(site: Site) -> None:
    """The console stops; the report waits in the phone; the console returns; it is sent."""
    with chromium(PHONE) as driver:
        assert isinstance(driver, WebDriver)
        driver.get(site.console.url + "/lapor")
        ready = "return navigator.serviceWorker.ready.then(() => true)"
        assert driver.execute_script(ready)
        site.console.stop()
        driver.find_element(By.CSS_SELECTOR, "input[value=pohon-tumbang]").click()
        Select(driver.find_element(By.ID, "kelurahan")).select_by_value("lamaru")
        driver.find_element(By.ID, "description").send_keys("Pohon tumbang menutup jalan")
        driver.find_element(By.ID, "send").click()
        wait(driver).until(lambda d: d.execute_script("return document.body.dataset.kept"))
        assert "Tidak ada sinyal" in driver.find_element(By.ID, "notice").text
        assert site.rows("SELECT count(*) FROM reports WHERE category = 'pohon-tumbang'") == [(0,)]
        site.console = Console(site.deployment)
        wait(driver, 30).until(lambda d: d.find_elements(By.ID, "sent-code"))
        code = driver.find_element(By.ID, "sent-code").text
    assert site.status(code) == "diterima"
    kept = site.rows("SELECT kelurahan, description FROM reports WHERE code = ?", code)
    assert kept == [("lamaru", "Pohon tumbang menutup jalan")]


def test_the_form_works_with_javascript_disabled(site: Site) -> None:
    """No JavaScript: no GPS button, the picker and a plain post lead to the status page."""
    with chromium(PHONE) as driver:
        assert isinstance(driver, WebDriver)
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        driver.get(site.console.url + "/lapor")
        assert not driver.find_element(By.ID, "gps").is_displayed()
        driver.find_element(By.CSS_SELECTOR, "input[value=longsor]").click()
        Select(driver.find_element(By.ID, "kelurahan")).select_by_value("teritip")
        driver.find_element(By.ID, "description").send_keys("Tanah longsor di belakang sekolah")
        driver.find_element(By.ID, "send").click()
        wait(driver).until(lambda d: "/lapor/" in d.current_url)
        code = driver.find_element(By.ID, "code").text
        assert "Teritip" in driver.page_source
    assert site.status(code) == "diterima"
    notice = site.rows("SELECT payload_json FROM outbox WHERE change_id = ?", f"laporan-{code}")
    assert notice
    assert code in json.loads(notice[0][0])["body"]
