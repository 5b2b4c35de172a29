"""A stop cuts a rate-limited poll short instead of holding the process past its timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.deployment import local_tables, write_settings_file
from tests.support.paths import FIXTURES
from tests.support.peers import FeedServer
from warning.daemon.schedule import Daemon, guarded
from warning.model import FeedHealth
from warning.settings import load_settings

FORECAST = FIXTURES / "bmkg-forecast" / "synthetic_bmkg_forecast_manggar_64.71.01.1001.json"


def test_stop_interrupts_the_forecast_poll_without_marking_the_feed(tmp_path: Path) -> None:
    """34 requests 10 s apart: a stop after the first ends the poll at once, health untouched."""
    with FeedServer() as server:
        server.serve("/forecast", FORECAST.read_bytes())
        feed = {"url": f"{server.url}/forecast", "requests_per_minute": 6}
        tables = {**local_tables(tmp_path), "feeds.bmkg-forecast": feed}
        config = write_settings_file(tmp_path, tables, ())
        daemon = Daemon(load_settings(config))
        job = guarded("feed:bmkg-forecast", lambda: daemon.pipeline.poll("bmkg-forecast"))
        poll = threading.Thread(target=job)
        poll.start()
        deadline = time.monotonic() + 10
        while not server.received("/forecast") and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        daemon.request_stop()
        poll.join(timeout=5)
        assert not poll.is_alive()
        assert time.monotonic() - started < 1.0
        assert len(server.received("/forecast")) == 1
    assert daemon.store.feed("bmkg-forecast").health is FeedHealth.OK
    assert daemon.store.feed("bmkg-forecast").failures == 0
    daemon.dispatcher.close()
