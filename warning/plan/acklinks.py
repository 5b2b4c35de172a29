"""Acknowledgement links: a short signed URL per recipient and change, the end of an SMS.

An official, RT/RW head or siskamling coordinator taps the link and then
"Diterima"; the escalation chain stops at the first acknowledgement.  The
token is HMAC-SHA256 over (recipient, change id, expiry) under a key only
the daemon and the console hold, cut to `TOKEN_CHARS` base64url characters
(72 bits: unguessable, yet the whole link fits beside the message in one
GSM-7 segment).  Everything here is pure: the daemon signs, the console
checks, with the same functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warning.model import ConfigError, Level, Problem, utc
from warning.plan.messages import SEGMENT, cut_units, gsm7_units
from warning.settings import Settings

#: Characters of a token: 12 base64url characters carry 72 bits of the HMAC.
TOKEN_CHARS = 12
#: The path of a link under `[console] public_url`.
PATH = "/a/"
#: Where Twilio posts delivery receipts, under `[console] public_url`.
RECEIPT_PATH = "/twilio/status"

SecretGetter = Callable[[str, str, str], str | None]


@dataclass(frozen=True, slots=True)
class AckLinks:
    """How the daemon signs links and the console checks them (one key, one base URL)."""

    base: str
    key: bytes
    valid: timedelta
    groups: frozenset[str]
    level: Level
    #: Added to a change's time before its validity: a drill replaying a scenario
    #: dated in the past shifts its links to the wall clock, so they work now.
    shift: timedelta = timedelta(0)

    def wants(self, group: str, level: Level, ending: bool) -> bool:
        """True when an SMS of this group about this change carries a link."""
        return not ending and group in self.groups and level >= self.level

    def expiry(self, change_time: datetime) -> datetime:
        """When a link about a change made at `change_time` stops working."""
        return utc(change_time) + self.shift + self.valid

    def token(self, recipient: str, change_id: str, expires: datetime) -> str:
        """The signed token of one recipient's link about one change."""
        message = f"{recipient}\n{change_id}\n{utc(expires).isoformat()}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]

    def signed(self, token: str, recipient: str, change_id: str, expires: datetime) -> bool:
        """True when `token` is this key's signature of (recipient, change, expiry)."""
        return hmac.compare_digest(token, self.token(recipient, change_id, expires))

    def url(self, token: str) -> str:
        """The link as the SMS carries it."""
        return f"{self.base}{PATH}{token}"

    def payload(
        self, recipient: str, change_id: str, time: datetime, **facts: str
    ) -> dict[str, Any]:
        """What an SMS payload keeps about its link (the console looks the token up).

        `facts` (the contact's name and group) let the console and `warning status`
        say who acknowledged without reading the contacts file.
        """
        expires = self.expiry(time)
        token = self.token(recipient, change_id, expires)
        return {"token": token, "expires": expires.isoformat(), **facts}


def link_chars(base: str) -> int:
    """GSM-7 units a link (and the space before it) takes in an SMS under `base`."""
    return 1 + gsm7_units(base.rstrip("/")) + len(PATH) + TOKEN_CHARS


def with_link(body: str, url: str) -> str:
    """`body` (cut if it must be) and the link after it, in one segment; the link is never cut."""
    room = SEGMENT - 1 - gsm7_units(url)
    return f"{cut_units(body, room).rstrip()} {url}"


def ack_links(settings: Settings, secret: SecretGetter) -> AckLinks | None:
    """The link signer of these settings; None without `public_url` or a key (no links).

    An `ack_secret_file` that cannot be read is a ConfigError naming it.
    """
    console = settings.console
    try:
        key = secret("ACK_SECRET", console.ack_secret_file, "ack_secret")
    except OSError as exc:
        problem = f"cannot read console.ack_secret_file {console.ack_secret_file}: {exc.strerror}"
        raise ConfigError(Problem("[console]", problem)) from None
    if not console.public_url or not key:
        return None
    return AckLinks(
        base=console.public_url.rstrip("/"),
        key=key.encode(),
        valid=timedelta(hours=console.ack_hours),
        groups=frozenset(console.ack_groups),
        level=Level(console.ack_level),
    )


def ack_of(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The link facts an SMS payload carries, if it carries a link."""
    found = payload.get("ack")
    return found if isinstance(found, Mapping) else None
