"""`warning run` as a subprocess: a broken rule file on SIGHUP, and a feed outage."""

from __future__ import annotations

import collections
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.deployment import COASTAL, write_config
from tests.support.paths import ROOT
from tests.support.peers import Fault, FeedServer, SirenServer, TwilioServer
from tests.support.processes import (
    PD1_SIAGA,
    QUIET,
    inatews_bulletin,
    running,
    status_json,
    wait_until,
)

pytestmark = pytest.mark.slow

BAD_RULES = ROOT / "tests" / "fixtures" / "rules" / "bad"


def _now_bulletins() -> tuple[bytes, bytes]:
    """A quiet bulletin and a SIAGA for Balikpapan, dated now."""
    now = datetime.now(UTC)
    quiet = inatews_bulletin(QUIET, now - timedelta(hours=2), now - timedelta(hours=2))
    siaga = inatews_bulletin(PD1_SIAGA, now - timedelta(minutes=1), now - timedelta(minutes=6))
    return quiet, siaga


def test_sighup_with_a_broken_rule_file_keeps_the_old_rules_running(tmp_path: Path) -> None:
    """reload.rejected is logged, the process lives, and a later tsunami still alerts."""
    quiet, siaga = _now_bulletins()
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        feeds.serve("/inatews", quiet)
        deployment = write_config(tmp_path, feeds=feeds, twilio=twilio, sirens=sirens)
        with running(deployment) as daemon:
            daemon.ready()
            shutil.copy(BAD_RULES / "misspelt-operator.yaml", deployment.rules_dir / "zz.yaml")
            daemon.signal(signal.SIGHUP)
            (rejected,) = daemon.wait_for_log("reload.rejected", 10)
            problems = daemon.named("reload.problem")
            feeds.serve("/inatews", siaga)
            sirens_heard = sirens.wait_for(len(deployment.sirens), 10)
            sms = twilio.wait_for(len(deployment.phones(COASTAL)), 15)
            assert daemon.process.poll() is None
            assert daemon.stop() == 0
    print(f"injected: {BAD_RULES / 'misspelt-operator.yaml'}; saw: {rejected}, {problems}")
    assert rejected["errors"] >= 1
    assert any("zz.yaml" in p["problem"] for p in problems)
    assert len(sirens_heard) == len(deployment.sirens)
    assert {r.form["To"] for r in sms} == deployment.phones(COASTAL)


def _official_notices(twilio: TwilioServer, words: str) -> collections.Counter[str]:
    """Operator notices containing `words`, per official."""
    return collections.Counter(r.form["To"] for r in twilio.messages() if words in r.form["Body"])


def test_a_feed_outage_holds_the_alert_and_tells_officials_once_down_once_recovered(
    tmp_path: Path,
) -> None:
    """503s beyond down_after_failures: the alert stays firing; one 'down', one 'recovered' SMS."""
    quiet, siaga = _now_bulletins()
    del quiet
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        feeds.serve("/inatews", siaga)
        deployment = write_config(
            tmp_path, feeds=feeds, twilio=twilio, sirens=sirens, down_after_failures=3
        )
        officials = deployment.phones([c.area for c in deployment.contacts], ["officials"])
        with running(deployment) as daemon:
            daemon.ready()
            twilio.wait_for(len(deployment.phones(COASTAL)), 15)
            feeds.fault("/inatews", Fault(status=503, retry_after="1"))
            daemon.wait_for_log("feed.health_changed", 15, where=lambda e: e["after"] == "down")
            polls = len(feeds.received("/inatews"))
            assert wait_until(lambda: len(feeds.received("/inatews")) >= polls + 3, 15)
            down = _official_notices(twilio, "tidak tersedia")
            status = status_json(deployment)
            feeds.heal("/inatews")
            daemon.wait_for_log("feed.health_changed", 15, where=lambda e: e["after"] == "ok")
            assert wait_until(lambda: len(_official_notices(twilio, "pulih")) >= len(officials), 10)
            polls = len(feeds.received("/inatews"))
            assert wait_until(lambda: len(feeds.received("/inatews")) >= polls + 2, 10)
            recovered = _official_notices(twilio, "pulih")
            resolved = daemon.named("alert.resolved")
            assert daemon.stop() == 0
    print(f"injected: 503 Retry-After 1 on inatews; saw: down={down} recovered={recovered}")
    assert down == dict.fromkeys(officials, 1)
    assert recovered == dict.fromkeys(officials, 1)
    assert resolved == []
    assert {a["area"] for a in status["firing"]} == set(COASTAL)
    (inatews,) = status["feeds"]
    assert inatews["health"] == "down"
