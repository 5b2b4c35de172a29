"""What every benchmark shares: JSON result lines, a human summary, timing and /proc readings.

Results go to stdout as one JSON object per line (machine-readable, for `jq`
or a regression check); the human summary goes to stderr, so that stdout
stays pure JSON.  Figures are stated against a baseline measured in the same
run because the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warning.log import configure

ROOT = Path(__file__).resolve().parent.parent


def quick_flag(argv: Sequence[str] | None, doc: str | None) -> bool:
    """Parse a benchmark's command line: `--quick` runs its smallest configuration."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="smallest configuration (smoke)")
    return bool(parser.parse_args(argv).quick)


def discard_logs() -> None:
    """Log as under systemd (info, JSON lines) into /dev/null: the cost stays, the noise goes."""
    configure("info", "json", open(os.devnull, "w"))  # noqa: SIM115 - open for the process's life


def emit(result: dict[str, Any]) -> dict[str, Any]:
    """Print one result as a JSON line on stdout; return it."""
    print(json.dumps(result, sort_keys=False), flush=True)
    return result


def say(text: str) -> None:
    """One line of the human summary (stderr)."""
    print(text, file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    """PASS or MISS for a target."""
    return "PASS" if ok else "MISS"


def speedup(baseline_s: float, ours_s: float) -> float:
    """Baseline time / our time, rounded for reading."""
    return round(baseline_s / ours_s, 2) if ours_s > 0 else float("inf")


def median_time(run: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of `repeats` runs, and the last run's result."""
    times: list[float] = []
    result: object = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def busiest_window(times: Sequence[float], width_s: float = 1.0) -> int:
    """The largest number of timestamps in any half-open window [t, t + width)."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - width_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def proc_status_kb(pid: int | str, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM), 0 when absent."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    """Where the figures were measured: cores, CPU model, Python, date."""
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
