"""BMKG publishes -> first siren and first SMS, polling included.

The daemon's real objects run in-process with their real scheduler
(`Daemon.schedule`, APScheduler: the InaTEWS job at the shipped default
interval, with its jitter, and the outbox job).  A local feed server (with
ETags, so every poll between two publications is a conditional GET answered
304) stands for BMKG's bucket.  For each of 50 events, at a random moment
the server starts serving a new PD-1 naming Kota Balikpapan at SIAGA; the
clock runs from that moment to the siren server and the Twilio server
receiving their first request.  A PD-4 then ends the event and the outbox
drains before the next one.

The target is p99 <= interval + 2 s: a publication waits at most one interval
(plus the trigger's jitter of up to 1 s) for the next poll.

Run: `python -m bench.poll_latency [--quick]` (quick: 3 events, a 1 s interval).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import discard_logs, emit, machine, percentile, quick_flag, say, verdict
from bench.latency import PD1, PD4, Harness, bulletin, environment, production_rate
from tests.support.deployment import write_config
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from warning.feeds import FEEDS

EVENTS = 50
MARGIN_S = 2.0


def one_event(
    n: int,
    interval: float,
    rng: random.Random,
    harness: Harness,
    peers: tuple[FeedServer, TwilioServer, SirenServer],
) -> dict[str, float]:
    """Publish event n's PD-1 at a random moment; time the first siren and SMS; end it."""
    feeds, twilio, sirens = peers
    time.sleep(rng.uniform(0, interval))
    for peer in (twilio, sirens):
        peer.clear()
    now = datetime.now(UTC)
    origin = now - timedelta(seconds=90) - timedelta(minutes=2 * n)
    published = time.monotonic()
    feeds.serve("/inatews", bulletin(PD1, n, origin, now - timedelta(seconds=60)))
    siren = sirens.wait_for(1, timeout=interval + 30)[0].at
    sms = twilio.wait_for(1, timeout=interval + 30)[0].at
    assert harness.drained(120), "outbox did not drain"
    feeds.serve("/inatews", bulletin(PD4, n, origin, now - timedelta(seconds=30)))
    time.sleep(interval * 1.5 + 1)  # the next poll sees the PD-4
    assert harness.drained(120), "outbox did not drain after PD-4"
    return {"siren_ms": (siren - published) * 1000, "sms_ms": (sms - published) * 1000}


def run(*, quick: bool = False, seed: int = 7) -> list[dict[str, Any]]:
    """Time `EVENTS` publications (3 at a 1 s interval with `quick`); print the result."""
    discard_logs()
    interval = 1.0 if quick else FEEDS["inatews"].defaults.interval_s
    events = 3 if quick else EVENTS
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer() as feeds,
        TwilioServer() as twilio,
        SirenServer() as sirens,
    ):
        deployment = write_config(
            Path(tmp), feeds=feeds, twilio=twilio, sirens=sirens, intervals={"inatews": interval}
        )
        production_rate(deployment)
        with environment(deployment.env), Harness(deployment, scheduled_polls=True) as harness:
            peers = (feeds, twilio, sirens)
            timings = [one_event(n, interval, rng, harness, peers) for n in range(events)]
            requests = len(feeds.received("/inatews"))
    result = _result(timings, interval, requests)
    emit(result)
    _summary(result)
    return [result]


def _result(timings: Sequence[dict[str, float]], interval: float, requests: int) -> dict[str, Any]:
    """Percentiles and the target verdicts."""
    siren = [t["siren_ms"] for t in timings]
    sms = [t["sms_ms"] for t in timings]
    p99_siren, p99_sms = percentile(siren, 99), percentile(sms, 99)
    bound_ms = (interval + MARGIN_S) * 1000
    return {
        "bench": "poll_latency",
        "case": "inatews siaga published at a random moment, polled by the real scheduler",
        "events": len(timings),
        "interval_s": interval,
        "feed_requests": requests,
        "siren_p50_ms": round(percentile(siren, 50), 1),
        "siren_p99_ms": round(p99_siren, 1),
        "sms_p50_ms": round(percentile(sms, 50), 1),
        "sms_p99_ms": round(p99_sms, 1),
        "targets": {
            f"siren_p99 <= {bound_ms:g} ms": verdict(p99_siren <= bound_ms),
            f"sms_p99 <= {bound_ms:g} ms": verdict(p99_sms <= bound_ms),
        },
    }


def _summary(result: dict[str, Any]) -> None:
    """The human summary."""
    say(f"poll_latency on {machine()}, {result['events']} events, every {result['interval_s']} s:")
    say(
        f"  publish -> first siren: p50 {result['siren_p50_ms']} ms, p99 "
        f"{result['siren_p99_ms']} ms; publish -> first SMS: p50 {result['sms_p50_ms']} ms, "
        f"p99 {result['sms_p99_ms']} ms; {result['feed_requests']} feed requests; "
        f"{result['targets']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration."""
    run(quick=quick_flag(argv, __doc__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
