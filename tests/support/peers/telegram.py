"""A local Telegram Bot API-compatible server: sendMessage, recorded, with injected faults.

`POST /bot<token>/sendMessage` with a JSON body is recorded and answered as
the Bot API does (`{"ok": true, "result": {"message_id": n, ...}}`) after
`latency_s`.  A request with another token gets 401 `Unauthorized`.  Faults:
`fail_next(n, 429, retry_after=s)` answers the next n calls with
`{"ok": false, "error_code": 429, "parameters": {"retry_after": s}}`,
`fail_next(n, 502)` with a 5xx, `stall_next(n, seconds)` delays answers.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Any

from tests.support.peers.base import PeerServer, Recorded, Reply

#: The token tests configure (the Bot API's shape: `<bot id>:<35 characters>`).
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_"

_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True, slots=True)
class BotError:
    """One injected error answer."""

    status: int
    retry_after: int | None = None


class TelegramServer(PeerServer):
    """Start with `with TelegramServer() as bot:`; `bot.url` is the `[telegram] api_base`."""

    def __init__(self, token: str = TOKEN, latency_s: float = 0.0) -> None:
        super().__init__()
        self.token = token
        self.latency_s = latency_s
        self._ids = itertools.count(1)
        self._faults = threading.Lock()
        self._errors: list[BotError] = []
        self._stalls: list[float] = []

    def fail_next(self, count: int, status: int = 429, retry_after: int | None = None) -> None:
        """Answer the next `count` sendMessage calls with this error."""
        with self._faults:
            self._errors += [BotError(status, retry_after)] * count

    def stall_next(self, count: int, seconds: float) -> None:
        """Delay the next `count` answers by `seconds`."""
        with self._faults:
            self._stalls += [seconds] * count

    def posts(self) -> list[dict[str, Any]]:
        """The JSON bodies of the sendMessage calls answered ok, in arrival order."""
        return [r.json() for r in self.received() if r.form.get("ok") == "true"]

    def answer(self, request: Recorded) -> tuple[Recorded, Reply]:
        """Answer one Bot API call; the recorded form says whether it was accepted."""
        error, stall = self._next_fault()
        delay = self.latency_s + stall
        if request.path != f"/bot{self.token}/sendMessage":
            error = BotError(401 if not request.path.startswith(f"/bot{self.token}/") else 404)
        elif not request.json().get("chat_id") or not request.json().get("text"):
            error = BotError(400)
        if error is not None:
            return dataclasses.replace(request, form={"ok": "false"}), _error(error, delay)
        message_id = next(self._ids)
        body = request.json()
        result = {
            "message_id": message_id,
            "chat": {"id": body["chat_id"], "type": "channel"},
            "date": 0,
            "text": body["text"],
        }
        document = {"ok": True, "result": result}
        form = {"ok": "true", "message_id": str(message_id)}
        return dataclasses.replace(request, form=form), _reply(200, document, delay)

    def _next_fault(self) -> tuple[BotError | None, float]:
        with self._faults:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            return (self._errors.pop(0) if self._errors else None), stall


def _error(error: BotError, delay: float) -> Reply:
    """A Bot API error document (`parameters.retry_after` on a 429)."""
    text = _DESCRIPTIONS.get(error.status, "Error").format(retry_after=error.retry_after)
    document: dict[str, Any] = {"ok": False, "error_code": error.status, "description": text}
    if error.retry_after is not None:
        document["parameters"] = {"retry_after": error.retry_after}
    return _reply(error.status, document, delay)


def _reply(status: int, document: object, delay: float) -> Reply:
    return Reply(
        status, json.dumps(document).encode(), (("Content-Type", "application/json"),), delay
    )
