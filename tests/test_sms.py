"""Twilio SMS through the real SDK, HTTP faked with `responses`, rows in a real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
import responses
from structlog.testing import capture_logs

from tests.support.areas import city
from tests.support.builders import NOW, contact, rule, transitions
from tests.support.peers.twilio import ACCOUNT_SID as SID
from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings, LogChannel, Outcome
from warning.delivery.dispatcher import Backoff, Dispatcher
from warning.delivery.sms import ErrorClass, TwilioChannel, announce, classify, sms_channel
from warning.model import ChannelKind, ConfigError, Delivery, DeliveryStatus
from warning.plan.planner import plan
from warning.settings import ConsoleSettings, Settings, SmsSettings
from warning.store import outbox
from warning.store.sqlite import Store

API = "https://sms-gateway.test"
URL = f"{API}/2010-04-01/Accounts/{SID}/Messages.json"
PHONE = "+6281200000001"


def _secrets(values: dict[str, str]):  # type: ignore[no-untyped-def]
    """A secret getter reading from a dict, shaped like settings.secret."""
    return lambda env, _file="", _cred="": values.get(env)


def _settings(**sms: object) -> Settings:
    """Settings with a test api_base and sender."""
    base = {"api_base": API, "from_": "BPBD-BPN", "attempts": 4, "timeout_s": 2.0}
    return Settings(sms=SmsSettings(**{**base, **sms}))  # type: ignore[arg-type]


def _created(sid: str = "SM" + "a" * 32) -> dict[str, object]:
    return {"sid": sid, "status": "queued", "to": PHONE, "body": "x"}


def _error(code: int, status: int, message: str = "error") -> dict[str, object]:
    return {"code": code, "message": message, "more_info": "", "status": status}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh state store with one SMS for PHONE enqueued."""
    s = Store(tmp_path / "state.db")
    planned = plan(
        transitions(["manggar"]),
        [rule()],
        [contact(PHONE, ["manggar"])],
        (),
        city(),
        drill=False,
        now=NOW,
    )
    with s.transaction() as tx:
        outbox.enqueue(tx, planned)
    yield s
    s.close()


def _dispatch(store: Store, settings: Settings) -> outbox.OutboxRow:
    """Send until the row is finished (fast backoff) and return it."""
    channel = TwilioChannel(SID, "t" * 32, settings.sms)
    dispatcher = Dispatcher(
        store, {ChannelKind.SMS: channel}, settings.sms, backoff=Backoff(base_s=0.01, cap_s=0.05)
    )
    dispatcher.drain(timeout=10)
    dispatcher.close()
    return outbox.rows(store)[0]


def _form(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[0] for k, v in parse_qs(text).items()}


@responses.activate
def test_a_429_is_retried_and_the_retry_succeeds(store: Store) -> None:
    """429 then 201: two identical requests, the row ends sent with Twilio's SID."""
    responses.post(
        URL, json=_error(20429, 429, "Too Many Requests"), status=429, headers={"Retry-After": "0"}
    )
    responses.post(URL, json=_created("SM" + "b" * 32), status=201)
    row = _dispatch(store, _settings())
    assert [c.request.url for c in responses.calls] == [URL, URL]
    assert _form(responses.calls[0]) == _form(responses.calls[1])
    assert row.status is DeliveryStatus.SENT
    assert row.provider_id == "SM" + "b" * 32
    assert row.attempts == 2


@responses.activate
def test_two_server_errors_then_success(store: Store) -> None:
    """500, 500, 201: three attempts, sent, and the last error kept for the record."""
    responses.post(URL, json=_error(20500, 500), status=500)
    responses.post(URL, json=_error(20500, 500), status=500)
    responses.post(URL, json=_created(), status=201)
    row = _dispatch(store, _settings())
    assert len(responses.calls) == 3
    assert row.status is DeliveryStatus.SENT
    assert row.attempts == 3
    assert row.last_error is not None
    assert "500" in row.last_error


@responses.activate
def test_an_invalid_number_fails_at_once(store: Store) -> None:
    """21211 is permanent: one request, the row failed with the code and reason."""
    responses.post(URL, json=_error(21211, 400, "The 'To' number is not valid."), status=400)
    row = _dispatch(store, _settings())
    assert len(responses.calls) == 1
    assert row.status is DeliveryStatus.FAILED
    assert row.last_code == "21211"
    assert row.last_error is not None
    assert "not valid" in row.last_error


@responses.activate
def test_a_timeout_is_retried(store: Store) -> None:
    """A read timeout is transient: the next attempt goes through."""
    responses.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.post(URL, json=_created(), status=201)
    row = _dispatch(store, _settings())
    assert len(responses.calls) == 2
    assert row.status is DeliveryStatus.SENT


@responses.activate
def test_transient_errors_give_up_after_the_attempt_cap_once_validity_ended(store: Store) -> None:
    """Five 503s with attempts = 4 for an SMS past its validity: four requests, then failed."""
    for _ in range(5):
        responses.post(URL, json=_error(20503, 503), status=503)
    row = _dispatch(store, _settings(attempts=4))
    assert len(responses.calls) == 4
    assert row.status is DeliveryStatus.FAILED
    assert row.last_error is not None
    assert row.last_error.startswith("validity ended after 4 attempts")


@responses.activate
def test_the_request_carries_to_body_validity_and_sender(store: Store) -> None:
    """The exact form: To, Body (the rendered SMS), ValidityPeriod and From."""
    responses.post(URL, json=_created(), status=201)
    _dispatch(store, _settings(validity_period_s=600))
    form = _form(responses.calls[0])
    body = outbox.rows(store)[0].payload["body"]
    assert form == {"To": PHONE, "Body": body, "ValidityPeriod": "600", "From": "BPBD-BPN"}
    assert body.startswith("SIAGA") or "SIAGA" in body


@responses.activate
def test_a_messaging_service_is_used_instead_of_from(store: Store) -> None:
    """With messaging_service_sid set, the request names the service and no From."""
    responses.post(URL, json=_created(), status=201)
    _dispatch(store, _settings(messaging_service_sid="MG" + "c" * 32))
    form = _form(responses.calls[0])
    assert form["MessagingServiceSid"] == "MG" + "c" * 32
    assert "From" not in form


@responses.activate
def test_requests_go_to_the_configured_api_base(store: Store) -> None:
    """No request reaches api.twilio.com: the SDK is pointed at [sms] api_base."""
    other = "http://127.0.0.1:9/2010-04-01/Accounts/" + SID + "/Messages.json"
    responses.post(other.replace("127.0.0.1:9", "gw.local:8080"), json=_created(), status=201)
    row = _dispatch(store, _settings(api_base="http://gw.local:8080/"))
    assert responses.calls[0].request.url.startswith("http://gw.local:8080/2010-04-01/")
    assert row.status is DeliveryStatus.SENT


@responses.activate
def test_an_unsubscribed_number_goes_on_the_opt_out_list(store: Store) -> None:
    """21610 fails the row and keeps the number, so later plans skip it."""
    responses.post(URL, json=_error(21610, 400, "unsubscribed"), status=400)
    _dispatch(store, _settings())
    assert outbox.opted_out(store) == {PHONE}
    later = plan(
        transitions(["manggar"], at=NOW + timedelta(hours=1)),
        [rule()],
        [contact(PHONE, ["manggar"])],
        (),
        city(),
        drill=False,
        now=NOW,
        opted_out=outbox.opted_out(store),
    )
    assert later == []


def test_error_classes_come_from_the_table_with_a_bounded_default() -> None:
    """Known codes by table, 429/5xx transient, an unknown 4xx code gets bounded retries."""
    assert classify(400, 21614) is ErrorClass.PERMANENT
    assert classify(429, None) is ErrorClass.TRANSIENT
    assert classify(502, 99999) is ErrorClass.TRANSIENT
    assert classify(400, 99999) is ErrorClass.UNKNOWN


def test_credentials_without_a_sender_are_a_config_error() -> None:
    """Twilio credentials need messaging_service_sid or from."""
    secrets = _secrets({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t" * 32})
    with pytest.raises(ConfigError, match="no sender"):
        build_channels(ChannelSettings.of(_settings(from_="")), None, secrets)


def test_without_credentials_sms_go_to_the_log_channel() -> None:
    """No credentials: the SMS channel logs, and the start announcement says so."""
    channels = build_channels(ChannelSettings.of(_settings()), None, _secrets({}))
    assert isinstance(channels[ChannelKind.SMS], LogChannel)
    with capture_logs() as logs:
        delivering = announce(_settings().sms, _secrets({}))
    assert not delivering
    assert logs[0]["event"] == "sms.log_only"
    assert "SMS are not being delivered" in logs[0]["message"]


def test_the_log_channel_reports_each_message_sent() -> None:
    """The log channel logs the payload and answers SENT with log:<n>."""
    channel = LogChannel(ChannelKind.SMS)
    delivery = Delivery(
        1, ChannelKind.SMS, PHONE, "chg-1", {"to": PHONE, "body": "hi"}, 10, 0, False, "k"
    )
    with capture_logs() as logs:
        result = channel.send(delivery)
    assert result.outcome is Outcome.SENT
    assert result.provider_id == "log:1"
    assert logs[0]["payload"]["body"] == "hi"


@responses.activate
def test_a_429_with_an_http_date_retry_after_waits_until_that_date() -> None:
    """Twilio's Retry-After as an HTTP date is read (not dropped): the retry waits until then."""
    later = datetime.now(UTC) + timedelta(seconds=120)
    headers = {"Retry-After": format_datetime(later, usegmt=True)}
    responses.post(URL, json=_error(20429, 429, "Too Many Requests"), status=429, headers=headers)
    channel = TwilioChannel(SID, "t" * 32, _settings().sms)
    delivery = Delivery(
        1, ChannelKind.SMS, PHONE, "chg-1", {"to": PHONE, "body": "hi"}, 10, 0, False, "k"
    )
    result = channel.send(delivery)
    assert result.outcome is Outcome.RETRY
    assert result.retry_after_s is not None
    assert 100.0 <= result.retry_after_s <= 120.0


@responses.activate
def test_with_a_public_url_each_sms_asks_twilio_for_receipts_at_the_console(
    store: Store,
) -> None:
    """StatusCallback is <public_url>/twilio/status when the console has a public URL."""
    responses.post(URL, json=_created(), status=201)
    settings = replace(_settings(), console=ConsoleSettings(public_url="https://bpbd.example.id/"))
    channel = sms_channel(
        ChannelSettings.of(settings),
        None,
        _secrets({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t" * 32}),
    )
    dispatcher = Dispatcher(
        store, {ChannelKind.SMS: channel}, settings.sms, backoff=Backoff(base_s=0.01, cap_s=0.05)
    )
    dispatcher.drain(timeout=10)
    dispatcher.close()
    assert _form(responses.calls[0])["StatusCallback"] == "https://bpbd.example.id/twilio/status"
