"""The durable outbox: enqueue once, supersede stale rows, claim atomically, send in order."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from warning.delivery.channel import LogChannel, Outcome, SendResult
from warning.delivery.dispatcher import FIRST_BELOW, Backoff, Dispatcher, RateLimiter
from warning.model import (
    Action,
    ChangeKind,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    TransitionKind,
)
from warning.plan.broadcast import PRIORITY_BROADCAST
from warning.plan.planner import PRIORITY_SIREN, operator_sms, plan
from warning.settings import Settings, SirenSettings, SmsSettings
from warning.store import acks, outbox
from warning.store.sqlite import MIGRATIONS, Store

SIREN = SirenSettings(id="sirene-timur", areas=("balikpapan-timur",))
OFFICIAL = contact("+6281200000009", ["kariangau"], "officials")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty state store."""
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _enqueue(store: Store, ts, rules, people=(), sirens=()) -> int:  # type: ignore[no-untyped-def]
    planned = plan(ts, rules, people, sirens, city(), drill=False, now=NOW)
    with store.transaction() as tx:
        return outbox.enqueue(tx, planned)


def _statuses(store: Store) -> list[tuple[str, DeliveryStatus]]:
    return [(r.recipient, r.status) for r in reversed(outbox.rows(store))]


def test_replaying_an_evaluation_enqueues_nothing_twice(store: Store) -> None:
    """The unique dedup key makes a second enqueue of the same plan a no-op."""
    people = [contact("+6281200000001", ["manggar"])]
    assert _enqueue(store, transitions(["manggar"]), [rule()], people) == 1
    assert _enqueue(store, transitions(["manggar"]), [rule()], people) == 0
    assert len(outbox.rows(store)) == 1


def test_an_all_clear_supersedes_the_unsent_siaga(store: Store) -> None:
    """A newer change of the same rule and area marks the older unsent row superseded."""
    people = [contact("+6281200000001", ["manggar"])]
    _enqueue(store, transitions(["manggar"]), [rule()], people)
    later = NOW + timedelta(minutes=10)
    _enqueue(
        store, transitions(["manggar"], kind=TransitionKind.RESOLVED, at=later), [rule()], people
    )
    assert _statuses(store) == [
        ("+6281200000001", DeliveryStatus.SUPERSEDED),
        ("+6281200000001", DeliveryStatus.PENDING),
    ]


def test_a_change_of_other_areas_supersedes_nothing(store: Store) -> None:
    """Rows about areas the newer change does not cover stay pending."""
    person = [contact("+6281200000001", ["manggar", "lamaru"])]
    _enqueue(store, transitions(["manggar", "lamaru"]), [rule()], person)
    later = NOW + timedelta(minutes=10)
    _enqueue(
        store, transitions(["manggar"], kind=TransitionKind.RESOLVED, at=later), [rule()], person
    )
    assert [s for _, s in _statuses(store)] == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]


def test_claims_are_atomic_and_in_priority_order(store: Store) -> None:
    """Two workers never get the same row; each batch is ordered by priority."""
    people = [
        contact(f"+628120000{i:04d}", ["manggar"], g)
        for i, g in enumerate(["public", "officials", "rt-heads", "public"])
    ]
    _enqueue(
        store, transitions(["manggar"]), [rule(actions=[Action.SMS, Action.SIREN])], people, [SIREN]
    )
    now = time.time()
    kinds = list(ChannelKind)
    first = outbox.claim(store, "a", now=now, lease_s=60, limit=3, channels=kinds)
    second = outbox.claim(store, "b", now=now, lease_s=60, limit=10, channels=kinds)
    assert [d.priority for d in first] == [0, 10, 20]
    assert [d.priority for d in second] == [30, 30]
    assert not {d.id for d in first} & {d.id for d in second}


def test_a_dead_workers_rows_are_reclaimed_after_the_lease(store: Store) -> None:
    """Rows claimed by a worker that died come back once its lease has run out."""
    _enqueue(store, transitions(["manggar"]), [rule()], [contact("+6281200000001", ["manggar"])])
    now = time.time()
    kinds = [ChannelKind.SMS]
    assert len(outbox.claim(store, "dead", now=now, lease_s=30, limit=10, channels=kinds)) == 1
    assert outbox.claim(store, "b", now=now + 10, lease_s=30, limit=10, channels=kinds) == []
    again = outbox.claim(store, "b", now=now + 31, lease_s=30, limit=10, channels=kinds)
    assert len(again) == 1
    assert again[0].attempts == 1


def test_a_late_answer_from_a_lost_lease_does_not_overwrite(store: Store) -> None:
    """Only the current holder of a claim records its outcome."""
    _enqueue(store, transitions(["manggar"]), [rule()], [contact("+6281200000001", ["manggar"])])
    now = time.time()
    (row,) = outbox.claim(store, "old", now=now, lease_s=1, limit=1, channels=[ChannelKind.SMS])
    outbox.claim(store, "new", now=now + 2, lease_s=60, limit=1, channels=[ChannelKind.SMS])
    assert not outbox.mark_sent(store, row.id, "old", "SM1")
    assert outbox.mark_sent(store, row.id, "new", "SM2")


def _settings(**sms: object) -> Settings:
    return Settings(sms=SmsSettings(**{"max_per_second": 1000.0, "attempts": 2, **sms}))  # type: ignore[arg-type]


def test_sirens_are_sent_before_any_sms(store: Store) -> None:
    """Within a batch, siren triggers go out first, then SMS in group order, then CAP."""
    people = [
        contact("+6281200000001", ["manggar"], "public"),
        contact("+6281200000002", ["manggar"], "officials"),
    ]
    actions = [Action.SMS, Action.SIREN, Action.CAP]
    _enqueue(store, transitions(["manggar"]), [rule(actions=actions)], people, [SIREN])
    channels = {k: LogChannel(k) for k in ChannelKind}
    dispatcher = Dispatcher(store, channels, _settings(concurrency=1).sms)
    with capture_logs() as logs:
        assert dispatcher.drain(timeout=5)
    dispatcher.close()
    sent = [(e["channel"], e["recipient"]) for e in logs if e["event"] == "delivery.logged"]
    assert sent == [
        ("siren", "sirene-timur"),
        ("sms", "+6281200000002"),
        ("sms", "+6281200000001"),
        ("cap", "cap"),
    ]
    assert all(r.status is DeliveryStatus.SENT for r in outbox.rows(store))


class SilentSiren:
    """A siren controller that never acknowledges (the real boundary, unplugged)."""

    kind = ChannelKind.SIREN

    def send(self, delivery: Delivery) -> SendResult:
        return SendResult(Outcome.RETRY, error="no acknowledgement within 10 s")


def test_a_silent_siren_is_reported_to_officials(store: Store) -> None:
    """A siren failing all attempts logs siren.unresponsive and texts every official."""
    _enqueue(store, transitions(["manggar"]), [rule(actions=[Action.SIREN])], (), [SIREN])
    channels = {ChannelKind.SIREN: SilentSiren(), ChannelKind.SMS: LogChannel(ChannelKind.SMS)}
    dispatcher = Dispatcher(
        store, channels, _settings().sms, contacts=[OFFICIAL], backoff=Backoff(0.01, 0.02)
    )
    with capture_logs() as logs:
        dispatcher.drain(timeout=5)
    dispatcher.close()
    events = [e["event"] for e in logs]
    assert "siren.unresponsive" in events
    assert events.count("delivery.retry") == 1  # same error twice: logged once
    sms = [r for r in outbox.rows(store) if r.channel is ChannelKind.SMS]
    assert [(r.recipient, r.payload["body"], r.status) for r in sms] == [
        (OFFICIAL.phone, "Sirene sirene-timur tidak merespons", DeliveryStatus.SENT)
    ]


def test_a_channel_that_raises_does_not_stop_the_dispatcher(store: Store) -> None:
    """An exception from a channel is a transient failure, recorded and retried."""

    class Broken:
        kind = ChannelKind.SMS

        def send(self, delivery: Delivery) -> SendResult:
            raise RuntimeError("boom")

    _enqueue(store, transitions(["manggar"]), [rule()], [contact("+6281200000001", ["manggar"])])
    dispatcher = Dispatcher(
        store, {ChannelKind.SMS: Broken()}, _settings().sms, backoff=Backoff(0.01, 0.02)
    )
    dispatcher.drain(timeout=5)
    dispatcher.close()
    (row,) = outbox.rows(store)
    assert row.status is DeliveryStatus.FAILED
    assert row.last_error is not None
    assert "boom" in row.last_error


def test_rows_without_a_channel_wait(store: Store) -> None:
    """Siren rows stay pending while no siren channel is registered."""
    _enqueue(store, transitions(["manggar"]), [rule(actions=[Action.SIREN])], (), [SIREN])
    dispatcher = Dispatcher(store, {ChannelKind.SMS: LogChannel(ChannelKind.SMS)}, _settings().sms)
    assert dispatcher.run_once() == 0
    dispatcher.close()
    assert outbox.rows(store)[0].status is DeliveryStatus.PENDING


def test_the_rate_limiter_never_exceeds_its_rate_in_any_window() -> None:
    """With a fake clock: 200 acquisitions at 50/s, evenly spaced, no window holds more than 50."""
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(50, margin_s=0.0, clock=lambda: clock[0], sleep=sleep)
    starts = [limiter.acquire() for _ in range(200)]
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) == 50
    assert starts[-1] == pytest.approx(199 * 0.02)


def test_the_rate_limiter_spaces_slow_rates() -> None:
    """Below one per second, starts are 1/rate apart (plus the margin)."""
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(0.5, margin_s=0.1, clock=lambda: clock[0], sleep=sleep)
    assert [limiter.acquire() for _ in range(3)] == pytest.approx([0.0, 2.2, 4.4])


def test_backoff_grows_has_jitter_and_honours_retry_after() -> None:
    """Delays double per attempt plus up to one base of jitter, capped, never below Retry-After."""
    rng = random.Random(1)
    backoff = Backoff(base_s=2, cap_s=10)
    assert 2.0 <= backoff.delay(1, None, rng) <= 4.0
    assert 8.0 <= backoff.delay(3, None, rng) <= 10.0
    assert backoff.delay(9, None, rng) <= 10.0
    assert backoff.delay(1, 30.0, rng) == 30.0


def _changes(store: Store) -> dict[str, tuple[str, str, str | None]]:
    """Each stored change's (scope, kind of change, level)."""
    rows = store.connection().execute("SELECT change_id, rule_id, origin, level FROM alert_changes")
    return {r["change_id"]: (r["rule_id"], r["origin"], r["level"]) for r in rows}


def test_a_notice_no_rule_decided_is_stored_with_its_kind_and_no_level(store: Store) -> None:
    """A feed-health notice names its kind and feed, warns of no level, keeps the old scope.

    The scope is what an older daemon stored as `rule_id`, so a newer notice about
    the same feed supersedes an unsent one that daemon left behind.
    """
    first = operator_sms(
        "feed-1",
        ChangeKind.FEED_HEALTH,
        [OFFICIAL.phone],
        "turun",
        subject="bmkg",
        now=NOW,
        drill=False,
    )
    later = operator_sms(
        "feed-2",
        ChangeKind.FEED_HEALTH,
        [OFFICIAL.phone],
        "pulih",
        subject="bmkg",
        now=NOW + timedelta(minutes=5),
        drill=False,
    )
    assert first[0].change.rule_id == ""
    assert first[0].change.level is None
    with store.transaction() as tx:
        outbox.enqueue(tx, first)
    with store.transaction() as tx:
        outbox.enqueue(tx, later)
    assert _changes(store)["feed-1"] == ("feed:bmkg", "feed-health", None)
    assert [r.status for r in outbox.rows(store)] == [
        DeliveryStatus.PENDING,
        DeliveryStatus.SUPERSEDED,
    ]


def test_a_version_3_databases_changes_get_the_kind_their_scope_spelt(tmp_path: Path) -> None:
    """Migration 4 names the kind of every change an older daemon stored by its scope alone."""
    path = tmp_path / "state.db"
    Store(path, MIGRATIONS[:3]).close()
    expected = {
        "chg-1": ("gempa", "rule"),
        "cancel-1": ("gempa", "cancel"),
        "manual-20260301T023000000000Z": ("manual-20260301T023000000000Z", "manual"),
        "feed-bmkg-down": ("feed:bmkg", "feed-health"),
        "siren-1": ("siren:sirene-manggar", "siren-report"),
        "siren-test-1": ("siren-test", "siren-test"),
        "siren-stop-1": ("siren-stop", "siren-stop"),
        "contacts-1": ("contacts", "contacts"),
        "test-1": ("send-test:+6281200000009", "send-test"),
    }
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO alert_changes (change_id, rule_id, drill, kind, level, time)"
            " VALUES (?, ?, 0, 'fired', 'waspada', ?)",
            [(change, scope, NOW.isoformat()) for change, (scope, _) in expected.items()],
        )
    conn.close()
    migrated = Store(path)
    assert {c: (s, o) for c, (s, o, _) in _changes(migrated).items()} == expected
    # Kinds born after migration 4 (provider outages, reports) never met a version-3 database.
    assert {ChangeKind(o) for _, o in expected.values()} == set(ChangeKind) - {
        ChangeKind.DELIVERY_HEALTH,
        ChangeKind.REPORT,
    }


def test_migration_10_keeps_every_stored_link_findable_by_its_token(tmp_path: Path) -> None:
    """A version 9 outbox's linked SMS get their token column; lookups use the partial index."""
    path = tmp_path / "state.db"
    Store(path, MIGRATIONS[:9]).close()
    linked = '{"ack": {"token": "tok-1", "expires": "2026-03-10T05:00:00+00:00", "name": "Lurah"}}'
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO outbox (dedup_key, change_id, change_seq, rule_id, channel, recipient,"
            " payload_json, priority, drill, status, created_at, due_at, provider_id)"
            " VALUES (?, 'chg-1', 1, 'banjir', ?, ?, ?, 1, 0, 'sent', ?, 0, ?)",
            [
                ("k1", "sms", "+6281200000009", linked, NOW.isoformat(), "SM1"),
                ("k2", "sms", "+6281200000001", '{"text": "x"}', NOW.isoformat(), None),
                ("k3", "siren", "sirene-timur", '{"command": "siaga"}', NOW.isoformat(), None),
            ],
        )
    conn.close()
    migrated = Store(path)
    conn = migrated.connection()
    tokens = conn.execute("SELECT dedup_key, ack_token FROM outbox ORDER BY id").fetchall()
    assert [tuple(row) for row in tokens] == [("k1", "tok-1"), ("k2", None), ("k3", None)]
    found = acks.link(migrated, "tok-1")
    assert found is not None
    assert (found.recipient, found.name) == ("+6281200000009", "Lurah")
    assert acks.link(migrated, "tok-2") is None
    plan_ = " ".join(
        str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + acks._LINK, ("tok-1",))
    )
    assert "INDEX outbox_ack" in plan_
    by_provider = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE provider_id = ?", ("SM1",)
    )
    assert "INDEX outbox_provider" in " ".join(str(row[3]) for row in by_provider)
    indexed = {
        str(row[0])
        for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'outbox'")
    }
    # Per fan-out row: the key, the rule, the change, the claim (and the row itself).
    assert {"outbox_recipient", "outbox_due"}.isdisjoint(indexed)
    assert {"outbox_in_flight", "outbox_siren", "outbox_linked"} <= indexed
    migrated.close()


def test_an_enqueued_linked_sms_is_found_by_its_token_and_a_set_template_refuses_one(
    store: Store,
) -> None:
    """`enqueue` stores the token of an SMS that carries a link; set templates never may."""
    people = [contact("+6281200000001", ["manggar"])]
    planned = plan(transitions(["manggar"]), [rule()], people, (), city(), drill=False, now=NOW)
    (sms,) = [p for p in planned if p.channel is ChannelKind.SMS]
    link = {"token": "tok-9", "expires": "2026-03-10T05:00:00+00:00", "name": "RT 1"}
    linked = replace(sms, payload={**sms.payload, "ack": link})
    with store.transaction() as tx:
        assert outbox.enqueue(tx, [linked]) == 1
    found = acks.link(store, "tok-9")
    assert found is not None
    assert found.name == "RT 1"
    template = outbox.SetTemplate(linked, 1, "+6281200000001")
    with pytest.raises(ValueError, match="acknowledgement link"), store.transaction() as tx:
        outbox.enqueue_expanded(tx, [template], 0, 10)


def test_sms_superseded_after_the_claim_spend_no_slot_of_the_rate_cap(store: Store) -> None:
    """A cancel committed while a claimed batch is sent: its rows are stopped at once.

    One slot per 1,050 s: the first SMS takes the free slot, then the observer (as a
    cancel would) supersedes the other two.  Had they waited for slots, the stop
    bound (30 s) would have released them unsent instead of stopping them.
    """
    people = [contact(f"+628120000000{i}", ["manggar"]) for i in range(3)]
    _enqueue(store, transitions(["manggar"]), [rule()], people)

    def cancel(_delivery: Delivery, _result: SendResult) -> None:
        with store.transaction() as tx:
            tx.execute("UPDATE outbox SET status = 'superseded' WHERE status = 'claimed'")

    sms = _settings(concurrency=1, max_per_second=0.001).sms
    channels = {ChannelKind.SMS: LogChannel(ChannelKind.SMS)}
    dispatcher = Dispatcher(store, channels, sms, observer=cancel)
    claimed = outbox.claim(
        store, dispatcher.worker, now=time.time(), lease_s=60, limit=3, channels=[ChannelKind.SMS]
    )
    assert len(claimed) == 3
    dispatcher._stop_at = time.monotonic() + 30  # drain(final=True)'s bound, without its claim
    with capture_logs() as logs:
        dispatcher._send_all(claimed, dispatcher._pool, dispatcher._turns)
    dispatcher.close()
    events = [e["event"] for e in logs]
    assert events.count("delivery.logged") == 1
    assert events.count("delivery.stopped") == 2
    assert "dispatcher.stopped_batch" not in events


def test_a_claim_takes_a_few_seconds_of_sms_at_the_rate_cap(store: Store) -> None:
    """A second event's officials wait for the batch in hand: a few seconds of it, not 10."""
    channels = {ChannelKind.SMS: LogChannel(ChannelKind.SMS)}
    sizes = []
    for rate, lease_s in ((100.0, 120.0), (10.0, 120.0), (1000.0, 120.0), (2.0, 1.0)):
        sms = _settings(concurrency=32, max_per_second=rate).sms
        dispatcher = Dispatcher(store, channels, sms, lease_s=lease_s)
        sizes.append(dispatcher.batch_size())
        dispatcher.close()
    assert sizes == [500, 50, 1000, 1]


def test_a_siren_committed_while_an_sms_batch_is_sent_leaves_before_the_batch_ends(
    store: Store,
) -> None:
    """`run_first` claims sirens only, on threads of its own: it waits for no SMS batch.

    One SMS thread at 2/s: the batch of two SMS takes half a second.  After the first
    SMS a siren is committed (another rule fires) and the sirens' lane sends it from
    inside that batch: the sole SMS thread is busy, so it must not be needed.
    """
    people = [contact(f"+628120000000{i}", ["manggar"]) for i in range(2)]
    _enqueue(store, transitions(["manggar"]), [rule()], people)
    lane: list[int] = []

    def another_rule_fires(delivery: Delivery, _result: SendResult) -> None:
        if delivery.channel is not ChannelKind.SMS or lane:
            return
        siren_rule = rule("banjir", actions=[Action.SIREN])
        _enqueue(store, transitions(["manggar"], rule_id="banjir"), [siren_rule], (), [SIREN])
        first = threading.Thread(target=lambda: lane.append(dispatcher.run_first()))
        first.start()
        first.join(timeout=30)

    channels = {k: LogChannel(k) for k in (ChannelKind.SMS, ChannelKind.SIREN)}
    sms = _settings(concurrency=1, max_per_second=2.0).sms
    dispatcher = Dispatcher(store, channels, sms, observer=another_rule_fires)
    assert dispatcher.batch_size() >= 2
    with capture_logs() as logs:
        assert dispatcher.run_once() == 2
    dispatcher.close()
    assert lane == [1]
    sent = [e["channel"] for e in logs if e["event"] == "delivery.logged"]
    assert sent == ["sms", "siren", "sms"]


class HeldFirst:
    """An SMS channel whose first send waits for `release` (a provider slow to answer)."""

    kind = ChannelKind.SMS

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> SendResult:
        with self._lock:
            first = not self.sent
            self.sent.append(delivery.recipient)
        if first:
            self.release.wait(timeout=30)
        return SendResult(Outcome.SENT, provider_id=f"SM{delivery.id}")


def test_an_overlapping_claim_returns_while_its_last_wave_is_in_flight(store: Store) -> None:
    """`run_once(overlap=True)` does not wait for the slowest answer; nothing is sent twice.

    The next claim (the outbox job's, `drain`'s) overlaps the last round trips of a
    batch instead of waiting for them: each batch waited for its slowest answer.
    """
    people = [contact(f"+628120000000{i}", ["manggar"]) for i in range(3)]
    _enqueue(store, transitions(["manggar"]), [rule()], people)
    channel = HeldFirst()
    dispatcher = Dispatcher(store, {ChannelKind.SMS: channel}, _settings(concurrency=2).sms)
    claimed: list[int] = []
    batch = threading.Thread(target=lambda: claimed.append(dispatcher.run_once(overlap=True)))
    batch.start()
    batch.join(timeout=20)
    returned_while_held = not batch.is_alive()
    in_flight = [r.status for r in outbox.rows(store)].count(DeliveryStatus.CLAIMED)
    channel.release.set()
    batch.join()
    assert returned_while_held
    assert claimed == [3]
    assert in_flight >= 1  # the held send at least (a second may not be recorded yet)
    assert dispatcher.drain(timeout=20)
    dispatcher.close()
    assert sorted(channel.sent) == sorted(p.phone for p in people)
    assert {r.status for r in outbox.rows(store)} == {DeliveryStatus.SENT}


def test_the_sirens_own_claim_covers_every_siren_and_post_priority() -> None:
    """`run_first` claims below the SMS groups: sirens and posts must sort before them."""
    assert max(PRIORITY_SIREN, PRIORITY_BROADCAST) < FIRST_BELOW


def test_sms_start_in_group_order_whichever_thread_is_quicker(store: Store) -> None:
    """Officials, then RT heads, then everyone else, with 16 threads and two claims.

    Threads raced for the rate limiter's lock: an RT head's SMS could leave before
    an official's.  The two claims (50 rows, then 40, the first still in flight when
    the second is taken) keep the order across a batch boundary too.
    """
    groups = {"officials": 10, "rt-heads": 20, "public": 30}
    people = [
        contact(f"+628120{n:06d}", ["manggar"], group)
        for n, group in enumerate(["public"] * 40 + ["rt-heads"] * 30 + ["officials"] * 20)
    ]
    _enqueue(store, transitions(["manggar"]), [rule()], people)
    group_of = {p.phone: p.group for p in people}
    sms = _settings(concurrency=16, max_per_second=200.0).sms
    dispatcher = Dispatcher(store, {ChannelKind.SMS: LogChannel(ChannelKind.SMS)}, sms, lease_s=1.0)
    assert dispatcher.batch_size() == 50
    with capture_logs() as logs:
        assert dispatcher.drain(timeout=10)
    dispatcher.close()
    sent = [groups[group_of[e["recipient"]]] for e in logs if e["event"] == "delivery.logged"]
    assert len(sent) == len(people)
    assert sent == sorted(sent)


def test_claimable_sees_what_the_sirens_claim_would_take_and_nothing_else(store: Store) -> None:
    """Due siren rows and sirens whose lease ran out, by a read; a city's SMS never count."""
    kinds = [ChannelKind.SIREN, ChannelKind.TELEGRAM]
    people = [contact("+6281200000001", ["manggar"])]
    actions = [Action.SMS, Action.SIREN]
    _enqueue(store, transitions(["manggar"]), [rule(actions=actions)], people, [SIREN])
    now = time.time()

    def claimable(at: float, *, drill_only: bool = False) -> bool:
        return outbox.claimable(
            store, now=at, channels=kinds, priority_below=FIRST_BELOW, drill_only=drill_only
        )

    assert claimable(now)
    assert not claimable(now, drill_only=True)  # a live siren: not a drill's
    (siren,) = outbox.claim(
        store, "w", now=now, lease_s=60, limit=10, channels=kinds, priority_below=FIRST_BELOW
    )
    assert siren.channel is ChannelKind.SIREN
    assert [r.channel for r in outbox.rows(store) if r.status is DeliveryStatus.PENDING] == [
        ChannelKind.SMS
    ]
    assert not claimable(now)  # the SMS is due, the siren in flight within its lease
    assert claimable(now + 61)  # its lease ran out: the claim would take it again


def test_migration_11_gives_every_row_the_set_of_its_areas(tmp_path: Path) -> None:
    """A version 10 outbox's per-row areas become shared sets; a newer change still supersedes."""
    path = tmp_path / "state.db"
    Store(path, MIGRATIONS[:10]).close()
    areas = {"k1": ["manggar", "lamaru"], "k2": ["lamaru", "manggar"], "k3": ["manggar"], "k4": []}
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO outbox (dedup_key, change_id, change_seq, rule_id, channel, recipient,"
            " payload_json, priority, drill, status, created_at, due_at)"
            " VALUES (?, 'chg-1', 0, 'gempa', 'sms', ?, '{}', 1, 0, 'pending', ?, 0)",
            [(key, f"+62812000000{n}", NOW.isoformat()) for n, key in enumerate(areas)],
        )
        conn.executemany(
            "INSERT INTO outbox_areas (delivery_id, area_id)"
            " SELECT id, ? FROM outbox WHERE dedup_key = ?",
            [(area, key) for key, names in areas.items() for area in names],
        )
    conn.close()
    migrated = Store(path)
    conn = migrated.connection()
    found = {
        key: sorted(
            a
            for (a,) in conn.execute(
                "SELECT m.area_id FROM outbox o JOIN area_set_members m ON m.set_id = o.area_set"
                " WHERE o.dedup_key = ?",
                (key,),
            )
        )
        for key in areas
    }
    assert found == {key: sorted(names) for key, names in areas.items()}
    sets = conn.execute("SELECT areas FROM area_sets ORDER BY areas").fetchall()
    assert [row[0] for row in sets] == ['["lamaru","manggar"]', '["manggar"]']
    assert "outbox_areas" not in {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    # Code stores the same set under the same id: a change of manggar alone supersedes k3.
    people = [contact("+6281200000002", ["manggar"])]
    later = NOW + timedelta(minutes=10)
    _enqueue(migrated, transitions(["manggar"], at=later), [rule()], people)
    statuses = dict(conn.execute("SELECT dedup_key, status FROM outbox WHERE dedup_key LIKE 'k%'"))
    assert statuses == {"k1": "pending", "k2": "pending", "k3": "superseded", "k4": "superseded"}
    assert conn.execute("SELECT count(*) FROM area_sets").fetchone()[0] == 2
    migrated.close()


def test_a_fan_out_names_a_few_sets_of_areas_however_many_its_rows(store: Store) -> None:
    """Each row names its areas' set: one stored set per distinct set of kelurahan."""
    people = [contact(f"+62812{n:08d}", ["manggar"]) for n in range(40)]
    people += [contact(f"+62813{n:08d}", ["manggar", "lamaru"]) for n in range(40)]
    assert _enqueue(store, transitions(["manggar", "lamaru"]), [rule()], people) == 80
    conn = store.connection()
    assert conn.execute("SELECT count(*) FROM area_sets").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM area_set_members").fetchone()[0] == 3
    per_row = dict(
        conn.execute(
            "SELECT o.recipient, group_concat(m.area_id) FROM outbox o"
            " JOIN area_set_members m ON m.set_id = o.area_set GROUP BY o.id"
        )
    )
    assert per_row["+6281200000000"] == "manggar"
    assert sorted(per_row["+6281300000000"].split(",")) == ["lamaru", "manggar"]
