"""A local Telegram Bot API-compatible server: updates in, messages and posts out, files, faults.

`https://api.telegram.org/bot<token>/<method>` becomes `<url>/bot<token>/<method>`:
`getUpdates` long-polls (`offset`, `timeout`) the updates a test queued with
`push_*` (a user's text, a button press, a shared location, a photo);
`sendMessage` (a bot's reply, or a post to a channel) needs `chat_id` and
`text` and answers `{"ok": true, "result": {"message_id": n, ...}}`; every
other method is recorded and answered ok; `getFile` and `/file/bot<token>/<path>`
serve the photos a test registered.  A wrong token answers 401 as Telegram
does.  Each recorded request's `form` says `ok` ("true"/"false") and the
`message_id` given.  Faults: `fail_next(n, 429, retry_after)` (Telegram's flood
control, `parameters.retry_after`), `fail_next(n, 502)`, `fail_next(n, 400)`
("chat not found"), and `stall_next(n, seconds)` delays answers.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
class Sent:
    """One Bot API call the bot made (other than getUpdates): method and parameters."""

    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text, for sendMessage."""
        return str(self.params.get("text", ""))


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
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._queued = threading.Condition()
        self._files: dict[str, bytes] = {}
        self._errors: list[BotError] = []
        self._stalls: list[float] = []
        self.calls: list[Sent] = []

    # -- what users do -----------------------------------------------------------------------

    def push(self, chat: int, **message: Any) -> None:
        """Queue a message update from user `chat` in the private chat `chat`."""
        body = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Warga", "language_code": "id"},
            **message,
        }
        self._queue({"message": body})

    def push_text(self, chat: int, text: str) -> None:
        """The user writes `text`."""
        self.push(chat, text=text)

    def push_button(self, chat: int, data: str) -> None:
        """The user presses an inline button carrying `data`."""
        query = {
            "id": str(next(self._ids)),
            "from": {"id": chat, "is_bot": False, "first_name": "Warga", "language_code": "id"},
            "message": {"message_id": 1, "chat": {"id": chat, "type": "private"}},
            "data": data,
        }
        self._queue({"callback_query": query})

    def push_location(self, chat: int, lon: float, lat: float) -> None:
        """The user shares a location."""
        self.push(chat, location={"longitude": lon, "latitude": lat})

    def push_photo(self, chat: int, data: bytes, caption: str = "") -> None:
        """The user sends a photo (served by getFile and the file URL)."""
        file_id = f"foto-{next(self._ids)}"
        self._files[file_id] = data
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 64, "height": 48}
        extra = {"caption": caption} if caption else {}
        self.push(chat, photo=[{**size, "file_size": len(data)}], **extra)

    def _queue(self, update: dict[str, Any]) -> None:
        with self._queued:
            self._updates.append({"update_id": next(self._ids), **update})
            self._queued.notify_all()

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 429, retry_after: int | None = None) -> None:
        """Answer the next `count` calls (getUpdates included) with this error.

        A 429 without `retry_after` asks for 1 second, as Telegram always names one.
        """
        wait = 1 if status == 429 and retry_after is None else retry_after
        with self._queued:
            self._errors += [BotError(status, wait)] * count

    def stall_next(self, count: int, seconds: float) -> None:
        """Delay the next `count` answers by `seconds`."""
        with self._queued:
            self._stalls += [seconds] * count

    # -- what the bot did --------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat: int | None = None) -> list[Sent]:
        """The accepted calls of `method` so far (to `chat`)."""
        with self._queued:
            found = [c for c in self.calls if c.method == method]
        return [c for c in found if chat is None or int(c.params.get("chat_id", 0)) == chat]

    def wait_sent(self, count: int, timeout: float = 10.0, chat: int | None = None) -> list[Sent]:
        """Block until `count` messages were sent (to `chat`), or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(chat=chat)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.sent(chat=chat)

    def posts(self) -> list[dict[str, Any]]:
        """The parameters of the sendMessage calls answered ok, in arrival order."""
        return [dict(c.params) for c in self.sent()]

    # -- answering ---------------------------------------------------------------------------

    def answer(self, request: Recorded) -> tuple[Recorded, Reply]:
        """Answer one call; the recorded form says whether it was accepted and its message id."""
        reply, accepted = self._route(request)
        stall = self._next_stall()
        reply = dataclasses.replace(reply, delay_s=reply.delay_s + self.latency_s + stall)
        form = {"ok": "true", "message_id": str(accepted)} if accepted else {"ok": "false"}
        return dataclasses.replace(request, form=form), reply

    def _route(self, request: Recorded) -> tuple[Reply, int]:
        """Files, a wrong token, an injected fault, or a method; and the message id given (0)."""
        path = urlsplit(request.path).path
        if path.startswith(f"/file/bot{self.token}/"):
            return self._file(path.rsplit("/", 1)[1]), 0
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return _error(BotError(401)), 0
        fault = self._next_fault()
        if fault is not None:
            return _error(fault), 0
        return self._method(path.removeprefix(prefix), _params(request))

    def _method(self, method: str, params: dict[str, Any]) -> tuple[Reply, int]:
        """getUpdates long-polls; getFile finds a photo; every other call is recorded."""
        if method == "getUpdates":
            return _json(200, {"ok": True, "result": self._poll(params)}), 0
        if method == "sendMessage" and not (params.get("chat_id") and params.get("text")):
            return _error(BotError(400)), 0
        with self._queued:
            self.calls.append(Sent(method, params))
        if method == "getFile":
            return self._get_file(str(params.get("file_id"))), 0
        message_id = next(self._ids)
        chat = {"id": params.get("chat_id"), "type": "channel"}
        result = {"message_id": message_id, "chat": chat, "date": 0, "text": params.get("text")}
        return _json(200, {"ok": True, "result": result}), message_id

    def _get_file(self, file_id: str) -> Reply:
        """getFile: where a registered photo can be downloaded."""
        if file_id not in self._files:
            return _json(400, {"ok": False, "error_code": 400, "description": "file not found"})
        found = {"file_id": file_id, "file_path": f"photos/{file_id}.jpg"}
        return _json(200, {"ok": True, "result": found})

    def _next_fault(self) -> BotError | None:
        with self._queued:
            return self._errors.pop(0) if self._errors else None

    def _next_stall(self) -> float:
        with self._queued:
            return self._stalls.pop(0) if self._stalls else 0.0

    def _poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Updates from `offset` on, waiting up to `timeout` seconds for one (long polling)."""
        offset = int(params.get("offset", 0) or 0)
        deadline = time.monotonic() + min(float(params.get("timeout", 0) or 0), 5.0)
        with self._queued:
            # Telegram forgets updates below the offset once it is confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._queued.wait(deadline - time.monotonic())
            return list(self._updates)

    def _file(self, name: str) -> Reply:
        file_id = name.removesuffix(".jpg")
        if file_id not in self._files:
            return Reply(404)
        return Reply(200, self._files[file_id], (("Content-Type", "image/jpeg"),))


def _params(request: Recorded) -> dict[str, Any]:
    """A call's parameters: query string, JSON body or form body."""
    found: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
    if request.body:
        content = request.header("content-type") or ""
        if content.startswith("application/json"):
            found.update(json.loads(request.body))
        else:
            found.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
    return found


def _error(error: BotError) -> Reply:
    """A Bot API error document (`parameters.retry_after` on a 429)."""
    text = _DESCRIPTIONS.get(error.status, "Error").format(retry_after=error.retry_after)
    document: dict[str, Any] = {"ok": False, "error_code": error.status, "description": text}
    if error.retry_after is not None:
        document["parameters"] = {"retry_after": error.retry_after}
    return _json(error.status, document)


def _json(status: int, body: object) -> Reply:
    return Reply(status, json.dumps(body).encode(), (("Content-Type", "application/json"),))
