"""Local peers for tests and benchmarks: feed, Twilio and siren servers, and a test deployment."""

from tests.peers.base import PeerServer, Recorded, Reply
from tests.peers.config import Deployment, TestContact, write_config
from tests.peers.feed import Fault, FeedServer
from tests.peers.siren import SirenServer
from tests.peers.twilio import TwilioError, TwilioServer

__all__ = [
    "Deployment",
    "Fault",
    "FeedServer",
    "PeerServer",
    "Recorded",
    "Reply",
    "SirenServer",
    "TestContact",
    "TwilioError",
    "TwilioServer",
    "write_config",
]
