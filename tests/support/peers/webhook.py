"""A local receiver for webhooks and ntfy topics: records every POST, answers `status`.

Each POST is recorded with its headers (the HMAC signature, an ntfy bearer
token) and its exact body bytes; the answer is `status` (200 with `{"id": n}`
by default) after `latency_s`, or a `Retry-After` with `retry_after` set.
Status and latency can be changed while it runs.  ntfy publishes JSON to the
server's root; a webhook to any path.
"""

from __future__ import annotations

import itertools
import json

from tests.support.peers.base import PeerServer, Recorded, Reply


class WebhookServer(PeerServer):
    """`server.url_for("/radio")` goes into a `[[webhooks]] url`; `server.url` an ntfy `url`."""

    def __init__(self, status: int = 200, latency_s: float = 0.0) -> None:
        super().__init__()
        self.status = status
        self.latency_s = latency_s
        self.retry_after: str | None = None
        self._ids = itertools.count(1)

    #: The posts received so far (JSON bodies), in arrival order.
    bodies = PeerServer.json_bodies

    def respond(self, request: Recorded) -> Reply:
        """The configured status (an id on success, Retry-After when set)."""
        del request
        ok = 200 <= self.status < 300
        document = {"id": f"msg-{next(self._ids)}"} if ok else {"error": "unavailable"}
        headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
        if self.retry_after is not None and not ok:
            headers += (("Retry-After", self.retry_after),)
        return Reply(self.status, json.dumps(document).encode(), headers, self.latency_s)
