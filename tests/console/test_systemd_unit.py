"""The console's unit passes `systemd-analyze verify`, rates at most 2.0, and shares the state."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT
from tests.daemon.test_systemd_unit import _analyze

UNIT = ROOT / "systemd" / "warning-console.service"


def test_console_unit_verifies() -> None:
    """`systemd-analyze verify systemd/warning-console.service` exits 0 with no complaint."""
    done = subprocess.run(
        [_analyze(), "verify", str(UNIT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "warning-console.service" not in done.stderr


def test_console_unit_security_exposure_at_most_2() -> None:
    """The console is hardened like the daemon: exposure 2.0 or better."""
    done = subprocess.run(
        [_analyze(), "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        check=False,
    )
    pattern = r"Overall exposure level for warning-console\.service: ([0-9.]+)"
    match = re.search(pattern, done.stdout)
    assert match is not None, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0


def test_console_unit_runs_as_the_daemons_dynamic_user_on_its_state() -> None:
    """User=warning with DynamicUser: the same UID as warning.service, the same StateDirectory."""
    text = UNIT.read_text(encoding="utf-8")
    for directive in (
        "DynamicUser=yes",
        "User=warning",
        "StateDirectory=warning",
        'warning" console',
    ):
        assert directive in text
