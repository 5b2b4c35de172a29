"""/metrics counts deliveries by channel and outcome and times them from enqueue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.paths import FIXTURES, ROOT
from warning.daemon.schedule import Daemon
from warning.feeds import FEEDS, FeedContext
from warning.settings import load_settings

PD1 = FIXTURES / "inatews" / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"


def test_sent_deliveries_are_counted_and_timed(tmp_path: Path) -> None:
    """A SIAGA for Balikpapan through the log channels shows in the delivery metrics."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "phone,name,areas,group,language,drill\n"
        "+6281200000001,Ketua RT Manggar,manggar,rt-heads,id,false\n"
        "+6281200000002,Lurah Lamaru,lamaru,officials,id,false\n",
        encoding="utf-8",
    )
    config = tmp_path / "warning.toml"
    config.write_text(
        f'[state]\npath = "{tmp_path / "w.db"}"\n[cap]\ndirectory = "{tmp_path / "cap"}"\n'
        f'[contacts]\npath = "{contacts}"\n[rules]\ndirectory = "{ROOT / "rules"}"\n'
        f'[areas]\npath = "{ROOT / "areas.geojson"}"\n',
        encoding="utf-8",
    )
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
