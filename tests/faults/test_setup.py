"""The README's test command on a fresh machine: what it needs is installed or named, never skipped.

`make test` runs `scripts/test-tools --install` before anything else; without
root it must stop with one line naming every package to install.  The MQTT
helpers look every mosquitto program up before starting one, so a missing
`mosquitto_passwd` is that clear message too, not a FileNotFoundError.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tests.support.peers.mqtt as broker
from tests.support.paths import ROOT

SCRIPT = ROOT / "scripts" / "test-tools"
PACKAGES = ("mosquitto", "systemd", "chromium", "chromium-driver")


def test_a_machine_without_the_peers_gets_one_line_naming_every_package(tmp_path: Path) -> None:
    """No mosquitto, systemd-analyze or chromium anywhere: exit 1, one line, every package."""
    empty = str(tmp_path)
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": empty, "WARNING_SBIN": empty},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stderr.splitlines()
    print(f"injected a machine without the peers; saw rc={done.returncode} {lines}")
    assert done.returncode == 1
    assert len(lines) == 1
    assert f"apt-get install {' '.join(PACKAGES)}" in lines[0]


def test_a_machine_with_every_peer_passes_silently(tmp_path: Path) -> None:
    """Every program present (mosquitto only in the sbin directory, as on Debian): exit 0, quiet."""
    bin_dir, sbin = tmp_path / "bin", tmp_path / "sbin"
    for directory, names in (
        (bin_dir, ("mosquitto_passwd", "systemd-analyze", "chromium", "chromedriver")),
        (sbin, ("mosquitto",)),
    ):
        directory.mkdir()
        for name in names:
            (directory / name).write_text("#!/bin/sh\n", encoding="utf-8")
            (directory / name).chmod(0o755)
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), "--install"],
        env={"PATH": str(bin_dir), "WARNING_SBIN": str(sbin)},
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"injected a machine with every peer; saw rc={done.returncode} {done.stderr!r}")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_make_test_checks_the_peers_before_anything_runs() -> None:
    """`make -n test` runs `scripts/test-tools --install` before ruff, mypy and pytest."""
    done = subprocess.run(
        ["make", "-n", "-s", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    commands = [line for line in done.stdout.splitlines() if line.strip()]
    first = next(i for i, c in enumerate(commands) if "ruff" in c or "pytest" in c)
    print(f"dry-ran make test; saw {commands[: first + 1]}")
    assert any(c.strip() == "scripts/test-tools --install" for c in commands[:first])
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith("exec make test")


def test_a_missing_mosquitto_passwd_fails_clearly_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With CI set and no mosquitto programs, an authenticated broker fails with the reason."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(broker, "SBIN", str(tmp_path))
    with (
        pytest.raises(pytest.fail.Exception, match=r"mosquitto\S* is not installed"),
        broker.running_mosquitto(tmp_path, user=("warning", "rahasia")),
    ):
        pass
    print("injected a machine without mosquitto, CI set; saw the clear failure")
