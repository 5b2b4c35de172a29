"""System notices: an outage is told on every officials' channel except the failing one."""

from __future__ import annotations

from datetime import timedelta

from tests.dispatch_helpers import NOW, contact
from warning.model import ChannelKind
from warning.plan.health import NOTICE_ADDRESSES, outage_began, outage_ended
from warning.plan.messages import SEGMENT, gsm7_units

OFFICIALS = (contact("+6281100000001", ["manggar"], "officials"),)
PEOPLE = (*OFFICIALS, contact("+6281100000002", ["manggar"], "public"))


def test_an_outage_is_never_told_through_the_failing_channel() -> None:
    """SMS down: the notice goes to every other channel officials read, none of it by SMS."""
    planned = outage_began(1, ChannelKind.SMS, NOW, PEOPLE, drill=False, now=NOW)
    assert {p.channel for p in planned} == set(NOTICE_ADDRESSES) - {ChannelKind.SMS}


def test_an_outage_of_another_channel_is_told_to_officials_by_sms() -> None:
    """Any channel's outage reaches the officials (and only them) on the channels that work."""
    planned = outage_began(2, ChannelKind.CAP, NOW, PEOPLE, drill=False, now=NOW)
    assert [(p.channel, p.recipient) for p in planned] == [(ChannelKind.SMS, "+6281100000001")]
    body = str(planned[0].payload["body"])
    assert body.startswith("INFO SISTEM: pengiriman cap terganggu sejak 10:30 WITA.")
    assert gsm7_units(body) <= SEGMENT


def test_the_end_of_an_outage_says_how_long_and_how_many_were_late() -> None:
    """One SMS per official: the WITA span and the late count, in one segment."""
    span = (NOW, NOW + timedelta(minutes=7))
    planned = outage_ended(3, ChannelKind.SMS, span, 37, PEOPLE, drill=False, now=span[1])
    assert [p.recipient for p in planned] == ["+6281100000001"]
    assert planned[0].payload["body"] == (
        "INFO SISTEM: SMS tertunda 10:30-10:37 WITA, 37 pesan terkirim terlambat."
        " Pengiriman kembali normal."
    )
