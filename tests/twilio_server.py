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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request the server received."""

    at: float  # time.time() on arrival
    path: str
    form: dict[str, str]


class TwilioServer:
    """Start with `with TwilioServer() as server:`; `server.url` is the api_base."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to put in `[sms] api_base`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> TwilioServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

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
