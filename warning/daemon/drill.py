"""`warning drill SCENARIO.yaml`: a scenario played through the real pipeline and channels.

The scenario's simulated clock runs in real time or `speed` times faster: at
each moment where a step injects observations (or the engine changes an alert
by time alone) the drill sleeps until that moment, hands the observations to
`Pipeline.inject` (the daemon's own evaluate-and-commit path, in drill mode),
and a dispatcher thread sends what was enqueued as the drill goes.  Moments
where nothing happens are evaluated without waiting.  When the scenario is
over the drill waits (bounded) for its deliveries to finish, then reports.

Drill state lives in the same database as live state, marked drill=1, so a
drill can run beside the live daemon and never touches live alerts.  Each run
has its own id, carried in its alert ids, so its changes and dedup keys are
new: a second run of the same scenario sends everything again instead of
being refused as a repeat.  A run starts and ends with no drill states, so no
leftover drill alert can later time out into a stray all-clear.  Run one drill
at a time: concurrent drills share the drill states.
"""

from __future__ import annotations

import getpass
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from warning.daemon.configuration import Configuration
from warning.daemon.drillreport import DrillReport, Injection, RunInfo, build_report
from warning.daemon.health import Metrics
from warning.daemon.pipeline import Pipeline
from warning.daemon.schedule import utc_now
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Dispatcher
from warning.rules.scenario import Scenario, load_scenario
from warning.rules.testing import play
from warning.settings import FeedSettings, secret
from warning.store.drillrows import last_row, open_rows, run_rows
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Seconds the drill waits, after its last step, for deliveries (retries included).
SETTLE_S = 90.0
#: Seconds the sender idles when nothing woke it (retries fall due meanwhile).
IDLE_S = 0.2


@dataclass(frozen=True, slots=True)
class DrillOptions:
    """How `warning drill` was asked to run."""

    speed: float = 1.0
    drill_all: bool = False
    settle_s: float = SETTLE_S
    #: Who started it, for the audit log (empty: the login name of the process).
    actor: str = ""


@dataclass(frozen=True, slots=True)
class DrillSetup:
    """What a drill reads: the loaded configuration, the state file, the feeds, the channels."""

    #: Rules, areas, contacts, sirens and links, for the pipeline the drill plays through.
    config: Configuration
    state_path: Path
    #: The feeds' settings, which a scenario's observations are read with.
    feeds: Mapping[str, FeedSettings]
    channels: ChannelSettings

    @classmethod
    def of(cls, config: Configuration) -> DrillSetup:
        """The drill's sections of a loaded configuration (its paths resolved)."""
        settings = config.settings
        return cls(config, settings.state_path, settings.feeds, ChannelSettings.of(settings))


def _links_now(config: Configuration, shift: timedelta) -> Configuration:
    """`config` whose acknowledgement links, about changes on the scenario's clock, work now."""
    if config.links is None:
        return config
    return replace(config, links=replace(config.links, shift=shift))


def new_run_id(now: datetime) -> str:
    """A drill run's id: its start time and a random suffix (two runs never collide)."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def operator() -> str:
    """Who runs the command, for the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Drill:
    """One run of one scenario."""

    def __init__(self, setup: DrillSetup, path: Path, options: DrillOptions) -> None:
        self.options = options
        self.path = path
        self.config = setup.config
        self.scenario = load_scenario(path, self.config.areas, setup.feeds)
        self.store = Store(setup.state_path)
        self.run_id = new_run_id(utc_now())
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._now = self.scenario.start
        self.pipeline = Pipeline(
            self.store,
            _links_now(self.config, utc_now() - self.scenario.start),
            metrics=Metrics(),
            clock=lambda: self._now,
            drill=True,
            drill_all=options.drill_all,
            drill_run=self.run_id,
            on_enqueued=self._wake.set,
        )
        channels = build_channels(setup.channels, self.config.areas, secret)
        self.dispatcher = Dispatcher(
            self.store,
            channels,
            setup.channels.sms,
            siren=setup.channels.siren,
            contacts=self.config.contacts.officials,
            drill_only=True,
        )

    def run(self) -> DrillReport:
        """Play, let deliveries finish, report; the audit log records start and end."""
        started = utc_now()
        first_row = self._begin(started)
        sender = threading.Thread(target=self._send, name="drill-sender", daemon=True)
        sender.start()
        try:
            injections = self._play()
            settled = self._settle(first_row)
        finally:
            self._stop.set()
            self._wake.set()
            sender.join()
            self.dispatcher.close()
        info = RunInfo(
            run_id=self.run_id,
            scenario=self.scenario.name,
            file=str(self.path),
            speed=self.options.speed,
            drill_all=self.options.drill_all,
            started=started,
            finished=utc_now(),
        )
        report = build_report(info, injections, run_rows(self.store, first_row), settled)
        self._end(report)
        return report

    # -- start and end -------------------------------------------------------------------

    def _begin(self, at: datetime) -> int:
        """Clear drill states, note where this run's outbox rows start, audit the start."""
        with self.store.transaction() as tx:
            self.store.replace_states(tx, {}, drill=True)
            first_row = last_row(tx)
            self.store.audit(
                tx, self.options.actor or operator(), "drill.started", self._detail(), at
            )
        log.info("drill.started", **self._detail())
        return first_row

    def _detail(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "mode": "scenario",
            "scenario": self.scenario.name,
            "file": str(self.path),
            "speed": self.options.speed,
            "drill_all": self.options.drill_all,
        }

    def _end(self, report: DrillReport) -> None:
        """Forget the drill states and audit the outcome."""
        summary = {**self._detail(), **report.summary()}
        with self.store.transaction() as tx:
            self.store.replace_states(tx, {}, drill=True)
            self.store.audit(
                tx,
                self.options.actor or operator(),
                "drill.finished",
                summary,
                report.info.finished,
            )
        log.info("drill.finished", **summary)

    # -- the simulated clock -------------------------------------------------------------

    def _play(self) -> list[Injection]:
        """Inject every step at its (scaled) moment; return when each was injected."""
        eventful = eventful_offsets(self.scenario, self.pipeline)
        origin = time.monotonic()
        injections = []
        for offset in self.scenario.times():
            if offset in eventful:
                _sleep_until(origin + offset.total_seconds() / self.options.speed)
            self._now = self.scenario.start + offset
            observations = [
                o for s in self.scenario.steps if s.at == offset for o in s.observations
            ]
            wall = utc_now()
            result = self.pipeline.inject(observations, self._now)
            injections.append(Injection(offset, self._now, wall, result.changes))
        return injections

    # -- sending -------------------------------------------------------------------------

    def _send(self) -> None:
        """Send as the drill goes; woken as soon as a step enqueues work."""
        while not self._stop.is_set():
            if self.dispatcher.run_once():
                continue
            self._wake.wait(IDLE_S)
            self._wake.clear()

    def _settle(self, first_row: int) -> bool:
        """Wait until this run has nothing left to send; False when time ran out."""
        deadline = time.monotonic() + self.options.settle_s
        while time.monotonic() < deadline:
            if not open_rows(self.store, first_row):
                return True
            time.sleep(0.05)
        return not open_rows(self.store, first_row)


def eventful_offsets(scenario: Scenario, pipeline: Pipeline) -> set[timedelta]:
    """Offsets worth waiting for: a step, or a notifiable change in a rehearsal.

    The rehearsal plays the scenario on the pure engine first (nothing stored,
    nothing sent), so a `for:` that turns pending into firing between steps is
    waited for, while moments that only check expectations are not.
    """
    ticks = play(scenario, pipeline.config.rules, pipeline.config.areas, drill=True)
    return {t.offset for t in ticks if t.steps or any(x.kind.notifies for x in t.transitions)}


def _sleep_until(deadline: float) -> None:
    """Sleep until the monotonic clock reaches `deadline` (at once when it has)."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def run_drill(setup: DrillSetup, path: Path, options: DrillOptions) -> DrillReport:
    """`warning drill`: play, report."""
    return Drill(setup, path, options).run()
