"""Crash safety and throughput against a local Twilio-compatible server."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from tests.support.paths import ROOT
from tests.support.peers import TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.delivery.dispatcher import Dispatcher
from warning.delivery.sms import TwilioChannel
from warning.model import ChannelKind
from warning.plan.planner import plan
from warning.settings import Settings, SmsSettings
from warning.store import outbox
from warning.store.sqlite import Store

TOKEN = "t" * 32


def _broadcast(store: Store, count: int) -> set[str]:
    """Enqueue one alert for `count` contacts in Manggar; return their numbers."""
    people = [contact(f"+62812{i:08d}", ["manggar"]) for i in range(count)]
    planned = plan(transitions(["manggar"]), [rule()], people, (), city(), drill=False, now=NOW)
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
    return {p.phone for p in people}


def _dispatcher(state: Path, server: TwilioServer) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.run_dispatcher", str(state), server.url, "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _claimed(state: Path) -> int:
    """Rows claimed (in flight) right now."""
    conn = Store(state).connection()
    return int(conn.execute("SELECT count(*) FROM outbox WHERE status = 'claimed'").fetchone()[0])


@pytest.mark.slow
def test_a_killed_sender_loses_nothing_and_repeats_only_rows_in_flight(tmp_path: Path) -> None:
    """SIGKILL mid-broadcast of 1,000 SMS, restart: everyone got it; duplicates <= in flight."""
    state = tmp_path / "state.db"
    phones = _broadcast(Store(state), 1000)
    with TwilioServer(latency_s=0.01) as server:
        first = _dispatcher(state, server)
        while len(server.requests) < 300 and first.poll() is None:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait()
        in_flight = _claimed(state)
        received_at_kill = len(server.requests)
        assert 300 <= received_at_kill < 1000
        second = _dispatcher(state, server)
        assert second.wait(timeout=120) == 0
    per_phone = collections.Counter(r.form["To"] for r in server.accepted())
    assert set(per_phone) == phones
    duplicates = sum(n - 1 for n in per_phone.values())
    assert duplicates <= in_flight
    assert {r.status.value for r in outbox.rows(Store(state))} == {"sent"}


@pytest.mark.slow
def test_the_rate_cap_holds_in_every_one_second_window(tmp_path: Path) -> None:
    """max_per_second = 50 with 30 ms latency and 32 threads: no window sees more than 50."""
    store = Store(tmp_path / "state.db")
    _broadcast(store, 160)
    with TwilioServer(latency_s=0.03) as server:
        sms = SmsSettings(
            api_base=server.url, from_="BPBD-BPN", max_per_second=50.0, concurrency=32
        )
        settings = Settings(sms=sms)
        channel = TwilioChannel(SID, TOKEN, sms)
        dispatcher = Dispatcher(store, {ChannelKind.SMS: channel}, settings.sms)
        assert dispatcher.drain(timeout=30)
        dispatcher.close()
    times = sorted(r.at for r in server.requests)
    assert len(times) == 160
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 50
    assert times[-1] - times[0] >= 3.0  # 160 at 50/s cannot take less than three windows
