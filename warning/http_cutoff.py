"""The total deadline of a fetch, held even while a server trickles its status line and headers.

Socket timeouts bound each read, never their sum: a server sending one byte
every 1.5 s keeps a 10 s read timeout happy for ever, and while requests waits
for the headers inside http.client no code of ours runs to look at the clock.
So every fetch runs under a `Cutoff`: a timer that, at the deadline, shuts down
the sockets of the connections the fetch used (`shutdown` wakes a thread blocked
in `recv`, `close` would not).  The blocked read then ends with a connection
error, which `HttpClient` reports as the deadline it is.

`GuardedAdapter` is how connections reach the cutoff: its pools hand each
connection a request is made on to the cutoff of the fetch running in the same
thread (`CutoffSlot`, one per client, thread-local because the daemon polls
several feeds at once through one client).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import requests.adapters
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager


class Cutoff:
    """One fetch's watchdog: at `deadline` (a `time.monotonic()` value) its sockets are shut."""

    def __init__(self, deadline: float) -> None:
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self.fired = False
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()

    def watch(self, connection: Any) -> None:
        """Cut `connection` at the deadline (at once when it has passed already)."""
        with self._lock:
            self._connections.append(connection)
            if self.fired:
                _shut(connection)

    def _fire(self) -> None:
        """The deadline: shut every socket the fetch used."""
        with self._lock:
            self.fired = True
            for connection in self._connections:
                _shut(connection)


def _shut(connection: Any) -> None:
    """Shut the connection's socket both ways, if it has one (it may not be connected yet)."""
    sock: socket.socket | None = getattr(connection, "sock", None)
    if sock is None:
        return
    # OSError: already closed by the other side or by urllib3, nothing left to cut.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class CutoffSlot(threading.local):
    """The cutoff of the fetch running in this thread (None between fetches)."""

    current: Cutoff | None = None


class _GuardedPoolMixin:
    """A pool that hands each connection a request is made on to the running fetch's cutoff."""

    slot: CutoffSlot | None = None

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        cutoff = self.slot.current if self.slot is not None else None
        if cutoff is not None:
            # Registered before the request: the socket is looked up when the cutoff
            # fires, so a connection opened inside the request is cut as well.
            cutoff.watch(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class _GuardedPool(_GuardedPoolMixin, HTTPConnectionPool):
    """Plain HTTP."""


class _GuardedHTTPSPool(_GuardedPoolMixin, HTTPSConnectionPool):
    """HTTPS."""


_POOLS = {"http": _GuardedPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections (direct or through an HTTP proxy) obey `slot`."""

    def __init__(self, slot: CutoffSlot) -> None:
        self.slot = slot
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # a SOCKS manager keeps its own pools
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> HTTPConnectionPool:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        if isinstance(pool, _GuardedPoolMixin):
            pool.slot = self.slot
        return pool  # type: ignore[return-value]  # urllib3 types it wider than requests
