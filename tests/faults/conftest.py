"""The fault-injection suite: every test prints what it injected and saw; a summary ends it."""

from __future__ import annotations

import collections

import pytest

_OUTCOMES: collections.Counter[str] = collections.Counter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Count each fault test outcome by module (feeds, twilio, crash, rules, storage)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        group = item.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        _OUTCOMES[f"{group}:{report.outcome}"] += 1
    return outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per fault group with passed/failed counts, then the total."""
    if not _OUTCOMES:
        return
    groups = sorted({key.split(":")[0] for key in _OUTCOMES})
    terminalreporter.section("fault injection summary")
    for group in groups:
        counts = {o: _OUTCOMES[f"{group}:{o}"] for o in ("passed", "failed", "skipped")}
        terminalreporter.write_line(
            f"{group}: {counts['passed']} survived, {counts['failed']} failed, "
            f"{counts['skipped']} skipped"
        )
    total = sum(v for k, v in _OUTCOMES.items() if k.endswith(":passed"))
    terminalreporter.write_line(
        f"faults injected and survived: {total} of {sum(_OUTCOMES.values())}"
    )
