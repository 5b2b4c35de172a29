"""Acknowledgement links and delivery receipts, served by a real `warning console` process.

GET shows the one-tap page and records nothing; POST records once; a forged
or expired link is refused; Twilio's StatusCallback is recorded only with a
valid signature (the twilio library computes it, as Twilio does).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.support.ack_console import RT_MANGGAR, AckState, ack_deployment
from tests.support.console import Console, running_console
from tests.support.deployment import AUTH_TOKEN

pytestmark = pytest.mark.slow


@dataclass
class Served:
    """The seeded state and its running console."""

    state: AckState
    console: Console

    def link(self, token: str) -> str:
        """The acknowledgement link of `token`."""
        return f"{self.console.url}/a/{token}"

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Read the state database as an auditor would."""
        conn = sqlite3.connect(self.state.settings.state_path)
        try:
            return list(conn.execute(sql, args))
        finally:
            conn.close()

    def acks(self) -> list[tuple[Any, ...]]:
        """Every acknowledgement recorded: (change, recipient, name, group, time)."""
        return self.rows(
            "SELECT change_id, recipient, name, grp, acknowledged_at FROM acknowledgements"
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A SIAGA with linked SMS, an expired and a forged link, and a console."""
    state = ack_deployment(tmp_path_factory.mktemp("ack"))
    with running_console(state.deployment) as console:
        yield Served(state, console)


def test_opening_a_link_shows_diterima_and_records_nothing(served: Served) -> None:
    """GET (as a link previewer does): the page with its Diterima button, no acknowledgement."""
    page = requests.get(served.link(served.state.valid), timeout=10)
    assert page.status_code == 200
    assert 'id="ack-button"' in page.text
    assert "Diterima" in page.text
    assert "Uji rt-heads manggar" in page.text
    assert "Peringatan dini tsunami untuk pesisir Balikpapan" in page.text  # the rule's name
    assert served.acks() == []


def test_tapping_diterima_records_the_acknowledgement_once(served: Served) -> None:
    """POST records who confirmed which change; a second tap changes nothing."""
    first = requests.post(served.link(served.state.valid), timeout=10)
    assert first.status_code == 200
    assert "konfirmasi tercatat" in first.text
    recorded = served.acks()
    assert [(r[1], r[2], r[3]) for r in recorded] == [
        (RT_MANGGAR, "Uji rt-heads manggar", "rt-heads")
    ]
    again = requests.post(served.link(served.state.valid), timeout=10)
    assert again.status_code == 200
    assert served.acks() == recorded


def test_a_forged_link_is_refused(served: Served) -> None:
    """A made-up token, and a token another key signed, get 403 and record nothing."""
    before = served.acks()
    valid = served.state.valid
    altered = valid[:-1] + ("A" if valid.endswith("_") else "_")  # one character changed
    for token in ("AAAAAAAAAAAA", served.state.forged, "x" * 40, altered):
        for method in (requests.get, requests.post):
            answer = method(served.link(token), timeout=10)
            assert answer.status_code == 403, token
            assert "Tautan tidak sah" in answer.text
    assert served.acks() == before


def test_an_expired_link_is_refused_with_410(served: Served) -> None:
    """A link about a change of two days ago: 410 on GET and POST, nothing recorded."""
    before = served.acks()
    for method in (requests.get, requests.post):
        answer = method(served.link(served.state.expired), timeout=10)
        assert answer.status_code == 410
        assert "kedaluwarsa" in answer.text
    assert served.acks() == before


def _receipt(served: Served, params: dict[str, str], signature: str | None) -> requests.Response:
    """Post a StatusCallback as Twilio does (form fields, X-Twilio-Signature)."""
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return requests.post(
        served.console.url + "/twilio/status", data=params, headers=headers, timeout=10
    )


def _sms_sid(served: Served) -> str:
    """Give the RT head's SMS a provider id, as the dispatcher records Twilio's answer."""
    conn = sqlite3.connect(served.state.settings.state_path)
    try:
        with conn:
            conn.execute(
                "UPDATE outbox SET status = 'sent', provider_id = 'SM0001' WHERE recipient = ?"
                " AND channel = 'sms'",
                (RT_MANGGAR,),
            )
    finally:
        conn.close()
    return "SM0001"


def test_a_signed_receipt_is_recorded_against_its_delivery(served: Served) -> None:
    """undelivered with ErrorCode 30003, signed for our public URL: recorded per delivery."""
    sid = _sms_sid(served)
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    url = served.state.settings.console.public_url + "/twilio/status"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert _receipt(served, params, signature).status_code == 204
    recorded = served.rows(
        "SELECT r.status, r.error_code, o.recipient FROM delivery_receipts r"
        " JOIN outbox o ON o.id = r.delivery_id"
    )
    assert recorded == [("undelivered", "30003", RT_MANGGAR)]


def test_unsigned_or_wrongly_signed_receipts_are_refused(served: Served) -> None:
    """No signature, another account's signature, or a changed field: 403, nothing recorded."""
    before = served.rows("SELECT count(*) FROM delivery_receipts")
    params = {"MessageSid": "SM0001", "MessageStatus": "delivered"}
    url = served.state.settings.console.public_url + "/twilio/status"
    other = RequestValidator("0" * 32).compute_signature(url, params)
    good = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert _receipt(served, params, None).status_code == 403
    assert _receipt(served, params, other).status_code == 403
    assert _receipt(served, {**params, "MessageStatus": "failed"}, good).status_code == 403
    assert served.rows("SELECT count(*) FROM delivery_receipts") == before


def test_secrets_never_reach_the_console_log(served: Served) -> None:
    """Neither the link key, nor Twilio's token, nor a full token appears in the log."""
    text = Path(served.console.log).read_text(encoding="utf-8", errors="replace")
    assert AUTH_TOKEN not in text
    assert served.state.valid not in text
    assert "kunci-konsol-uji-tautan" not in text
