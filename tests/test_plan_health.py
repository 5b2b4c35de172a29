"""System notices: an outage is told on every officials' channel except the failing one."""

from __future__ import annotations

from datetime import timedelta

from tests.support.areas import city
from tests.support.builders import NOW, contact
from warning.model import Audience, ChannelKind
from warning.plan.broadcast import BroadcastTarget
from warning.plan.health import NoticeReach, outage_began, outage_ended
from warning.plan.messages import SEGMENT, gsm7_units

OFFICIALS = (contact("+6281100000001", ["manggar"], "officials"),)
PEOPLE = (*OFFICIALS, contact("+6281100000002", ["manggar"], "public"))
EVERYWHERE = frozenset(city().select("all"))
OFFICIALS_CHAT = BroadcastTarget(ChannelKind.TELEGRAM, "-100200", EVERYWHERE, Audience.OFFICIALS)
PUBLIC_CHAT = BroadcastTarget(ChannelKind.TELEGRAM, "@bpbd", EVERYWHERE, Audience.PUBLIC)


def _reach(*targets: BroadcastTarget) -> NoticeReach:
    """Officials (and a resident) of Manggar, with the given broadcast destinations."""
    return NoticeReach(PEOPLE, targets, city(), drill=False)


def test_an_sms_outage_is_told_on_the_officials_chat_never_by_sms() -> None:
    """SMS down: the notice goes to the officials' chat, none of it by SMS or to the public."""
    planned = outage_began(1, ChannelKind.SMS, NOW, _reach(OFFICIALS_CHAT, PUBLIC_CHAT), now=NOW)
    assert [(p.channel, p.recipient) for p in planned] == [(ChannelKind.TELEGRAM, "-100200")]
    assert "pengiriman SMS terganggu sejak 10:30 WITA" in str(planned[0].payload["text"])


def test_without_another_channel_an_sms_outage_plans_nothing_to_send() -> None:
    """With no officials' destination, nothing is planned: the log, status and /healthz tell."""
    assert outage_began(1, ChannelKind.SMS, NOW, _reach(PUBLIC_CHAT), now=NOW) == []


def test_an_outage_of_another_channel_is_told_to_officials_by_sms() -> None:
    """Any channel's outage reaches the officials (and only them) on the channels that work."""
    planned = outage_began(2, ChannelKind.CAP, NOW, _reach(), now=NOW)
    assert [(p.channel, p.recipient) for p in planned] == [(ChannelKind.SMS, "+6281100000001")]
    body = str(planned[0].payload["body"])
    assert body.startswith("INFO SISTEM: pengiriman cap terganggu sejak 10:30 WITA.")
    assert gsm7_units(body) <= SEGMENT


def test_the_end_of_an_outage_says_how_long_and_how_many_were_late() -> None:
    """One SMS per official and one officials' post: the WITA span and the late count."""
    span = (NOW, NOW + timedelta(minutes=7))
    planned = outage_ended(3, ChannelKind.SMS, span, 37, _reach(OFFICIALS_CHAT))
    assert sorted((p.channel.value, p.recipient) for p in planned) == [
        ("sms", "+6281100000001"),
        ("telegram", "-100200"),
    ]
    sms = next(p for p in planned if p.channel is ChannelKind.SMS)
    assert sms.payload["body"] == (
        "INFO SISTEM: SMS tertunda 10:30-10:37 WITA, 37 pesan terkirim terlambat."
        " Pengiriman kembali normal."
    )
