"""The local peers behave like the services they stand in for, faults included."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
import requests

from tests.support.deployment import write_config
from tests.support.peers import Fault, FeedServer, SirenServer, TwilioServer
from warning.settings import load_settings

FIXTURE = Path(__file__).parent / "fixtures" / "inatews"
PD1 = FIXTURE / "synthetic_inatews_pd1_siaga_kaltim_balikpapan.json"
PD4 = FIXTURE / "synthetic_inatews_pd4_ended_kaltim_balikpapan.json"


def test_feed_server_serves_a_file_and_answers_304_to_its_etag() -> None:
    """A served file comes back with an ETag; asking with that ETag gets 304."""
    with FeedServer() as feeds:
        feeds.serve("/inatews", PD1)
        first = requests.get(feeds.url_for("/inatews"), timeout=5)
        again = requests.get(
            feeds.url_for("/inatews"), headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
    assert first.content == PD1.read_bytes()
    assert first.headers["Content-Type"] == "application/json"
    assert again.status_code == 304


def test_feed_server_swaps_what_a_path_serves_and_the_etag_changes() -> None:
    """After serve() with new content the old ETag no longer matches."""
    with FeedServer() as feeds:
        feeds.serve("/inatews", PD1)
        etag = requests.get(feeds.url_for("/inatews"), timeout=5).headers["ETag"]
        feeds.serve("/inatews", PD4)
        swapped = requests.get(
            feeds.url_for("/inatews"), headers={"If-None-Match": etag}, timeout=5
        )
    assert swapped.status_code == 200
    assert swapped.content == PD4.read_bytes()


def test_feed_server_fault_with_retry_after_lasts_the_given_number_of_requests() -> None:
    """A 503 with Retry-After for two requests, then the payload again; arrivals recorded."""
    with FeedServer() as feeds:
        feeds.serve("/x", b'{"ok": 1}')
        feeds.fault("/x", Fault(status=503, retry_after="7", times=2))
        answers = [requests.get(feeds.url_for("/x"), timeout=5) for _ in range(3)]
        arrivals = [r.at for r in feeds.received("/x")]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert arrivals == sorted(arrivals)
    assert len(arrivals) == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(reset=True), requests.ConnectionError),
        (Fault(truncated=True), requests.exceptions.ChunkedEncodingError),
        (Fault(delay_s=1.0), requests.Timeout),
    ],
)
def test_feed_server_breaks_the_connection_as_told(fault: Fault, error: type[Exception]) -> None:
    """Reset, truncated and slow answers surface as the client errors they cause."""
    with FeedServer() as feeds:
        feeds.serve("/x", b'{"payload": "' + b"x" * 1000 + b'"}')
        feeds.fault("/x", fault)
        with pytest.raises(error):
            requests.get(feeds.url_for("/x"), timeout=0.3).content  # noqa: B018


def test_feed_server_html_empty_and_oversize_bodies() -> None:
    """An HTML page, an empty body and a streamed oversize body as injected."""
    with FeedServer() as feeds:
        feeds.serve("/x", b"{}")
        feeds.fault("/x", Fault(html=True, times=1))
        html = requests.get(feeds.url_for("/x"), timeout=5)
        feeds.fault("/x", Fault(empty=True, times=1))
        empty = requests.get(feeds.url_for("/x"), timeout=5)
        feeds.fault("/x", Fault(oversize_bytes=3_000_000, times=1))
        big = requests.get(feeds.url_for("/x"), timeout=5)
    assert html.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in html.content
    assert empty.content == b""
    assert len(big.content) == 3_000_002


def test_twilio_server_answers_like_twilio_and_records_the_form() -> None:
    """201 with an SM sid; To, Body, From and ValidityPeriod are recorded."""
    with TwilioServer() as twilio:
        answer = requests.post(
            twilio.url + "/2010-04-01/Accounts/AC1/Messages.json",
            data={"To": "+6281200000001", "Body": "Uji", "From": "BPBD", "ValidityPeriod": "600"},
            timeout=5,
        )
        (recorded,) = twilio.accepted()
    assert answer.status_code == 201
    assert answer.json()["sid"].startswith("SM")
    assert recorded.form["Sid"] == answer.json()["sid"]
    assert recorded.form["ValidityPeriod"] == "600"


def test_twilio_server_injects_errors_then_recovers() -> None:
    """fail_next gives Twilio error documents with Retry-After; reject() is permanent."""
    url = "/2010-04-01/Accounts/AC1/Messages.json"
    with TwilioServer() as twilio:
        twilio.fail_next(1, 429, 20429, retry_after="2")
        twilio.reject("+6281200000009")
        limited = requests.post(twilio.url + url, data={"To": "+6281200000001"}, timeout=5)
        refused = requests.post(twilio.url + url, data={"To": "+6281200000009"}, timeout=5)
        ok = requests.post(twilio.url + url, data={"To": "+6281200000001"}, timeout=5)
        assert len(twilio.messages()) == 3
        assert len(twilio.accepted()) == 1
    assert (limited.status_code, limited.json()["code"]) == (429, 20429)
    assert limited.headers["Retry-After"] == "2"
    assert (refused.status_code, refused.json()["code"]) == (400, 21211)
    assert ok.status_code == 201


def test_twilio_server_latency_delays_each_answer() -> None:
    """Per-request latency is applied to each answer."""
    with TwilioServer(latency_s=0.2) as twilio:
        started = time.monotonic()
        requests.post(twilio.url + "/2010-04-01/Accounts/AC1/Messages.json", data={}, timeout=5)
    assert time.monotonic() - started >= 0.2


def test_siren_server_records_commands_and_authorization() -> None:
    """The JSON body and the bearer token are recorded; the status can be changed."""
    with SirenServer() as sirens:
        ok = requests.post(
            sirens.url_for("/s1"),
            json={"command": "alert"},
            headers={"Authorization": "Bearer t"},
            timeout=5,
        )
        sirens.status = 503
        failing = requests.post(sirens.url_for("/s1"), json={"command": "all-clear"}, timeout=5)
        (first, _) = sirens.received("/s1")
        assert sirens.commands("/s1") == [{"command": "alert"}, {"command": "all-clear"}]
    assert ok.json()["id"].startswith("ack-")
    assert failing.status_code == 503
    assert first.header("authorization") == "Bearer t"


def test_write_config_is_a_valid_settings_file_pointing_at_the_peers(tmp_path: Path) -> None:
    """The written warning.toml loads, uses the peers and disables the other feeds."""
    with FeedServer() as feeds, TwilioServer() as twilio, SirenServer() as sirens:
        deployment = write_config(tmp_path, feeds=feeds, twilio=twilio, sirens=sirens)
        settings = load_settings(deployment.config)
        assert settings.feeds["inatews"].url == feeds.url_for("/inatews")
        assert settings.sms.api_base == twilio.url
        assert all(s.url.startswith(sirens.url) for s in settings.sirens)
    enabled = [n for n, f in settings.feeds.items() if f.enabled]
    assert enabled == ["inatews"]
    assert settings.state_path == tmp_path / "warning.db"
    assert tomllib.loads(deployment.config.read_text())["health"]["listen"].endswith(
        str(deployment.health_port)
    )
    assert deployment.env["TWILIO_ACCOUNT_SID"].startswith("AC")
    assert len(deployment.env["TWILIO_ACCOUNT_SID"]) == 34
