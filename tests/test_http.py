"""The network seam: retries, Retry-After, size cap, body checks, conditional GET."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
import requests
import responses

from tests.support.peers import FeedServer
from warning.http import FeedError, HttpClient, PayloadKind, retry_after_s, user_agent
from warning.settings import HttpSettings

URL = "https://feed.example/data.json"


class Sleeps(list[float]):
    """Records the waits the client asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sleeps: Sleeps | None = None, **settings: object) -> HttpClient:
    """A client whose sleeps are recorded, with `settings` overridden."""
    return HttpClient(HttpSettings(**settings), sleep=sleeps if sleeps is not None else Sleeps())  # type: ignore[arg-type]


@responses.activate
def test_user_agent_names_the_project_and_contact() -> None:
    """Every request carries a User-Agent with the project name and the contact setting."""
    responses.get(URL, json={"ok": 1})
    client(contact="ops@example.org").get(URL, PayloadKind.JSON)
    sent = responses.calls[0].request.headers["User-Agent"]
    assert sent == user_agent("ops@example.org")
    assert "warning/" in sent
    assert "ops@example.org" in sent


@responses.activate
def test_timeouts_are_retried_then_reported_as_transient() -> None:
    """A read timeout on every attempt ends in a transient FeedError after `attempts` tries."""
    responses.get(URL, body=requests.ReadTimeout("slow"))
    sleeps = Sleeps()
    with pytest.raises(FeedError) as caught:
        client(sleeps, attempts=3).get(URL, PayloadKind.JSON)
    assert caught.value.transient
    assert "timed out" in caught.value.message
    assert len(responses.calls) == 3
    assert len(sleeps) == 2


@responses.activate
def test_connect_and_read_timeouts_come_from_settings() -> None:
    """The (connect, read) timeout pair of the settings is passed on every call."""
    responses.get(URL, json={})
    client(connect_timeout_s=2.5, read_timeout_s=7.0).get(URL, PayloadKind.JSON)
    assert responses.calls[0].request.req_kwargs["timeout"] == (2.5, 7.0)


@responses.activate
def test_429_waits_for_retry_after_then_succeeds() -> None:
    """A 429 with Retry-After: 7 waits 7 s and the second attempt's body is returned."""
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, json={"ok": True})
    sleeps = Sleeps()
    fetched = client(sleeps).get(URL, PayloadKind.JSON)
    assert fetched.body == b'{"ok": true}'
    assert sleeps == [7.0]


@responses.activate
def test_retry_after_is_bounded_by_max_backoff() -> None:
    """A Retry-After longer than max_backoff_s waits only max_backoff_s."""
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    responses.get(URL, json={})
    sleeps = Sleeps()
    client(sleeps, max_backoff_s=30.0).get(URL, PayloadKind.JSON)
    assert sleeps == [30.0]


@responses.activate
def test_503_backs_off_exponentially_with_jitter_and_gives_up() -> None:
    """Repeated 503s are retried with growing, capped waits, then a transient FeedError."""
    responses.get(URL, status=503)
    sleeps = Sleeps()
    with pytest.raises(FeedError) as caught:
        client(sleeps, attempts=4, backoff_s=1.0, max_backoff_s=30.0).get(URL, PayloadKind.JSON)
    assert caught.value.transient
    assert "503" in caught.value.message
    assert len(sleeps) == 3
    assert all(0 < s <= 30.0 for s in sleeps)
    assert sleeps[2] >= 4.0


@responses.activate
def test_a_configured_backoff_scales_the_waits_without_deprecation_warnings() -> None:
    """backoff_s = 0.5: waits 0.5-1.0 then 1.0-1.5 s, and tenacity warns about nothing."""
    responses.get(URL, status=503)
    sleeps = Sleeps()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FeedError):
            client(sleeps, attempts=3, backoff_s=0.5).get(URL, PayloadKind.JSON)
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 1.5


@responses.activate
def test_404_is_permanent_and_not_retried() -> None:
    """A 404 fails at once as a permanent FeedError."""
    responses.get(URL, status=404)
    with pytest.raises(FeedError) as caught:
        client().get(URL, PayloadKind.JSON)
    assert not caught.value.transient
    assert len(responses.calls) == 1


@responses.activate
def test_304_means_unchanged_and_sends_validators() -> None:
    """The second GET sends If-None-Match / If-Modified-Since; a 304 comes back as unchanged."""
    headers = {"ETag": '"v1"', "Last-Modified": "Tue, 10 Mar 2026 02:00:00 GMT"}
    responses.get(URL, json={"v": 1}, headers=headers)
    responses.get(URL, status=304)
    http = client()
    first = http.get(URL, PayloadKind.JSON)
    second = http.get(URL, PayloadKind.JSON)
    assert not first.unchanged
    assert second.unchanged
    assert second.body == b""
    sent = responses.calls[1].request.headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Tue, 10 Mar 2026 02:00:00 GMT"


def test_polls_of_one_host_reuse_one_kept_alive_connection() -> None:
    """A 200 read to its end and a 304 leave the connection open for the next poll.

    Polling InaTEWS every 5 s over a new connection each time is a TCP and TLS
    handshake per poll for BMKG and for us; the idle daemon's largest cost.
    """
    with FeedServer() as feeds:
        feeds.serve("/a.json", b'{"v": 1}')
        feeds.serve("/b.json", b'{"v": 2}')
        http = client()
        fetched = [http.get(feeds.url_for(p), PayloadKind.JSON) for p in ["/a.json", "/b.json"] * 3]
        received = feeds.received()
    assert [f.unchanged for f in fetched] == [False, False, True, True, True, True]
    assert len(received) == 6
    assert len({r.client_port for r in received}) == 1


def test_a_response_cut_by_the_size_cap_is_not_reused() -> None:
    """A body left half read would corrupt the next response: that connection is closed."""
    with FeedServer() as feeds:
        feeds.serve("/big.json", b'{"v": "' + b"x" * 5000 + b'"}')
        feeds.serve("/small.json", b'{"v": 1}')
        http = client(max_bytes=1000)
        with pytest.raises(FeedError, match="cap"):
            http.get(feeds.url_for("/big.json"), PayloadKind.JSON)
        small = http.get(feeds.url_for("/small.json"), PayloadKind.JSON)
        received = feeds.received()
    assert small.body == b'{"v": 1}'
    assert received[0].client_port != received[1].client_port


@responses.activate
def test_a_byte_identical_body_without_validators_is_unchanged() -> None:
    """A server offering no ETag / Last-Modified: the same bytes again come back unchanged."""
    responses.get(URL, json={"v": 1})
    responses.get(URL, json={"v": 1})
    responses.get(URL, json={"v": 2})
    http = client()
    first, second, third = (http.get(URL, PayloadKind.JSON) for _ in range(3))
    assert (first.unchanged, second.unchanged, third.unchanged) == (False, True, False)
    assert second.body == b""
    assert third.body == b'{"v": 2}'


@responses.activate
def test_an_unconditional_get_always_returns_the_body() -> None:
    """`conditional=False` (a multi-document feed's parts) never hears "unchanged"."""
    responses.get(URL, json={"v": 1})
    http = client()
    bodies = [http.get(URL, PayloadKind.JSON, conditional=False).body for _ in range(2)]
    assert bodies == [b'{"v": 1}'] * 2


@responses.activate
def test_forgetting_validators_forgets_body_digests_too() -> None:
    """After a failed commit the same body must be parsed again, not heard as unchanged."""
    responses.get(URL, json={"v": 1})
    http = client()
    http.get(URL, PayloadKind.JSON)
    http.forget_validators()
    assert not http.get(URL, PayloadKind.JSON).unchanged


@responses.activate
def test_oversize_body_is_refused_while_streaming() -> None:
    """A body larger than max_bytes is a permanent FeedError, even without Content-Length."""
    responses.get(URL, body=b"[" + b"1," * 600 + b"1]", auto_calculate_content_length=False)
    with pytest.raises(FeedError) as caught:
        client(max_bytes=1000).get(URL, PayloadKind.JSON)
    assert "cap" in caught.value.message
    assert not caught.value.transient


@responses.activate
def test_html_error_page_is_refused() -> None:
    """A 200 HTML maintenance page instead of JSON is a transient FeedError."""
    page = b"<!DOCTYPE html><html><body>Sedang dalam pemeliharaan</body></html>"
    responses.get(URL, body=page, content_type="text/html")
    with pytest.raises(FeedError) as caught:
        client().get(URL, PayloadKind.JSON)
    assert "HTML" in caught.value.message
    assert caught.value.transient


@responses.activate
def test_truncated_json_is_refused() -> None:
    """A body cut off mid-object is a FeedError saying it is not valid JSON."""
    responses.get(URL, body=b'{"Infogempa": {"gempa": ', content_type="application/json")
    with pytest.raises(FeedError, match="not valid JSON"):
        client().get(URL, PayloadKind.JSON)


@responses.activate
def test_xml_with_entities_is_refused() -> None:
    """XML declaring a DTD (entity expansion attacks) is refused by the hardened parser."""
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>'
    responses.get(URL, body=bomb, content_type="application/xml")
    with pytest.raises(FeedError, match="XML"):
        client().get(URL, PayloadKind.XML)


@responses.activate
def test_empty_body_is_refused() -> None:
    """An empty 200 response is a transient FeedError, never an empty feed."""
    responses.get(URL, body=b"")
    with pytest.raises(FeedError, match="empty"):
        client().get(URL, PayloadKind.JSON)


def test_retry_after_accepts_http_dates() -> None:
    """Retry-After as an HTTP date gives the seconds until then; a past date means now."""
    now = datetime(2026, 3, 10, 2, 0, 0, tzinfo=UTC)
    assert retry_after_s("Tue, 10 Mar 2026 02:00:30 GMT", now) == 30.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0
    assert retry_after_s("soon", now) is None


def test_retry_after_accepts_delta_seconds() -> None:
    """Retry-After as delta seconds is those seconds; absent is None."""
    assert retry_after_s("120") == 120.0
    assert retry_after_s(" 0 ") == 0.0
    assert retry_after_s(None) is None
    assert retry_after_s("") is None


@responses.activate
def test_error_reason_from_a_json_body_is_kept() -> None:
    """An HTTP 400 with Open-Meteo's {"error": true, "reason": ...} reports that reason."""
    body = {"error": True, "reason": "Cannot initialize WeatherVariable from invalid String"}
    responses.get(URL, status=400, json=body)
    with pytest.raises(FeedError, match="Cannot initialize WeatherVariable") as caught:
        client().get(URL, PayloadKind.JSON)
    assert not caught.value.transient


@responses.activate
def test_a_redirect_within_the_host_is_followed() -> None:
    """A CDN moving a path on the same host (301 to another path) still gives the payload."""
    responses.get(URL, status=301, headers={"Location": "/v2/data.json"})
    responses.get("https://feed.example/v2/data.json", json={"ok": 1})
    fetched = client().get(URL, PayloadKind.JSON)
    assert fetched.body == b'{"ok": 1}'
    assert fetched.url == URL


@responses.activate
def test_a_redirect_to_the_metadata_address_is_refused_unrequested() -> None:
    """A 302 to 169.254.169.254 is a permanent FeedError; the target is never asked."""
    metadata = "http://169.254.169.254/latest/meta-data/"
    responses.get(URL, status=302, headers={"Location": metadata})
    responses.get(metadata, body="secret")
    with pytest.raises(FeedError, match="another host") as caught:
        client().get(URL, PayloadKind.JSON)
    assert not caught.value.transient
    assert [c.request.url for c in responses.calls] == [URL]


@responses.activate
def test_a_call_may_lower_the_size_cap_but_never_raise_it() -> None:
    """`max_bytes` of one call caps below the setting; above it, the setting holds."""
    responses.get(URL, body=b'{"data": "' + b"x" * 2000 + b'"}')
    with pytest.raises(FeedError, match="1000 byte cap"):
        client().get(URL, PayloadKind.JSON, max_bytes=1000)
    with pytest.raises(FeedError, match="500 byte cap"):
        client(max_bytes=500).get(URL, PayloadKind.JSON, max_bytes=10_000)


def test_proxy_variables_are_honoured_and_read_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTP_PROXY still routes feed requests, read from the environment once per host.

    requests read it at every request, two passes over the whole environment:
    a third of an idle poll's CPU, for a value a running daemon never changes.
    """
    with FeedServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url_for(""))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        http = client(attempts=1)
        for _ in range(2):
            with pytest.raises(FeedError, match="404"):
                http.get("http://feed.invalid/data.json", PayloadKind.JSON)
            monkeypatch.delenv("HTTP_PROXY", raising=False)
        received = proxy.received()
    assert [r.path for r in received] == ["http://feed.invalid/data.json"] * 2
