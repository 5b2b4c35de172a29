"""/healthz and /metrics over real HTTP; sd_notify over a real datagram socket."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from warning.daemon.health import HealthReport, HealthServer, Metrics
from warning.daemon.notify import notify, watchdog_interval_s


def _get(url: str) -> tuple[int, str]:
    """Status and body of a GET, including error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_healthz_and_metrics_served() -> None:
    """/healthz follows the health callback; /metrics is Prometheus text."""
    metrics = Metrics()
    metrics.feed_fetches.labels(feed="inatews", outcome="ok").inc()
    state = {"healthy": True}
    server = HealthServer(
        "127.0.0.1:0",
        metrics,
        lambda: HealthReport(state["healthy"], {"status": "ok" if state["healthy"] else "stale"}),
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert _get(base + "/healthz") == (200, json.dumps({"status": "ok"}))
        state["healthy"] = False
        status, body = _get(base + "/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "stale"}
        status, body = _get(base + "/metrics")
        assert status == 200
        assert 'warning_feed_fetches_total{feed="inatews",outcome="ok"} 1.0' in body
        assert _get(base + "/nothing")[0] == 404
    finally:
        server.stop()


def test_notify_sends_datagram(tmp_path: Path) -> None:
    """READY=1 reaches the socket systemd names in NOTIFY_SOCKET."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        assert notify("READY=1", str(path))
        assert listener.recv(64) == b"READY=1"


def test_notify_outside_systemd_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without NOTIFY_SOCKET nothing is sent and nothing fails."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("WATCHDOG=1") is False


def test_watchdog_interval_is_half_of_watchdog_sec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pings at half of WatchdogSec leave a margin for a slow tick."""
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval_s() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval_s() is None
