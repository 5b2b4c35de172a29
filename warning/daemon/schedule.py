"""`warning run`: the job schedule, signals, reloads of the Configuration, the outbox job.

Health and metrics are `daemon.health.Monitor`'s business.

APScheduler 3.x runs one job per enabled feed (interval with jitter,
`max_instances=1`, `coalesce=True`, a misfire grace of at least one interval,
because the 1 s default silently skips late jobs), a clock tick for time-based
transitions, an outbox job that is woken as soon as work is enqueued, a
heartbeat that feeds the systemd watchdog, and the monthly siren test.  A
failing job is logged and never stops the scheduler.  SIGTERM/SIGINT stop
polling, let deliveries drain for a bounded time and exit 0; SIGHUP reloads
rules, areas, contacts and sirens, keeping the previous set when the new one
is invalid.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_SCHEDULER_STARTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from warning.daemon.clock import SteadyClock
from warning.daemon.configuration import (
    Configuration,
    load_configuration,
    reload_configuration,
)
from warning.daemon.escalation import ESCALATION_S, escalate
from warning.daemon.feedhealth import stale_after
from warning.daemon.health import HealthReport, Monitor
from warning.daemon.notify import notify, watchdog_interval_s
from warning.daemon.outage import watch_outage
from warning.daemon.pipeline import Pipeline, PollResult
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Dispatcher, worker_is_dead
from warning.delivery.sms import announce
from warning.http import HttpClient, Interrupted
from warning.model import WITA, ChangeKind, ConfigError, FeedHealth, SirenCommand
from warning.plan.broadcast import officials_notice
from warning.plan.health import NoticeReach
from warning.plan.notices import bad_contacts_sms
from warning.plan.planner import operator_sirens
from warning.reports.verify import purge as purge_reports
from warning.settings import Settings, secret
from warning.store import acks, fanout, outbox
from warning.store.sqlite import DatabaseReplacedError, Store

log = structlog.get_logger()

#: Seconds between clock ticks (pending -> firing, expiry, reminders, timeouts).
TICK_S = 15.0
#: Seconds the outbox job sleeps when nothing woke it (retries fall due meanwhile).
OUTBOX_IDLE_S = 2.0
#: Seconds between two checkpoints of the state's write-ahead log (`Store.checkpoint`).
CHECKPOINT_S = 2.0
#: Bounded wait for deliveries at shutdown (below the unit's TimeoutStopSec=45s).
DRAIN_ON_STOP_S = 20.0


def utc_now() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(UTC)


def guarded(name: str, func: Callable[[], object]) -> Callable[[], None]:
    """`func` as a scheduler job: an exception is logged with the job's name, never raised.

    A failing job must never stop the scheduler; a stop that cuts a job's wait
    short is logged as such, not as a failure.
    """

    def run() -> None:
        try:
            func()
        except Interrupted as stop:
            log.info("job.interrupted", job=name, reason=str(stop))
        except Exception:
            log.exception("job.failed", job=name)

    return run


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How `warning run` was asked to run."""

    drill: bool = False
    drill_all: bool = False


class Daemon:
    """One running `warning` service."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions = RunOptions(),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.options = options
        # Steady by default: a wall-clock step is not elapsed time for timeouts.
        clock = clock or SteadyClock()
        self.store = Store(settings.state_path)
        self.monitor = Monitor(
            self.store, drill=options.drill, clock=clock, silent_feeds=self.silent_feeds
        )
        self.metrics = self.monitor.metrics
        config = load_configuration(settings, starting=True)
        self.scheduler: BaseScheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=len(settings.feeds) + 7)},
            timezone=UTC,
        )
        self._stopping = threading.Event()
        #: Set by every wake-up; the outbox jobs look at it before they end (`send_outbox`).
        self._outbox_woken = threading.Event()
        self._first_woken = threading.Event()
        #: What `run` returns: 1 when the daemon stopped itself on a fault (systemd restarts it).
        self.exit_code = 0
        self.pipeline = Pipeline(
            self.store,
            config,
            metrics=self.metrics,
            client=HttpClient(settings.http, sleep=self._pause),
            clock=clock,
            drill=options.drill,
            drill_all=options.drill_all,
            on_enqueued=self.wake_outbox,
        )
        self.dispatcher = self._dispatcher(config)
        self.monitor.configure(settings.health, self._heartbeat_s())
        self.drill_run = f"run-{utc_now():%Y%m%dT%H%M%SZ}"

    # -- set-up ----------------------------------------------------------------------------

    @property
    def config(self) -> Configuration:
        """The running configuration (swapped whole by a reload)."""
        return self.pipeline.config

    @property
    def settings(self) -> Settings:
        """The running configuration's settings (the feeds' schedule stays as started)."""
        return self.pipeline.config.settings

    def _pause(self, seconds: float) -> None:
        """The feeds' waits (retry backoff, request spacing), cut short by a stop.

        A rate-limited poll (34 forecast requests a minute apart) would otherwise
        hold the process past systemd's stop timeout.
        """
        if self._stopping.wait(seconds):
            raise Interrupted(f"stopping during a {seconds:.1f} s wait")

    def _dispatcher(self, config: Configuration) -> Dispatcher:
        """Channels for `config`'s sirens, Twilio and CAP, behind one dispatcher."""
        channels = build_channels(ChannelSettings.of(config.settings), config.areas, secret)
        return Dispatcher(
            self.store,
            channels,
            config.settings.sms,
            siren=config.settings.siren,
            contacts=config.contacts.officials,
            observer=self.monitor.observe,
        )

    def announce(self) -> None:
        """Say loudly at start what is real and what only logs."""
        config = self.pipeline.config
        log.info(
            "daemon.starting",
            drill=self.options.drill,
            rules=len(config.rules),
            contacts=len(config.contacts),
            sirens=len(config.sirens),
            feeds=[n for n, f in self.settings.feeds.items() if f.enabled],
            state=str(self.settings.state_path),
        )
        announce(self.settings.sms, secret)
        released = outbox.release_workers(self.store, worker_is_dead, now=time.time())
        if released:
            # A crash left rows claimed: send them now, not after their lease.
            log.warning("outbox.released_dead_claims", released=released)
        if not config.contacts:
            log.warning("contacts.none", message="no contacts configured: no one receives SMS")
        self._report_bad_contacts()

    def _report_bad_contacts(self) -> None:
        """Bad contacts rows left out at start: each logged, health degraded, officials told."""
        bad = self.config.contact_problems
        if not bad:
            return
        for problem in bad:
            log.error("contacts.bad_row", problem=str(problem))
        self.monitor.degrade(f"{len(bad)} bad contacts row(s) left out: run `warning check`")
        lines = sorted({p.line for p in bad if p.line is not None})
        shown = ", ".join(str(n) for n in lines[:8])
        now = utc_now()
        planned = officials_notice(
            f"contacts-{now:%Y%m%d}-{len(bad)}-{shown}",
            ChangeKind.CONTACTS,
            [c.phone for c in self.config.contacts.officials],
            bad_contacts_sms(len(bad), lines),
            targets=self.config.broadcasts,
            areas=self.config.areas,
            drill=False,
            now=now,
        )
        with self.store.transaction() as tx:
            outbox.enqueue(tx, planned)

    def schedule(self) -> None:
        """Add every job to the scheduler."""
        for name, feed in self.settings.feeds.items():
            if not feed.enabled:
                continue
            interval = feed.interval_s
            self.scheduler.add_job(
                guarded(f"feed:{name}", functools.partial(self.pipeline.poll, name)),
                IntervalTrigger(seconds=interval, jitter=max(1, int(interval * 0.1))),
                id=f"feed:{name}",
                next_run_time=utc_now(),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(max(interval, 30)),
            )
        self._add("tick", self.pipeline.tick, TICK_S)
        self._add("reports", self.pipeline.take_reports, TICK_S)
        self._add("feed-watch", self.pipeline.watch, TICK_S)
        self._add("outbox-first", self.send_first, OUTBOX_IDLE_S)
        self._add("outbox", self.send_outbox, OUTBOX_IDLE_S)
        self._add("escalation", self.escalate, ESCALATION_S)
        self._add("heartbeat", self.heartbeat, self._heartbeat_s())
        self._add("housekeeping", self.housekeeping, 3600)
        self._add("checkpoint", self.store.checkpoint, CHECKPOINT_S)
        if self.settings.siren_test.enabled:
            hour, minute = (int(x) for x in self.settings.siren_test.time.split(":"))
            self.scheduler.add_job(
                guarded("siren-test", self.siren_test),
                CronTrigger(
                    day=self.settings.siren_test.day, hour=hour, minute=minute, timezone=WITA
                ),
                id="siren-test",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)

    def _add(self, name: str, func: Callable[[], object], seconds: float) -> None:
        """An interval job that starts now."""
        self.scheduler.add_job(
            guarded(name, func),
            IntervalTrigger(seconds=seconds),
            id=name,
            next_run_time=utc_now(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(max(seconds, 30)),
        )

    def _heartbeat_s(self) -> float:
        """The heartbeat period: the configured one, faster if systemd's watchdog needs it."""
        watchdog = watchdog_interval_s()
        configured = self.settings.health.heartbeat_s
        return min(configured, watchdog) if watchdog else configured

    def _job_failed(self, event: JobExecutionEvent) -> None:
        log.error("job.failed", job=event.job_id, error=repr(event.exception))

    # -- jobs ------------------------------------------------------------------------------

    def wake_outbox(self) -> None:
        """Run the outbox job now (work was just enqueued).

        A job still running (`max_instances=1`) skips the run asked for: the flag
        tells it to claim again before it ends, so rows committed while it ended
        (a siren right after the last claim found nothing) do not wait for the
        next interval.
        """
        self._first_woken.set()
        self._outbox_woken.set()
        for name in ("outbox-first", "outbox"):
            job = self.scheduler.get_job(name)
            if job is not None:
                job.modify(next_run_time=utc_now())

    def send_outbox(self) -> int:
        """Send every due delivery (sirens first, then SMS by group, then CAP).

        Only claims and sends: the outbox gauges are the heartbeat's (`Monitor.beat`).
        Counting a city's outbox (millions of rows) here delayed the claim of a siren
        committed meanwhile by 0.1-0.4 s (traced at 750,000 contacts).
        """
        return self._send_while(
            lambda: self.dispatcher.run_once(overlap=True),
            self._outbox_woken,
            settle=self._settle_sends,
        )

    def _settle_sends(self) -> bool:
        """Wait for the SMS the outbox job left in flight (the dispatcher of now: reloads)."""
        return self.dispatcher.settle()

    def send_first(self) -> int:
        """Send every due siren command and broadcast post, apart from the SMS.

        Its own job: the outbox job sends each claimed batch of SMS whole, at
        the provider's pace, and a siren committed meanwhile must not wait for it.
        """
        return self._send_while(self.dispatcher.run_first, self._first_woken)

    def _send_while(
        self,
        claim_and_send: Callable[[], int],
        woken: threading.Event,
        *,
        settle: Callable[[], bool] = lambda: False,
    ) -> int:
        """Claim and send until a claim finds nothing and no wake-up came meanwhile.

        `settle` waits for sends the claims left in flight (True if there were any):
        the outbox job ends once its own sends have, and then looks once more.
        """
        sent = 0
        while not self._stopping.is_set():
            woken.clear()
            claimed = claim_and_send()
            sent += claimed
            if not claimed and not settle() and not woken.is_set():
                break
        return sent

    def escalate(self) -> int:
        """Notify the escalation steps due now (nobody confirmed in time); refresh the gauges."""
        enqueued = escalate(
            self.store,
            self.config,
            self.pipeline.clock(),
            drill_all=self.options.drill_all,
            on_step=lambda group: self.metrics.escalations.labels(group=group).inc(),
        )
        self.metrics.acknowledgements.set(acks.acknowledgement_count(self.store))
        for status, count in acks.receipt_counts(self.store).items():
            self.metrics.receipts.labels(status=status.value).set(count)
        if enqueued:
            self.wake_outbox()
        return enqueued

    def heartbeat(self) -> None:
        """Prove the scheduler runs: watchdog ping and the heartbeat gauge.

        A database deleted or replaced under us stops the daemon with exit 1
        (systemd restarts it on the file now there) instead of writing into
        an unlinked file.
        """
        try:
            self.store.check_file()
        except DatabaseReplacedError as exc:
            log.critical("state.replaced", error=str(exc))
            self.exit_code = 1
            self.request_stop()
            return
        self._watch_outage()
        self.monitor.beat()
        notify("WATCHDOG=1")

    def _watch_outage(self) -> None:
        """Open or close the SMS provider's outage; its notices go out at once."""
        reach = NoticeReach(
            self.config.contacts.officials,
            self.config.broadcasts,
            self.config.areas,
            self.options.drill,
        )
        changed = watch_outage(
            self.store,
            reach,
            max_wait_s=self.settings.health.max_delivery_wait_s,
            now=self.pipeline.clock(),
        )
        if changed is not None:
            self.wake_outbox()

    def housekeeping(self) -> None:
        """Prune old observations and delivered outbox rows (never alerts or the audit log)."""
        now = utc_now()
        with self.store.transaction() as tx:
            dropped = self.store.prune_observations(tx, now - timedelta(days=2))
            pruned = outbox.prune_delivered(
                tx, now - timedelta(days=self.settings.state.retention_days)
            )
            fanout.prune(tx, now - timedelta(days=self.settings.state.retention_days))
        reports = purge_reports(self.store, now, self.settings.reports.retention_days)
        log.info(
            "daemon.housekeeping",
            observations_pruned=dropped,
            outbox_pruned=pruned,
            reports_purged=reports,
        )

    def siren_test(self) -> int:
        """The monthly siren test (BMKG tests its sirens on the 26th)."""
        config = self.pipeline.config
        now = utc_now()
        change_id = f"siren-test-{now.strftime('%Y%m%dT%H%M')}"
        planned = operator_sirens(
            change_id,
            ChangeKind.SIREN_TEST,
            config.sirens,
            SirenCommand(self.settings.siren_test.command),
            drill=True,
            now=now,
        )
        with self.store.transaction() as tx:
            enqueued = outbox.enqueue(tx, planned)
            self.store.audit(
                tx,
                "system",
                "siren.test",
                {"change_id": change_id, "sirens": [s.id for s in config.sirens]},
                now,
            )
        log.info(
            "siren.test_started", sirens=len(planned), command=self.settings.siren_test.command
        )
        self.wake_outbox()
        return enqueued

    def _audit_drill(self, action: str) -> None:
        """`warning run --drill`: the audit log (and `warning status`) show when it ran."""
        if not self.options.drill:
            return
        detail = {"run_id": self.drill_run, "mode": "run", "drill_all": self.options.drill_all}
        with self.store.transaction() as tx:
            self.store.audit(tx, "system", action, detail, utc_now())
        log.info(action, **detail)

    # -- reload ----------------------------------------------------------------------------

    def reload(self) -> bool:
        """SIGHUP: load the new set; keep the running one (logging every error) if invalid."""
        loaded = reload_configuration(self.config)
        if isinstance(loaded, ConfigError):
            for problem in loaded.problems:
                log.error("reload.problem", problem=str(problem))
            log.error(
                "reload.rejected",
                errors=len(loaded.problems),
                message="the previous rules, areas, contacts and sirens keep running",
            )
            return False
        dropped = self.pipeline.reload(loaded)
        old = self.dispatcher
        self.dispatcher = self._dispatcher(loaded)
        old.close()
        log.info(
            "reload.applied",
            rules=len(loaded.rules),
            contacts=len(loaded.contacts),
            sirens=len(loaded.sirens),
            states_dropped=dropped,
        )
        return True

    # -- health ----------------------------------------------------------------------------

    def silent_feeds(self) -> list[str]:
        """Why /healthz fails for feeds that have had no success for too long (polled or not).

        Silence is judged from the age of the last success, so a poll that hangs
        (and so records no failure) still makes /healthz fail.  A feed already down
        is the monitor's own finding and is not named twice.
        """
        now = self.pipeline.clock()
        limit = self.settings.health.max_down_s
        found: list[str] = []
        for name in self.settings.feeds:
            record = self.store.feed(name)
            silent = self.pipeline.silent_too_long(record, now)
            if silent is None or record.health is FeedHealth.DOWN:
                continue
            if (silent - self._stale_bound(name)).total_seconds() > limit:
                found.append(f"feed {name}: no successful poll for {silent.total_seconds():.0f} s")
        return found

    def _stale_bound(self, name: str) -> timedelta:
        """The silence after which feed `name` counts as down."""
        return stale_after(self.settings.feeds[name].interval_s, self.pipeline.policy)

    def health(self) -> HealthReport:
        """/healthz as served (the monitor's report, judged at the pipeline's clock)."""
        return self.monitor.report()

    # -- running ---------------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; 0 on a clean stop."""
        self.announce()
        self._audit_drill("drill.started")
        self.monitor.start(self.settings.health, self._heartbeat_s())
        self.schedule()
        self._install_signals()
        self.scheduler.add_listener(lambda _e: self._ready(), mask=EVENT_SCHEDULER_STARTED)
        try:
            self.scheduler.start()
        finally:
            self._shutdown()
        return self.exit_code

    def _ready(self) -> None:
        notify("READY=1")
        log.info("daemon.ready")

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("daemon.stopping", signal=signal.Signals(signum).name)
        self.request_stop()

    def request_stop(self) -> None:
        """Stop polling now: waits inside running polls end, the scheduler stops, then drain."""
        notify("STOPPING=1")
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _on_reload(self, _signum: int, _frame: FrameType | None) -> None:
        # Never reload inside the signal handler: hand it to the scheduler's threads.
        self.scheduler.add_job(guarded("reload", self.reload), id="reload", replace_existing=True)

    def _shutdown(self) -> None:
        """Let deliveries drain for a bounded time, then close channels and the endpoint."""
        drained = self.dispatcher.drain(DRAIN_ON_STOP_S, final=True)
        self.dispatcher.close()
        self._audit_drill("drill.finished")
        self.monitor.stop()
        log.info("daemon.stopped", outbox_drained=drained, pending=outbox.open_count(self.store))

    def once(self) -> int:
        """`--once`: poll every enabled feed, drain the outbox, exit 0 if all feeds worked."""
        self.announce()
        self._audit_drill("drill.started")
        results: list[PollResult] = []
        for name, feed in self.settings.feeds.items():
            if feed.enabled:
                results.append(self._poll_safely(name))
        self.pipeline.take_reports()
        self.pipeline.tick()
        drained = self.dispatcher.drain(DRAIN_ON_STOP_S * 3)
        self.dispatcher.close()
        self._audit_drill("drill.finished")
        failed = [r.feed for r in results if not r.ok]
        log.info("daemon.once_done", feeds=len(results), failed=failed, outbox_drained=drained)
        return 0 if not failed and drained else 1

    def _poll_safely(self, name: str) -> PollResult:
        try:
            return self.pipeline.poll(name)
        except Exception as exc:
            log.exception("job.failed", job=f"feed:{name}")
            return PollResult(name, ok=False, error=repr(exc))
