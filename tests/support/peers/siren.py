"""A local siren controller: records POSTed commands and acknowledges them.

Each POST is recorded with its JSON body (`command`, `duration_s`,
`change_id`, `drill`) and its Authorization header; the answer is `status`
(200 with `{"id": ...}` by default) after `latency_s`.  Both can be changed
while it runs, to make a controller slow, failing or refusing.
"""

from __future__ import annotations

import itertools
import json

from tests.support.peers.base import PeerServer, Recorded, Reply


class SirenServer(PeerServer):
    """`server.url_for("/sirene-manggar")` goes into a `[[sirens]] url`."""

    def __init__(self, status: int = 200, latency_s: float = 0.0) -> None:
        super().__init__()
        self.status = status
        self.latency_s = latency_s
        self._ids = itertools.count(1)

    #: The commands received so far (JSON bodies), in arrival order.
    commands = PeerServer.json_bodies

    def respond(self, request: Recorded) -> Reply:
        """The configured status, with an acknowledgement id on success."""
        document = {"id": f"ack-{next(self._ids)}"} if 200 <= self.status < 300 else {"error": "x"}
        headers = (("Content-Type", "application/json"),)
        return Reply(self.status, json.dumps(document).encode(), headers, self.latency_s)
