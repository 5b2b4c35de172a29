"""The daemon's clock: wall time at start, advanced by the monotonic clock.

The engine judges expiries and the tsunami safety timeout on the `now` it is
given.  A wall clock stepped by 13 h (a bad RTC, an NTP step) must not look
like 13 h of silence from BMKG, so the daemon's `now` advances only as much
as time really passed; a step is logged (once per step) for an operator, and a
restart adopts the wall clock again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

log = structlog.get_logger()

#: Disagreement between wall and steady time that counts as a clock step.
STEP_TOLERANCE_S = 60.0


def wall_now() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(UTC)


class SteadyClock:
    """`now` for the daemon: never jumps with the wall clock."""

    def __init__(
        self,
        wall: Callable[[], datetime] = wall_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._start = wall()
        self._start_mono = monotonic()
        self._stepped = False

    def __call__(self) -> datetime:
        """Start's wall time plus the monotonic time elapsed since."""
        steady = self._start + timedelta(seconds=self._monotonic() - self._start_mono)
        skew_s = (self._wall() - steady).total_seconds()
        stepped = abs(skew_s) > STEP_TOLERANCE_S
        if stepped and not self._stepped:
            log.warning(
                "clock.stepped",
                skew_s=round(skew_s),
                message="the wall clock jumped; timeouts follow the time really elapsed",
            )
        self._stepped = stepped
        return steady
