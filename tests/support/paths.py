"""Where things are: the checkout (ROOT), its fixtures and a free local port, defined once."""

from __future__ import annotations

import socket
from pathlib import Path

#: The checkout: rules/, areas.geojson, tests/fixtures/.
ROOT = Path(__file__).resolve().parents[2]
#: Recorded real payloads, one folder per feed.
FIXTURES = ROOT / "tests" / "fixtures"
#: The shipped areas file (34 kelurahan, 6 kecamatan).
AREAS_FILE = ROOT / "areas.geojson"


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
