"""`warning run` as a subprocess against local feed, Twilio and siren servers (issue 6, Done when).

One story, run once for the module (starting the daemon costs seconds): a
tsunami SIAGA for Balikpapan appears in the InaTEWS feed; SIGTERM arrives
while the SMS are still going out; a new process on the same database and
the same feed content starts; the status, /healthz and /metrics are read
while it runs; then the PD-4 (warning ended) is served and the daemon is
stopped.  Each test below checks one behaviour of that story.
"""

from __future__ import annotations

import collections
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support.deployment import COASTAL, SIREN_TOKEN, Deployment, write_config
from tests.support.peers import FeedServer, Recorded, SirenServer, TwilioServer
from tests.support.processes import (
    PD1_SIAGA,
    PD4_ENDED,
    QUIET,
    inatews_bulletin,
    open_sms,
    running,
    status_json,
    wait_until,
)

pytestmark = pytest.mark.slow


@dataclass
class Story:
    """What the servers and the daemon showed at each step."""

    deployment: Deployment
    swapped_at: float = 0.0
    first_sirens: list[Recorded] = field(default_factory=list)
    first_sms: list[Recorded] = field(default_factory=list)
    first_exit: int | None = None
    first_stopped: dict[str, Any] = field(default_factory=dict)
    pending_at_stop: set[str] = field(default_factory=set)
    restart_sirens: list[Recorded] = field(default_factory=list)
    restart_sms: list[Recorded] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    healthz: tuple[int, dict[str, Any]] = (0, {})
    metrics: str = ""
    clear_sirens: list[Recorded] = field(default_factory=list)
    clear_sms: list[Recorded] = field(default_factory=list)
    second_exit: int | None = None


def _quiet_period(feeds: FeedServer, polls: int, timeout: float) -> None:
    """Wait until the daemon polled the feed `polls` more times."""
    before = len(feeds.received("/inatews"))
    assert wait_until(lambda: len(feeds.received("/inatews")) >= before + polls, timeout)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    """Run the whole story once and keep what every server recorded."""
    now = datetime.now(UTC)
    origin = now - timedelta(minutes=6)
    with FeedServer() as feeds, TwilioServer(latency_s=0.15) as twilio, SirenServer() as sirens:
        feeds.serve(
            "/inatews", inatews_bulletin(QUIET, now - timedelta(hours=2), now - timedelta(hours=2))
        )
        deployment = write_config(
            tmp_path_factory.mktemp("story"), feeds=feeds, twilio=twilio, sirens=sirens
        )
        story = Story(deployment)
        with running(deployment) as first:
            first.ready()
            _quiet_period(feeds, 1, 10)
            story.swapped_at = time.monotonic()
            feeds.serve("/inatews", inatews_bulletin(PD1_SIAGA, now - timedelta(minutes=1), origin))
            twilio.wait_for(1, 10)
            story.first_exit = first.stop()
            story.first_stopped = first.named("daemon.stopped")[-1]
            story.first_sirens = sirens.received()
            story.first_sms = twilio.messages()
            story.pending_at_stop = open_sms(deployment)
        with running(deployment) as second:
            second.ready()
            _quiet_period(feeds, 3, 15)
            wait_until(lambda: not open_sms(deployment), 15)
            story.restart_sirens = sirens.received()[len(story.first_sirens) :]
            story.restart_sms = twilio.messages()[len(story.first_sms) :]
            story.status = status_json(deployment)
            answer = requests.get(deployment.health_url + "/healthz", timeout=5)
            story.healthz = (answer.status_code, answer.json())
            story.metrics = requests.get(deployment.health_url + "/metrics", timeout=5).text
            marks = (len(sirens.received()), len(twilio.messages()))
            feeds.serve("/inatews", inatews_bulletin(PD4_ENDED, now, origin))
            expected = len(deployment.phones(COASTAL))
            twilio.wait_for(marks[1] + expected, 20)
            _quiet_period(feeds, 2, 10)
            story.clear_sirens = sirens.received()[marks[0] :]
            story.clear_sms = twilio.messages()[marks[1] :]
            story.second_exit = second.stop()
    return story


def _per_phone(requests_: list[Recorded]) -> collections.Counter[str]:
    return collections.Counter(r.form["To"] for r in requests_)


def test_sirens_sound_before_the_first_sms_and_within_five_seconds(story: Story) -> None:
    """Every siren request arrives before the first SMS request, all within 5 s of the bulletin."""
    assert story.first_sirens, "no siren request arrived"
    first_sms = min(r.at for r in story.first_sms)
    assert max(r.at for r in story.first_sirens) < first_sms
    assert first_sms - story.swapped_at < 5.0
    assert {r.path for r in story.first_sirens} == {f"/{s}" for s in story.deployment.sirens}
    assert {json.loads(r.body)["command"] for r in story.first_sirens} == {"alert"}


def test_a_siren_with_a_token_gets_it_as_a_bearer(story: Story) -> None:
    """The siren configured with a token receives Authorization: Bearer <token>."""
    (timur,) = [r for r in story.first_sirens if r.path == "/sirene-timur"]
    assert timur.header("Authorization") == f"Bearer {SIREN_TOKEN}"


def test_sms_go_to_exactly_the_coastal_contacts_once_each_in_indonesian(story: Story) -> None:
    """One SMS per contact of the affected kelurahan, none inland, in Indonesian, <= 160 chars."""
    delivered = story.first_sms + story.restart_sms
    per_phone = _per_phone(delivered)
    assert set(per_phone) == story.deployment.phones(COASTAL)
    assert set(per_phone.values()) == {1}
    for request in delivered:
        body = request.form["Body"]
        assert len(body) <= 160
        assert "TSUNAMI" in body
        assert "pantai" in body
        assert request.form["From"] == "BPBD-BPN"
        assert request.form["ValidityPeriod"] == "600"


def test_sigterm_mid_broadcast_exits_zero_and_loses_nothing(story: Story) -> None:
    """SIGTERM during the broadcast: exit 0; every contact was sent to or is still pending."""
    assert story.first_exit == 0
    sent = set(_per_phone(story.first_sms))
    assert sent | story.pending_at_stop == story.deployment.phones(COASTAL)
    assert story.first_stopped["outbox_drained"] is (not story.pending_at_stop)


def test_a_restart_on_the_same_database_and_feed_resends_nothing(story: Story) -> None:
    """The new process sends only what was still pending, and no siren again."""
    assert story.restart_sirens == []
    assert set(_per_phone(story.restart_sms)) == story.pending_at_stop


def test_status_json_shows_the_firing_alerts_and_feed_health(story: Story) -> None:
    """`warning status --json` while it runs: the coastal SIAGA alerts and inatews ok."""
    firing = story.status["firing"]
    assert {a["area"] for a in firing} == set(COASTAL)
    assert {a["level"] for a in firing} == {"siaga"}
    (inatews,) = story.status["feeds"]
    assert (inatews["feed"], inatews["health"]) == ("inatews", "ok")


def test_healthz_is_200_and_metrics_expose_the_counters(story: Story) -> None:
    """/healthz 200 with a JSON body; /metrics has fetch, evaluation and outbox figures."""
    code, body = story.healthz
    assert code == 200
    assert body["status"] == "ok"
    assert body["feeds"] == {"inatews": "ok"}
    for sample in (
        'warning_feed_fetches_total{feed="inatews",outcome="ok"}',
        "warning_evaluations_total",
        'warning_outbox_depth{status="sent"}',
        "warning_heartbeat_timestamp_seconds",
    ):
        assert sample in story.metrics


def test_metrics_count_firing_alerts_by_level_and_the_kelurahan_alerted(story: Story) -> None:
    """/metrics: live alerts firing per level, and kelurahan per highest level, as in status."""
    siaga = [a for a in story.status["firing"] if a["level"] == "siaga"]
    areas = {a["area"] for a in siaga}
    assert len(areas) >= len(COASTAL)
    assert f'warning_alerts_firing{{level="siaga"}} {float(len(siaga))}' in story.metrics
    assert f'warning_kelurahan_alerted{{level="siaga"}} {float(len(areas))}' in story.metrics
    assert 'warning_kelurahan_alerted{level="awas"} 0.0' in story.metrics


def test_the_pd4_after_the_restart_gives_one_all_clear_per_contact(story: Story) -> None:
    """PD-4: exactly one all-clear SMS per coastal contact, and every siren hears all-clear."""
    per_phone = _per_phone(story.clear_sms)
    assert set(per_phone) == story.deployment.phones(COASTAL)
    assert set(per_phone.values()) == {1}
    commands = collections.Counter(
        (r.path, json.loads(r.body)["command"]) for r in story.clear_sirens
    )
    assert commands == {(f"/{s}", "all-clear"): 1 for s in story.deployment.sirens}
    assert story.second_exit == 0
