"""A local Twilio-compatible Messages API on 127.0.0.1 that records every request.

Threaded, so concurrent senders overlap as they would against Twilio; each
POST to `/2010-04-01/Accounts/<sid>/Messages.json` is recorded with its form
fields and arrival time, and answered after `latency_s` with Twilio-shaped
201 JSON.  Shared by the crash and rate tests and the benchmarks.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.local_server import LocalServer


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request the server received."""

    at: float  # time.time() on arrival
    path: str
    form: dict[str, str]


class TwilioServer(LocalServer):
    """Start with `with TwilioServer() as server:`; `server.url` is the api_base."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        super().__init__()

    def record(self, path: str, form: dict[str, str]) -> str:
        """Keep one request; return the message SID it gets."""
        with self._lock:
            self.requests.append(Recorded(time.time(), path, form))
            return f"SM{next(self._sids):032x}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                fields = parse_qs(self.rfile.read(length).decode())
                form = {k: v[0] for k, v in fields.items()}
                sid = server.record(self.path, form)
                time.sleep(server.latency_s)
                body = json.dumps(
                    {
                        "sid": sid,
                        "status": "queued",
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "num_segments": "1",
                    }
                ).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                """Quiet: tests read the recorded requests instead."""

        return Handler
