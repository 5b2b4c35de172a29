"""SIGKILL at random points of a 1,000-SMS broadcast, 20 trials: none lost, duplicates counted."""

from __future__ import annotations

import collections
import random
import signal
import time
from pathlib import Path

import pytest

from tests.support.peers import TwilioServer
from tests.test_crash import _broadcast, _claimed, _dispatcher
from warning.store import outbox
from warning.store.sqlite import Store

TRIALS = 20


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_broadcast_loses_nothing_and_repeats_only_rows_in_flight(
    tmp_path: Path, trial: int
) -> None:
    """Kill after a random number of requests, restart: all reached, duplicates <= in flight."""
    kill_after = random.Random(trial).randint(20, 950)
    state = tmp_path / "state.db"
    phones = _broadcast(Store(state), 1000)
    with TwilioServer(latency_s=0.01) as server:
        first = _dispatcher(state, server)
        deadline = time.monotonic() + 60
        while len(server.requests) < kill_after and first.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        in_flight = _claimed(state)
        at_kill = len(server.requests)
        second = _dispatcher(state, server)
        assert second.wait(timeout=120) == 0
    per_phone = collections.Counter(r.form["To"] for r in server.accepted())
    duplicates = sum(n - 1 for n in per_phone.values())
    print(
        f"trial {trial}: SIGKILL after {at_kill} requests ({in_flight} claimed); "
        f"saw {len(per_phone)} reached, {duplicates} duplicates"
    )
    assert set(per_phone) == phones
    assert duplicates <= in_flight
    assert {r.status.value for r in outbox.rows(Store(state))} == {"sent"}
