"""The daemon's health and metrics: Prometheus metrics, the heartbeat, /healthz and /metrics.

Each daemon owns its own `CollectorRegistry` (no process-global metrics), and
`/healthz` answers from a snapshot function the daemon provides: 200 with a
JSON body while the scheduler's heartbeat is fresh and no feed has been down
too long, 503 with the reason otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from warning.delivery.channel import Delivery, DeliveryStatus, Outcome, SendResult
from warning.model import FeedHealth, Level
from warning.settings import HealthSettings
from warning.store import outbox
from warning.store.console import firing
from warning.store.sqlite import Store

log = structlog.get_logger()


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


class Monitor:
    """What the daemon tells about itself: metrics, heartbeat age, feed health, /healthz."""

    def __init__(
        self,
        store: Store,
        *,
        drill: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        silent_feeds: Callable[[], list[str]] = list,
    ) -> None:
        self.metrics = Metrics()
        self._store = store
        self._clock = clock
        self._silent_feeds = silent_feeds
        self._drill = drill
        self._heartbeat = time.monotonic()
        self._heartbeat_s = 60.0
        self._max_down_s = 0.0
        self._server: HealthServer | None = None

    def beat(self) -> None:
        """The scheduler runs: note it for /healthz and the heartbeat gauge."""
        self._heartbeat = time.monotonic()
        self.metrics.heartbeat.set(time.time())
        self.outbox_gauges()

    def observe(self, delivery: Delivery, result: SendResult) -> None:
        """Count every delivery attempt by outcome; time accepted ones from enqueue."""
        channel = delivery.channel.value
        self.metrics.deliveries.labels(channel=channel, outcome=result.outcome.value).inc()
        if result.outcome is Outcome.SENT and delivery.enqueued_at is not None:
            latency = (datetime.now(UTC) - delivery.enqueued_at).total_seconds()
            self.metrics.delivery_latency.labels(channel=channel).observe(max(latency, 0.0))

    def outbox_gauges(self) -> None:
        """Outbox depth by status and the live alerts firing, for /metrics."""
        self.metrics.set_firing((f.area_id, f.level) for f in firing(self._store) if not f.drill)
        counts = {s: 0 for s in DeliveryStatus}
        for status, n in outbox.status_counts(self._store).items():
            counts[status] = n
        for status, n in counts.items():
            self.metrics.outbox_depth.labels(status=status.value).set(n)

    def report(self) -> HealthReport:
        """/healthz: a fresh heartbeat, no feed down or silent for too long."""
        age = time.monotonic() - self._heartbeat
        problems: list[str] = []
        if age > 3 * self._heartbeat_s:
            problems.append(f"scheduler heartbeat is {age:.0f} s old")
        now = self._clock()
        feeds = {}
        for record in self._store.feeds():
            feeds[record.feed] = record.health.value
            down_for = (now - record.health_since).total_seconds() if record.health_since else 0
            if record.health is FeedHealth.DOWN and down_for > self._max_down_s:
                problems.append(f"feed {record.feed} down for {down_for:.0f} s")
        problems += self._silent_feeds()
        body = {
            "status": "ok" if not problems else "unhealthy",
            "problems": problems,
            "heartbeat_age_s": round(age, 1),
            "feeds": feeds,
            "drill": self._drill,
        }
        return HealthReport(not problems, body)

    def configure(self, settings: HealthSettings, heartbeat_s: float) -> None:
        """The limits /healthz checks: heartbeat period and how long a feed may be down."""
        self._heartbeat_s = heartbeat_s
        self._max_down_s = settings.max_down_s

    def start(self, settings: HealthSettings, heartbeat_s: float) -> None:
        """Serve /healthz and /metrics on `[health] listen` (nothing when it is empty)."""
        self.configure(settings, heartbeat_s)
        if not settings.listen:
            return
        try:
            self._server = HealthServer(settings.listen, self.metrics, self.report)
        except OSError as exc:
            log.error("health.unavailable", listen=settings.listen, error=str(exc))  # noqa: TRY400 - a busy port, not a bug
            return
        self._server.start()
        log.info("health.listening", listen=settings.listen, port=self._server.port)

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
