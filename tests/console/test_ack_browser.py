"""An acknowledgement link opened in headless Chromium at phone width (issue 14, Done when).

The RT head opens the link of their SIAGA SMS on a 390 px phone, sees one
big "Diterima" button, taps it, and the state records their acknowledgement;
the screenshot of the page goes to docs/screenshots/ for the README.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.ack_console import RT_MANGGAR, ack_deployment
from tests.support.console import SCREENSHOTS, SIZES, chromium, running_console

pytestmark = pytest.mark.slow


def _acknowledged(state: Path) -> list[tuple[str, str]]:
    """(recipient, group) of every acknowledgement recorded."""
    conn = sqlite3.connect(state)
    try:
        return list(conn.execute("SELECT recipient, grp FROM acknowledgements"))
    finally:
        conn.close()


def test_an_rt_head_taps_diterima_on_a_phone_and_it_is_recorded(tmp_path: Path) -> None:
    """At 390 px: the button fills the width, opening records nothing, the tap records it."""
    state = ack_deployment(tmp_path)
    with running_console(state.deployment) as console, chromium(SIZES["phone"]) as browser:
        driver: WebDriver = browser  # type: ignore[assignment]
        driver.get(f"{console.url}/a/{state.valid}")
        button = WebDriverWait(driver, 15).until(
            ready.element_to_be_clickable((By.ID, "ack-button"))
        )
        assert button.text == "Diterima"
        assert button.size["width"] >= 300
        assert _acknowledged(state.settings.state_path) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(SCREENSHOTS / "ack-phone.png"))
        button.click()
        done = WebDriverWait(driver, 15).until(
            ready.visibility_of_element_located((By.ID, "ack-done"))
        )
        assert "konfirmasi tercatat" in done.text
        assert driver.save_screenshot(str(SCREENSHOTS / "ack-phone-done.png"))
    assert _acknowledged(state.settings.state_path) == [(RT_MANGGAR, "rt-heads")]
