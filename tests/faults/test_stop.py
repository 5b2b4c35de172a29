"""Stops and crashes of the daemon mid-broadcast: bounded, and nothing lost or left waiting.

- SIGTERM while 600 SMS go out at 10/s: `warning run` exits within the README's
  20 s drain bound (well under the unit's TimeoutStopSec=45s); what it did not
  send goes back to the outbox, counted in a log line.
- SIGKILL of a sender: the next start releases the dead process's claims at
  once instead of waiting out their 2-minute lease.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.peers import TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from tests.support.pipeline import write_settings
from tests.test_crash import TOKEN, _broadcast, _claimed
from warning.daemon.schedule import Daemon
from warning.model import DeliveryStatus
from warning.settings import Settings, load_settings
from warning.store import outbox
from warning.store.sqlite import Store

#: The unit's TimeoutStopSec and the README's drain bound, with 3 s for start and exit.
DRAIN_BOUND_S = 20.0 + 3.0


def _settings(tmp_path: Path, server: TwilioServer, rate: float) -> tuple[Path, Settings]:
    """Every feed off, SMS to the local Twilio at `rate` per second."""
    write_settings(tmp_path, feeds={})
    config = tmp_path / "warning.toml"
    with config.open("a", encoding="utf-8") as extra:
        extra.write(
            f'\n[sms]\napi_base = "{server.url}"\nfrom = "BPBD-BPN"\nmax_per_second = {rate}\n'
        )
    return config, load_settings(config)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }


def test_sigterm_mid_broadcast_exits_within_the_drain_bound_and_releases_the_rest(
    tmp_path: Path,
) -> None:
    """600 SMS at 10/s, SIGTERM after 30: exit 0 within 20 s (+3); unsent rows pending, counted.

    The rows claimed when the bound is reached are released (at most one claim, five
    seconds of SMS at the rate cap, and the last wave of the claim before it); the
    daemon's last line counts every row left.
    """
    with TwilioServer() as server:
        config, settings = _settings(tmp_path, server, 10.0)
        phones = _broadcast(Store(settings.state_path), 600)
        process = subprocess.Popen(
            [sys.executable, "-m", "warning", "--config", str(config), "run"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert len(server.wait_for(30, timeout=30)) >= 30
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - stopped_at
        reached = {r.form["To"] for r in server.accepted()}
    store = Store(settings.state_path)
    counts = outbox.status_counts(store)
    events = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    released = sum(e.get("released", 0) for e in events if e["event"] == "dispatcher.stopped_batch")
    (left,) = [e["pending"] for e in events if e["event"] == "daemon.stopped"]
    pending = {r.recipient for r in outbox.rows(store) if r.status.value == "pending"}
    print(
        f"injected SIGTERM after 30 of 600 SMS at 10/s; exit {process.returncode} after"
        f" {took:.1f} s, {len(reached)} sent, {len(pending)} pending, {released} released (logged)"
    )
    assert process.returncode == 0
    assert took <= DRAIN_BOUND_S
    assert _claimed(settings.state_path) == 0
    assert reached | pending == phones
    assert left == counts[DeliveryStatus.PENDING] == len(pending) > 0
    assert 0 < released <= 50 + settings.sms.concurrency


def test_a_restart_after_a_crash_sends_the_rows_in_flight_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL with rows claimed under a 120 s lease: the next start sends them in seconds."""
    with TwilioServer(latency_s=0.01) as server:
        _, settings = _settings(tmp_path, server, 200.0)
        state = settings.state_path
        phones = _broadcast(Store(state), 400)
        first = subprocess.Popen(
            [sys.executable, "-m", "tests.support.run_dispatcher", str(state), server.url, "120"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server.wait_for(100, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait()
        in_flight = _claimed(state)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        started = time.monotonic()
        daemon = Daemon(settings)
        code = daemon.once()
        took = time.monotonic() - started
        reached = {r.form["To"] for r in server.accepted()}
    print(
        f"injected SIGKILL with {in_flight} rows claimed (lease 120 s); restart sent all"
        f" in {took:.1f} s, exit {code}"
    )
    assert in_flight > 0
    assert code == 0
    assert took < 30
    assert reached == phones
    assert _claimed(state) == 0
