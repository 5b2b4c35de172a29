"""The one network seam: every feed fetch goes through `HttpClient.get`.

One `requests.Session` with a User-Agent naming the project and its contact,
connect and read timeouts on every call, bounded retries (tenacity) with
exponential backoff and jitter for connection errors, timeouts, 429 and 5xx
(honouring `Retry-After`, capped at `max_backoff_s`), a total deadline per fetch
(`total_timeout_s`, retries and waits included, connect, headers and body alike:
a server trickling one byte at a time, even in its headers, is cut off by the
watchdog of `warning.http_cutoff`, which per-read timeouts never do), a size cap enforced while
streaming, redirects followed only within the requested host (a feed cannot
send us to 127.0.0.1, a private range or a cloud metadata address), content-type
and well-formedness checks, and conditional GET: the
`ETag` / `Last-Modified` of each URL are remembered so a `304` comes back as
`Fetched.unchanged` and the caller skips parsing; so does a body identical to the
last one from the URL (a digest is kept), for servers that offer no validators.

Every failure is a `FeedError` saying whether it is transient (try again at the
next poll) or permanent (the feed or our configuration is wrong).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree as SafeET
import requests
import structlog
import tenacity
import urllib3.exceptions
from defusedxml import DefusedXmlException

from warning import __version__
from warning.http_cutoff import Cutoff, CutoffSlot, GuardedAdapter
from warning.settings import HttpSettings

log = structlog.get_logger()

_CHUNK = 64 * 1024
#: Redirect hops followed within one host before the fetch is refused.
_MAX_REDIRECTS = 5
_PAST_DEADLINE = "no complete response within the total deadline"


class FeedError(Exception):
    """A feed could not be fetched or its payload could not be used.

    `transient` is True when trying again later may succeed (network trouble,
    429, 5xx, a maintenance page) and False when it will not (404, a schema we
    do not understand).
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class Interrupted(Exception):  # noqa: N818 - names what happened, like KeyboardInterrupt
    """A wait inside a fetch was cut short because the process is stopping.

    Not a FeedError on purpose: adapters let it through and the feed's health
    is not touched, since the feed did nothing wrong.
    """


class _RetryableError(FeedError):
    """A transient failure the retry loop may try again, maybe after `retry_after` s."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, transient=True)
        self.retry_after = retry_after


class PayloadKind(enum.Enum):
    """What a feed's body must be; decides the well-formedness check."""

    JSON = "json"
    XML = "xml"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Fetched:
    """One response: its body, or `unchanged` (a 304) with an empty body."""

    url: str
    body: bytes
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class _Limits:
    """What bounds one fetch: its size cap and its deadline (a `time.monotonic()` value)."""

    max_bytes: int
    deadline: float


@dataclass(frozen=True, slots=True)
class _Validators:
    """What the server said identifies the version we hold."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class _HostEnvironment:
    """The proxies and .netrc credentials the environment gives one host (read once)."""

    proxies: dict[str, str]
    auth: tuple[str, str] | None


def user_agent(contact: str) -> str:
    """`warning/<version> (Balikpapan early warning; <contact>)`."""
    return f"warning/{__version__} (Balikpapan disaster early warning; +{contact})"


class HttpClient:
    """One session, its settings and the validators of every URL fetched so far."""

    def __init__(
        self,
        settings: HttpSettings,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent(settings.contact)
        #: requests reads the proxy variables at every request, two passes over the whole
        #: environment (a third of an idle poll's CPU); a daemon's environment does not
        #: change, so what it says (proxies, no_proxy, .netrc) is read once per host
        #: and the session's own reading is turned off.
        self._environment = self.session.trust_env
        self._per_host: dict[tuple[str, str], _HostEnvironment] = {}
        self.session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if self._environment and bundle and self.session.verify is True:
            self.session.verify = bundle
        self._cutoffs = CutoffSlot()
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, GuardedAdapter(self._cutoffs))
        self.sleep = sleep
        self._validators: dict[str, _Validators] = {}
        #: URL -> digest of the last body: servers without validators (or that ignore
        #: them) resend the same bytes, which then cost no parse and no evaluation.
        self._digests: dict[str, bytes] = {}
        self._kept: dict[str, dict[str, bytes]] = {}
        self._rng = random.Random()  # noqa: S311 - jitter, not secrecy

    def kept(self, group: str) -> Mapping[str, bytes]:
        """Bodies a multi-request feed kept from earlier polls, by URL."""
        return dict(self._kept.get(group, {}))

    def keep(self, group: str, bodies: Mapping[str, bytes]) -> None:
        """Replace the bodies kept for `group` (so what is no longer listed is dropped)."""
        self._kept[group] = dict(bodies)

    def forget_validators(self) -> None:
        """Drop every remembered ETag / Last-Modified.

        The daemon calls this when what it fetched could not be committed (a
        locked or full database): the next poll must fetch the payload again
        rather than hear "304 unchanged" about data never evaluated.
        """
        self._validators.clear()
        self._digests.clear()

    def get(
        self,
        url: str,
        expect: PayloadKind,
        params: Mapping[str, str] | None = None,
        conditional: bool = True,
        max_bytes: int | None = None,
    ) -> Fetched:
        """GET `url` with retries, all within the total deadline; FeedError when it fails.

        `max_bytes` lowers the size cap for this call (a multi-document feed's
        budget); it never raises it above the setting.
        """
        full = requests.Request("GET", url, params=dict(params or {})).prepare().url or url
        limit = (
            self.settings.max_bytes
            if max_bytes is None
            else min(max_bytes, self.settings.max_bytes)
        )
        deadline = time.monotonic() + self.settings.total_timeout_s
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_RetryableError),
            stop=self._stop(deadline),
            wait=functools.partial(self._wait, deadline),
            sleep=self.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        with Cutoff(deadline) as cutoff:
            self._cutoffs.current = cutoff
            try:
                return retrying(self._once, full, expect, conditional, _Limits(limit, deadline))
            except FeedError as exc:
                if cutoff.fired:  # the watchdog cut a read: say so, whatever error it caused
                    raise FeedError(_PAST_DEADLINE, transient=True) from None
                if isinstance(exc, _RetryableError):
                    raise FeedError(exc.message, transient=True) from None
                raise
            finally:
                self._cutoffs.current = None

    def _stop(self, deadline: float) -> Callable[[tenacity.RetryCallState], bool]:
        """Stop after `attempts` tries or once the deadline has passed."""
        attempts = max(1, self.settings.attempts)

        def stop(state: tenacity.RetryCallState) -> bool:
            return state.attempt_number >= attempts or time.monotonic() >= deadline

        return stop

    def _wait(self, deadline: float, state: tenacity.RetryCallState) -> float:
        """Retry-After when the server gave one, else exponential backoff with jitter.

        Never past the deadline: a wait that would end after it is cut to end there.
        """
        left = max(deadline - time.monotonic(), 0.0)
        cap = min(self.settings.max_backoff_s, left)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), cap)
        # Our own exponential backoff: tenacity's `initial=` is deprecated from 9.2 on and
        # its replacement is missing from 9.0, which the pin allows.
        return backoff_s(state.attempt_number, self.settings.backoff_s, cap, self._rng)

    def _once(self, url: str, expect: PayloadKind, conditional: bool, limits: _Limits) -> Fetched:
        """One attempt: request, classify the status, read within the caps, check the body."""
        headers = self._conditional_headers(url) if conditional else {}
        try:
            with self._open(url, headers, limits.deadline) as response:
                if response.status_code == 304 and conditional and url in self._validators:
                    _reuse(response)
                    return Fetched(url=url, body=b"", unchanged=True)
                _classify_status(response, limits.deadline)
                body = _read_capped(response, limits)
                _reuse(response)
                check_body(body, expect, response.headers.get("Content-Type", ""))
                self._remember(url, response)
                if conditional and self._same_body(url, body):
                    return Fetched(url=url, body=b"", unchanged=True)
                return Fetched(url=url, body=body)
        except requests.Timeout as exc:
            raise _RetryableError(f"timed out: {type(exc).__name__}") from None
        except requests.ConnectionError as exc:
            raise _RetryableError(f"connection failed: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise FeedError(f"request failed: {exc}", transient=False) from None

    def _open(self, url: str, headers: Mapping[str, str], deadline: float) -> requests.Response:
        """The response to GET `url`, following redirects only within its own host.

        requests would follow a redirect anywhere (127.0.0.1, 169.254.169.254, a
        private range): each hop is checked here instead.
        """
        for _hop in range(_MAX_REDIRECTS + 1):
            environment = self._host_environment(url)
            response = self.session.get(
                url,
                headers=headers,
                proxies=environment.proxies,
                auth=environment.auth,
                timeout=self._timeouts(deadline),
                stream=True,
                allow_redirects=False,
            )
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers["Location"])
            response.close()
            if not same_host(url, target):
                raise FeedError(f"redirect from {_host(url)} to another host refused: {target}")
            url = target
        raise FeedError(f"more than {_MAX_REDIRECTS} redirects")

    def _host_environment(self, url: str) -> _HostEnvironment:
        """What the environment says about requests to `url`'s host, as requests would read it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._per_host.get(key)
        if found is None:
            if self._environment:
                proxies = requests.utils.get_environ_proxies(url)
                found = _HostEnvironment(proxies, requests.utils.get_netrc_auth(url))
            else:
                found = _HostEnvironment({}, None)
            self._per_host[key] = found
        return found

    def _timeouts(self, deadline: float) -> tuple[float, float]:
        """(connect, read) timeouts of one request, none beyond the deadline."""
        left = max(deadline - time.monotonic(), 0.1)
        return (
            min(self.settings.connect_timeout_s, left),
            min(self.settings.read_timeout_s, left),
        )

    def _conditional_headers(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a URL fetched before."""
        known = self._validators.get(url)
        headers: dict[str, str] = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return headers

    def _same_body(self, url: str, body: bytes) -> bool:
        """True when `body` is byte for byte the last one from `url` (remembered by digest)."""
        digest = hashlib.blake2b(body, digest_size=16).digest()
        same = self._digests.get(url) == digest
        self._digests[url] = digest
        return same

    def _remember(self, url: str, response: requests.Response) -> None:
        """Keep the validators of a good response for the next conditional GET."""
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self._validators[url] = _Validators(etag=etag, last_modified=modified)


def _reuse(response: requests.Response) -> None:
    """Hand the connection of a response read to its end back to the pool.

    requests closes a streamed response's connection on `close()` unless its own
    reader consumed the body; `_pieces` reads it instead, so without this every
    poll opened a new TCP (for BMKG's HTTPS, TLS) connection: the idle daemon's
    largest cost per poll.  A 304 has no body; a body read to its end leaves
    nothing behind on the connection.  The pool checks a kept connection is
    still open before using it again.
    """
    response.raw.release_conn()


def _log_retry(state: tenacity.RetryCallState) -> None:
    """One log line per retry, with the reason and the wait."""
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("http.retry", attempt=state.attempt_number, reason=str(exc), wait_s=round(wait, 2))


def same_host(url: str, other: str) -> bool:
    """Whether two URLs name the same host (scheme and port aside)."""
    return _host(url) == _host(other) and urlsplit(other).scheme in ("http", "https")


def _host(url: str) -> str:
    """The lower-case host name of a URL ("" when it has none)."""
    return urlsplit(url).hostname or ""


def _classify_status(response: requests.Response, deadline: float) -> None:
    """Raise for any status but 2xx: 429 and 5xx retryable, other codes permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status} from {response.url}{_error_detail(response, deadline)}"
    if status == 429 or status >= 500:
        raise _RetryableError(
            reason, retry_after=retry_after_s(response.headers.get("Retry-After"))
        )
    raise FeedError(reason, transient=False)


def _error_detail(response: requests.Response, deadline: float) -> str:
    """`: <reason>` from a small JSON error body (Open-Meteo's `reason`), else ""."""
    try:
        head = next(_pieces(response, deadline), b"")
        reason = json.loads(head).get("reason") if head.lstrip()[:1] == b"{" else None
    except (ValueError, AttributeError, requests.RequestException, FeedError):
        return ""
    return f": {reason}" if isinstance(reason, str) and reason else ""


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The one backoff of the project: `base * 2^(attempt-1)` plus up to one `base` of jitter.

    Capped at `cap_s`; feeds (this client) and the outbox (the dispatcher) both use it.
    """
    ceiling = base_s * 2 ** max(attempt - 1, 0)
    return float(min(ceiling + rng.uniform(0.0, base_s), cap_s))


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta seconds or an HTTP date); None if absent.

    The one parser for feeds, sirens and Twilio: an HTTP date in the past means
    0 (retry now), anything unreadable None.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _read_capped(response: requests.Response, limits: _Limits) -> bytes:
    """The body, refusing more than the cap as it streams in and anything past the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FeedError(f"response of {declared} bytes exceeds the {limits.max_bytes} byte cap")
    chunks: list[bytes] = []
    size = 0
    for chunk in _pieces(response, limits.deadline):
        size += len(chunk)
        if size > limits.max_bytes:
            raise FeedError(f"response exceeds the {limits.max_bytes} byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _pieces(response: requests.Response, deadline: float) -> Iterator[bytes]:
    """The decoded body as it arrives; a transient FeedError once the deadline has passed.

    `read1` returns whatever one read of the socket gave: `iter_content` would
    wait to fill each 64 KiB chunk, so a server sending one byte at a time
    would hold it for hours without ever tripping the read timeout.
    """
    while True:
        if time.monotonic() > deadline:
            raise FeedError(_PAST_DEADLINE, transient=True)
        try:
            piece = response.raw.read1(_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.ReadTimeout(exc) from None
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        if not piece:
            return
        yield piece


def looks_like_html(body: bytes) -> bool:
    """True for an HTML page (a maintenance or error page served with 200)."""
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]


def check_body(body: bytes, expect: PayloadKind, content_type: str = "") -> None:
    """Raise FeedError unless `body` is a non-empty, well-formed payload of `expect`."""
    if not body.strip():
        raise FeedError("empty response body", transient=True)
    if "text/html" in content_type.lower() or looks_like_html(body):
        raise FeedError("got an HTML page instead of data (maintenance or error page?)", True)
    if expect is PayloadKind.JSON:
        parse_json(body)
    elif expect is PayloadKind.XML:
        parse_xml(body)
    else:
        decode_text(body)


def parse_json(body: bytes) -> Any:
    """Decoded JSON, or FeedError saying why not."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers undecodable bytes, bad syntax and an integer beyond
        # Python's 4,300-digit conversion limit, which is no JSONDecodeError.
        raise FeedError(f"not valid JSON: {str(exc)[:200]}") from None


def parse_xml(body: bytes) -> Any:
    """The root element, parsed with entities and DTDs refused, or FeedError."""
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError, RecursionError) as exc:
        raise FeedError(f"not well-formed XML: {exc}") from None


def decode_text(body: bytes) -> str:
    """The body as UTF-8 text, or FeedError."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"not UTF-8 text: {exc}") from None
