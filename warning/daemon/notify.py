"""systemd's notification protocol (sd_notify), without a dependency.

`Type=notify` units learn READY, WATCHDOG pings and STOPPING through a datagram
socket named in `$NOTIFY_SOCKET`; outside systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


def notify(message: str, socket_path: str | None = None) -> bool:
    """Send `message` (e.g. "READY=1") to systemd; False when not under systemd."""
    target = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
    if not target:
        return False
    # A leading "@" names a socket in the abstract namespace.
    address = "\0" + target[1:] if target.startswith("@") else target
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
        except OSError:
            return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of systemd's WatchdogSec for this process, or None when no watchdog is set."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000
