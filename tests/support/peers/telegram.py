"""A local Telegram Bot API-compatible server: updates in, messages out, files, faults.

`https://api.telegram.org/bot<token>/<method>` becomes `<url>/bot<token>/<method>`:
`getUpdates` long-polls (`offset`, `timeout`) the updates a test queued with
`push_*` (a user's text, a button press, a shared location, a photo);
`sendMessage`, `answerCallbackQuery` and every other method are recorded and
answered `{"ok": true, "result": ...}`; `getFile` and `/file/bot<token>/<path>`
serve the photos a test registered.  A wrong token answers 401 as Telegram
does.  Faults: `fail_next(n, 429, retry_after)` (Telegram's flood control,
`parameters.retry_after`) or `fail_next(n, 502)`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.peers.base import PeerServer, Recorded, Reply

TOKEN = "123456:uji-token-bot-rahasia"


@dataclass(frozen=True, slots=True)
class Sent:
    """One Bot API call the bot made (other than getUpdates): method and parameters."""

    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text, for sendMessage."""
        return str(self.params.get("text", ""))


class TelegramServer(PeerServer):
    """Start with `with TelegramServer() as server:`; `server.url` is `[telegram] api_base`."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._queued = threading.Condition()
        self._files: dict[str, bytes] = {}
        self._faults: list[tuple[int, int | None]] = []
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
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "width": 64,
                "height": 48,
                "file_size": len(data),
            }
        ]
        extra = {"caption": caption} if caption else {}
        self.push(chat, photo=sizes, **extra)

    def _queue(self, update: dict[str, Any]) -> None:
        with self._queued:
            self._updates.append({"update_id": next(self._ids), **update})
            self._queued.notify_all()

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 429, retry_after: int | None = 1) -> None:
        """Answer the next `count` calls (getUpdates included) with this error."""
        with self._queued:
            self._faults += [(status, retry_after)] * count

    # -- what the bot did --------------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat: int | None = None) -> list[Sent]:
        """The calls of `method` so far (to `chat`)."""
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

    # -- answering ---------------------------------------------------------------------------

    def respond(self, request: Recorded) -> Reply:
        """Route one Bot API call: files, a wrong token, an injected fault, or a method."""
        path = urlsplit(request.path).path
        if path.startswith(f"/file/bot{self.token}/"):
            return self._file(path.rsplit("/", 1)[1])
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        return self._fault() or self._method(path.removeprefix(prefix), _params(request))

    def _method(self, method: str, params: dict[str, Any]) -> Reply:
        """getUpdates long-polls; getFile finds a photo; every other call is recorded."""
        if method == "getUpdates":
            return _json(200, {"ok": True, "result": self._poll(params)})
        with self._queued:
            self.calls.append(Sent(method, params))
        if method == "getFile":
            return self._get_file(str(params.get("file_id")))
        return _json(200, {"ok": True, "result": {"message_id": next(self._ids)}})

    def _get_file(self, file_id: str) -> Reply:
        """getFile: where a registered photo can be downloaded."""
        if file_id not in self._files:
            return _json(400, {"ok": False, "error_code": 400, "description": "file not found"})
        found = {"file_id": file_id, "file_path": f"photos/{file_id}.jpg"}
        return _json(200, {"ok": True, "result": found})

    def _fault(self) -> Reply | None:
        with self._queued:
            if not self._faults:
                return None
            status, retry_after = self._faults.pop(0)
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": "injected"}
        if status == 429:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        return _json(status, body)

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


def _json(status: int, body: object) -> Reply:
    return Reply(status, json.dumps(body).encode(), (("Content-Type", "application/json"),))
