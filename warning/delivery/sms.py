"""SMS through the real twilio SDK, against `[sms] api_base`, with every error classified.

The SDK is used as it is: a `twilio.rest.Client` whose API domain is pointed
at `api_base` (a Twilio-compatible gateway or a test server can stand in) and
whose `TwilioHttpClient` has an explicit timeout.  Each sending thread has its
own client, so the response hook that remembers `Retry-After` cannot mix up
two threads' answers.

Errors are classified by a data table, Twilio code first, HTTP status second;
a code we do not know gets a few retries, never an endless loop, because
Twilio adds and changes codes.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import requests
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from warning.areas import AreaIndex
from warning.delivery.channel import (
    Channel,
    ChannelSettings,
    LogChannel,
    Outcome,
    SecretGetter,
    SendResult,
)
from warning.http import retry_after_s
from warning.model import ChannelKind, ConfigError, Delivery, Problem
from warning.settings import SmsSettings


class ErrorClass(enum.Enum):
    """How to treat a provider error."""

    TRANSIENT = "transient"  # retry with backoff, up to [sms] attempts
    PERMANENT = "permanent"  # record and never retry
    UNKNOWN = "unknown"  # a few retries (UNKNOWN_ATTEMPTS), then give up


#: Attempts for errors whose code we do not know.
UNKNOWN_ATTEMPTS = 3

#: Twilio error codes (https://www.twilio.com/docs/api/errors) and what they mean for us.
TWILIO_CODES: Mapping[int, ErrorClass] = MappingProxyType(
    {
        20003: ErrorClass.UNKNOWN,  # authentication: an operator may be fixing credentials
        20429: ErrorClass.TRANSIENT,  # too many requests
        20500: ErrorClass.TRANSIENT,  # internal server error
        20503: ErrorClass.TRANSIENT,  # service unavailable
        30001: ErrorClass.TRANSIENT,  # queue overflow
        21211: ErrorClass.PERMANENT,  # invalid 'To' number
        21408: ErrorClass.PERMANENT,  # permission to send to this region not enabled
        21421: ErrorClass.PERMANENT,  # phone number is invalid
        21602: ErrorClass.PERMANENT,  # message body required
        21604: ErrorClass.PERMANENT,  # 'To' number required
        21606: ErrorClass.PERMANENT,  # 'From' number cannot send SMS
        21610: ErrorClass.PERMANENT,  # recipient unsubscribed (STOP)
        21612: ErrorClass.PERMANENT,  # cannot route to this number
        21614: ErrorClass.PERMANENT,  # 'To' is not a mobile number
        21617: ErrorClass.PERMANENT,  # body exceeds the maximum length
        21659: ErrorClass.PERMANENT,  # 'From' is not a number of this account
        21660: ErrorClass.PERMANENT,  # 'From' does not belong to this account
        21705: ErrorClass.PERMANENT,  # invalid messaging service
        30004: ErrorClass.PERMANENT,  # message blocked
        30005: ErrorClass.PERMANENT,  # unknown destination handset
        30006: ErrorClass.PERMANENT,  # landline or unreachable carrier
        30007: ErrorClass.PERMANENT,  # filtered by the carrier
    }
)


def classify(status: int, code: int | None) -> ErrorClass:
    """An error's class: by Twilio code when known, else 429/5xx transient, else unknown."""
    if code is not None and code in TWILIO_CODES:
        return TWILIO_CODES[code]
    if status == 429 or status >= 500:
        return ErrorClass.TRANSIENT
    return ErrorClass.UNKNOWN


class _ThreadClient:
    """One thread's Twilio client and the Retry-After of its last response."""

    def __init__(self, account_sid: str, auth_token: str, sms: SmsSettings) -> None:
        self.retry_after_s: float | None = None
        http = TwilioHttpClient(timeout=sms.timeout_s, request_hooks={"response": [self._remember]})
        self.client = Client(account_sid, auth_token, http_client=http)
        # The SDK builds every API URL from its domain's base_url.
        self.client.api.base_url = sms.api_base.rstrip("/")

    def _remember(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        """requests hook: keep the Retry-After seconds of the latest answer."""
        self.retry_after_s = retry_after_s(response.headers.get("Retry-After"))


class TwilioChannel:
    """SMS through Twilio's Messages API."""

    kind = ChannelKind.SMS

    def __init__(
        self, account_sid: str, auth_token: str, sms: SmsSettings, status_callback: str = ""
    ) -> None:
        if not (sms.messaging_service_sid or sms.from_):
            raise ConfigError(
                Problem(
                    "[sms]",
                    "Twilio credentials are set but no sender: set sms.messaging_service_sid"
                    " or sms.from (a number or a registered alphanumeric sender ID)",
                )
            )
        self._sid = account_sid
        self._token = auth_token
        self._sms = sms
        # Twilio posts each SMS's receipts there (the console validates and records them).
        self._callback = {"status_callback": status_callback} if status_callback else {}
        self._local = threading.local()
        # The SDK imports its API modules on first use; do it now, not inside the
        # first rate-limited request, where it would delay that one past its slot.
        _ = self._client().client.messages

    def _client(self) -> _ThreadClient:
        """This thread's client, made on first use."""
        client: _ThreadClient | None = getattr(self._local, "client", None)
        if client is None:
            client = _ThreadClient(self._sid, self._token, self._sms)
            self._local.client = client
        return client

    def _sender(self) -> dict[str, str]:
        """The messaging service wins over a From number when both are set."""
        if self._sms.messaging_service_sid:
            return {"messaging_service_sid": self._sms.messaging_service_sid}
        return {"from_": self._sms.from_}

    def send(self, delivery: Delivery) -> SendResult:
        """Submit one SMS; classify whatever goes wrong instead of raising."""
        holder = self._client()
        holder.retry_after_s = None
        try:
            message = holder.client.messages.create(
                to=delivery.payload["to"],
                body=delivery.payload["body"],
                validity_period=self._sms.validity_period_s,
                **self._sender(),
                **self._callback,
            )
        except TwilioRestException as exc:
            return _rest_error(exc, delivery, holder.retry_after_s)
        except requests.Timeout:
            return SendResult(Outcome.RETRY, error=f"timeout after {self._sms.timeout_s:g} s")
        except (requests.RequestException, TwilioException) as exc:
            return SendResult(Outcome.RETRY, error=f"{type(exc).__name__}: {_first_line(exc)}")
        return SendResult(Outcome.SENT, provider_id=str(message.sid))


def _rest_error(
    exc: TwilioRestException, delivery: Delivery, retry_after_s: float | None
) -> SendResult:
    """A Twilio error answer as an outcome."""
    code = exc.code if isinstance(exc.code, int) else None
    error_class = classify(exc.status, code)
    error = f"HTTP {exc.status}" + (f" code {code}" if code else "") + f": {exc.msg}"
    if error_class is ErrorClass.PERMANENT:
        outcome = Outcome.FAILED
    elif error_class is ErrorClass.UNKNOWN and delivery.attempts + 1 >= UNKNOWN_ATTEMPTS:
        outcome = Outcome.FAILED
        error = f"unknown error, gave up: {error}"
    else:
        outcome = Outcome.RETRY
    return SendResult(
        outcome, error=error, retry_after_s=retry_after_s, code=str(code) if code else None
    )


def _first_line(exc: BaseException) -> str:
    """An exception's message without the SDK's multi-line decorations."""
    return (str(exc).strip().splitlines() or [""])[0][:200]


# ---------------------------------------------------------------------------
# Factory


def credentials(sms: SmsSettings, secret: SecretGetter) -> tuple[str, str] | None:
    """(account SID, auth token), None when neither is set; ConfigError when only one is."""
    sid = secret("TWILIO_ACCOUNT_SID", sms.account_sid_file, "twilio_account_sid")
    token = secret("TWILIO_AUTH_TOKEN", sms.auth_token_file, "twilio_auth_token")
    if sid and token:
        return (sid, token)
    if sid or token:
        missing = "TWILIO_AUTH_TOKEN" if sid else "TWILIO_ACCOUNT_SID"
        raise ConfigError(Problem("[sms]", f"Twilio credentials incomplete: {missing} is not set"))
    return None


def sms_channel(
    settings: ChannelSettings, _areas: AreaIndex | None, secret: SecretGetter
) -> Channel:
    """The Twilio channel when credentials are set, else the log channel."""
    found = credentials(settings.sms, secret)
    if found is None:
        return LogChannel(ChannelKind.SMS, "no Twilio credentials")
    return TwilioChannel(found[0], found[1], settings.sms, settings.receipt_url)


def announce(sms: SmsSettings, secret: SecretGetter) -> bool:
    """Say at start whether SMS are delivered; True when they are (the daemon calls this)."""
    log = structlog.get_logger()
    if credentials(sms, secret) is None:
        log.warning(
            "sms.log_only",
            message="SMS are not being delivered: no Twilio credentials"
            " (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN); each SMS is only logged",
        )
        return False
    sender = sms.messaging_service_sid or sms.from_
    log.info("sms.twilio", api_base=sms.api_base, sender=sender)
    return True
