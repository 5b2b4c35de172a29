"""The benchmarks still run: each module's smallest configuration, in a few seconds each."""

from __future__ import annotations

import importlib
import json

import pytest

from bench.common import busiest_window, percentile

MODULES = [
    "bench.evaluate",
    "bench.fanout",
    "bench.latency",
    "bench.footprint",
    "bench.poll_latency",
    "bench.soak",
    "bench.scale",
    "bench.reach",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", MODULES)
def test_benchmark_runs_its_smallest_configuration(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--quick` prints JSON result lines on stdout, each naming its benchmark."""
    module = importlib.import_module(name)
    assert module.main(["--quick"]) == 0
    out = capsys.readouterr().out
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert results
    assert {r["bench"] for r in results} == {name.removeprefix("bench.")}
    # Every line states its targets with a verdict, or is a reference line of its benchmark.
    verdicts = [v for r in results for v in r.get("targets", {}).values()]
    assert verdicts
    assert set(verdicts) <= {"PASS", "MISS"}


@pytest.mark.slow
def test_latency_names_its_contacts_and_enqueue_rate(capsys: pytest.CaptureFixture[str]) -> None:
    """`--contacts N` grows the contacts file to N and reports the rows enqueued per second."""
    module = importlib.import_module("bench.latency")
    assert module.main(["--quick", "--contacts", "300"]) == 0
    [result] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert result["contacts"] == 300
    assert result["enqueue_rows_per_s"] > 0
    assert {"siren_p99_ms", "sms_p99_ms"} <= result.keys()


def test_busiest_window_counts_a_sliding_second() -> None:
    """The cap check slides: 3 requests within 0.9 s count together, even across a boundary."""
    assert busiest_window([0.5, 1.2, 1.4, 2.6]) == 3
    assert busiest_window([0.0, 1.0, 2.0]) == 1
    assert busiest_window([]) == 0


def test_percentile_interpolates() -> None:
    """p50 of 1..4 is 2.5; p99 of one value is that value."""
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([7.0], 99) == 7.0
