"""Feed faults against every single-URL adapter: no crash, health as designed, alerts untouched.

A SIAGA from InaTEWS is firing before each fault; then the faulty feed is
polled in-process (the real Pipeline, HttpClient and parser against a local
FeedServer).  A transport or payload fault must leave the feed degraded (or
still ok, for payloads that are valid but useless), never resolve or raise an
alert, and enqueue nothing.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.deployment import COASTAL
from tests.support.paths import FIXTURES, free_port
from tests.support.peers import Fault, FeedServer
from tests.support.pipeline import PD1, Clock, Rig, make_rig, write_settings
from warning.daemon.schedule import Daemon
from warning.model import FeedHealth

#: Adapters fetched from one URL, with a recorded payload each.
ADAPTERS = {
    "inatews": PD1,
    "bmkg-autogempa": FIXTURES / "bmkg-autogempa" / "bmkg_autogempa_20211013_tambrauw_m5.3.json",
    "bmkg-gempaterkini": FIXTURES
    / "bmkg-gempaterkini"
    / "bmkg_gempaterkini_20211214_flores_m7.4_tsunami.json",
    "bmkg-gempadirasakan": FIXTURES
    / "bmkg-gempadirasakan"
    / "bmkg_gempadirasakan_20251224_sample.json",
    "usgs": FIXTURES / "usgs" / "usgs_summary_significant_month_20220405_pariaman_m6.7.geojson",
}

#: Transport faults: the poll fails and the feed turns degraded.
FAILING = {
    "timeout": Fault(delay_s=1.5),
    "500": Fault(status=500),
    "503 Retry-After": Fault(status=503, retry_after="1"),
    "HTML error page": Fault(html=True),
    "empty body": Fault(empty=True),
    "truncated body": Fault(truncated=True),
    "connection reset": Fault(reset=True),
    "50 MB body": Fault(oversize_bytes=50_000_000),
    "wrong schema": Fault(body=b'{"features": "none", "Infogempa": 3, "info": []}'),
    # Python refuses integers of more than 4,300 digits: a ValueError, not a JSONDecodeError.
    "integer of 5,000 digits": Fault(body=b'{"Infogempa": ' + b"9" * 5000 + b"}"),
}

#: Payload faults that parse: the poll succeeds, the items are rejected or change nothing.
ABSURD = json.dumps(
    {
        "Infogempa": {"gempa": {"Magnitude": "99", "Kedalaman": "-5 km", "Coordinates": "999,999"}},
        "info": {"magnitude": "99", "subject": "Warning Tsunami PD-9"},
    }
).encode()


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[tuple[Rig, FeedServer]]:
    """A pipeline whose feeds point at a FeedServer, with a tsunami SIAGA already firing."""
    with FeedServer() as feeds:
        for name, payload in ADAPTERS.items():
            feeds.serve(f"/{name}", payload)
        urls = {name: feeds.url_for(f"/{name}") for name in ADAPTERS}
        # InaTEWS at 30 s (not its 5 s default): the silence bounds below are stated for it.
        settings = write_settings(tmp_path, urls, intervals={"inatews": 30.0})
        rig = make_rig(settings)
        assert rig.pipeline.poll("inatews").ok
        assert {area for _, area in rig.firing()} == set(COASTAL)
        yield rig, feeds


def _poll_under(rig: Rig, feeds: FeedServer, name: str, fault: Fault | None) -> tuple[bool, str]:
    """Inject, poll once, report what was seen."""
    if fault is not None:
        feeds.fault(f"/{name}", fault)
    result = rig.pipeline.poll(name)
    return result.ok, result.error or ""


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("fault_name", FAILING)
def test_a_transport_or_payload_fault_degrades_the_feed_and_touches_no_alert(
    peers: tuple[Rig, FeedServer], name: str, fault_name: str
) -> None:
    """The poll fails cleanly, the feed is degraded, the SIAGA still fires, nothing is enqueued."""
    rig, feeds = peers
    firing, rows = rig.firing(), len(rig.outbox())
    ok, error = _poll_under(rig, feeds, name, FAILING[fault_name])
    health = rig.store.feed(name).health
    print(f"injected {fault_name} on {name}; saw ok={ok} health={health.value} error={error!r}")
    assert not ok
    assert health is FeedHealth.DEGRADED
    assert rig.firing() == firing
    assert len(rig.outbox()) == rows


@pytest.mark.parametrize("name", ADAPTERS)
def test_connection_refused_degrades_the_feed(tmp_path: Path, name: str) -> None:
    """Nobody listens on the feed's port: a failed poll, degraded, no alert change."""
    settings = write_settings(tmp_path, {name: f"http://127.0.0.1:{free_port()}/{name}"})
    rig = make_rig(settings)
    result = rig.pipeline.poll(name)
    print(f"injected connection refused on {name}; saw {result}")
    assert not result.ok
    assert rig.store.feed(name).health is FeedHealth.DEGRADED
    assert rig.outbox() == []


@pytest.mark.parametrize("name", ADAPTERS)
def test_absurd_values_raise_no_alert(peers: tuple[Rig, FeedServer], name: str) -> None:
    """Magnitude 99 at lon 999: rejected (or failed), never a new alert, the SIAGA unchanged."""
    rig, feeds = peers
    firing, rows = rig.firing(), len(rig.outbox())
    ok, error = _poll_under(rig, feeds, name, Fault(body=ABSURD))
    print(f"injected absurd values on {name}; saw ok={ok} error={error!r}")
    assert rig.firing() == firing
    assert len(rig.outbox()) == rows


@pytest.mark.parametrize("name", ADAPTERS)
def test_repeated_and_stale_events_raise_nothing_new(
    peers: tuple[Rig, FeedServer], name: str
) -> None:
    """The same payload three times (stale for all but the PD-1): no new alert or delivery."""
    rig, _feeds = peers
    firing, rows = rig.firing(), len(rig.outbox())
    results = [rig.pipeline.poll(name) for _ in range(3)]
    print(f"injected the same payload 3x on {name}; saw {[r.observations for r in results]}")
    assert all(r.ok for r in results)
    assert all(r.transitions == 0 for r in results)
    assert rig.firing() == firing
    assert len(rig.outbox()) == rows
    assert rig.store.feed(name).health is FeedHealth.OK


def test_an_outage_longer_than_down_after_failures_never_resolves(
    peers: tuple[Rig, FeedServer],
) -> None:
    """Ten 503s on inatews: down once (officials told once), the SIAGA still firing."""
    rig, feeds = peers
    firing, rows = rig.firing(), len(rig.outbox())
    feeds.fault("/inatews", Fault(status=503))
    for _ in range(10):
        rig.pipeline.poll("inatews")
    notices = len(rig.outbox()) - rows
    officials = [c for c in rig.pipeline.config.contacts if c.group == "officials"]
    print(f"injected 10 x 503 on inatews; saw health={rig.store.feed('inatews').health.value}")
    assert rig.store.feed("inatews").health is FeedHealth.DOWN
    assert notices == len(officials)
    assert rig.firing() == firing


def test_an_unforeseen_error_in_a_poll_is_a_feed_failure(tmp_path: Path) -> None:
    """A URL requests cannot prepare raises no FeedError: still a failure, down, officials told.

    Before, such an exception escaped the poll as a `job.failed` log line and the
    feed stayed `ok` for ever.
    """
    settings = write_settings(tmp_path, {"inatews": "http://[::1"})
    rig = make_rig(settings)
    results = [rig.pipeline.poll("inatews") for _ in range(3)]
    record = rig.store.feed("inatews")
    officials = [c for c in rig.pipeline.config.contacts if c.group == "officials"]
    print(f"injected an unpreparable URL on inatews; saw {[r.error for r in results]}")
    assert not any(r.ok for r in results)
    assert record.health is FeedHealth.DOWN
    assert len(rig.outbox("sms")) == len(officials)


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
@pytest.mark.parametrize("name", ["inatews", "usgs"])
def test_a_trickling_server_is_cut_off_at_the_total_deadline(
    peers: tuple[Rig, FeedServer], name: str, headers: bool
) -> None:
    """One byte every 1.5 s never trips a read timeout; the 2 s total deadline ends the poll.

    It holds while the server trickles its status line and headers too: requests
    waits inside http.client for them, where no check of ours ran before, and the
    poll was held for the whole header block (minutes).
    """
    rig, feeds = peers
    rig.pipeline.client.settings = dataclasses.replace(
        rig.settings.http, total_timeout_s=2.0, read_timeout_s=2.0
    )
    feeds.fault(f"/{name}", Fault(trickle_s=1.5, trickle_headers=headers))
    outcome: list[bool] = []
    started = time.monotonic()
    poll = threading.Thread(target=lambda: outcome.append(rig.pipeline.poll(name).ok), daemon=True)
    poll.start()
    poll.join(timeout=15)
    took = time.monotonic() - started
    where = "headers and body" if headers else "body"
    print(f"injected a 1.5 s/byte {where} trickle on {name}; saw the poll end in {took:.1f} s")
    assert not poll.is_alive()
    assert outcome == [False]
    assert took < 6
    assert rig.store.feed(name).health is FeedHealth.DEGRADED


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_redirect_to_another_host_is_refused(peers: tuple[Rig, FeedServer], name: str) -> None:
    """A 302 to `localhost` (another host name than the feed's 127.0.0.1) is never followed."""
    rig, feeds = peers
    with FeedServer() as elsewhere:
        elsewhere.serve(f"/{name}", ADAPTERS[name])
        target = f"http://localhost:{elsewhere.port}/{name}"
        feeds.fault(f"/{name}", Fault(location=target))
        result = rig.pipeline.poll(name)
        print(f"injected a redirect to {target} on {name}; saw {result.error!r}")
        assert elsewhere.received() == []
    assert not result.ok
    assert "another host" in (result.error or "")
    assert rig.store.feed(name).health is FeedHealth.DEGRADED


def test_a_feed_silent_past_its_bound_is_down_though_no_poll_failed(
    peers: tuple[Rig, FeedServer],
) -> None:
    """No poll completes for 181 s (inatews every 30 s, down after 3, 60 s fetch deadline): down.

    A hanging poll records no failure, so counting failures alone kept such a
    feed `ok`; its silence is judged instead.  A late failure keeps it down
    (no second notice); the next success recovers it (one notice).
    """
    rig, feeds = peers
    rows = len(rig.outbox("sms"))
    officials = [c for c in rig.pipeline.config.contacts if c.group == "officials"]
    rig.clock.now += timedelta(seconds=179)
    quiet = rig.pipeline.watch()
    rig.clock.now += timedelta(seconds=2)
    downed = rig.pipeline.watch()
    health = rig.store.feed("inatews").health
    print(f"injected 181 s of silence on inatews; saw watch {quiet} then {downed}, {health.value}")
    assert (quiet, downed) == ([], ["inatews"])
    assert health is FeedHealth.DOWN
    assert len(rig.outbox("sms")) - rows == len(officials)
    feeds.fault("/inatews", Fault(status=503, times=1))
    assert not rig.pipeline.poll("inatews").ok
    assert rig.store.feed("inatews").health is FeedHealth.DOWN
    assert rig.pipeline.poll("inatews").ok
    assert rig.store.feed("inatews").health is FeedHealth.OK
    assert len(rig.outbox("sms")) - rows == 2 * len(officials)


def test_healthz_judges_the_age_of_the_last_success(tmp_path: Path) -> None:
    """/healthz turns 503 once a feed has had no success for its bound plus max_down_s.

    Nothing failed in between (a poll that hangs records nothing): only the age
    of the last success tells, and it is judged whether or not a poll completed.
    """
    with FeedServer() as feeds:
        feeds.serve("/inatews", PD1)
        settings = write_settings(tmp_path, {"inatews": feeds.url_for("/inatews")})
        clock = Clock()
        daemon = Daemon(settings, clock=clock)
        assert daemon.pipeline.poll("inatews").ok
    daemon.heartbeat()
    fine = daemon.health()
    bound = 30 * (3 + 1) + settings.http.total_timeout_s + settings.health.max_down_s
    clock.now += timedelta(seconds=bound + 1)
    daemon.heartbeat()
    report = daemon.health()
    print(f"injected {bound + 1:.0f} s without a success; saw {dict(report.body)['problems']}")
    assert fine.healthy
    assert not report.healthy
    assert any("inatews" in problem for problem in report.body["problems"])
