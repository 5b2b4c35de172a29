"""Local peers for tests and benchmarks: feed, Twilio, siren, Telegram and webhook servers."""

from tests.support.peers.base import PeerServer, Recorded, Reply
from tests.support.peers.feed import Fault, FeedServer
from tests.support.peers.siren import SirenServer
from tests.support.peers.telegram import TelegramServer
from tests.support.peers.twilio import TwilioError, TwilioServer
from tests.support.peers.webhook import WebhookServer

__all__ = [
    "Fault",
    "FeedServer",
    "PeerServer",
    "Recorded",
    "Reply",
    "SirenServer",
    "TelegramServer",
    "TwilioError",
    "TwilioServer",
    "WebhookServer",
]
