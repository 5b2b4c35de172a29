"""Sending an operator command's own rows now, beside or instead of the daemon.

The command claims only the rows of its own changes (`Dispatcher(changes=)`),
through the same atomic, leased claims the daemon uses, so whichever process
claims a row first sends it and the other never does.  Rows still open when
the time is up stay in the outbox for the daemon (or a later command).
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections import Counter
from collections.abc import Collection, Sequence

from warning.areas import AreaIndex
from warning.delivery import build_channels
from warning.delivery.channel import LogChannel
from warning.delivery.dispatcher import Dispatcher
from warning.model import ChannelKind
from warning.operations import OperatorSettings
from warning.plan.contacts import Contact
from warning.settings import secret
from warning.store.outbox import change_counts
from warning.store.sqlite import Store

#: How long a command sends its own rows by default before leaving them to the daemon.
DEFAULT_WAIT_S = 60.0
_OPEN = ("pending", "claimed")
#: What an operator reads for each channel's rows.
_LABELS = {ChannelKind.SMS: "SMS", ChannelKind.SIREN: "siren commands", ChannelKind.CAP: "CAP"}


def actor(override: str | None) -> str:
    """Who runs the command: --actor, else the sudo caller, else the login name."""
    if override:
        return override
    return os.environ.get("SUDO_USER") or getpass.getuser()


def send_own(
    settings: OperatorSettings,
    store: Store,
    change_ids: Sequence[str],
    areas: AreaIndex,
    *,
    contacts: Sequence[Contact] = (),
    wait_s: float = DEFAULT_WAIT_S,
) -> Counter[str]:
    """Send the rows of `change_ids` until none is open or `wait_s` passes; their counts."""
    channels = build_channels(settings.channels, areas, secret)
    for kind, channel in list(channels.items()):
        if isinstance(channel, LogChannel):
            # It only logs (no credentials in this shell, no sirens configured): never
            # call that "sent".  The rows stay pending for the running daemon.
            del channels[kind]
            sys.stdout.write(
                f"{_LABELS.get(kind, kind.value)} logged only, not sent: {channel.reason};"
                " the running daemon sends them\n"
            )
    dispatcher = Dispatcher(
        store,
        channels,
        settings.channels.sms,
        siren=settings.channels.siren,
        contacts=contacts,
        changes=change_ids,
    )
    deadline = time.monotonic() + wait_s
    try:
        while _open(store, change_ids, channels) and time.monotonic() < deadline:
            if not dispatcher.run_once():
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
    finally:
        dispatcher.close()
    return change_counts(store, change_ids)


def _open(store: Store, change_ids: Collection[str], channels: Collection[ChannelKind]) -> bool:
    """True while rows of these changes that this command can send are still open."""
    counts = change_counts(store, change_ids, channels)
    return any(counts[s] for s in _OPEN)


def summary(counts: Counter[str]) -> str:
    """'sent 12, pending 1' in a stable order."""
    order = ("sent", "pending", "claimed", "failed", "superseded")
    return ", ".join(f"{s} {counts[s]}" for s in order if counts[s]) or "nothing to send"
