"""What the console tests share: a deployment, a `warning console` process, a headless Chromium.

`Console` starts `python -m warning --config <toml> console` on a free port
against a test deployment (tests/support/peers) and waits until it answers.
`chromium()` is Debian's Chromium driven by its chromedriver through Selenium,
headless, with a fresh profile and no background traffic; without chromium
(and only outside CI) the browser tests are skipped with the reason.
`seed_siaga()` makes the state a real `warning run --once` makes of an InaTEWS
SIAGA for Balikpapan: coastal kelurahan firing at SIAGA, their SMS sent to the
local Twilio peer.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.support.deployment import Deployment, write_config
from tests.support.paths import ROOT, free_port
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from tests.support.processes import PD1_SIAGA, inatews_bulletin, run_warning, wait_until

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
#: Screenshots the tests write for the README.
SCREENSHOTS = ROOT / "docs" / "screenshots"
SIZES = {"wall": (1920, 1080), "laptop": (1366, 768), "phone": (390, 844)}
PASSWORDS = {
    "ops1": "operator-satu-rahasia",
    "ops2": "approver-dua-rahasia",
    "viewer": "pengamat-rahasia-123",
}
ROLES = {"ops1": "operator", "ops2": "approver", "viewer": "viewer"}
#: The shipped drill scenario the tests start from the room.
DRILL = "latihan-tsunami-siaga-balikpapan"


def deployment(
    directory: Path, feeds: FeedServer, twilio: TwilioServer, sirens: SirenServer
) -> Deployment:
    """A test deployment with a console port and the three test accounts."""
    port = free_port()
    found = write_config(
        directory,
        feeds=feeds,
        twilio=twilio,
        sirens=sirens,
        extra=f'\n[console]\nlisten = "127.0.0.1:{port}"\n',
    )
    for name, role in ROLES.items():
        add_user(found, name, role, PASSWORDS[name])
    ship_scenario(found, DRILL)
    return found


def ship_scenario(found: Deployment, name: str) -> None:
    """Copy a shipped drill scenario into the deployment's rules/tests (fixture paths kept)."""
    text = (ROOT / "rules" / "tests" / f"{name}.yaml").read_text(encoding="utf-8")
    folder = found.rules_dir / "tests"
    folder.mkdir(exist_ok=True)
    fixtures = str(ROOT / "tests" / "fixtures")
    (folder / f"{name}.yaml").write_text(text.replace("../../tests/fixtures", fixtures))


def add_user(found: Deployment, name: str, role: str, password: str) -> None:
    """`warning console user add NAME --role ROLE` with the password on stdin."""
    run_warning(found, "console", "user", "add", name, "--role", role, stdin=password + "\n")


def state_rows(found: Deployment, sql: str, *args: object) -> list[sqlite3.Row]:
    """Read the deployment's state database as an auditor would (a connection of its own)."""
    conn = sqlite3.connect(found.state)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def state_tuples(found: Deployment, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """`state_rows` as plain tuples, for comparing with literals."""
    return [tuple(r) for r in state_rows(found, sql, *args)]


def console_url(found: Deployment) -> str:
    """The base URL of the deployment's console."""
    text = found.config.read_text(encoding="utf-8")
    listen = text.split("[console]")[1].split('"')[1]
    return f"http://{listen}"


class Console:
    """One `warning console` process (stderr kept for the log checks)."""

    def __init__(self, found: Deployment) -> None:
        self.url = console_url(found)
        self.log = found.directory / f"console-{time.monotonic_ns()}.log"
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(
            found.command("console"), cwd=ROOT, env=found.env, stdout=self._out, stderr=self._out
        )
        if not wait_until(self._answers, 30):
            self.stop()
            raise AssertionError(f"console did not start:\n{self.log.read_text()}")

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/api/areas", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._out.close()


@contextmanager
def running_console(found: Deployment) -> Iterator[Console]:
    """A started console, stopped on the way out."""
    served = Console(found)
    try:
        yield served
    finally:
        served.stop()


def run_once(found: Deployment) -> None:
    """`warning run --once`: poll every feed, evaluate, drain the outbox, exit."""
    run_warning(found, "run", "--once", timeout=120)


def serve_siaga(feeds: FeedServer) -> None:
    """InaTEWS names KALTIM BALIKPAPAN at SIAGA, a minute ago."""
    now = datetime.now(UTC)
    feeds.serve(
        "/inatews",
        inatews_bulletin(PD1_SIAGA, now - timedelta(minutes=1), now - timedelta(minutes=6)),
    )


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return None
    reason = f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(reason + ": CI must install them")
    return reason


def wait(driver: WebDriver, seconds: float = 15) -> WebDriverWait:  # type: ignore[type-arg]
    """A WebDriverWait on `driver`."""
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415 - browser tests only

    return WebDriverWait(driver, seconds)


def log_in(driver: WebDriver, console: str, name: str) -> None:
    """Log `name` in through the form of the console at `console`; wait for its first snapshot."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415 - browser tests only

    driver.get(console + "/login")
    driver.find_element(By.NAME, "username").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS[name])
    driver.find_element(By.ID, "login-button").click()
    wait(driver).until(lambda d: d.execute_script("return document.body.dataset.ready"))


def click(driver: WebDriver, css: str, timeout: float = 15) -> None:
    """Click the element matching `css`, again if a live redraw or reload replaced it meanwhile."""
    from selenium.common.exceptions import (  # noqa: PLC0415 - browser tests only
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    def clicked(d: WebDriver) -> bool:
        try:
            d.find_element(By.CSS_SELECTOR, css).click()
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return True

    wait(driver, timeout).until(clicked)


@contextmanager
def chromium(size: tuple[int, int] = SIZES["laptop"]) -> Iterator[object]:
    """A headless Chromium at `size`, with a fresh profile, closed on the way out."""
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver  # noqa: PLC0415 - only when a browser test runs
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # The exact viewport (a window cannot be made as narrow as a phone).
    metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 500}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
