"""Soak: `warning run` with every feed at a tenth of its interval, for 30 minutes.

The footprint benchmark's deployment (tests.support.peers, the recorded payloads
of every feed), watched longer: 30 minutes at ten times the polling rate is
five hours of the daemon's polling.  RSS is sampled from /proc every 5 s; the
figure that says whether history is bounded is the growth over the last half
of the window (end minus the middle), which must level off.  CPU is the
daemon's user + system time over the whole window.

Run: `python -m bench.soak [--quick] [--minutes M]` (quick: 0.25 minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import cpu_seconds, emit, machine, proc_status_kb, say, verdict
from bench.footprint import running_daemon, tenth_intervals

MINUTES = 30.0
GROWTH_TARGET_MB = 2.0
CPU_TARGET_PCT = 1.0
SAMPLE_S = 5.0


def watch(pid: int, seconds: float) -> dict[str, Any]:
    """RSS every SAMPLE_S (fewer for short runs) and CPU over `seconds` of a running process."""
    step = min(SAMPLE_S, max(seconds / 10, 0.5))
    cpu_start, start = cpu_seconds(pid), time.monotonic()
    samples = [(0.0, proc_status_kb(pid, "VmRSS") / 1024)]
    while time.monotonic() - start < seconds:
        time.sleep(step)
        samples.append((time.monotonic() - start, proc_status_kb(pid, "VmRSS") / 1024))
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(pid) - cpu_start
    middle = min(samples, key=lambda s: abs(s[0] - elapsed / 2))[1]
    return {
        "seconds": elapsed,
        "rss_start_mb": samples[0][1],
        "rss_middle_mb": middle,
        "rss_end_mb": samples[-1][1],
        "rss_peak_mb": max(mb for _, mb in samples),
        "cpu_s": cpu,
        "cpu_pct": 100.0 * cpu / elapsed,
    }


def run(*, minutes: float) -> list[dict[str, Any]]:
    """Start the daemon, watch it for `minutes`, stop it; print the result."""
    intervals = tenth_intervals()
    with running_daemon(intervals) as (pid, feeds):
        figures = watch(pid, minutes * 60)
        polls = len(feeds.received())
    result = _result(figures, minutes, polls)
    emit(result)
    _summary(result)
    return [result]


def _result(figures: dict[str, Any], minutes: float, polls: int) -> dict[str, Any]:
    """Rounded figures and the target verdicts."""
    growth = figures["rss_end_mb"] - figures["rss_middle_mb"]
    return {
        "bench": "soak",
        "case": "warning run, every feed at 1/10 of its default interval",
        "minutes": minutes,
        "daemon_hours_of_polling": round(minutes * 10 / 60, 2),
        "feed_requests": polls,
        "rss_start_mb": round(figures["rss_start_mb"], 1),
        "rss_middle_mb": round(figures["rss_middle_mb"], 1),
        "rss_end_mb": round(figures["rss_end_mb"], 1),
        "rss_peak_mb": round(figures["rss_peak_mb"], 1),
        "rss_growth_last_half_mb": round(growth, 2),
        "cpu_s": round(figures["cpu_s"], 2),
        "cpu_pct_of_one_core": round(figures["cpu_pct"], 2),
        "targets": {
            f"rss_growth_last_half_mb < {GROWTH_TARGET_MB:g}": verdict(growth < GROWTH_TARGET_MB),
            f"cpu < {CPU_TARGET_PCT:g} %": verdict(figures["cpu_pct"] < CPU_TARGET_PCT),
        },
    }


def _summary(result: dict[str, Any]) -> None:
    """The human summary."""
    say(f"soak on {machine()}:")
    say(
        f"  {result['minutes']} min ({result['daemon_hours_of_polling']} h of polling), "
        f"{result['feed_requests']} feed requests: RSS {result['rss_start_mb']} -> "
        f"{result['rss_middle_mb']} -> {result['rss_end_mb']} MB (last half "
        f"{result['rss_growth_last_half_mb']:+} MB), CPU {result['cpu_pct_of_one_core']} % "
        f"of one core; {result['targets']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` for a short run, `--minutes M` for another length."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 15-second run (smoke)")
    parser.add_argument("--minutes", type=float, default=MINUTES, help="length of the watch")
    args = parser.parse_args(argv)
    run(minutes=0.25 if args.quick else args.minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
