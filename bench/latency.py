"""Alert latency: from a feed response to the first siren command and the first SMS request.

A test deployment (tests.support.peers: feed, Twilio and siren servers, the shipped
rules, contacts on the coast) runs the daemon's real objects in-process: the
`Daemon` is built from the settings file, its APScheduler runs the outbox job
in a background thread, and each poll is triggered directly with
`Daemon.pipeline.poll("inatews")`, so the polling interval is excluded while
the path is the daemon's own: fetch, parse, evaluate, commit, wake the outbox
(`Daemon.wake_outbox`), dispatcher, siren channel, Twilio SDK.

Each of the 50 events is a new InaTEWS PD-1 naming Kota Balikpapan at SIAGA
(another origin time, 2 minutes apart, so another event).  Latency runs from the feed
server receiving the GET to the siren server and the Twilio server receiving
their first request (one monotonic clock, one process).  Between events a PD-4
ends the warning and the outbox drains, so every event fires afresh.

With `--contacts N` the contacts file holds N people (the test deployment's
plus public contacts spread over the coastal kelurahan): the siren must not
wait for the SMS fan-out however large it is.  After each first SMS the rest
of the fan-out is marked superseded (Twilio's 100/s would take N/100 s per
event); `enqueue_rows_per_s` is the rows one poll enqueued over that poll's
whole wall time (fetch, evaluation, planning and writing: a lower bound), and
`rss_peak_mb` the process's high-water mark (the peers run in it too).

`daemon_rss_peak_mb` weighs the daemon alone: after the timed events a child
process (`--daemon-rss`) starts the daemon's objects on a fresh state file
(loading every contact into the store), polls one more PD-1, lets the whole
fan-out be written and the dispatcher send for two seconds, and reports its
own high-water mark and resident size (`daemon_rss_mb`); the peers stay here.

Run: `python -m bench.latency [--quick] [--contacts N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, discard_logs, emit, machine, percentile, proc_status_kb, say, verdict
from tests.support.deployment import COASTAL, Deployment, write_config
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from warning.daemon.schedule import Daemon, RunOptions
from warning.model import WIB
from warning.settings import load_settings
from warning.store import outbox

EVENTS = 50
SIREN_TARGET_MS = 250.0
SMS_TARGET_MS = 1000.0
ENQUEUE_TARGET_ROWS_PER_S = 50_000.0
RSS_TARGET_MB = 150.0
#: Contacts from which the RSS and enqueue-rate targets apply (issue 15: 100,000).
LARGE = 100_000
PD1 = ROOT / "tests/fixtures/inatews/synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"
PD4 = ROOT / "tests/fixtures/inatews/synthetic_inatews_pd4_ended_kaltim_balikpapan.json"


def bulletin(template: Path, n: int, origin: datetime, sent: datetime) -> bytes:
    """An InaTEWS message of event `n`: its own origin time and place, sent at `sent`."""
    message = json.loads(template.read_text(encoding="utf-8"))
    info = message["info"]
    local, at = origin.astimezone(WIB), sent.astimezone(WIB)
    info["date"], info["time"] = local.strftime("%d-%m-%y"), local.strftime("%H:%M:%S WIB")
    info["point"]["coordinates"] = f"{118.0 + n * 0.01:.2f},-2.10"
    info["eventid"] = at.strftime("%Y%m%d%H%M%S")
    message["sent"] = at.strftime("%Y-%m-%dT%H:%M:%SWIB")
    message["identifier"] = f"Indonesia-InaTEWS-{info['eventid']}-{n}"
    return json.dumps(message).encode()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """The deployment's credentials in os.environ while the daemon runs in-process."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Harness:
    """The daemon's objects on a test deployment, its outbox job running in the background."""

    def __init__(self, deployment: Deployment | Path, *, scheduled_polls: bool = False) -> None:
        config = deployment if isinstance(deployment, Path) else deployment.config
        settings = load_settings(config)
        self.daemon = Daemon(settings, RunOptions())
        self.daemon.schedule()
        # Polls are triggered by the benchmark, never by the clock (unless `scheduled_polls`).
        for job in self.daemon.scheduler.get_jobs():
            if job.id.startswith("feed:") and not scheduled_polls:
                job.remove()
        self._thread = threading.Thread(target=self.daemon.scheduler.start, daemon=True)

    def __enter__(self) -> Harness:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.daemon.scheduler.shutdown(wait=True)
        self.daemon.dispatcher.close()

    def drained(self, timeout: float, since_id: int = 0) -> bool:
        """Wait until the outbox has nothing left to send, nor in flight above `since_id`.

        In flight: rows a dispatcher thread still holds (claimed before they were
        dropped, each let go as its thread reaches it).  The next event starts on a
        quiet daemon, as the benchmark means to time, not on the last one's leftovers.
        """
        deadline = time.monotonic() + timeout
        conn = self.daemon.store.connection()
        while time.monotonic() < deadline:
            if (
                outbox.open_count(self.daemon.store) == 0
                and not conn.execute(
                    "SELECT 1 FROM outbox WHERE id > ? AND claimed_by IS NOT NULL LIMIT 1",
                    (since_id,),
                ).fetchone()
            ):
                return True
            time.sleep(0.02)
        return False

    def last_id(self) -> int:
        """The newest outbox row's id (0 for none): where an event's rows begin."""
        row = self.daemon.store.connection().execute("SELECT max(id) FROM outbox").fetchone()
        return int(row[0] or 0)


def production_rate(deployment: Deployment) -> None:
    """The cap and threads of a production account (as in bench.fanout), not the tests' 50/s."""
    text = deployment.config.read_text(encoding="utf-8")
    tests_rate = "max_per_second = 50.0\nconcurrency = 8"
    assert tests_rate in text, "tests.support.peers.write_config changed its [sms] section"
    text = text.replace(tests_rate, "max_per_second = 100.0\nconcurrency = 32")
    deployment.config.write_text(text, encoding="utf-8")


def add_contacts(deployment: Deployment, total: int) -> int:
    """Grow the contacts file to `total` people: public contacts along the coast; the count."""
    csv = deployment.config.parent / "contacts.csv"
    have = len(csv.read_text(encoding="utf-8").splitlines()) - 1
    with csv.open("a", encoding="utf-8") as out:
        for n in range(max(total - have, 0)):
            area = COASTAL[n % len(COASTAL)]
            out.write(f"+62813{n:08d},Warga {n},{area},public,id,false\n")
    return max(total, have)


def drop_fan_out(harness: Harness) -> None:
    """Mark the unsent rest of the fan-out superseded: the benchmark times its start only.

    Claimed rows too: the dispatcher claims ahead while the fan-out is written, and
    looks again in the store before each send, so it skips them (as after a cancel).
    """
    with harness.daemon.store.transaction() as tx:
        tx.execute(
            "UPDATE outbox SET status = 'superseded'"
            " WHERE status IN ('pending', 'claimed') AND channel = 'sms'"
        )


def one_event(
    n: int,
    harness: Harness,
    peers: tuple[FeedServer, TwilioServer, SirenServer],
    began: datetime,
) -> dict[str, float]:
    """Serve event n's PD-1, poll, time the first siren and SMS; then end it with PD-4."""
    feeds, twilio, sirens = peers
    for peer in (feeds, twilio, sirens):
        peer.clear()
    now = datetime.now(UTC)
    # Bulletins within a minute and 100 km of each other are one event (docs/event-identity.md):
    # each event's quake is 2 minutes before the previous one's, counted from the run's
    # start (not from now: an event of a large fan-out lasts more than a minute), so
    # every PD-1 is a new event.
    origin = began - timedelta(seconds=90) - timedelta(minutes=2 * n)
    feeds.serve("/inatews", bulletin(PD1, n, origin, now - timedelta(seconds=60)))
    since = harness.last_id()
    start = time.perf_counter()
    polled = harness.daemon.pipeline.poll("inatews")
    poll_s = time.perf_counter() - start
    served = feeds.received("/inatews")[0].at
    siren = sirens.wait_for(1, timeout=60)[0].at
    sms = twilio.wait_for(1, timeout=60)[0].at
    drop_fan_out(harness)
    assert harness.drained(60, since), "outbox did not drain"
    feeds.serve("/inatews", bulletin(PD4, n, origin, now - timedelta(seconds=30)))
    harness.daemon.pipeline.poll("inatews")
    drop_fan_out(harness)
    assert harness.drained(60, since), "outbox did not drain after PD-4"
    return {
        "siren_ms": (siren - served) * 1000,
        "sms_ms": (sms - served) * 1000,
        "rows_per_s": polled.deliveries / poll_s,
    }


def run(*, quick: bool = False, contacts: int = 0) -> list[dict[str, Any]]:
    """Time `EVENTS` events (3 with `quick`, fewer for large contact files); print the result."""
    discard_logs()
    events = 3 if quick else EVENTS if contacts <= 10_000 else 10 if contacts <= LARGE else 3
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer() as feeds,
        TwilioServer() as twilio,
        SirenServer() as sirens,
    ):
        deployment = write_config(
            Path(tmp), feeds=feeds, twilio=twilio, sirens=sirens, intervals={"inatews": 3600}
        )
        production_rate(deployment)
        people = add_contacts(deployment, contacts)
        with environment(deployment.env), Harness(deployment) as harness:
            began = datetime.now(UTC)
            peers = (feeds, twilio, sirens)
            timings = [one_event(n, harness, peers, began) for n in range(events)]
            peak = proc_status_kb("self", "VmHWM") / 1024
        daemon = daemon_rss(deployment, feeds, events, began)
    result = _result(timings, people, peak, daemon)
    emit(result)
    _summary(result)
    return [result]


def daemon_rss(
    deployment: Deployment, feeds: FeedServer, n: int, began: datetime
) -> dict[str, float]:
    """The daemon's own RSS (MB) in a child process: start, one PD-1, its whole fan-out."""
    settings = load_settings(deployment.config)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.state_path}{suffix}").unlink(missing_ok=True)
    origin = began - timedelta(seconds=90) - timedelta(minutes=2 * n)
    now = datetime.now(UTC)
    feeds.serve("/inatews", bulletin(PD1, n, origin, now - timedelta(seconds=60)))
    command = [sys.executable, "-m", "bench.latency", "--daemon-rss", str(deployment.config)]
    env = {**os.environ, **deployment.env}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=1800
    )
    measured: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def _measure_daemon(config: Path) -> int:
    """The child of `daemon_rss`: the daemon's objects, one poll, then its RSS on stdout."""
    discard_logs()
    with Harness(config) as harness:
        polled = harness.daemon.pipeline.poll("inatews")
        time.sleep(2.0)
        result = {
            "rss_peak_mb": round(proc_status_kb("self", "VmHWM") / 1024, 1),
            "rss_mb": round(proc_status_kb("self", "VmRSS") / 1024, 1),
            "rows": polled.deliveries,
        }
        drop_fan_out(harness)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _result(
    timings: Sequence[dict[str, float]],
    people: int,
    rss_mb: float,
    daemon: dict[str, float],
) -> dict[str, Any]:
    """Percentiles and the target verdicts (no baseline: nothing else does this path)."""
    siren = [t["siren_ms"] for t in timings]
    sms = [t["sms_ms"] for t in timings]
    rate = min(t["rows_per_s"] for t in timings)
    p99_siren, p99_sms = percentile(siren, 99), percentile(sms, 99)
    targets = {
        f"siren_p99 < {SIREN_TARGET_MS:g} ms": verdict(p99_siren < SIREN_TARGET_MS),
        f"sms_p99 < {SMS_TARGET_MS:g} ms": verdict(p99_sms < SMS_TARGET_MS),
    }
    if people >= LARGE:
        targets[f"enqueue_rows_per_s >= {ENQUEUE_TARGET_ROWS_PER_S:g}"] = verdict(
            rate >= ENQUEUE_TARGET_ROWS_PER_S
        )
    if people == LARGE:
        targets[f"daemon_rss_peak_mb < {RSS_TARGET_MB:g}"] = verdict(
            daemon["rss_peak_mb"] < RSS_TARGET_MB
        )
    return {
        "bench": "latency",
        "case": "inatews siaga for balikpapan",
        "contacts": people,
        "events": len(timings),
        "siren_p50_ms": round(percentile(siren, 50), 1),
        "siren_p99_ms": round(p99_siren, 1),
        "sms_p50_ms": round(percentile(sms, 50), 1),
        "sms_p99_ms": round(p99_sms, 1),
        "enqueue_rows_per_s": round(rate),
        "rss_peak_mb": round(rss_mb, 1),
        "daemon_rss_peak_mb": daemon["rss_peak_mb"],
        "daemon_rss_mb": daemon["rss_mb"],
        "targets": targets,
    }


def _summary(result: dict[str, Any]) -> None:
    """The human summary."""
    say(
        f"latency on {machine()}, {result['contacts']} contacts, {result['events']} events,"
        " poll triggered directly:"
    )
    say(
        f"  feed -> first siren: p50 {result['siren_p50_ms']} ms, p99 {result['siren_p99_ms']} ms;"
        f" feed -> first SMS: p50 {result['sms_p50_ms']} ms, p99 {result['sms_p99_ms']} ms;"
        f" {result['enqueue_rows_per_s']} rows/s enqueued; peak RSS {result['rss_peak_mb']} MB"
        f" (with the peers), daemon alone {result['daemon_rss_peak_mb']} MB peak,"
        f" {result['daemon_rss_mb']} MB after its fan-out;"
        f" {result['targets']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration; `--contacts N` sizes the file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest configuration (smoke)")
    parser.add_argument("--contacts", type=int, default=0, help="contacts in the file")
    parser.add_argument("--daemon-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.daemon_rss is not None:
        return _measure_daemon(args.daemon_rss)
    run(quick=args.quick, contacts=args.contacts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
