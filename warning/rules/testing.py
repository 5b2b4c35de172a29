"""`warning rules test`: play scenarios against the rules and compare with expectations.

`play` is the simulated clock shared with `warning drill`: at every offset a
step or an expectation names, the step's observations join the history, the
engine evaluates, and the transitions are applied.  `run_scenario` checks what
the scenario expects at each of those moments; `report` prints `PASS name` or
`FAIL name` with every difference, then `N passed, M failed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warning.areas import AreaIndex
from warning.model import AlertState, AlertStatus, Level, Observation, Rule, Transition
from warning.rules.engine import StateKey, evaluate
from warning.rules.scenario import Expectation, Forbidden, Scenario, Step


@dataclass(frozen=True, slots=True)
class Tick:
    """One evaluation on the simulated clock, after its transitions were applied."""

    offset: timedelta
    time: datetime
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...]
    states: Mapping[StateKey, AlertStatus]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one scenario: every difference found (none: it passed)."""

    scenario: Scenario
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when the scenario went as expected."""
        return not self.failures


def play(
    scenario: Scenario, rules: Sequence[Rule], areas: AreaIndex, *, drill: bool = False
) -> Iterator[Tick]:
    """Evaluate after every step and at every expectation time, in order."""
    history: list[Observation] = []
    states: dict[StateKey, AlertStatus] = {}
    for offset in scenario.times():
        steps = tuple(s for s in scenario.steps if s.at == offset)
        for step in steps:
            history.extend(step.observations)
        now = scenario.start + offset
        transitions = evaluate(rules, history, areas, states, now, drill=drill)
        for transition in transitions:
            states[(transition.rule_id, transition.area_id)] = transition.status
        yield Tick(offset, now, steps, tuple(transitions), dict(states))


def run_scenario(scenario: Scenario, rules: Sequence[Rule], areas: AreaIndex) -> Outcome:
    """Play a scenario live (exercises make no transitions) and list what differed."""
    known = {rule.id for rule in rules}
    named = [(e.line, e.rule) for e in scenario.expect]
    named += [(f.line, f.rule) for f in scenario.expect_none]
    failures = [
        f'{_where(scenario, line)}: unknown rule "{rule_id}"'
        for line, rule_id in named
        if rule_id is not None and rule_id not in known
    ]
    if failures:
        return Outcome(scenario, tuple(failures))
    for tick in play(scenario, rules, areas):
        for expectation in (e for e in scenario.expect if e.at == tick.offset):
            failures += _check(scenario, expectation, tick, rules)
        for forbidden in scenario.expect_none:
            failures += _fired(scenario, forbidden, tick)
    return Outcome(scenario, tuple(failures))


def _check(
    scenario: Scenario, expectation: Expectation, tick: Tick, rules: Sequence[Rule]
) -> list[str]:
    """The areas whose state (and level) at this tick are not as expected."""
    rule_ids = [expectation.rule] if expectation.rule else [r.id for r in rules]
    wanted = _describe(expectation.state, expectation.level)
    failures = []
    for area_id in expectation.areas:
        actual = [_status(tick, rule_id, area_id) for rule_id in rule_ids]
        if not any(_matches(expectation, status) for status in actual):
            failures.append(
                f"{_where(scenario, expectation.line)}: at {format_offset(expectation.at)}, "
                f"{expectation.rule or 'any rule'} {area_id}: expected {wanted}, "
                f"got {_actual(actual)}"
            )
    return failures


def _fired(scenario: Scenario, forbidden: Forbidden, tick: Tick) -> list[str]:
    """Areas firing at this tick that must never fire."""
    return [
        f"{_where(scenario, forbidden.line)}: at {format_offset(tick.offset)}, "
        f"{status.rule_id} {status.area_id}: expected never to fire, got {_describe(status)}"
        for (rule_id, area_id), status in sorted(tick.states.items())
        if status.state is AlertState.FIRING
        and area_id in forbidden.areas
        and forbidden.rule in (None, rule_id)
    ]


def _status(tick: Tick, rule_id: str, area_id: str) -> AlertStatus:
    """The state of (rule, area) at this tick (inactive when never touched)."""
    return tick.states.get((rule_id, area_id), AlertStatus(rule_id, area_id))


def _matches(expectation: Expectation, status: AlertStatus) -> bool:
    """True when a status is in the expected state, and level when one is named."""
    if status.state is not expectation.state:
        return False
    return expectation.level is None or status.level is expectation.level


def _describe(state: AlertState | AlertStatus, level: Level | None = None) -> str:
    """`firing siaga`, `resolved`: a state and its level in an official's words."""
    if isinstance(state, AlertStatus):
        return _describe(state.state, state.level)
    return f"{state.value} {level.value}" if level else state.value


def _actual(statuses: Sequence[AlertStatus]) -> str:
    """What was found instead: one status, or the non-inactive ones of several rules."""
    if len(statuses) == 1:
        return _describe(statuses[0])
    active = [f"{s.rule_id} {_describe(s)}" for s in statuses if s.state is not AlertState.INACTIVE]
    return ", ".join(active) or "inactive for every rule"


def format_offset(offset: timedelta) -> str:
    """An offset written the way scenarios write it: 0s, 90s, 10m, 2h."""
    seconds = int(offset.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _where(scenario: Scenario, line: int) -> str:
    """`file:line` of an entry of the scenario."""
    return f"{scenario.path}:{line}"


def report(outcomes: Sequence[Outcome], write: Callable[[str], object]) -> int:
    """Print PASS/FAIL per scenario and `N passed, M failed`; 1 if anything failed."""
    for outcome in outcomes:
        write(f"{'PASS' if outcome.passed else 'FAIL'} {outcome.scenario.name}\n")
        for failure in outcome.failures:
            write(f"  {failure}\n")
    failed = sum(1 for o in outcomes if not o.passed)
    write(f"{len(outcomes) - failed} passed, {failed} failed\n")
    return 1 if failed else 0
