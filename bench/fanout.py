"""SMS fan-out: the real outbox, Dispatcher and Twilio SDK against a local Twilio-compatible server.

One alert over every kelurahan is planned for N contacts (the real planner,
one SMS per contact) and enqueued in a fresh SQLite outbox; the real
`Dispatcher` sends it through `TwilioChannel` (the twilio SDK with `[sms]
api_base` pointed at the local server) with the cap at 100 per second and 32
threads.  The server runs in its own process (threaded, 200 ms per answer,
Twilio-shaped 201 JSON, optionally some 429s with Retry-After), so its memory
is not ours and its arrival times are the provider's view of the cap.

Reported per run: throughput, submission latency (one SDK call) p50/p99, the
busiest one-second window (sliding, over arrival times), RSS before, peak and
growth (sampled from /proc/self/status every 50 ms).  The baseline, measured in
the same run, sends a 200-message sample one after another through the same
SDK; its rate is extrapolated to N.

Run: `python -m bench.fanout [--quick]`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    busiest_window,
    discard_logs,
    emit,
    machine,
    percentile,
    proc_status_kb,
    quick_flag,
    say,
    speedup,
    verdict,
)
from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from warning.delivery.channel import SendResult
from warning.delivery.dispatcher import Dispatcher
from warning.delivery.sms import TwilioChannel
from warning.model import ChannelKind, Delivery, DeliveryStatus
from warning.plan.planner import plan
from warning.settings import Settings, SmsSettings
from warning.store import outbox
from warning.store.sqlite import Store

SID = "AC" + "5" * 32
TOKEN = "t" * 32
CAP_PER_S = 100.0
THREADS = 32
LATENCY_S = 0.2
SAMPLE = 200


class Peer:
    """The Twilio-compatible server process: `url` while running, its report at the end."""

    def __init__(self, latency_s: float, too_many: int = 0) -> None:
        command = [sys.executable, "-m", "bench.twilio_peer", str(latency_s), str(too_many)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()

    def finish(self) -> dict[str, Any]:
        """Stop the server; its arrival times and counts."""
        output, _ = self._process.communicate("", timeout=60)
        report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        return report


class TimedChannel:
    """The Twilio channel, timing each SDK call (instrumentation, not a fake)."""

    kind = ChannelKind.SMS

    def __init__(self, inner: TwilioChannel) -> None:
        self._inner = inner
        self.durations: list[float] = []
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> SendResult:
        """Send through the real channel and remember how long it took."""
        start = time.perf_counter()
        result = self._inner.send(delivery)
        with self._lock:
            self.durations.append(time.perf_counter() - start)
        return result


class RssSampler:
    """Peak VmRSS of this process, sampled in the background."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.peak_kb = proc_status_kb("self", "VmRSS")
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self.peak_kb = max(self.peak_kb, proc_status_kb("self", "VmRSS"))


def sms_settings(api_base: str) -> SmsSettings:
    """[sms] as the benchmark runs it: the cap and threads of the issue."""
    return SmsSettings(
        api_base=api_base, from_="BPBD-BPN", max_per_second=CAP_PER_S, concurrency=THREADS
    )


def enqueue_broadcast(store: Store, count: int) -> int:
    """Plan one city-wide alert for `count` contacts spread over the kelurahan; enqueue it."""
    areas = city()
    ids = [a.id for a in areas.kelurahan]
    people = [contact(f"+62812{i:08d}", [ids[i % len(ids)]]) for i in range(count)]
    planned = plan(transitions(ids), [rule()], people, (), areas, drill=False, now=NOW)
    with store.transaction() as tx:
        return outbox.enqueue(tx, planned)


def fan_out(count: int, directory: Path, too_many: int = 0) -> dict[str, Any]:
    """Send a broadcast of `count` SMS through the real dispatcher; measure it."""
    before_kb = proc_status_kb("self", "VmRSS")
    peer = Peer(LATENCY_S, too_many)
    with RssSampler() as rss:
        store = Store(directory / f"fanout-{count}-{too_many}.db")
        enqueued = enqueue_broadcast(store, count)
        settings = Settings(sms=sms_settings(peer.url))
        channel = TimedChannel(TwilioChannel(SID, TOKEN, settings.sms))
        dispatcher = Dispatcher(store, {ChannelKind.SMS: channel}, settings.sms)
        start = time.monotonic()
        drained = dispatcher.drain(timeout=count / CAP_PER_S * 3 + 60)
        elapsed = time.monotonic() - start
        dispatcher.close()
    report = peer.finish()
    sent = outbox.status_counts(store).get(DeliveryStatus.SENT, 0)
    outcome = {"enqueued": enqueued, "sent": sent, "drained": drained, "seconds": elapsed}
    return _fan_out_result(count, outcome, channel, report) | {
        "injected_429": too_many,
        "rss_before_mb": round(before_kb / 1024, 1),
        "rss_peak_mb": round(rss.peak_kb / 1024, 1),
        "rss_growth_mb": round((rss.peak_kb - before_kb) / 1024, 1),
    }


def _fan_out_result(
    count: int, outcome: dict[str, Any], channel: TimedChannel, report: dict[str, Any]
) -> dict[str, Any]:
    """The figures of one fan-out run."""
    arrivals: list[float] = report["arrivals"]
    return {
        "bench": "fanout",
        "case": f"{count} recipients",
        "recipients": count,
        "enqueued": outcome["enqueued"],
        "sent": outcome["sent"],
        "accepted_by_server": report["accepted"],
        "distinct_recipients_accepted": report["recipients"],
        "drained": outcome["drained"],
        "seconds": round(outcome["seconds"], 2),
        "throughput_per_s": round(outcome["sent"] / outcome["seconds"], 1),
        "submit_p50_ms": round(percentile(channel.durations, 50) * 1000, 1),
        "submit_p99_ms": round(percentile(channel.durations, 99) * 1000, 1),
        "busiest_1s_window": busiest_window(arrivals),
        "cap_per_s": CAP_PER_S,
        "threads": THREADS,
        "server_latency_ms": LATENCY_S * 1000,
    }


def sequential_rate(directory: Path, sample: int) -> float:
    """Messages per second sending `sample` SMS one after another through the same SDK."""
    store = Store(directory / "sequential.db")
    enqueue_broadcast(store, sample)
    peer = Peer(LATENCY_S)
    channel = TwilioChannel(SID, TOKEN, sms_settings(peer.url))
    deliveries = outbox.claim(
        store, "sequential", now=time.time(), lease_s=3600, limit=sample, channels=[ChannelKind.SMS]
    )
    start = time.monotonic()
    for delivery in deliveries:
        channel.send(delivery)
    elapsed = time.monotonic() - start
    report = peer.finish()
    assert report["accepted"] == sample, report["accepted"]
    return sample / elapsed


def with_targets(result: dict[str, Any], sequential: float) -> dict[str, Any]:
    """Baseline ratio and target verdicts of one run."""
    count, ours_s = result["recipients"], result["seconds"]
    baseline_s = count / sequential
    ideal = min(CAP_PER_S, THREADS / LATENCY_S)
    checks = {
        "cap_held": result["busiest_1s_window"] <= CAP_PER_S,
        "nothing_lost": result["distinct_recipients_accepted"] == count,
    }
    if not result["injected_429"]:
        # Injected 429s are retried after Retry-After by design: no throughput target then.
        checks["throughput"] = result["throughput_per_s"] >= 0.9 * ideal
        checks["vs_sequential"] = baseline_s / ours_s >= 10
    if count >= 10_000:
        checks["rss_growth"] = result["rss_growth_mb"] < 50
    return result | {
        "baseline": f"sequential sends through the same SDK, {SAMPLE}-message sample, extrapolated",
        "baseline_rate_per_s": round(sequential, 2),
        "baseline_s": round(baseline_s, 1),
        "speedup": speedup(baseline_s, ours_s),
        "throughput_target_per_s": 0.9 * ideal,
        "targets": {name: verdict(ok) for name, ok in checks.items()},
    }


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """The sequential baseline, then each broadcast; every result is also printed."""
    discard_logs()
    sizes = [(40, 0)] if quick else [(2_000, 0), (10_000, 0), (1_000, 50)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sequential = sequential_rate(directory, 5 if quick else SAMPLE)
        emit(
            {
                "bench": "fanout",
                "case": "sequential baseline",
                "sample": 5 if quick else SAMPLE,
                "rate_per_s": round(sequential, 2),
            }
        )
        results = [emit(with_targets(fan_out(n, directory, bad), sequential)) for n, bad in sizes]
    _summary(results, sequential)
    return results


def _summary(results: Sequence[dict[str, Any]], sequential: float) -> None:
    """The human summary."""
    say(f"fanout on {machine()}: sequential baseline {sequential:.2f} SMS/s")
    for r in results:
        say(
            f"  {r['recipients']} recipients ({r['injected_429']} injected 429s): "
            f"{r['throughput_per_s']}/s"
            + ("" if r["injected_429"] else f" (target >= {r['throughput_target_per_s']:g})")
            + ", "
            f"busiest second {r['busiest_1s_window']} (cap {CAP_PER_S:g}), "
            f"submit p50 {r['submit_p50_ms']} ms p99 {r['submit_p99_ms']} ms, "
            f"RSS {r['rss_before_mb']} -> peak {r['rss_peak_mb']} MB "
            f"(+{r['rss_growth_mb']} MB), {r['speedup']}x sequential; {r['targets']}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration."""
    run(quick=quick_flag(argv, __doc__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
