"""Drill state is kept apart: a drill never changes, sends or suppresses live alerts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.drill import (
    COAST_OFFICIAL,
    COAST_RT,
    TSUNAMI_DRILL,
    SirenControllers,
    drill_config,
)
from tests.support.peers.twilio import TwilioServer
from warning.cli.main import main
from warning.daemon.configuration import load_configuration
from warning.daemon.health import Metrics
from warning.daemon.pipeline import Pipeline
from warning.daemon.schedule import Daemon, RunOptions
from warning.feeds import FEEDS
from warning.model import AlertState, Observation
from warning.rules.scenario import Scenario, load_scenario
from warning.settings import Settings, load_settings
from warning.store.sqlite import Store
from warning.store.status import status_report


@pytest.fixture
def servers() -> Iterator[tuple[TwilioServer, SirenControllers]]:
    """A local Twilio-compatible server and local siren controllers."""
    with TwilioServer() as twilio, SirenControllers() as sirens:
        yield twilio, sirens


@pytest.fixture
def config(
    tmp_path: Path, servers: tuple[TwilioServer, SirenControllers], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Settings pointing at the local servers, every feed disabled (nothing is polled)."""
    path = drill_config(tmp_path, servers[0].url, servers[1].url, monkeypatch)
    feeds = "".join(f"\n[feeds.{name}]\nenabled = false\n" for name in FEEDS)
    path.write_text(path.read_text() + feeds)
    return path


def pipeline(settings: Settings, *, drill: bool) -> Pipeline:
    """A daemon pipeline (live or `run --drill`) over the settings' database."""
    config = load_configuration(settings)
    return Pipeline(
        Store(settings.state_path),
        config,
        metrics=Metrics(),
        clock=lambda: scenario(settings).start,
        drill=drill,
    )


def scenario(settings: Settings) -> Scenario:
    """The tsunami drill scenario: PD-1 SIAGA at 0s, PD-4 at 3m."""
    return load_scenario(TSUNAMI_DRILL, load_configuration(settings).areas, settings.feeds)


def bulletin(settings: Settings, index: int) -> tuple[Observation, ...]:
    """The observations of the scenario's step `index` (0: SIAGA, 1: ended)."""
    return scenario(settings).steps[index].observations


def live_rows(store: Store) -> list[tuple[int, str, str]]:
    """Every live outbox row: id, recipient, status."""
    found = store.connection().execute(
        "SELECT id, recipient, status FROM outbox WHERE drill = 0 ORDER BY id"
    )
    return [tuple(r) for r in found]


def test_a_drill_of_a_firing_live_alert_leaves_it_untouched_and_live_still_notifies(
    config: Path,
    servers: tuple[TwilioServer, SirenControllers],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Live SIAGA firing; the same rule and areas drilled to the end; live state and rows unchanged.

    The live daemon's later PD-4 still resolves its own alert and enqueues the all-clear.
    """
    settings = load_settings(config)
    live = pipeline(settings, drill=False)
    start = scenario(settings).start
    assert live.inject(bulletin(settings, 0), start).deliveries > 0
    store = Store(settings.state_path)
    states_before, rows_before = store.load_states(drill=False), live_rows(store)
    capsys.readouterr()  # the live pipeline logged before the CLI configured logging

    code = main(["--config", str(config), "drill", str(TSUNAMI_DRILL), "--speed", "60", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert (code, report["ok"]) == (0, True)
    assert store.load_states(drill=False) == states_before
    assert live_rows(store) == rows_before
    assert all(status == "pending" for _id, _to, status in rows_before)
    assert all(r.form["Body"].startswith("LATIHAN: ") for r in servers[0].requests)
    ended = live.inject(bulletin(settings, 1), start + timedelta(minutes=10))
    assert ended.transitions > 0
    assert ended.deliveries > 0
    live_states = store.load_states(drill=False).values()
    assert {s.state for s in live_states} == {AlertState.RESOLVED}
    assert all(not s.alert_id.startswith("drill:") for s in live_states)


@pytest.mark.parametrize(("command", "expected"), [("test", 2), ("silent-test", 2), ("none", 0)])
def test_run_drill_marks_every_transition_as_a_drill(
    tmp_path: Path,
    servers: tuple[TwilioServer, SirenControllers],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    expected: int,
) -> None:
    """`run --drill`: drill states and ids, LATIHAN SMS to drill contacts, sirens per [drill]."""
    path = drill_config(
        tmp_path, servers[0].url, servers[1].url, monkeypatch, siren_command=command
    )
    settings = load_settings(path)
    drilling = pipeline(settings, drill=True)
    drilling.inject(bulletin(settings, 0), scenario(settings).start)
    store = Store(settings.state_path)
    assert store.load_states(drill=False) == {}
    assert all(s.alert_id.startswith("drill:") for s in store.load_states(drill=True).values())
    rows = store.connection().execute("SELECT channel, recipient, drill, payload_json FROM outbox")
    found = [
        (r["channel"], r["recipient"], r["drill"], json.loads(r["payload_json"])) for r in rows
    ]
    assert all(drill == 1 for _c, _r, drill, _p in found)
    texted = {to for channel, to, _d, _p in found if channel == "sms"}
    assert texted == {COAST_OFFICIAL.phone, COAST_RT.phone}
    assert all(p["body"].startswith("LATIHAN: ") for c, _r, _d, p in found if c == "sms")
    siren_commands = [p["command"] for c, _r, _d, p in found if c == "siren"]
    assert siren_commands == [command] * expected


def test_run_drill_records_its_start_and_end_for_status(config: Path) -> None:
    """`warning run --drill --once` writes drill.started and drill.finished; status shows it."""
    settings = load_settings(config)
    assert Daemon(settings, RunOptions(drill=True)).once() == 0
    entries = Store(settings.state_path).audit_entries()
    assert [e["action"] for e in entries] == ["drill.started", "drill.finished"]
    assert entries[0]["detail"]["run_id"] == entries[1]["detail"]["run_id"]
    last = status_report(settings, scenario(settings).start)["last_drill"]
    assert (last["mode"], last["finished"]) == ("run", entries[1]["time"])


def test_a_live_run_records_no_drill(config: Path) -> None:
    """Without --drill nothing is audited as a drill and status says never."""
    settings = load_settings(config)
    assert Daemon(settings, RunOptions()).once() == 0
    assert Store(settings.state_path).audit_entries() == []
    assert status_report(settings, scenario(settings).start)["last_drill"] is None
