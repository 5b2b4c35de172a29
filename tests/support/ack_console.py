"""A console serving acknowledgement links, on a state with a fresh InaTEWS SIAGA.

The daemon's pipeline (in this process, InaTEWS answered by `responses`)
fires a SIAGA dated now, so its SMS carry links that are still valid;
`[console] public_url` is the console itself, so a link opens straight in a
test browser.  Beside it, one SMS about a change of two days ago (its link
expired) and one whose token another key signed (a forgery that found its
way into the outbox).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import responses

from tests.support.deployment import Deployment, contacts, environment, planner_contacts
from tests.support.paths import ROOT, free_port
from tests.support.pipeline import Clock, make_rig, write_settings
from tests.support.processes import PD1_SIAGA, inatews_bulletin
from warning.model import AlertChange, ChannelKind, Level, PlannedDelivery, TransitionKind
from warning.plan.acklinks import AckLinks, ack_links
from warning.plan.planner import acknowledged
from warning.settings import Settings, secret
from warning.store import outbox
from warning.store.sqlite import Store

KEY = "kunci-konsol-uji-tautan"
#: The test contacts' RT head of Manggar.
RT_MANGGAR = "+6281200000002"


@dataclass(frozen=True)
class AckState:
    """The deployment and the tokens the tests open."""

    deployment: Deployment
    settings: Settings
    valid: str
    expired: str
    forged: str


def ack_deployment(directory: Path) -> AckState:
    """Settings, a seeded state and the three kinds of token."""
    port = free_port()
    key = directory / "ack.key"
    key.write_text(KEY)
    q = json.dumps
    console = (
        f'\n[console]\nlisten = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}"\n'
        f"ack_secret_file = {q(str(key))}\n"
    )
    settings = write_settings(directory, extra=console)
    valid = _seed_siaga(settings)
    links = ack_links(settings, secret)
    assert links is not None
    store = Store(settings.state_path)
    expired = _linked_sms(store, links, datetime.now(UTC) - timedelta(days=2), "chg-lama")
    other = AckLinks(links.base, b"kunci-lain", links.valid, links.groups, links.level)
    forged = _linked_sms(store, other, datetime.now(UTC), "chg-palsu")
    return AckState(_deployment(directory, settings), settings, valid, expired, forged)


def _seed_siaga(settings: Settings) -> str:
    """The pipeline fires a SIAGA sent a minute ago; return the RT head's token."""
    now = datetime.now(UTC)
    rig = make_rig(settings, clock=Clock(now))
    body = inatews_bulletin(PD1_SIAGA, now - timedelta(minutes=1), now - timedelta(minutes=6))
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, "https://feeds.test/inatews", body=body)
        assert rig.pipeline.poll("inatews").ok
    rows = [r for r in rig.outbox("sms") if r["recipient"] == RT_MANGGAR]
    token: str = json.loads(rows[0]["payload_json"])["ack"]["token"]
    return token


def _linked_sms(store: Store, links: AckLinks, time: datetime, change_id: str) -> str:
    """Enqueue one linked SIAGA SMS of a change made at `time`; return its token."""
    person = next(c for c in planner_contacts() if c.phone == RT_MANGGAR)
    change = AlertChange(
        id=change_id,
        rule_id="tsunami-pesisir",
        kind=TransitionKind.FIRED,
        level=Level.SIAGA,
        previous_level=None,
        area_ids=("manggar",),
        time=time,
        drill=False,
        transitions=(),
    )
    plain = {"to": person.phone, "body": "SIAGA TSUNAMI (BMKG) untuk Manggar.", "language": "id"}
    payload: dict[str, Any] = acknowledged(plain, change, person, links)
    delivery = PlannedDelivery(change, ChannelKind.SMS, person.phone, ("manggar",), payload, 20)
    with store.transaction() as tx:
        outbox.enqueue(tx, [delivery])
    token: str = payload["ack"]["token"]
    return token


def _deployment(directory: Path, settings: Settings) -> Deployment:
    """How to start `warning console` on these settings (fake Twilio credentials)."""
    assert settings.source is not None
    return Deployment(
        directory=directory,
        config=settings.source,
        state=settings.state_path,
        rules_dir=ROOT / "rules",
        cap_dir=directory / "cap",
        health_port=free_port(),
        contacts=contacts(),
        sirens={},
        env=environment(),
    )
