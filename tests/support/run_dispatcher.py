"""A sending process for the crash test: drain one state store into a Twilio-compatible API.

Usage: python -m tests.support.run_dispatcher STATE_DB API_BASE LEASE_S
Credentials come from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN as in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

from warning.delivery import build_channels
from warning.delivery.channel import ChannelSettings
from warning.delivery.dispatcher import Dispatcher
from warning.settings import Settings, SmsSettings, secret
from warning.store.sqlite import Store


def main(state: str, api_base: str, lease_s: str) -> int:
    """Send everything due; exit 0 when the outbox is drained."""
    settings = Settings(
        sms=SmsSettings(api_base=api_base, from_="BPBD-BPN", max_per_second=200.0, concurrency=16)
    )
    store = Store(Path(state))
    dispatcher = Dispatcher(
        store,
        build_channels(ChannelSettings.of(settings), None, secret),
        settings.sms,
        lease_s=float(lease_s),
    )
    drained = dispatcher.drain(timeout=120)
    dispatcher.close()
    return 0 if drained else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
