"""What the end-to-end tests share: a `warning run` subprocess and today's InaTEWS bulletins.

The recorded InaTEWS payloads are from the past, and the daemon filters by
age against the real clock, so `inatews_bulletin` re-dates a recorded payload
to the given moment (origin time, bulletin times and ids alike).  `Running`
starts `python -m warning --config <toml> run` with the deployment's
environment, keeps its JSON log lines, and stops it with a signal.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tests.support.deployment import Deployment
from tests.support.paths import ROOT
from warning.model import WIB

INATEWS = ROOT / "tests" / "fixtures" / "inatews"
PD1_SIAGA = INATEWS / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"
PD4_ENDED = INATEWS / "synthetic_inatews_pd4_ended_kaltim_balikpapan.json"
#: A bulletin for a far-away quake that does not name Balikpapan (a quiet feed).
QUIET = INATEWS / "inatews_datagempa_20231025_iowave23_TES_pd4_ended.json"


def inatews_bulletin(path: Path, sent: datetime, origin: datetime) -> bytes:
    """The recorded bulletin re-dated: the quake at `origin`, the bulletin sent at `sent`."""
    message = json.loads(path.read_bytes())
    info = message["info"]
    sent_wib, origin_wib = sent.astimezone(WIB), origin.astimezone(WIB)
    message["sent"] = sent_wib.strftime("%Y-%m-%dT%H:%M:%SWIB")
    message["identifier"] = "Indonesia-InaTEWS-" + sent_wib.strftime("%Y%m%d%H%M%S")
    info["date"] = origin_wib.strftime("%d-%m-%y")
    info["time"] = origin_wib.strftime("%H:%M:%S WIB")
    info["eventid"] = sent_wib.strftime("%Y%m%d%H%M%S")
    info["timesent"] = sent_wib.strftime("%d/%m/%Y %H:%M:%SWIB")
    arrival = sent_wib + timedelta(minutes=30)
    for zone in info.get("wzarea", []):
        zone["date"] = arrival.strftime("%d-%m-%Y")
        zone["time"] = arrival.strftime("%H:%M:%S WIB")
    return json.dumps(message).encode()


class Running:
    """One `warning run` process and its log lines (stderr, JSON)."""

    def __init__(self, deployment: Deployment, *args: str) -> None:
        self.deployment = deployment
        self.log_path = deployment.directory / f"daemon-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            deployment.command("run", *args),
            cwd=ROOT,
            env=deployment.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def events(self) -> list[dict[str, Any]]:
        """Every JSON log line so far."""
        found: list[dict[str, Any]] = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def named(self, event: str) -> list[dict[str, Any]]:
        """The log lines of one event name."""
        return [e for e in self.events() if e.get("event") == event]

    def wait_for_log(
        self,
        event: str,
        timeout: float,
        count: int = 1,
        where: Callable[[dict[str, Any]], bool] = lambda _e: True,
    ) -> list[dict[str, Any]]:
        """Wait until `event` was logged `count` times (failing with the log if it was not)."""

        def found() -> list[dict[str, Any]]:
            return [e for e in self.named(event) if where(e)]

        if not wait_until(lambda: len(found()) >= count, timeout):
            raise AssertionError(f"no {event} within {timeout} s; log:\n{self.tail()}")
        return found()

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def ready(self, timeout: float = 20.0) -> None:
        """Wait until the scheduler started and /healthz answers."""
        self.wait_for_log("daemon.ready", timeout)
        url = self.deployment.health_url + "/healthz"
        assert wait_until(lambda: _answers(url), timeout), self.tail()

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal to the daemon."""
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL (cleanup after a failed test)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@contextmanager
def running(deployment: Deployment, *args: str) -> Iterator[Running]:
    """A started daemon, killed on the way out if the test did not stop it."""
    daemon = Running(deployment, *args)
    try:
        yield daemon
    finally:
        daemon.kill()


def run_warning(
    deployment: Deployment, *args: str, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`warning <args>` run as its own process on the deployment, as an operator would."""
    return subprocess.run(
        deployment.command(*args),
        input=stdin,
        cwd=ROOT,
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def status_json(deployment: Deployment) -> dict[str, Any]:
    """`warning status --json` run as its own process, as an operator would."""
    document: dict[str, Any] = json.loads(run_warning(deployment, "status", "--json").stdout)
    return document


def open_sms(deployment: Deployment) -> set[str]:
    """Recipients of SMS rows still open in the outbox (read straight from SQLite)."""
    conn = sqlite3.connect(deployment.state)
    try:
        rows = conn.execute(
            "SELECT recipient FROM outbox"
            " WHERE channel = 'sms' AND status IN ('pending', 'claimed')"
        )
        return {r[0] for r in rows}
    finally:
        conn.close()


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
    except requests.RequestException:
        return False
    return True
