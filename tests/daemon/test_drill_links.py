"""`warning drill` replays a scenario dated in the past: its links still work now."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.drill import TSUNAMI_DRILL, SirenControllers, drill_config
from tests.support.peers.twilio import TwilioServer
from warning.cli.main import main
from warning.settings import load_settings


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The drill test settings, with acknowledgement links on."""
    with TwilioServer() as twilio, SirenControllers() as sirens:
        path = drill_config(tmp_path, twilio.url, sirens.url, monkeypatch)
        monkeypatch.setenv("ACK_SECRET", "kunci-latihan")
        path.write_text(path.read_text() + '\n[console]\npublic_url = "https://bpbd.test"\n')
        yield path


def test_a_drill_of_a_past_scenario_sends_links_valid_from_now(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scenario starts in March; the RT head's LATIHAN link expires a day from now."""
    before = datetime.now(UTC)
    assert main(["--config", str(config), "drill", str(TSUNAMI_DRILL), "--speed", "1000"]) == 0
    capsys.readouterr()
    state = load_settings(config).state_path
    conn = sqlite3.connect(state)
    try:
        payloads = [json.loads(p) for (p,) in conn.execute("SELECT payload_json FROM outbox")]
    finally:
        conn.close()
    linked = [p for p in payloads if "ack" in p]
    assert linked
    assert all(p["body"].startswith("LATIHAN") for p in linked)
    for payload in linked:
        expires = datetime.fromisoformat(payload["ack"]["expires"])
        assert expires > before + timedelta(hours=23)
