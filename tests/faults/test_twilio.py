"""Twilio faults through the real dispatcher and SMS channel: retried or classified, none lost."""

from __future__ import annotations

import collections
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.areas import city
from tests.support.builders import contact, rule, transitions
from tests.support.peers import TwilioServer
from tests.support.peers.twilio import ACCOUNT_SID as SID
from tests.support.pipeline import write_settings
from tests.test_crash import TOKEN, _broadcast
from warning.daemon.health import Monitor
from warning.daemon.schedule import Daemon
from warning.delivery.dispatcher import Backoff, Dispatcher
from warning.delivery.sms import TwilioChannel
from warning.model import ChannelKind
from warning.plan.planner import plan
from warning.settings import HealthSettings, SmsSettings, load_settings
from warning.store import outbox
from warning.store.sqlite import Store
from warning.store.status import status_report

CAP = 50.0


def _send(tmp_path: Path, server: TwilioServer, count: int = 100) -> tuple[set[str], Store]:
    """Broadcast to `count` numbers through the real channel; return the numbers and the store."""
    store = Store(tmp_path / "state.db")
    phones = _broadcast(store, count)
    sms = SmsSettings(
        api_base=server.url, from_="BPBD-BPN", max_per_second=CAP, concurrency=16, timeout_s=0.5
    )
    dispatcher = Dispatcher(
        store,
        {ChannelKind.SMS: TwilioChannel(SID, TOKEN, sms)},
        sms,
        backoff=Backoff(base_s=0.05, cap_s=0.2),
    )
    assert dispatcher.drain(timeout=60)
    dispatcher.close()
    return phones, store


def _busiest_second(server: TwilioServer) -> int:
    times = sorted(r.at for r in server.messages())
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def _accepted(server: TwilioServer) -> collections.Counter[str]:
    return collections.Counter(r.form["To"] for r in server.accepted())


def test_a_429_storm_is_retried_until_everyone_is_reached_under_the_cap(tmp_path: Path) -> None:
    """60 answers of 429 (Retry-After 0): every number accepted once, no window above the cap."""
    with TwilioServer() as server:
        server.fail_next(60, 429, 20429, retry_after="0")
        phones, store = _send(tmp_path, server)
    accepted = _accepted(server)
    busiest = _busiest_second(server)
    print(f"injected 60 x 429; saw {len(server.messages())} requests, busiest {busiest}/s")
    assert set(accepted) == phones
    assert set(accepted.values()) == {1}
    assert _busiest_second(server) <= CAP
    assert {r.status.value for r in outbox.rows(store)} == {"sent"}


def test_5xx_answers_are_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    """30 answers of 503 (code 20503): retried; every number accepted exactly once."""
    with TwilioServer() as server:
        server.fail_next(30, 503, 20503)
        phones, _ = _send(tmp_path, server)
    accepted = _accepted(server)
    print(f"injected 30 x 503; saw {len(server.messages())} requests")
    assert set(accepted) == phones
    assert set(accepted.values()) == {1}


def test_timeouts_are_retried_and_duplicate_only_what_timed_out(tmp_path: Path) -> None:
    """5 answers stalled past the 0.5 s timeout: retried; duplicates at most the stalled ones."""
    with TwilioServer() as server:
        server.stall_next(5, 1.0)
        phones, _ = _send(tmp_path, server, count=40)
    accepted = _accepted(server)
    duplicates = sum(n - 1 for n in accepted.values())
    print(f"injected 5 stalls of 1 s; saw {duplicates} duplicates")
    assert set(accepted) == phones
    assert duplicates <= 5


def test_a_permanent_error_is_recorded_once_and_not_retried(tmp_path: Path) -> None:
    """21211 for one number: one request, the row failed with the code, the others sent."""
    with TwilioServer() as server:
        bad = "+62812" + f"{7:08d}"
        server.reject(bad, 21211)
        phones, store = _send(tmp_path, server, count=20)
    tried = collections.Counter(r.form["To"] for r in server.messages())
    rows = {r.recipient: r for r in outbox.rows(store)}
    print(f"injected 21211 for {bad}; saw {tried[bad]} request(s), row {rows[bad].status.value}")
    assert tried[bad] == 1
    assert rows[bad].status.value == "failed"
    assert set(_accepted(server)) == phones - {bad}


def test_an_outage_longer_than_the_attempts_is_retried_until_everyone_is_reached(
    tmp_path: Path,
) -> None:
    """Twilio answers 503 for 4 s (5 attempts last ~0.6 s): SMS wait within validity, none fail.

    While they wait past `[health] max_delivery_wait_s`, /healthz reports the
    provider outage; `warning outbox retry --all-failed` is the operator's way
    back for rows that failed anyway.
    """
    store = Store(tmp_path / "state.db")
    people = [contact(f"+62812{i:08d}", ["manggar"]) for i in range(20)]
    now = datetime.now(UTC)
    planned = plan(
        transitions(["manggar"], at=now), [rule()], people, (), city(), drill=False, now=now
    )
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
    phones = {p.phone for p in people}
    monitor = Monitor(store, drill=False)
    monitor.configure(HealthSettings(max_delivery_wait_s=1.0), heartbeat_s=60.0)
    with TwilioServer() as server:
        server.outage(4.0)
        sms = SmsSettings(api_base=server.url, from_="BPBD-BPN", max_per_second=CAP, attempts=5)
        dispatcher = Dispatcher(
            store,
            {ChannelKind.SMS: TwilioChannel(SID, TOKEN, sms)},
            sms,
            backoff=Backoff(base_s=0.05, cap_s=0.2),
        )
        reports = []
        deadline = time.monotonic() + 30
        while outbox.open_count(store) and time.monotonic() < deadline:
            dispatcher.run_once()
            reports.append(monitor.report())
            time.sleep(0.05)
        dispatcher.close()
    accepted = _accepted(server)
    unhealthy = [r.body["problems"] for r in reports if not r.healthy]
    print(
        f"injected a 4 s outage (503); saw {len(server.messages())} requests,"
        f" {len(accepted)} reached, /healthz unhealthy {len(unhealthy)} times: {unhealthy[:1]}"
    )
    assert set(accepted) == phones
    assert {r.status.value for r in outbox.rows(store)} == {"sent"}
    assert any("waiting" in str(p) for p in unhealthy)


def _outage_daemon(tmp_path: Path, server: TwilioServer) -> Daemon:
    """A daemon with every feed off, SMS to the local Twilio, an outage after 1 s of waiting."""
    write_settings(tmp_path, feeds={})
    config = tmp_path / "warning.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[health]\n", "[health]\nmax_delivery_wait_s = 1\n"
    )
    config.write_text(text + f'\n[sms]\napi_base = "{server.url}"\nfrom = "BPBD-BPN"\n')
    return Daemon(load_settings(config))


def test_a_provider_outage_is_a_health_event_closed_by_an_sms_saying_what_was_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twilio down 3 s: an outage in status, /metrics, /healthz, never told by SMS; closed by SMS.

    Officials hear of the outage on every channel they read except the failing
    SMS (none besides SMS today: the log, `warning status`, /metrics and
    /healthz carry it); when SMS flow again each official gets one SMS saying
    how long SMS were held back and how many went out late.
    """
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    people = [contact(f"+62813{i:08d}", ["manggar"]) for i in range(20)]
    now = datetime.now(UTC)
    planned = plan(
        transitions(["manggar"], at=now), [rule()], people, (), city(), drill=False, now=now
    )
    during: list[tuple[object, bytes, bool]] = []
    after: list[object] = []
    with TwilioServer() as server:
        daemon = _outage_daemon(tmp_path, server)
        officials = {c.phone for c in daemon.config.contacts if c.group == "officials"}
        with daemon.store.transaction() as tx:
            outbox.enqueue(tx, planned)
        server.outage(3.0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            daemon.dispatcher.run_once()
            daemon.heartbeat()
            outages = status_report(daemon.settings, datetime.now(UTC))["outages"]
            if outages:
                during.append((outages, daemon.metrics.render(), daemon.health().healthy))
            elif during and not outbox.open_count(daemon.store):
                after.append(daemon.metrics.render())
                break
            time.sleep(0.1)
        daemon.dispatcher.close()
    bodies = [(r.form["To"], r.form["Body"]) for r in server.accepted()]
    closing = [(to, b) for to, b in bodies if "tertunda" in b]
    print(
        f"injected a 3 s Twilio outage (503) under 20 SMS; outage seen {len(during)} heartbeats,"
        f" closing SMS: {closing[:1]}"
    )
    assert during
    assert during[0][0] == [{"channel": "sms", "since": now.isoformat()}]
    assert b'warning_delivery_outage{channel="sms"} 1.0' in during[0][1]
    assert not any(healthy for _, _, healthy in during)
    assert not any("terganggu" in b for _, b in bodies)  # never told through the failing SMS
    assert sorted(to for to, _ in closing) == sorted(officials)
    pattern = r"INFO SISTEM: SMS tertunda \d\d:\d\d-\d\d:\d\d WITA, 20 pesan terkirim terlambat\."
    assert all(re.match(pattern, b) for _, b in closing)
    assert {p.phone for p in people} <= {to for to, _ in bodies}
    assert after
    assert b'warning_delivery_outage{channel="sms"} 0.0' in after[0]


def test_an_sms_retry_waits_at_most_the_30_s_cap_whatever_the_backoff(tmp_path: Path) -> None:
    """A 503 under a backoff of 60 s doubling: the SMS is due again within 30 s, not an hour.

    An outage's end must not wait out a long backoff: warnings go out again
    within half a minute of the provider's recovery.
    """
    store = Store(tmp_path / "state.db")
    people = [contact("+6281300000001", ["manggar"])]
    now = datetime.now(UTC)
    planned = plan(
        transitions(["manggar"], at=now), [rule()], people, (), city(), drill=False, now=now
    )
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
    clock = [time.time()]
    with TwilioServer() as server:
        server.fail_next(5, 503, 20503)
        sms = SmsSettings(api_base=server.url, from_="BPBD-BPN", attempts=1)
        dispatcher = Dispatcher(
            store,
            {ChannelKind.SMS: TwilioChannel(SID, TOKEN, sms)},
            sms,
            backoff=Backoff(base_s=60.0, cap_s=3600.0),
            clock=lambda: clock[0],
        )
        for _ in range(3):  # past the attempt cap: retried within validity, still capped
            assert dispatcher.run_once() == 1
            (row,) = outbox.rows(store)
            waits = row.due_at - clock[0]
            clock[0] = row.due_at  # time passes until the row is due
            print(f"injected a 503 at attempt {row.attempts}; saw the retry due in {waits:.1f} s")
            assert row.status.value == "pending"
            assert 0 < waits <= 30.0
        dispatcher.close()
