"""A local Twilio-compatible Messages API that records every request.

`POST /2010-04-01/Accounts/<sid>/Messages.json` is recorded with its form
fields (To, Body, From, MessagingServiceSid, ValidityPeriod) and answered
after `latency_s` with Twilio-shaped 201 JSON (`sid` "SM..."), unless a fault
is injected: `fail_next(n, status, code)` answers the next n requests with a
Twilio error (429 with Retry-After, 5xx, or a permanent code such as 21211),
`reject(phone, code)` always refuses one number, `stall_next(n, seconds)`
delays the next n answers (past the client's timeout), `outage(seconds)`
answers every request with 503 for that long, and `max_per_second` (the
account's MPS) refuses with 429 code 20429 any request beyond that many in the
trailing second.  Shared by the crash,
rate and fault tests, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from tests.support.peers.base import PeerServer, Recorded, Reply

#: The fake Twilio credentials of every test (the shape of real ones: AC + 32 hex digits).
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32

#: Messages the real API answers with for the codes tests inject.
_MESSAGES = {
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number is not a valid phone number.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
}


@dataclass(frozen=True, slots=True)
class TwilioError:
    """One injected error answer: HTTP status, Twilio code, optional Retry-After."""

    status: int
    code: int
    retry_after: str | None = None


class TwilioServer(PeerServer):
    """Start with `with TwilioServer() as server:`; `server.url` is the `[sms] api_base`."""

    def __init__(self, latency_s: float = 0.0, max_per_second: float | None = None) -> None:
        super().__init__()
        self.latency_s = latency_s
        self.max_per_second = max_per_second
        self._recent: list[float] = []
        self._sids = itertools.count(1)
        self._faults = threading.Lock()
        self._errors: list[TwilioError] = []
        self._stalls: list[float] = []
        self._rejected: dict[str, TwilioError] = {}
        self._down_until = 0.0

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self, count: int, status: int = 429, code: int = 20429, retry_after: str | None = None
    ) -> None:
        """Answer the next `count` requests with this error."""
        with self._faults:
            self._errors += [TwilioError(status, code, retry_after)] * count

    def stall_next(self, count: int, seconds: float) -> None:
        """Delay the next `count` answers by `seconds` (a timeout when above the client's)."""
        with self._faults:
            self._stalls += [seconds] * count

    def outage(self, seconds: float) -> None:
        """Answer every request with 503 (code 20503) for the next `seconds`."""
        with self._faults:
            self._down_until = time.monotonic() + seconds

    def reject(self, phone: str, code: int = 21211, status: int = 400) -> None:
        """Always refuse messages to `phone` with this (permanent) error."""
        with self._faults:
            self._rejected[phone] = TwilioError(status, code)

    # -- what arrived ------------------------------------------------------------------------

    def messages(self) -> list[Recorded]:
        """The Messages.json requests so far (accepted or not)."""
        return [r for r in self.received() if r.path.endswith("/Messages.json")]

    def accepted(self) -> list[Recorded]:
        """The messages answered 201 (their `form["Sid"]` is the SID given)."""
        return [r for r in self.messages() if "Sid" in r.form]

    # -- answering ---------------------------------------------------------------------------

    def answer(self, request: Recorded) -> tuple[Recorded, Reply]:
        """Record the form (with the SID given, if accepted) and answer after the latency."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        error, stall = self._next_fault(form.get("To", ""))
        delay = self.latency_s + stall
        if not request.path.endswith("/Messages.json"):
            error = TwilioError(404, 20404)
        elif not form.get("To"):
            error = TwilioError(400, 21604)  # also what a body cut short by a killed client gets
        if error is not None:
            form["ErrorCode"] = str(error.code)
            return dataclasses.replace(request, form=form), _error(error, delay)
        form["Sid"] = f"SM{next(self._sids):032x}"
        document = {
            "sid": form["Sid"],
            "account_sid": request.path.split("/")[3],
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }
        return dataclasses.replace(request, form=form), _json(201, document, delay)

    def _next_fault(self, to: str) -> tuple[TwilioError | None, float]:
        """The error and stall this request gets (each injected one is used once)."""
        with self._faults:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            if to in self._rejected:
                return self._rejected[to], stall
            if time.monotonic() < self._down_until:
                return TwilioError(503, 20503), stall
            if self._over_rate():
                return TwilioError(429, 20429), stall
            return (self._errors.pop(0) if self._errors else None), stall

    def _over_rate(self) -> bool:
        """True when this request is beyond `max_per_second` in the trailing second."""
        if self.max_per_second is None:
            return False
        now = time.monotonic()
        self._recent = [t for t in self._recent if t > now - 1.0]
        if len(self._recent) >= self.max_per_second:
            return True
        self._recent.append(now)
        return False


def _error(error: TwilioError, delay: float) -> Reply:
    """A Twilio error document."""
    document = {
        "code": error.code,
        "message": _MESSAGES.get(error.code, "error"),
        "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
        "status": error.status,
    }
    extra = (("Retry-After", error.retry_after),) if error.retry_after else ()
    return _json(error.status, document, delay, extra)


def _json(
    status: int, document: object, delay: float, extra: tuple[tuple[str, str], ...] = ()
) -> Reply:
    """A JSON reply."""
    headers = (("Content-Type", "application/json"), *extra)
    return Reply(status, json.dumps(document).encode(), headers, delay)
