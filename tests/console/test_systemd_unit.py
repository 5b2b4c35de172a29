"""The console's unit shares the daemon's dynamic user and state (verify and security: see
tests/daemon/test_systemd_unit.py, which checks every shipped unit)."""

from __future__ import annotations

from tests.support.paths import ROOT

UNIT = ROOT / "systemd" / "warning-console.service"


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
