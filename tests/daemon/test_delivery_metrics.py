"""/metrics counts deliveries by channel and outcome and times them from enqueue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.deployment import TestContact, local_tables, write_settings_file
from tests.support.paths import FIXTURES
from warning.daemon.schedule import Daemon
from warning.feeds import FEEDS, FeedContext
from warning.settings import load_settings

PD1 = FIXTURES / "inatews" / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"


def test_sent_deliveries_are_counted_and_timed(tmp_path: Path) -> None:
    """A SIAGA for Balikpapan through the log channels shows in the delivery metrics."""
    people = (
        TestContact("+6281200000001", "Ketua RT Manggar", "manggar", "rt-heads", drill=False),
        TestContact("+6281200000002", "Lurah Lamaru", "lamaru", "officials", drill=False),
    )
    config = write_settings_file(tmp_path, local_tables(tmp_path), people)
    daemon = Daemon(load_settings(config))
    probe = FeedContext(
        daemon.pipeline.clock(), daemon.settings.feeds["inatews"], daemon.pipeline.config.areas
    )
    warning = FEEDS["inatews"].parse(PD1.read_bytes(), probe)
    daemon.pipeline.inject(warning, warning[0].time + timedelta(minutes=1))
    assert daemon.send_outbox() >= 3
    text = daemon.metrics.render().decode()
    assert 'warning_deliveries_total{channel="sms",outcome="sent"} 2.0' in text
    assert 'warning_deliveries_total{channel="cap",outcome="sent"} 1.0' in text
    assert 'warning_delivery_latency_seconds_count{channel="sms"} 2.0' in text
    daemon.dispatcher.close()


def test_rows_committed_while_the_outbox_job_ends_are_sent_by_that_job(tmp_path: Path) -> None:
    """The outbox job's claim found nothing when an alert commits its sirens and wakes it:
    the scheduler skips a run of a job still running, so the same run claims again
    instead of leaving them an interval."""
    people = (TestContact("+6281200000002", "Lurah Lamaru", "lamaru", "officials", drill=False),)
    config = write_settings_file(tmp_path, local_tables(tmp_path), people)
    daemon = Daemon(load_settings(config))
    probe = FeedContext(
        daemon.pipeline.clock(), daemon.settings.feeds["inatews"], daemon.pipeline.config.areas
    )
    warning = FEEDS["inatews"].parse(PD1.read_bytes(), probe)
    claim_once = daemon.dispatcher.run_once
    committed: list[int] = []

    def claim_as_an_alert_commits(*, overlap: bool = False) -> int:
        claimed = claim_once(overlap=overlap)
        if not committed:
            result = daemon.pipeline.inject(warning, warning[0].time + timedelta(minutes=1))
            committed.append(result.deliveries)
        return claimed

    daemon.dispatcher.run_once = claim_as_an_alert_commits  # type: ignore[method-assign]
    sent = daemon.send_outbox()
    assert committed[0] >= 2
    assert sent == committed[0]
    daemon.dispatcher.close()
