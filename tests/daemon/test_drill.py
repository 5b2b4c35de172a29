"""`warning drill`: scenarios played through the real pipeline and channels, local servers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.drill import (
    COAST_OFFICIAL,
    COAST_RT,
    FLOOD_DRILL,
    NORTH,
    PEOPLE,
    TSUNAMI_DRILL,
    SirenControllers,
    drill_config,
)
from tests.support.peers.twilio import TwilioServer
from warning.cli.main import main
from warning.settings import load_settings
from warning.store.sqlite import Store
from warning.store.status import status_report


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    """A local Twilio-compatible Messages API."""
    with TwilioServer() as server:
        yield server


@pytest.fixture
def sirens(request: pytest.FixtureRequest) -> Iterator[SirenControllers]:
    """Local HTTP siren controllers; all acknowledge unless parametrized {siren id: status}."""
    with SirenControllers(getattr(request, "param", None)) as server:
        yield server


@pytest.fixture
def config(
    tmp_path: Path, twilio: TwilioServer, sirens: SirenControllers, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Settings sending SMS and siren triggers to the local servers."""
    return drill_config(tmp_path, twilio.url, sirens.url, monkeypatch)


@dataclass(frozen=True)
class DrillRig:
    """A deployment sending to local Twilio and siren servers, and what it printed."""

    config: Path
    twilio: TwilioServer
    sirens: SirenControllers
    capsys: pytest.CaptureFixture[str]

    def play(self, scenario: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        """Run `warning drill SCENARIO --json ...`; return the exit code and the report."""
        code = main(["--config", str(self.config), "drill", str(scenario), "--json", *extra])
        return code, json.loads(self.capsys.readouterr().out)


@pytest.fixture
def rig(
    config: Path, twilio: TwilioServer, sirens: SirenControllers, capsys: pytest.CaptureFixture[str]
) -> DrillRig:
    """The drill deployment with its local servers."""
    return DrillRig(config, twilio, sirens, capsys)


def phones(server: TwilioServer) -> list[str]:
    """Who the Twilio server was asked to text, in arrival order."""
    return [r.form["To"] for r in server.requests]


def drill_phones(coastal_only: Sequence[str] = ()) -> set[str]:
    """The test contacts marked drill=true (optionally only in the given areas)."""
    return {p.phone for p in PEOPLE if p.drill and (not coastal_only or p.area in coastal_only)}


COASTAL = ("manggar", "lamaru", "klandasan-ilir", "prapatan")


def test_tsunami_drill_report_counts_match_what_the_servers_received(rig: DrillRig) -> None:
    """--speed 60 --json: SMS and siren counts equal the requests the local servers recorded."""
    code, report = rig.play(TSUNAMI_DRILL, "--speed", "60")
    assert code == 0
    assert report["ok"] is True
    assert report["failures"] == []
    assert report["channels"]["sms"]["sent"] == len(rig.twilio.requests) == 4
    assert sum(a["sms"] for a in report["alerts"]) == len(rig.twilio.requests)
    assert report["channels"]["siren"]["sent"] == len(rig.sirens.requests) == 2
    assert sum(a["sirens"] for a in report["alerts"]) == len(rig.sirens.requests)
    assert {s["siren"] for s in report["sirens"] if s["acknowledged"]} == {
        "sirene-manggar",
        "sirene-klandasan",
    }


def test_tsunami_drill_marks_every_message_and_siren_as_a_drill(rig: DrillRig) -> None:
    """Bodies start LATIHAN:, PD-4 brings the drill's ending, sirens get `test`, CAP is Exercise."""
    rig.play(TSUNAMI_DRILL, "--speed", "60")
    bodies = [r.form["Body"] for r in rig.twilio.requests]
    assert all(b.startswith("LATIHAN: ") for b in bodies)
    assert sum(b.startswith("LATIHAN: Peringatan tsunami") for b in bodies) == 2
    assert [c["command"] for c in rig.sirens.commands()] == ["test", "test"]
    assert all(c["drill"] is True for c in rig.sirens.commands())
    documents = list((rig.config.parent / "cap").glob("*.xml"))
    assert len(documents) == 2
    assert all("<status>Exercise</status>" in d.read_text() for d in documents)


def test_reported_alerts_name_rule_areas_level_and_reach(rig: DrillRig) -> None:
    """One line per change: fired SIAGA over the coast with SMS and sirens, then the all-clear."""
    _code, report = rig.play(TSUNAMI_DRILL, "--speed", "60")
    fired, resolved = report["alerts"]
    assert (fired["kind"], fired["level"], fired["at"]) == ("fired", "siaga", "0s")
    assert (resolved["kind"], resolved["at"]) == ("resolved", "3m")
    assert set(COASTAL) <= set(fired["areas"])
    assert "graha-indah" not in fired["areas"]
    assert (fired["sms"], fired["sirens"], resolved["sms"], resolved["sirens"]) == (2, 2, 2, 0)
    latency = report["channels"]["sms"]["latency_s"]
    assert 0 <= latency["p50"] <= latency["p95"] <= latency["max"] < 5


def test_only_drill_contacts_are_texted(rig: DrillRig) -> None:
    """Without --drill-all, coastal contacts with drill=false get nothing."""
    rig.play(TSUNAMI_DRILL, "--speed", "60")
    assert (
        set(phones(rig.twilio)) == drill_phones(COASTAL) == {COAST_OFFICIAL.phone, COAST_RT.phone}
    )


def test_drill_all_texts_every_contact_in_the_areas(rig: DrillRig) -> None:
    """--drill-all reaches every coastal contact, drill=true or not, still marked LATIHAN."""
    code, report = rig.play(TSUNAMI_DRILL, "--speed", "60", "--drill-all")
    assert code == 0
    coastal = {p.phone for p in PEOPLE if p.area in COASTAL}
    assert set(phones(rig.twilio)) == coastal
    assert len(rig.twilio.requests) == 2 * len(coastal) == report["channels"]["sms"]["sent"]
    assert all(r.form["Body"].startswith("LATIHAN: ") for r in rig.twilio.requests)


def test_a_second_run_of_the_same_scenario_sends_everything_again(rig: DrillRig) -> None:
    """Each run has its own id in its alert ids, so dedup keys never match an earlier drill's."""
    _code, first = rig.play(TSUNAMI_DRILL, "--speed", "60")
    _code, second = rig.play(TSUNAMI_DRILL, "--speed", "60")
    assert first["drill"]["run_id"] != second["drill"]["run_id"]
    assert len(rig.twilio.requests) == 2 * first["channels"]["sms"]["sent"] == 8
    assert len(rig.sirens.requests) == 4
    assert {a["change_id"] for a in first["alerts"]}.isdisjoint(
        a["change_id"] for a in second["alerts"]
    )


@pytest.mark.parametrize("sirens", [{"sirene-klandasan": 400}], indirect=True)
def test_a_siren_that_refuses_is_reported_and_the_drill_exits_1(rig: DrillRig) -> None:
    """A controller answering 400 is a failure with its reason; the other siren acknowledged."""
    code, report = rig.play(TSUNAMI_DRILL, "--speed", "60")
    assert code == 1
    assert report["ok"] is False
    acks = {s["siren"]: s["acknowledged"] for s in report["sirens"]}
    assert acks == {"sirene-manggar": True, "sirene-klandasan": False}
    failed = [f for f in report["failures"] if f["channel"] == "siren"]
    assert [(f["recipient"], f["status"]) for f in failed] == [("sirene-klandasan", "failed")]
    assert "400" in failed[0]["reason"]


def test_flood_drill_reaches_the_north_only(rig: DrillRig) -> None:
    """Heavy rain over the north: SIAGA then all-clear to the northern drill contact, no siren."""
    code, report = rig.play(FLOOD_DRILL, "--speed", "3600")
    assert code == 0
    assert [(a["rule"], a["kind"], a["level"]) for a in report["alerts"]] == [
        ("hujan-per-jam", "fired", "siaga"),
        ("hujan-per-jam", "resolved", "siaga"),
    ]
    assert phones(rig.twilio) == [NORTH.phone, NORTH.phone]
    assert rig.twilio.requests[1].form["Body"].startswith("LATIHAN: Hujan lebat di Graha")
    assert rig.sirens.requests == []


def test_status_shows_the_last_drill(rig: DrillRig) -> None:
    """`warning status` reads the drill's audit entries: when, which scenario, how it went."""
    _code, report = rig.play(FLOOD_DRILL, "--speed", "3600")
    settings = load_settings(rig.config)
    last = status_report(settings, datetime.now(UTC))["last_drill"]
    assert last["run_id"] == report["drill"]["run_id"]
    assert (last["mode"], last["ok"]) == ("scenario", True)
    assert last["scenario"] == report["drill"]["scenario"]
    actions = [e["action"] for e in Store(settings.state_path).audit_entries()]
    assert actions == ["drill.started", "drill.finished"]


def test_a_drill_leaves_no_drill_state_behind(rig: DrillRig) -> None:
    """No leftover drill alert can later time out into a stray all-clear; nothing live is stored."""
    rig.play(FLOOD_DRILL, "--speed", "3600")
    store = Store(load_settings(rig.config).state_path)
    assert store.load_states(drill=True) == {}
    assert store.load_states(drill=False) == {}
    assert store.connection().execute("SELECT count(*) FROM observations").fetchone()[0] == 0


def test_the_text_report_ends_with_the_verdict(rig: DrillRig) -> None:
    """Without --json the report is for a terminal: sections, then OK or FAILED."""
    code = main(["--config", str(rig.config), "drill", str(FLOOD_DRILL), "--speed", "3600"])
    out = rig.capsys.readouterr().out
    assert code == 0
    assert out.startswith("DRILL REPORT: ")
    for section in ("alerts:", "channels", "sirens:", "failures:"):
        assert f"\n{section}" in out
    assert out.rstrip().endswith("OK: every delivery was accepted")


@pytest.mark.parametrize("speed", ["0", "-2", "fast"])
def test_a_speed_that_is_not_positive_is_a_usage_error(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--speed must be a positive number (argparse exits 2 with the reason)."""
    with pytest.raises(SystemExit) as exc:
        main(["drill", str(FLOOD_DRILL), "--speed", speed])
    assert exc.value.code == 2
    assert "speed must be a positive number" in capsys.readouterr().err


def test_a_broken_scenario_is_reported_with_positions_and_sends_nothing(rig: DrillRig) -> None:
    """A scenario without expectations or times: every problem with file:line, exit 1."""
    scenario = rig.config.parent / "broken.yaml"
    scenario.write_text("name: no steps\n")
    code = main(["--config", str(rig.config), "drill", str(scenario)])
    out = rig.capsys.readouterr().out
    assert code == 1
    assert f"{scenario}:1:1: a scenario needs `expect` or `expect_none` entries" in out
    assert rig.twilio.requests == []
    assert rig.sirens.requests == []
    assert not (rig.config.parent / "warning.db").exists()
