"""Footprint: `warning run` polling every feed at a tenth of its default interval, for 60 s.

The daemon runs as a subprocess on a test deployment (tests.support.peers): a local
feed server answers every feed with its recorded payload from
tests/fixtures (the nowcast RSS lists one local CAP document), the Twilio and
siren servers stand by.  From the moment /healthz answers, RSS is sampled
from /proc/<pid>/status every second and CPU is read from /proc/<pid>/stat at
the start and the end of the window.  The idle Python interpreter's RSS,
measured in the same run, is the reference.

Run: `python -m bench.footprint [--quick]` (quick: 5 s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, cpu_seconds, emit, machine, proc_status_kb, quick_flag, say, verdict
from tests.support.deployment import write_config
from tests.support.peers import FeedServer, SirenServer, TwilioServer
from warning.feeds import FEEDS
from warning.settings import LIMITS

WINDOW_S = 60.0
RSS_TARGET_MB = 120.0
CPU_TARGET_PCT = 2.0
FIXTURES = ROOT / "tests" / "fixtures"
#: The recorded payload each feed is answered with.
PAYLOADS = {
    "inatews": "inatews/inatews_datagempa_20230425_mentawai_tsunami_pd1.json",
    "bmkg-autogempa": "bmkg-autogempa/bmkg_autogempa_20211013_tambrauw_m5.3.json",
    "bmkg-gempaterkini": "bmkg-gempaterkini/bmkg_gempaterkini_20211214_flores_m7.4_tsunami.json",
    "bmkg-gempadirasakan": "bmkg-gempadirasakan/bmkg_gempadirasakan_20251224_sample.json",
    "bmkg-forecast": "bmkg-forecast/synthetic_bmkg_forecast_manggar_64.71.01.1001.json",
    "open-meteo": "open-meteo/synthetic_openmeteo_forecast_balikpapan.json",
    "open-meteo-marine": "open-meteo-marine/synthetic_openmeteo_marine_balikpapan.json",
    "big-tide": "big-tide/big_tidegauge_temp-csv_unknown-station_20190311-20190328.csv",
    "usgs": "usgs/usgs_summary_significant_month_20220405_pariaman_m6.7.geojson",
}
CAP = "bmkg-nowcast/synthetic_cap_nowcast_kaltim_balikpapan.xml"


def serve_feeds(feeds: FeedServer) -> None:
    """Every feed's recorded payload at `/<feed>`; the nowcast RSS links a local CAP file."""
    for name, path in PAYLOADS.items():
        feeds.serve(f"/{name}", FIXTURES / path, "application/json")
    feeds.serve("/bmkg-nowcast/cap.xml", FIXTURES / CAP)
    item = (
        "<item><title>Hujan Lebat di Kalimantan Timur</title>"
        "<description>Kalimantan Timur</description>"
        f"<link>{feeds.url_for('/bmkg-nowcast/cap.xml')}</link></item>"
    )
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel>{item}</channel></rss>'
    feeds.serve("/bmkg-nowcast", rss.encode(), "application/rss+xml")


def idle_interpreter_kb() -> int:
    """RSS of a Python interpreter doing nothing, for reference."""
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(1.0)
        return proc_status_kb(idle.pid, "VmRSS")
    finally:
        idle.kill()
        idle.wait()


def wait_healthy(url: str, timeout: float) -> bool:
    """Poll /healthz until it answers (200 or 503: the daemon is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310 - local
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def observe(pid: int, seconds: float) -> dict[str, float]:
    """RSS samples and CPU over `seconds` of a running process."""
    cpu_start, start = cpu_seconds(pid), time.monotonic()
    samples = [proc_status_kb(pid, "VmRSS")]
    while time.monotonic() - start < seconds:
        time.sleep(1.0)
        samples.append(proc_status_kb(pid, "VmRSS"))
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(pid) - cpu_start
    return {
        "rss_start_mb": samples[0] / 1024,
        "rss_end_mb": samples[-1] / 1024,
        "rss_peak_mb": max(samples) / 1024,
        "rss_hwm_mb": proc_status_kb(pid, "VmHWM") / 1024,
        "cpu_s": cpu,
        "cpu_pct": 100.0 * cpu / elapsed,
        "seconds": elapsed,
    }


@contextmanager
def running_daemon(intervals: dict[str, float]) -> Iterator[tuple[int, FeedServer]]:
    """`warning run` as a subprocess on the recorded feeds, healthy; its pid and feed server."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer() as feeds,
        TwilioServer() as twilio,
        SirenServer() as sirens,
    ):
        serve_feeds(feeds)
        deployment = write_config(
            Path(tmp), feeds=feeds, twilio=twilio, sirens=sirens, intervals=intervals
        )
        daemon = subprocess.Popen(
            deployment.command("run"),
            cwd=ROOT,
            env=deployment.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert wait_healthy(deployment.health_url, 60), "daemon did not start"
            yield daemon.pid, feeds
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)


def tenth_intervals() -> dict[str, float]:
    """Every feed at 1/10 of its default interval, but never below what settings allow.

    InaTEWS's 5 s default would be 0.5 s, under `feeds.*.interval_s`'s 1 s floor:
    it runs at 1 s (a fifth of its interval).
    """
    floor = LIMITS["feeds.*.interval_s"][0]
    return {name: max(floor, f.defaults.interval_s / 10) for name, f in FEEDS.items()}


def run(*, quick: bool = False) -> list[dict[str, Any]]:
    """Start the daemon, watch it for the window, stop it; print the result."""
    window = 5.0 if quick else WINDOW_S
    idle_kb = idle_interpreter_kb()
    intervals = tenth_intervals()
    with running_daemon(intervals) as (pid, feeds):
        figures = observe(pid, window)
        polls = len(feeds.received())
    result = _result(figures, idle_kb, polls, intervals)
    emit(result)
    _summary(result)
    return [result]


def _result(
    figures: dict[str, float], idle_kb: int, polls: int, intervals: dict[str, float]
) -> dict[str, Any]:
    """Rounded figures, the reference ratio and the target verdicts."""
    idle_mb = idle_kb / 1024
    return {
        "bench": "footprint",
        "case": "warning run, every feed at 1/10 of its default interval",
        "seconds": round(figures["seconds"], 1),
        "feed_requests": polls,
        "intervals_s": intervals,
        "rss_start_mb": round(figures["rss_start_mb"], 1),
        "rss_end_mb": round(figures["rss_end_mb"], 1),
        "rss_peak_mb": round(figures["rss_peak_mb"], 1),
        "rss_hwm_mb": round(figures["rss_hwm_mb"], 1),
        "cpu_s": round(figures["cpu_s"], 2),
        "cpu_pct_of_one_core": round(figures["cpu_pct"], 2),
        "baseline": "idle Python interpreter RSS (reference, same run)",
        "baseline_rss_mb": round(idle_mb, 1),
        "rss_ratio_to_idle": round(figures["rss_peak_mb"] / idle_mb, 2),
        "targets": {
            f"rss < {RSS_TARGET_MB:g} MB": verdict(figures["rss_hwm_mb"] < RSS_TARGET_MB),
            f"cpu < {CPU_TARGET_PCT:g} %": verdict(figures["cpu_pct"] < CPU_TARGET_PCT),
        },
    }


def _summary(result: dict[str, Any]) -> None:
    """The human summary."""
    say(f"footprint on {machine()}:")
    say(
        f"  {result['seconds']} s, {result['feed_requests']} feed requests: RSS peak "
        f"{result['rss_peak_mb']} MB (high-water {result['rss_hwm_mb']} MB, "
        f"{result['rss_ratio_to_idle']}x an idle interpreter's {result['baseline_rss_mb']} MB), "
        f"CPU {result['cpu_pct_of_one_core']} % of one core; {result['targets']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--quick` runs the smallest configuration."""
    run(quick=quick_flag(argv, __doc__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
