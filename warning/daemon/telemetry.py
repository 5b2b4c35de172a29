"""Prometheus metrics and the /healthz + /metrics HTTP endpoint.

Each daemon owns its own `CollectorRegistry` (no process-global metrics), and
`/healthz` answers from a snapshot function the daemon provides: 200 with a
JSON body while the scheduler's heartbeat is fresh and no feed has been down
too long, 503 with the reason otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from warning.model import Level


class Metrics:
    """The daemon's counters, histograms and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.feed_fetches = Counter(
            "warning_feed_fetches_total", "Feed polls by outcome", ["feed", "outcome"], registry=r
        )
        self.feed_failures = Counter(
            "warning_feed_failures_total", "Failed feed polls", ["feed"], registry=r
        )
        self.feed_latency = Histogram(
            "warning_feed_fetch_seconds", "Time to fetch and parse a feed", ["feed"], registry=r
        )
        self.feed_up = Gauge(
            "warning_feed_health", "Feed health: 2 ok, 1 degraded, 0 down", ["feed"], registry=r
        )
        self.evaluations = Counter("warning_evaluations_total", "Rule evaluations", registry=r)
        self.transitions = Counter(
            "warning_transitions_total", "Alert transitions", ["kind", "level"], registry=r
        )
        self.deliveries = Counter(
            "warning_deliveries_total",
            "Delivery attempts by outcome",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "warning_delivery_latency_seconds",
            "From enqueue to provider acceptance",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.outbox_depth = Gauge(
            "warning_outbox_depth", "Outbox rows by status", ["status"], registry=r
        )
        self.heartbeat = Gauge(
            "warning_heartbeat_timestamp_seconds", "Last scheduler heartbeat", registry=r
        )
        self.alerts_firing = Gauge(
            "warning_alerts_firing",
            "Live (rule, kelurahan) alerts firing, by level",
            ["level"],
            registry=r,
        )
        self.kelurahan_alerted = Gauge(
            "warning_kelurahan_alerted",
            "Kelurahan whose highest live alert is at this level",
            ["level"],
            registry=r,
        )

    def set_firing(self, firing: Iterable[tuple[str, Level]]) -> None:
        """Both firing gauges from the live (kelurahan, level) pairs firing now."""
        pairs = list(firing)
        highest: dict[str, Level] = {}
        for area, level in pairs:
            highest[area] = max(highest.get(area, level), level)
        for level in Level:
            self.alerts_firing.labels(level=level.value).set(
                sum(1 for _, lv in pairs if lv is level)
            )
            self.kelurahan_alerted.labels(level=level.value).set(
                sum(1 for lv in highest.values() if lv is level)
            )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What /healthz says: healthy or not, and why."""

    healthy: bool
    body: Mapping[str, Any]


class HealthServer:
    """A small threaded HTTP server for /healthz and /metrics on `[health] listen`."""

    def __init__(self, listen: str, metrics: Metrics, health: Callable[[], HealthReport]) -> None:
        host, _, port = listen.rpartition(":")
        handler = _handler(metrics, health)
        self._server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (useful when listening on port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


def _handler(metrics: Metrics, health: Callable[[], HealthReport]) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to this daemon's metrics and health."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/healthz":
                report = health()
                body = json.dumps(dict(report.body), default=str).encode("utf-8")
                self._reply(200 if report.healthy else 503, "application/json", body)
            elif self.path.split("?")[0] == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, metrics.render())
            else:
                self._reply(404, "text/plain", b"not found\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes every 15 s would drown the journal; requests are not events.
            return

    return Handler
