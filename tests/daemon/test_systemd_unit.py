"""The shipped units (daemon and console) pass `systemd-analyze verify` and rate at most 2.0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

UNIT = ROOT / "systemd" / "warning.service"
#: Every shipped unit: the daemon and the operations console.
UNITS = (UNIT, ROOT / "systemd" / "warning-console.service")


def _analyze() -> str:
    """The systemd-analyze binary, or skip (fail in CI) when it cannot be had."""
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze missing in CI: .ci/run installs systemd")
        pytest.skip("systemd-analyze is not installed on this machine")
    return found


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies(unit: Path) -> None:
    """`systemd-analyze verify systemd/<unit>` exits 0 with no complaint."""
    done = subprocess.run(
        [_analyze(), "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert unit.name not in done.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_security_exposure_at_most_2(unit: Path) -> None:
    """The hardening rates an exposure level of 2.0 or better."""
    done = subprocess.run(
        [_analyze(), "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    pattern = rf"Overall exposure level for {re.escape(unit.name)}: ([0-9.]+)"
    match = re.search(pattern, done.stdout)
    assert match is not None, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0


def test_unit_has_the_required_directives() -> None:
    """Type=notify with a watchdog, state/config directories and credentials."""
    text = UNIT.read_text(encoding="utf-8")
    for directive in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=warning",
        "ConfigurationDirectory=warning",
        "LoadCredential=twilio_auth_token",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
    ):
        assert directive in text
