"""One poll: fetch, parse, filter, evaluate, then commit states and deliveries at once.

The pipeline owns the loaded configuration (rules, areas, contacts, sirens),
the in-memory window of recent observations (SQLite keeps the durable copy)
and the feed-health bookkeeping.  Scheduling, signals and HTTP endpoints are
the service's business; this module only decides what one poll or one clock
tick changes, and commits it atomically.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import structlog

from warning.daemon.configuration import Configuration
from warning.daemon.feedhealth import (
    HealthChange,
    HealthPolicy,
    after_failure,
    after_silence,
    after_success,
    overdue,
)
from warning.daemon.health import Metrics
from warning.feeds import FEEDS, FeedContext, FeedError
from warning.http import HttpClient, Interrupted
from warning.model import (
    BROADCAST_KINDS,
    FIRST_OUT_KINDS,
    AllOf,
    AnyOf,
    Audience,
    ChangeKind,
    ChannelKind,
    Condition,
    ConfigError,
    Expression,
    FeedHealth,
    Observation,
    ObservationKind,
    PlannedDelivery,
    Rule,
    Transition,
)
from warning.plan.broadcast import broadcast_posts, officials_notice
from warning.plan.contacts import Contact
from warning.plan.notices import feed_health_sms
from warning.plan.planner import group_changes, plan, unsilenced
from warning.reports.observe import observations as report_observations
from warning.rules.engine import carry_over
from warning.rules.incremental import Evaluator
from warning.store import contacts as contactbook
from warning.store import fanout, outbox
from warning.store.console import active_silences
from warning.store.interface import FeedRecord
from warning.store.reports import verified_since
from warning.store.sqlite import Store, observation_body

log = structlog.get_logger()

#: What is committed with the states, before the SMS fan-out: sirens and CAP documents.
_BROADCAST = frozenset({ChannelKind.SIREN, ChannelKind.CAP, *BROADCAST_KINDS})
#: The per-person fan-out, planned and written once the broadcast rows are committed.
_FAN_OUT = frozenset({ChannelKind.SMS})
#: SMS rows written per transaction once the sirens have left (`Pipeline._sirens_first`):
#: each commit lets the dispatcher's queued sends in (up to one per sender thread, each
#: its own durable commit), so fewer, bigger batches write a city faster; a batch holds
#: the database for about a quarter of a second.
FAN_OUT_BATCH = 25_000
#: Contacts files up to this size are planned and written with the states (see `_evaluate`).
FAN_OUT_INLINE = 5_000
#: The fan-out's pause after its first rows (the officials'): the dispatcher, woken, claims
#: and begins sending them before the city's rows hold the database batch after batch (a
#: writer committing back to back wins every race for SQLite's lock against waiting threads).
FIRST_ROWS_PAUSE_S = 0.1
#: At most this long the fan-out waits for the evaluation's sirens and broadcasts to leave
#: before its first batch: a siren server that does not answer delays the SMS by this, no more.
SIRENS_FIRST_S = 0.5
#: How often the fan-out looks whether the sirens have left (a read: no write lock taken).
SIRENS_FIRST_POLL_S = 0.005

#: Clock skew tolerated before an event-feed timestamp counts as "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
#: History kept at least this long: tsunami bulletins of one event span up to the
#: 12 h safety timeout, and quake revisions must find their first report.
MIN_HISTORY = timedelta(hours=13)


def _policy(config: Configuration) -> HealthPolicy:
    """When a feed counts as degraded or down, from the `[health]` and `[http]` sections."""
    health = config.settings.health
    return HealthPolicy(
        health.degraded_after_failures,
        health.down_after_failures,
        config.settings.http.total_timeout_s,
    )


def history_span(rules: Iterable[Rule]) -> timedelta:
    """How far back observations must be kept for every rule's windows."""
    longest = timedelta(0)
    for rule in rules:
        windows = [c.over for c in _conditions(rule) if c.over is not None]
        longest = max(longest, max(windows, default=timedelta(0)) + rule.keep_firing_for)
    return max(longest + timedelta(hours=1), MIN_HISTORY)


def _conditions(rule: Rule) -> list[Condition]:
    """Every leaf condition of a rule: when, ladder steps and clear_when."""
    roots = [rule.when, rule.clear_when, *(step.when for step in rule.levels)]
    found: list[Condition] = []
    stack: list[Expression] = [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, Condition):
            found.append(node)
        elif isinstance(node, AllOf | AnyOf):
            stack.extend(node.conditions)
    return found


class History:
    """Recent observations, oldest received first, each distinct one once."""

    def __init__(self, observations: Iterable[Observation] = ()) -> None:
        # Identity -> observation; dicts keep insertion order, so this is also
        # the receipt order, and pruning never has to recompute identities.
        self._held: dict[str, Observation] = {}
        # (source, event id) of a forecast slot -> identity of its newest version.
        self._slots: dict[tuple[str, str], str] = {}
        # No held observation is older than this (a lower bound): an idle poll's prune
        # is one comparison, not a pass over the whole window.
        self._oldest: datetime | None = None
        self.add(observations)

    def add(self, observations: Iterable[Observation]) -> list[Observation]:
        """Append the ones not seen before; return them.

        A newer forecast of a slot replaces the older one: models run hourly for
        days ahead, and keeping every version would grow the history (and each
        evaluation) without telling the engine anything it uses.
        """
        new: list[Observation] = []
        for observation in observations:
            key = _identity(observation)
            if key not in self._held:
                self._supersede(observation, key)
                self._held[key] = observation
                new.append(observation)
                if self._oldest is None or observation.time < self._oldest:
                    self._oldest = observation.time
        return new

    def _supersede(self, observation: Observation, key: str) -> None:
        """Forget the older version of a forecast slot that `observation` revises."""
        if observation.kind is not ObservationKind.PRAKIRAAN:
            return
        older = self._slots.get((observation.source, observation.event_id))
        self._held.pop(older or "", None)
        self._slots[(observation.source, observation.event_id)] = key

    def without(self, observations: Iterable[Observation]) -> list[Observation]:
        """The ones of `observations` not yet held."""
        return [o for o in observations if _identity(o) not in self._held]

    def prune(self, before: datetime) -> None:
        """Forget observations dated before `before` (future-dated forecasts stay)."""
        if self._oldest is None or self._oldest >= before:
            return
        self._held = {k: o for k, o in self._held.items() if o.time >= before}
        self._slots = {slot: k for slot, k in self._slots.items() if k in self._held}
        self._oldest = min((o.time for o in self._held.values()), default=None)

    def items(self) -> list[Observation]:
        """Everything held, oldest received first."""
        return list(self._held.values())


def _identity(observation: Observation) -> str:
    """What makes two observations the same (as the store's unique key does)."""
    body = json.dumps(observation_body(observation), sort_keys=True, default=str)
    return f"{observation.source}|{observation.event_id}|{observation.time.isoformat()}|{body}"


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did."""

    feed: str
    ok: bool
    observations: int = 0
    transitions: int = 0
    deliveries: int = 0
    error: str | None = None
    changes: tuple[str, ...] = ()


class Pipeline:
    """The data flow of the daemon, one poll or clock tick at a time (thread-safe).

    `drill` makes every transition a drill (drill states, drill deliveries).
    `drill_run` names a `warning drill` run playing a scenario: its made-up
    observations stay in memory (never stored beside real ones, never mixed
    with the live history) and its alert ids carry the run id.
    """

    def __init__(
        self,
        store: Store,
        config: Configuration,
        *,
        metrics: Metrics,
        client: HttpClient | None = None,
        clock: Callable[[], datetime],
        drill: bool = False,
        drill_all: bool = False,
        drill_run: str | None = None,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        self.client = client or HttpClient(config.settings.http)
        self.clock = clock
        self.drill = drill
        self.drill_all = drill_all
        self.drill_run = drill_run
        self.on_enqueued = on_enqueued
        #: SMS rows written per fan-out transaction (see `_fan_out`).
        self.fan_out_batch = FAN_OUT_BATCH
        #: Contacts written with the states, in the sirens' transaction, up to this many
        #: (and never more than one batch).
        self.fan_out_inline = FAN_OUT_INLINE
        #: Seconds the fan-out leaves the database to the dispatcher after its first rows.
        self.fan_out_pause_s = FIRST_ROWS_PAUSE_S
        #: Seconds the fan-out waits at most for the evaluation's sirens to be sent.
        self.sirens_first_s = SIRENS_FIRST_S
        self.policy = _policy(config)
        self._lock = threading.RLock()
        self._span = history_span(config.rules)
        #: Keeps what polls do not change between them; a reload builds a new one.
        self.evaluator = Evaluator(config.rules, config.areas)
        #: Feeds are judged silent from here at the earliest (not for time the daemon was off).
        self.started = clock()
        self._hold_contacts(config)
        self.history = History() if drill_run is not None else self._stored_history()

    def _hold_contacts(self, config: Configuration) -> None:
        """Load the configuration's contacts into the store when they changed (one transaction).

        A file that changed again since the configuration validated it is not
        loaded: the store keeps the contacts it held until the next reload.
        """
        book = config.contacts
        try:
            replaced = contactbook.load(self.store, book.digest, lambda: book, self.clock())
        except ConfigError as exc:
            log.error(  # noqa: TRY400 (the problems say why: no traceback to show)
                "contacts.not_loaded", problems=[str(p) for p in exc.problems]
            )
            return
        if replaced:
            log.info("contacts.loaded", contacts=len(book))

    def _stored_history(self) -> History:
        """The recent observations SQLite kept (a restart resumes every window)."""
        since = self.clock() - self._span
        return History(self.store.recent_observations(since))

    # -- polling -----------------------------------------------------------------------

    def poll(self, feed_name: str) -> PollResult:
        """Fetch, parse and evaluate one feed; its health is updated either way."""
        feed = FEEDS[feed_name]
        fetched_at = self.clock()
        context = FeedContext(fetched_at, self.config.settings.feeds[feed_name], self.config.areas)
        with self.metrics.feed_latency.labels(feed=feed_name).time():
            try:
                payload = feed.get(self.client, context)
                parsed = [] if payload is None else feed.parse(payload, context)
            except FeedError as exc:
                return self._failed(feed_name, exc.message, fetched_at)
            except Interrupted:
                raise
            except Exception as exc:
                # A payload that breaks an adapter in a way it did not foresee is still
                # the feed's failure: health, the feed-down SMS, never a silent job error.
                log.exception("feed.unexpected_error", feed=feed_name)
                return self._failed(feed_name, f"{type(exc).__name__}: {exc}"[:300], fetched_at)
        fresh = self._usable(feed_name, parsed, fetched_at)
        try:
            result = self._evaluate(fresh, fetched_at, feed_name)
        except Exception:
            # Nothing was committed: make the next poll fetch again, not hear "unchanged".
            self.client.forget_validators()
            raise
        log.info(
            "feed.fetched",
            feed=feed_name,
            unchanged=payload is None,
            observations=len(parsed),
            new=result.observations,
            transitions=result.transitions,
        )
        self.metrics.feed_fetches.labels(feed=feed_name, outcome="ok").inc()
        return result

    def _usable(
        self, feed_name: str, observations: Sequence[Observation], now: datetime
    ) -> list[Observation]:
        """Drop observations too old for the feed or dated in the future (event feeds)."""
        feed = FEEDS[feed_name]
        max_age = self.config.settings.feeds[feed_name].max_age_s
        usable: list[Observation] = []
        for o in observations:
            if not feed.future_ok and o.time > now + FUTURE_TOLERANCE:
                log.warning(
                    "feed.item_rejected",
                    feed=feed_name,
                    event_id=o.event_id,
                    reason=f"time {o.time.isoformat()} is in the future",
                )
            elif max_age > 0 and o.time < now - timedelta(seconds=max_age) and not feed.future_ok:
                log.debug("feed.item_stale", feed=feed_name, event_id=o.event_id)
            else:
                usable.append(o)
        return usable

    def _failed(self, feed_name: str, error: str, now: datetime) -> PollResult:
        """Record a failed poll: feed health only, never an alert change."""
        self.metrics.feed_fetches.labels(feed=feed_name, outcome="failed").inc()
        self.metrics.feed_failures.labels(feed=feed_name).inc()
        with self._lock:
            before = self.store.feed(feed_name)
            stale = self.silent_too_long(before, now) is not None
            record, change = after_failure(before, error, now, self.policy, stale=stale)
            self._save_health(record, change)
        if change is None and record.failures > 1:
            log.debug("feed.failed", feed=feed_name, error=error, failures=record.failures)
        else:
            log.warning("feed.failed", feed=feed_name, error=error, failures=record.failures)
        return PollResult(feed_name, ok=False, error=error)

    # -- evaluation --------------------------------------------------------------------

    def tick(self) -> PollResult:
        """Evaluate with no new data: pending -> firing, expiry, reminders, timeouts."""
        return self._evaluate([], self.clock(), None)

    def take_reports(self) -> PollResult:
        """Evaluate residents' reports operators verified since the last look, like a feed's.

        The store is the hand-over: the console verifies, this reads (a drill run
        plays its scenario only).  Reports already in the history change nothing.
        """
        now = self.clock()
        if self.drill_run is not None:
            return PollResult("reports", True)
        found = report_observations(
            verified_since(self.store, now - self._span),
            timedelta(minutes=self.config.settings.reports.quiet_after_min),
            now,
        )
        if not self.history.without(found):
            return PollResult("reports", True)
        return self._evaluate(found, now, None)

    def inject(self, observations: Sequence[Observation], now: datetime) -> PollResult:
        """Evaluate `observations` as if received at `now` (a drill scenario's step).

        No feed is polled and no feed health changes; everything else (states,
        deliveries, the transaction, the outbox wake-up) is what a poll does.
        """
        return self._evaluate(observations, now, None)

    def _evaluate(
        self, fresh: Sequence[Observation], now: datetime, feed_name: str | None
    ) -> PollResult:
        """Evaluate; commit states, sirens, CAP and the fan-out owed; then write the SMS.

        A feed poll that brings nothing new judges nothing: what the clock alone
        changes (pending -> firing, expiry, reminders) is the tick's, so an
        unchanged feed costs its health bookkeeping only.  The states commit with
        the siren and CAP rows and a `fanout` row recording the SMS still owed,
        so the outbox is woken for the sirens before the fan-out, whose cost grows
        with the contacts file, is planned; a crash before its last batch leaves
        the row pending, and the next tick (or start) writes the rest.  Contacts
        that fit one batch and `fan_out_inline` are planned and written with the
        states instead: a few milliseconds, and their SMS leave with the sirens.
        """
        with self._lock:
            new = self.history.without(fresh)
            record, change = (None, None)
            if feed_name is not None:
                record, change = after_success(self.store.feed(feed_name), now)
            judge = feed_name is None or bool(new)
            transitions: list[Transition] = []
            first_sms: list[str] = []
            # States are read inside the write transaction: an operator's cancel committed
            # by another process meanwhile can never be overwritten by a stale evaluation.
            # A poll with nothing new and no change of health writes its last success
            # only: it need not wait for the disk (the idle poll, every 5 s for InaTEWS).
            with self.store.transaction(durable=judge or change is not None) as tx:
                if judge:
                    # A feed's poll judges what its news can change; the clock tick,
                    # a drill step and verified reports judge everything (timers).
                    transitions = self.evaluator.evaluate(
                        self.history.items() + new,
                        self.store.load_states(drill=self.drill),
                        now,
                        full=feed_name is None,
                        drill=self.drill,
                        run=self.drill_run or "",
                    )
                audible = self._unsilenced(tx, transitions, now)
                first = self._plan(audible, now, _BROADCAST) + self._health_notice(change)
                if self.drill_run is None:
                    self.store.remember_observations(tx, new, now)
                self.store.apply_transitions(tx, transitions)
                small = audible and contactbook.count(tx) <= min(
                    self.fan_out_inline, self.fan_out_batch
                )
                if not small:
                    self._owe_fan_out(tx, audible, now)
                enqueued = outbox.enqueue(tx, first)
                if small:
                    # A fan-out that fits one batch costs less to plan than a siren's
                    # round trip: it is written with the states, claimed with the sirens.
                    for alert_change in group_changes(audible, self.config.areas, drill=self.drill):
                        outbox.record_change(tx, alert_change)
                    steps, sms_changes = self._fan_out_steps(audible, now)
                    enqueued += sum(step(tx) for step in steps)
                    first_sms = sms_changes
                if record is not None:
                    self.store.save_feed(tx, record)
            self.history.add(new)
            self.history.prune(now - self._span)
            if enqueued:
                self.on_enqueued()
            if audible and not small:
                self._sirens_first(first, now)
            fanned_out, sms_changes = self._fan_out(now)
            enqueued += fanned_out
        if record is not None:
            self._gauge(record)
        self._after_commit(transitions, change)
        changes = tuple(dict.fromkeys([p.change.id for p in first] + first_sms + sms_changes))
        return PollResult(
            feed_name or "tick", True, len(new), len(transitions), enqueued, changes=changes
        )

    def _owe_fan_out(
        self, tx: sqlite3.Connection, audible: Sequence[Transition], now: datetime
    ) -> None:
        """Record the changes and the SMS fan-out they owe, with the states (sirens first).

        Each change is recorded now, so its order among changes (a cancel committed
        while its fan-out is written is newer) is the order of the commits.
        """
        changes = group_changes(audible, self.config.areas, drill=self.drill)
        for alert_change in changes:
            outbox.record_change(tx, alert_change)
        if changes:
            fanout.record(tx, audible, drill=self.drill, now=now)

    def _sirens_first(self, first: Sequence[PlannedDelivery], now: datetime) -> None:
        """Wait (at most `sirens_first_s`) until the dispatcher has sent `first`'s sirens.

        Each SMS batch holds SQLite's write lock, and the dispatcher needs it twice
        before a siren command leaves (the claim, then `begin_send`): with a city's
        batches queued in between, the siren waited behind them (at 100,000 contacts
        one event in three, at 750,000 every one, up to a second).  The sirens and
        broadcast posts of the evaluation go out first, on an idle database; the
        fan-out's first batch follows them.  Bounded, so a siren server that does
        not answer (or a daemon that does not send) delays the SMS by that, no more.
        """
        changes = {p.change.id for p in first if p.channel in FIRST_OUT_KINDS}
        deadline = time.monotonic() + self.sirens_first_s
        while (
            changes
            and time.monotonic() < deadline
            and outbox.unsent_first(self.store, changes, now.timestamp())
        ):
            time.sleep(SIRENS_FIRST_POLL_S)

    def _fan_out(self, now: datetime) -> tuple[int, list[str]]:
        """Write each pending fan-out's SMS in batches; return rows written and their changes.

        Officials first: the contacts are planned tier by tier of their group's
        priority (a person's rows stay in one tier, so each still gets one SMS per
        event change), and each tier is written before the next is planned, so the
        first SMS does not wait for the whole city's.  Each batch is its own short
        transaction, so the dispatcher claims between them; the last batch marks
        the fan-out done in the same transaction.  A batch drops what a newer
        change (a cancel) committed meanwhile has made stale, and a batch written
        twice inserts nothing twice.  A fan-out that fails (a locked or full
        database) is logged and stays pending for the next tick: the alert's
        states and sirens are committed already, and the next poll must not fail
        because of it.
        """
        written = 0
        changes: list[str] = []
        for owed in fanout.pending(self.store, drill=self.drill):
            try:
                written += self._fan_out_one(owed, now, changes)
            except Exception:
                log.exception("fanout.failed", fanout=owed.id, written=written)
        return written, list(dict.fromkeys(changes))

    def _fan_out_one(self, owed: fanout.PendingFanout, now: datetime, changes: list[str]) -> int:
        """Write one fan-out step by step, each its own transaction; return rows written.

        The last step marks the fan-out done in its transaction; a step finding it
        done already (another writer finished it) stops.
        """
        steps, planned_changes = self._fan_out_steps(owed.transitions, now)
        changes += planned_changes
        written = 0
        for number, step in enumerate(steps or [_nothing], start=1):
            with self.store.transaction() as tx:
                if not fanout.is_pending(tx, owed.id):
                    return written
                inserted = step(tx)
                if number == max(len(steps), 1):
                    fanout.finish(tx, owed.id, now)
            if inserted:
                self.on_enqueued()
                if not written and number < len(steps):
                    time.sleep(self.fan_out_pause_s)
            written += inserted
        return written

    def _fan_out_steps(
        self, transitions: Sequence[Transition], now: datetime
    ) -> tuple[list[_Step], list[str]]:
        """The SMS of `transitions` as write steps, officials first; and their change ids.

        The planner words the SMS once per contact set (people sharing a group,
        language, drill flag and kelurahan: the same messages but for the phone),
        and each step inserts a set's rows for a range of `fan_out_batch` people
        with `INSERT ... SELECT` from the contacts table.  A person belongs to one
        set, so one SMS per person per event change still holds.  Sets whose SMS
        carry an acknowledgement link (signed per person) are planned person by
        person, as before: those groups (officials, RT heads) are small.  Steps
        go tier by tier of group priority, and each drops what a newer change (a
        cancel) has made stale by the time it runs.
        """
        conn = self.store.connection()
        held = contactbook.sets(conn)
        stand_ins = {_stand_in(s.id): s for s in held}
        worded = self._plan(transitions, now, _FAN_OUT, [_representative(s) for s in held])
        changes = [p.change.id for p in worded]
        by_tier: dict[int, tuple[list[outbox.SetTemplate], set[int]]] = {}
        for p in worded:
            group = stand_ins[p.recipient]
            templates, linked = by_tier.setdefault(p.priority, ([], set()))
            if "ack" in p.payload:
                linked.add(group.id)
            else:
                templates.append(outbox.SetTemplate(p, group.id, p.recipient))
        steps: list[_Step] = []
        size = self.fan_out_batch
        for priority in sorted(by_tier):
            templates, linked = by_tier[priority]
            if linked:
                sms = self._plan(transitions, now, _FAN_OUT, contactbook.members(conn, linked))
                steps += [
                    partial(_enqueue_current, sms[i : i + size]) for i in range(0, len(sms), size)
                ]
            sets = {t.set_id for t in templates} - linked
            chosen = [t for t in templates if t.set_id in sets]
            spans = [s for s in held if s.id in sets]
            steps += [
                partial(_expand_current, chosen, low, high)
                for low, high in contactbook.batches(spans, size)
            ]
        return steps, changes

    def _unsilenced(
        self, tx: sqlite3.Connection, transitions: Sequence[Transition], now: datetime
    ) -> list[Transition]:
        """Live transitions of silenced rules notify nobody (drills play as written)."""
        if self.drill or not transitions:
            return list(transitions)
        silenced = {s.rule_id for s in active_silences(tx, now)}
        kept = unsilenced(transitions, self.config.rules, silenced)
        for t in transitions:
            if t not in kept:
                log.warning("alert.silenced", rule=t.rule_id, area=t.area_id, kind=t.kind.value)
        return kept

    def _plan(
        self,
        transitions: Sequence[Transition],
        now: datetime,
        channels: frozenset[ChannelKind],
        contacts: Sequence[Contact] = (),
    ) -> list[PlannedDelivery]:
        """The deliveries of `channels` the notifiable transitions imply (to `contacts`).

        Broadcast posts go with the sirens, before the SMS fan-out.  A drill is
        posted to public destinations only when it is everyone's (`drill_all`);
        officials' destinations hear every drill, marked LATIHAN.
        """
        config = self.config
        posts: list[PlannedDelivery] = []
        if channels & set(BROADCAST_KINDS):
            public_drill = not self.drill or self.drill_all
            targets = [
                t for t in config.broadcasts if public_drill or t.audience is Audience.OFFICIALS
            ]
            posts = broadcast_posts(
                transitions, config.rules, targets, config.areas, drill=self.drill
            )
        return posts + plan(
            transitions,
            self.config.rules,
            contacts,
            self.config.sirens,
            self.config.areas,
            drill=self.drill,
            now=now,
            opted_out=outbox.opted_out(self.store) if ChannelKind.SMS in channels else (),
            drill_all=self.drill_all,
            drill_siren_command=self.config.settings.drill.siren_command,
            links=self.config.links,
            channels=channels,
        )

    def _after_commit(self, transitions: Sequence[Transition], change: HealthChange | None) -> None:
        """Log and count what was committed (the outbox was woken at each commit)."""
        self.metrics.evaluations.inc()
        for t in transitions:
            level = t.level.value if t.level else ""
            self.metrics.transitions.labels(kind=t.kind.value, level=level).inc()
            if t.kind.notifies:
                log.info(
                    f"alert.{t.kind.value}",
                    rule=t.rule_id,
                    area=t.area_id,
                    # `level` is the log line's own level: the alert's needs its own key.
                    alert_level=level,
                    alert_id=t.status.alert_id,
                    reason=t.reason,
                    drill=t.status.drill,
                )
        if change is not None:
            self._log_health(change)

    # -- feed health -------------------------------------------------------------------

    def silent_too_long(self, record: FeedRecord, now: datetime) -> timedelta | None:
        """How long an enabled feed has gone without a success, when longer than its bound."""
        feed = self.config.settings.feeds.get(record.feed)
        if feed is None or not feed.enabled:
            return None
        return overdue(record, now, self.started, feed.interval_s, self.policy)

    def watch(self) -> list[str]:
        """Mark down every enabled feed silent too long, even while its poll hangs.

        Returns the feeds that went down now (officials are told once, as for failures).
        """
        if self.drill_run is not None:
            return []
        now = self.clock()
        downed: list[str] = []
        with self._lock:
            for name in self.config.settings.feeds:
                record = self.store.feed(name)
                silent = self.silent_too_long(record, now)
                if silent is None:
                    continue
                record, change = after_silence(record, now, silent)
                if change is not None:
                    self._save_health(record, change)
                    downed.append(name)
        return downed

    def _save_health(self, record: FeedRecord, change: HealthChange | None) -> None:
        """Store a failure's health; tell officials once when a feed goes down."""
        planned = self._health_notice(change)
        with self.store.transaction() as tx:
            self.store.save_feed(tx, record)
            enqueued = outbox.enqueue(tx, planned)
        self._gauge(record)
        if change is not None:
            self._log_health(change)
        if enqueued:
            self.on_enqueued()

    def _gauge(self, record: FeedRecord) -> None:
        """The feed's health on /metrics after every poll: 2 ok, 1 degraded, 0 down."""
        value = {FeedHealth.OK: 2, FeedHealth.DEGRADED: 1, FeedHealth.DOWN: 0}[record.health]
        self.metrics.feed_up.labels(feed=record.feed).set(value)

    def _log_health(self, change: HealthChange) -> None:
        """One log line per health change."""
        log.warning(
            "feed.health_changed",
            feed=change.feed,
            before=change.before.value,
            after=change.after.value,
            error=change.error,
        )

    def _health_notice(self, change: HealthChange | None) -> list[PlannedDelivery]:
        """One SMS to officials when a feed goes down, one when it recovers."""
        if change is None or not (change.went_down or change.recovered):
            return []
        officials = [
            c.phone
            for c in contactbook.officials(self.store.connection())
            if c.drill or not self.drill
        ]
        body = feed_health_sms(
            change.feed, went_down=change.went_down, at=change.at, drill=self.drill
        )
        change_id = f"feed-{change.feed}-{change.after.value}-{change.at.strftime('%Y%m%dT%H%M%S')}"
        return officials_notice(
            change_id,
            ChangeKind.FEED_HEALTH,
            officials,
            body,
            subject=change.feed,
            targets=self.config.broadcasts,
            areas=self.config.areas,
            drill=self.drill,
            now=change.at,
        )

    # -- reload --------------------------------------------------------------------------

    def reload(self, config: Configuration) -> int:
        """Run on a new configuration; states of unchanged rules carry over.

        Returns how many (rule, area) states were dropped because their rule
        changed or disappeared.
        """
        with self._lock:
            states = self.store.load_states(drill=self.drill)
            kept = carry_over(self.config.rules, config.rules, states)
            with self.store.transaction() as tx:
                self.store.replace_states(tx, kept, drill=self.drill)
            self._hold_contacts(config)
            self.config = config
            self.policy = _policy(config)
            self._span = history_span(config.rules)
            self.evaluator = Evaluator(config.rules, config.areas)
        return len(states) - len(kept)


#: One step of a fan-out: writes some SMS rows in the caller's transaction, returns how many.
_Step = Callable[[sqlite3.Connection], int]


def _nothing(tx: sqlite3.Connection) -> int:
    """The step of a fan-out that has no SMS to write (it is marked done all the same)."""
    return 0


def _enqueue_current(sms: Sequence[PlannedDelivery], tx: sqlite3.Connection) -> int:
    """Write the SMS a newer change has not made stale (the rows planned person by person)."""
    return outbox.enqueue(tx, outbox.still_current(tx, sms))


def _expand_current(
    templates: Sequence[outbox.SetTemplate], low: int, high: int, tx: sqlite3.Connection
) -> int:
    """Write the sets' SMS still current for the people with ids in [low, high]."""
    current = {id(p) for p in outbox.still_current(tx, [t.delivery for t in templates])}
    kept = [t for t in templates if id(t.delivery) in current]
    return outbox.enqueue_expanded(tx, kept, low, high)


def _stand_in(set_id: int) -> str:
    """The recipient a contact set's SMS are worded for: replaced by each member's phone."""
    return f"@@set{set_id}@@"


def _representative(group: contactbook.ContactSet) -> Contact:
    """One contact standing for every member of a set (what the planner reads of them)."""
    return Contact(_stand_in(group.id), "", group.areas, group.group, group.language, group.drill)
