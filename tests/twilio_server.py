"""Kept for imports elsewhere: the Twilio-compatible server now lives in tests/peers."""

from tests.peers.base import Recorded
from tests.peers.twilio import TwilioServer

__all__ = ["Recorded", "TwilioServer"]
