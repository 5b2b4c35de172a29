"""An operator's cancel posts its correction to every chat, topic or receiver that got the alert."""

from __future__ import annotations

from pathlib import Path

from tests.support.areas import city
from tests.support.operations import CONTACTS, NOW, RULE, quake, send_all, settings_of, write_config
from warning.model import Audience, ChannelKind
from warning.operations.cancel import apply_cancel
from warning.operations.targets import resolve
from warning.plan.broadcast import BroadcastTarget, broadcast_posts
from warning.plan.planner import plan
from warning.rules.engine import evaluate
from warning.store import outbox
from warning.store.sqlite import Store

TIMUR = "-1001234567890"
BARAT = "-1001111111111"


def test_a_cancel_corrects_exactly_the_channels_that_got_the_alert(tmp_path: Path) -> None:
    """Manggar's quake reached the Timur channel (not Barat's): only Timur reads KOREKSI."""
    config = write_config(tmp_path)
    store = Store(tmp_path / "state.db")
    targets = [
        BroadcastTarget(
            ChannelKind.TELEGRAM,
            TIMUR,
            frozenset(city().select("balikpapan-timur")),
            Audience.PUBLIC,
        ),
        BroadcastTarget(
            ChannelKind.TELEGRAM,
            BARAT,
            frozenset(city().select("balikpapan-barat")),
            Audience.PUBLIC,
        ),
    ]
    with store.transaction() as tx:
        transitions = evaluate([RULE], [quake()], city(), store.load_states(), NOW)
        store.apply_transitions(tx, transitions)
        planned = plan(transitions, [RULE], CONTACTS, (), city(), drill=False, now=NOW)
        planned += broadcast_posts(transitions, [RULE], targets, city(), drill=False)
        outbox.enqueue(tx, planned)
    send_all(store, settings_of(config))
    [target] = resolve(store, [store.load_states()[(RULE.id, "manggar")].alert_id])
    with store.transaction() as tx:
        done = apply_cancel(
            store, tx, target, city(), now=NOW, actor="operator-1", reason="data uji"
        )
    corrections = [
        r
        for r in outbox.rows(store)
        if r.change_id == done.change_id and r.channel.value == "telegram"
    ]
    assert [r.recipient for r in corrections] == [TIMUR]
    text = str(corrections[0].payload["text"])
    assert text.startswith("KOREKSI: peringatan gempa SIAGA di Manggar dibatalkan: data uji")
