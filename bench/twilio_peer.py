"""The local Twilio-compatible server in its own process, so it weighs nothing in our RSS.

Usage: `python -m bench.twilio_peer LATENCY_S [N_429]`.  Prints its base URL on
the first line of stdout, serves until stdin closes, then prints one JSON line:
the arrival times (`time.monotonic()`, comparable across processes on Linux)
of every Messages.json request and how many were answered 201.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.peers import TwilioServer


def main(argv: list[str]) -> int:
    """Serve until stdin closes; report the arrivals."""
    latency_s = float(argv[0])
    too_many = int(argv[1]) if len(argv) > 1 else 0
    with TwilioServer(latency_s=latency_s) as server:
        if too_many:
            server.fail_next(too_many, 429, 20429, retry_after="1")
        print(server.url, flush=True)
        sys.stdin.read()
        messages = server.messages()
        report = {
            "arrivals": [r.at for r in messages],
            "accepted": len(server.accepted()),
            "recipients": len({r.form.get("To") for r in server.accepted()}),
        }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
