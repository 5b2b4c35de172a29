"""The operations room in a real headless Chromium (issue 12, Done when).

One deployment for the module: local feed, Twilio and siren peers, a state
seeded by a real `warning run --once` of an InaTEWS SIAGA for Balikpapan, and
a `warning console` process.  The tests run in this file's order and each
leaves the state as the next expects: looking, approving a manual alert,
screenshots, a drill, and last the cancel of the tsunami alert.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
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
    running_console,
    serve_siaga,
    state_tuples,
    wait,
)
from tests.support.deployment import COASTAL, INLAND, Deployment
from tests.support.paths import ROOT
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from tests.support.processes import running
from warning.model import WITA

pytestmark = pytest.mark.slow


@dataclass
class Room:
    """The module's deployment, peers and console."""

    deployment: Deployment
    feeds: FeedServer
    twilio: TwilioServer
    console: Console

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read the state database as an auditor would."""
        return state_tuples(self.deployment, sql, *args)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    """A seeded SIAGA and a running console."""
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        found = deployment(tmp_path_factory.mktemp("console"), feeds, twilio, sirens)
        serve_siaga(feeds)
        run_once(found)
        with running_console(found) as served:
            yield Room(found, feeds, twilio, served)


def levels_on_map(driver: WebDriver) -> dict[str, str]:
    """Kelurahan id -> the level its polygon is drawn with."""
    found: dict[str, str] = driver.execute_script(
        "const m = {}; for (const p of document.querySelectorAll('path[data-area]'))"
        " m[p.dataset.area] = p.dataset.level; return m;"
    )
    return found


def texts(driver: WebDriver, css: str) -> list[str]:
    """The text of every element matching `css`, read at once (the room redraws live)."""
    found: list[str] = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);", css
    )
    return found


def test_login_opens_the_operations_room(room: Room) -> None:
    """A good login leads to `/` with the user's name, the map and the feed chips."""
    with chromium() as driver:
        log_in(driver, room.console.url, "ops1")
        assert driver.current_url.rstrip("/") == room.console.url
        assert "ops1" in driver.find_element(By.ID, "who").text
        assert driver.find_elements(By.CSS_SELECTOR, "#feeds .chip[data-feed=inatews]")


def test_siaga_tsunami_shows_coastal_kelurahan_siaga_and_inland_none(room: Room) -> None:
    """After `run --once` of a SIAGA bulletin: coastal polygons SIAGA, inland ones none."""
    with chromium() as driver:
        log_in(driver, room.console.url, "ops1")
        drawn = levels_on_map(driver)
        assert len(drawn) == 34
        assert {drawn[a] for a in COASTAL} == {"siaga"}
        assert {drawn[a] for a in INLAND} == {"none"}
        assert any("BMKG" in t for t in texts(driver, "#alerts .alert[data-level=siaga]"))
        driver.get(room.console.url + "/peta")
        wait(driver).until(lambda d: d.execute_script("return document.body.dataset.ready"))
        public = levels_on_map(driver)
        assert {public[a] for a in COASTAL} == {"siaga"}
        assert {public[a] for a in INLAND} == {"none"}
        assert not texts(driver, "#alerts, #outbox, #audit")
        listed = texts(driver, "#alerted li")
        assert "SIAGA: Manggar" in listed
        assert len(listed) == sum(1 for level in public.values() if level != "none")
    public = requests.get(room.console.url + "/api/areas", timeout=10).json()
    levels = {f["properties"]["id"]: f["properties"]["level"] for f in public["features"]}
    assert {levels[a] for a in COASTAL} == {"siaga"}
    assert {levels[a] for a in INLAND} == {"none"}


def test_viewer_gets_no_action_buttons_and_a_forged_post_is_refused(room: Room) -> None:
    """A viewer sees the room without any action; posting an action anyway answers 403."""
    with chromium() as driver:
        log_in(driver, room.console.url, "viewer")
        assert driver.find_elements(By.ID, "viewer-note")
        for selector in (
            "#manual-form",
            "#siren-form",
            "#silence-form",
            "#drill-form",
            "button.cancel",
        ):
            assert not driver.find_elements(By.CSS_SELECTOR, selector), selector
        cookie = driver.get_cookie("warning_session")
        csrf = driver.find_element(By.TAG_NAME, "body").get_attribute("data-csrf")
    assert cookie is not None
    forged = requests.post(
        room.console.url + "/actions/siren-stop",
        data={"siren": "all", "csrf": csrf},
        cookies={"warning_session": cookie["value"]},
        timeout=10,
    )
    assert forged.status_code == 403
    assert not room.rows("SELECT 1 FROM outbox WHERE rule_id = 'siren-stop'")


def _request_manual(driver: WebDriver, area: str, message: str) -> None:
    Select(driver.find_element(By.ID, "manual-areas")).select_by_value(area)
    Select(driver.find_element(By.ID, "manual-level")).select_by_value("siaga")
    driver.find_element(By.ID, "manual-message").send_keys(message)
    driver.find_element(By.ID, "manual-send").click()


def test_manual_siaga_sends_nothing_until_a_second_operator_approves(room: Room) -> None:
    """ops1 asks for a SIAGA; nothing is enqueued or sent, ops1 cannot approve; ops2 approves."""
    before = len(room.twilio.messages())
    with chromium() as first:
        log_in(first, room.console.url, "ops1")
        first.find_element(By.ID, "manual-message").send_keys("x")
        assert "segmen" in first.find_element(By.ID, "segments").text
        first.find_element(By.ID, "manual-message").clear()
        _request_manual(first, "gunung-bahagia", "Banjir di Gunung Bahagia, menjauh dari sungai")
        wait(first).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "#approvals .approval"))
        )
        assert texts(first, "#approvals .approval")
        assert not texts(first, "#approvals button.approve")
    assert not room.rows("SELECT 1 FROM outbox WHERE rule_id LIKE 'manual-%'")
    run_once(room.deployment)
    assert len(room.twilio.messages()) == before
    with chromium() as second:
        log_in(second, room.console.url, "ops2")
        click(second, "#approvals button.approve")
        wait(second).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#approvals .approval"))
    run_once(room.deployment)
    sent = room.twilio.messages()[before:]
    assert {m.form["To"] for m in sent} == room.deployment.phones(["gunung-bahagia"])
    assert all(m.form["Body"].startswith("SIAGA") for m in sent)
    approved = room.rows("SELECT actor, detail_json FROM audit_log WHERE action = 'alert.approved'")
    assert approved
    assert approved[0][0] == "ops2"


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_room(room: Room, size: str) -> None:
    """The room at the wall screen, laptop and phone sizes, written for the README."""
    with running(room.deployment) as daemon, chromium(SIZES[size]) as driver:
        daemon.ready()
        log_in(driver, room.console.url, "ops1")
        wait(driver).until(lambda d: "✓" in d.find_element(By.ID, "daemon").text)
        time.sleep(0.5)  # let the map finish its fit-to-bounds animation
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"console-{size}.png"
        assert driver.save_screenshot(str(path))
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= SIZES[size][0], "nothing may overflow sideways"
    assert path.stat().st_size > 10_000


def test_a_rule_silenced_in_the_room_shows_on_the_map_and_in_warning_status(room: Room) -> None:
    """Silencing `angin-kencang` with a reason and an end: on the map, in the list, in status."""
    with chromium() as driver:
        log_in(driver, room.console.url, "ops1")
        Select(driver.find_element(By.ID, "silence-rule")).select_by_value("angin-kencang")
        until = datetime.now(WITA) + timedelta(hours=2)
        driver.execute_script(
            "document.getElementById('silence-until').value = arguments[0];",
            until.strftime("%Y-%m-%dT%H:%M"),
        )
        driver.find_element(By.ID, "silence-reason").send_keys("Perawatan anemometer")
        driver.find_element(By.ID, "silence-button").click()
        wait(driver).until(lambda d: any("angin-kencang" in t for t in texts(d, "#map-silences")))
        assert any("Perawatan anemometer" in t for t in texts(driver, "#silences"))
    status = subprocess.run(
        room.deployment.command("status"),
        cwd=ROOT,
        env=room.deployment.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "silenced: angin-kencang" in status
    assert "by ops1: Perawatan anemometer" in status


def test_drill_banner_appears_while_a_drill_runs(room: Room) -> None:
    """Starting a shipped scenario from the room shows LATIHAN until the drill is over."""
    with chromium() as driver:
        log_in(driver, room.console.url, "ops1")
        banner = driver.find_element(By.ID, "drill-banner")
        assert not banner.is_displayed()
        Select(driver.find_element(By.ID, "drill-scenario")).select_by_value(
            "latihan-tsunami-siaga-balikpapan"
        )
        speed = driver.find_element(By.ID, "drill-speed")
        speed.clear()
        speed.send_keys("20")
        driver.find_element(By.ID, "drill-start").click()
        wait(driver, 20).until(lambda d: d.find_element(By.ID, "drill-banner").is_displayed())
        assert "LATIHAN" in banner.text
        wait(driver, 20).until(lambda d: "siaga" in drill_hatches(d))
        assert levels_on_map(driver)["manggar"] == "siaga"  # the live alert is still drawn as it is
        wait(driver, 150).until(lambda d: not d.find_element(By.ID, "drill-banner").is_displayed())
        driver.get(room.console.url + "/drill")
        report = driver.find_element(By.ID, "drill-report").text
    assert "latihan" in report.lower() or "drill" in report.lower()
    started = room.rows("SELECT actor FROM audit_log WHERE action = 'drill.started'")
    assert started == [("ops1",)]


def drill_hatches(driver: WebDriver) -> set[str]:
    """The drill levels hatched on the map."""
    found: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('path[data-area]')].map(p => p.dataset.drill);"
    )
    return set(found) - {""}


def test_cancel_needs_a_reason_and_then_sends_exactly_the_correction_sms(room: Room) -> None:
    """Without a reason the cancel is refused; with one, those who got SIAGA get the correction."""
    warned = {
        m.form["To"]
        for m in room.twilio.messages()
        if m.form["Body"].startswith("SIAGA")
        and m.form["To"] not in room.deployment.phones(["gunung-bahagia"])
    }
    assert warned
    before = len(room.twilio.messages())
    with chromium() as driver:
        log_in(driver, room.console.url, "ops1")
        click(driver, "#alerts .alert[data-rule^=tsunami] button.cancel")
        driver.find_element(By.ID, "cancel-confirm").click()
        error = driver.find_element(By.ID, "cancel-error")
        wait(driver).until(lambda _d: error.text)
        assert "reason" in error.text
        assert not room.rows("SELECT 1 FROM audit_log WHERE action = 'alert.cancel'")
        driver.find_element(By.ID, "cancel-reason").send_keys("Uji coba sensor, bukan tsunami")
        driver.find_element(By.ID, "cancel-confirm").click()
        wait(driver).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "#alerts .alert[data-rule^=tsunami]")
        )
    run_once(room.deployment)
    corrections = room.twilio.messages()[before:]
    assert sorted(m.form["To"] for m in corrections) == sorted(warned)
    assert all("Uji coba sensor" in m.form["Body"] for m in corrections)
    actor = room.rows("SELECT actor FROM audit_log WHERE action = 'alert.cancel'")
    assert actor == [("ops1",)]
