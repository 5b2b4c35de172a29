"""A local feed server: recorded payloads per path, swappable at runtime, with faults.

`serve(path, payload)` sets what a path answers (bytes, or a file such as a
recorded payload from tests/fixtures/); `fault(path, Fault(...))` makes the
path misbehave (a status with an optional Retry-After, a delay beyond the
client's timeout, an HTML error page, an empty, truncated or oversize body, a
body trickled a byte at a time, a redirect, a reset connection) until
`heal(path)`, or for the next `times` requests only.
Every good answer carries an ETag and `If-None-Match` with the current one gets
304, as BMKG's and USGS's CDNs do.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.support.peers.base import PeerServer, Recorded, Reply

#: An error page as CDNs and load balancers serve them during maintenance.
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1><p>Sedang dalam pemeliharaan.</p></body></html>"
)

#: Content types by file suffix.
_TYPES = {".json": "application/json", ".geojson": "application/geo+json", ".xml": "text/xml"}


@dataclass(frozen=True, slots=True)
class Fault:
    """How a path misbehaves.  Combine freely; `times=None` means until healed.

    `status` answers with that code (and `retry_after` as `Retry-After`);
    `delay_s` waits before answering; `html` serves an HTML error page with 200
    (or with `status`); `empty` serves no body; `truncated` announces the full
    length but sends half and closes; `oversize_bytes` streams that many bytes;
    `reset` resets the connection; `body` replaces the payload (wrong schema,
    absurd values) while the path keeps its ETag logic off; `trickle_s` sends
    the body one byte every that many seconds (and the status line and headers before it
    when `trickle_headers` is set); `location` answers 302 (or
    `status`) with that `Location`.
    """

    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    html: bool = False
    empty: bool = False
    truncated: bool = False
    oversize_bytes: int = 0
    reset: bool = False
    body: bytes | None = None
    trickle_s: float = 0.0
    trickle_headers: bool = False
    location: str | None = None
    times: int | None = None

    def describe(self) -> str:
        """What is injected, in a few words (tests print it)."""
        parts = [f"{k}={v!r}" for k, v in _fields(self).items() if k != "body"]
        if self.body is not None:
            parts.append(f"body={self.body[:40]!r}...")
        return ", ".join(parts) or "nothing"


def _fields(fault: Fault) -> dict[str, object]:
    """The fields of a fault that differ from the defaults."""
    default = Fault()
    names = ("status", "retry_after", "delay_s", "html", "empty", "truncated")
    names += ("oversize_bytes", "reset", "trickle_s", "trickle_headers", "location", "times")
    return {n: getattr(fault, n) for n in names if getattr(fault, n) != getattr(default, n)}


@dataclass(frozen=True, slots=True)
class _Content:
    body: bytes
    content_type: str
    etag: str


class FeedServer(PeerServer):
    """Serves payloads per path; `url_for(path)` is what goes into `[feeds.<name>] url`."""

    def __init__(self) -> None:
        super().__init__()
        self._content: dict[str, _Content] = {}
        self._faults: dict[str, tuple[Fault, int | None]] = {}
        self._state = threading.Lock()

    def serve(self, path: str, payload: bytes | Path, content_type: str | None = None) -> None:
        """Answer `path` with this payload from now on (a file's suffix picks the type)."""
        if isinstance(payload, Path):
            content_type = content_type or _TYPES.get(payload.suffix, "text/plain")
            payload = payload.read_bytes()
        etag = '"' + hashlib.sha1(payload, usedforsecurity=False).hexdigest()[:16] + '"'
        with self._state:
            self._content[path] = _Content(payload, content_type or "application/json", etag)

    def fault(self, path: str, fault: Fault) -> None:
        """Make `path` misbehave as described (replacing any earlier fault)."""
        with self._state:
            self._faults[path] = (fault, fault.times)

    def heal(self, path: str | None = None) -> None:
        """Stop the fault on `path` (None: on every path)."""
        with self._state:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(path, None)

    def respond(self, request: Recorded) -> Reply:
        """The payload, a 304, or the injected fault."""
        path = request.path.split("?", 1)[0]
        with self._state:
            content = self._content.get(path)
            fault = self._take_fault(path)
        if fault is not None:
            return _faulty(fault, content)
        if content is None:
            return Reply(404, b'{"error": "not found"}', (("Content-Type", "application/json"),))
        headers = (("ETag", content.etag),)
        if request.header("If-None-Match") == content.etag:
            return Reply(304, headers=headers)
        return Reply(200, content.body, (("Content-Type", content.content_type), *headers))

    def _take_fault(self, path: str) -> Fault | None:
        """The fault for this request, counting down limited ones (lock held)."""
        entry = self._faults.get(path)
        if entry is None:
            return None
        fault, left = entry
        if left is not None:
            if left <= 1:
                del self._faults[path]
            else:
                self._faults[path] = (fault, left - 1)
        return fault


def _faulty(fault: Fault, content: _Content | None) -> Reply:
    """The reply a fault makes of the normal content."""
    body = content.body if content is not None else b""
    content_type = content.content_type if content is not None else "application/json"
    if fault.body is not None:
        body = fault.body
    if fault.html:
        body, content_type = HTML_ERROR_PAGE, "text/html; charset=utf-8"
    if fault.empty:
        body = b""
    headers: list[tuple[str, str]] = [("Content-Type", content_type)]
    if fault.retry_after is not None:
        headers.append(("Retry-After", fault.retry_after))
    if fault.location is not None:
        headers.append(("Location", fault.location))
    declared = len(body) if fault.truncated else None
    if fault.truncated:
        body = body[: len(body) // 2]
    return Reply(
        status=fault.status or (302 if fault.location is not None else 200),
        body=body,
        headers=tuple(headers),
        delay_s=fault.delay_s,
        reset=fault.reset,
        declared_length=declared,
        stream_bytes=fault.oversize_bytes,
        trickle_s=fault.trickle_s,
        trickle_headers=fault.trickle_headers,
    )
