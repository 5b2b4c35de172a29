"""Local peers for tests and benchmarks: feed, Twilio and siren servers, and a test deployment."""

from tests.support.peers.base import PeerServer, Recorded, Reply
from tests.support.peers.config import Deployment, TestContact, write_config
from tests.support.peers.feed import Fault, FeedServer
from tests.support.peers.siren import SirenServer
from tests.support.peers.twilio import TwilioError, TwilioServer

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
