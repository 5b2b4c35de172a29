"""Starting a drill from the console: a shipped scenario played in the background.

The drill is `warning drill`'s own code (`daemon.drill.run_drill`), run on a
thread of the console process so the page stays responsive; one drill at a
time.  Its start and end are in the audit log with the operator's name (the
console shows the LATIHAN banner from there), and the last report is kept
for the drill page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import structlog

from warning.daemon.drill import DrillOptions, DrillSetup, run_drill
from warning.daemon.drillreport import DrillReport
from warning.operations import OperationError

log = structlog.get_logger()


def scenarios(folder: Path) -> list[str]:
    """The shipped scenario files in `folder` an operator may start (names without .yaml)."""
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


class DrillRunner:
    """At most one console-started drill at a time, and the last report."""

    def __init__(self, folder: Path, setup: Callable[[], DrillSetup]) -> None:
        #: The shipped scenarios (the rules directory's tests/).
        self.folder = folder
        #: Loads the drill's configuration anew for each run (the files as they are now).
        self._setup = setup
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.report: DrillReport | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        """Whether a drill started here is still playing."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, scenario: str, who: str, speed: float) -> None:
        """Play `scenario` (a name from `scenarios`) as a drill, `speed` times faster."""
        if scenario not in scenarios(self.folder):
            raise OperationError(f'unknown scenario "{scenario}"')
        if not 0 < speed <= 3600:
            raise OperationError("speed must be above 0 and at most 3600")
        path = self.folder / f"{scenario}.yaml"
        with self._lock:
            if self.running:
                raise OperationError("a drill is already running: wait for its report")
            options = DrillOptions(speed=speed, actor=who)
            self._thread = threading.Thread(
                target=self._run, args=(path, options), name="console-drill", daemon=True
            )
            self._thread.start()

    def _run(self, path: Path, options: DrillOptions) -> None:
        """The drill thread: a failure is reported on the drill page, never raised."""
        try:
            self.report, self.error = run_drill(self._setup(), path, options), None
        except Exception as exc:  # a broken scenario or settings must not kill the console
            log.exception("console.drill_failed", scenario=path.stem)
            self.error = str(exc)

    def join(self, timeout: float) -> None:
        """Wait for the running drill (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
