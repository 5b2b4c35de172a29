"""What `warning alert cancel ID` ends: an id resolved to (rule, areas) episodes.

Accepted ids, tried in this order:

1. an engine episode id (`AlertStatus.alert_id`, what `warning status` shows):
   that one (rule, kelurahan) episode, which must be firing;
2. an outbox change id (`chg-...`, the `change_id` of `warning outbox --json`):
   every episode of that change's rule, in that change's kelurahan, that was
   already active when the change was made and is still firing;
3. a manual alert id (`manual-...`, printed by `warning alert send`): that
   alert's kelurahan (manual alerts have no engine episode).

Deliveries made for a target from each kelurahan's episode start on are the
ones a cancel corrects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from warning.model import AlertState, AlertStatus, ChangeKind, Level
from warning.operations import OperationError
from warning.store import targets as records
from warning.store.sqlite import Store

MANUAL_PREFIX = "manual-"


@dataclass(frozen=True, slots=True)
class CancelTarget:
    """One rule's (or manual alert's) alert to cancel in some kelurahan.

    `since` maps each kelurahan to the start of the episode being cancelled;
    `episodes` are the engine statuses to end (none for a manual alert).
    """

    rule_id: str
    drill: bool
    level: Level
    since: Mapping[str, datetime]
    episodes: tuple[AlertStatus, ...] = ()
    manual: bool = False

    @property
    def area_ids(self) -> tuple[str, ...]:
        """The kelurahan of the target, sorted."""
        return tuple(sorted(self.since))

    @property
    def episode_ids(self) -> tuple[str, ...]:
        """The engine alert ids ended, sorted."""
        return tuple(sorted({s.alert_id for s in self.episodes}))


def resolve(store: Store, ids: Sequence[str]) -> list[CancelTarget]:
    """The targets of `ids`, merged per (rule, drill); OperationError naming every bad id."""
    found: list[CancelTarget] = []
    errors: list[str] = []
    for given in dict.fromkeys(ids):
        try:
            found.append(_resolve_one(store, given))
        except OperationError as exc:
            errors.append(str(exc))
    if errors:
        raise OperationError("; ".join(errors))
    return merge(found)


def _resolve_one(store: Store, given: str) -> CancelTarget:
    """One id (episode, change or manual alert) as a target; the module docstring says the order."""
    statuses = _all_states(store)
    episode = next((s for s in statuses if s.alert_id == given), None)
    if episode is not None:
        return _episode_target(episode)
    change = records.change_row(store, given)
    if change is None:
        raise OperationError(f'unknown alert id "{given}" (see `warning status --json`)')
    areas = records.change_areas(store, given)
    if change["origin"] == ChangeKind.MANUAL.value:
        return _manual_target(store, change, areas)
    return _change_target(change, areas, statuses)


def _all_states(store: Store) -> list[AlertStatus]:
    """Live and drill statuses."""
    live = store.load_states(drill=False).values()
    return [*live, *store.load_states(drill=True).values()]


def _episode_target(status: AlertStatus) -> CancelTarget:
    """An engine episode, which must be firing."""
    if status.state is not AlertState.FIRING or status.level is None:
        state = status.state.value
        raise OperationError(f'alert "{status.alert_id}" is not firing (it is {state})')
    start = status.active_since or status.since
    assert start is not None  # a firing status always has a start
    return CancelTarget(
        status.rule_id, status.drill, status.level, {status.area_id: start}, (status,)
    )


def _change_target(
    change: sqlite3.Row, areas: Iterable[str], statuses: Iterable[AlertStatus]
) -> CancelTarget:
    """The episodes a rule's change announced that still fire."""
    at = datetime.fromisoformat(change["time"])
    wanted = set(areas)
    firing = [
        s
        for s in statuses
        if s.rule_id == change["rule_id"]
        and s.drill == bool(change["drill"])
        and s.area_id in wanted
        and s.state is AlertState.FIRING
        and (s.active_since or at) <= at
    ]
    if not firing:
        raise OperationError(f'alert "{change["change_id"]}" is no longer firing anywhere')
    return merge([_episode_target(s) for s in firing])[0]


def _manual_target(store: Store, change: sqlite3.Row, areas: Sequence[str]) -> CancelTarget:
    """A manual alert, unless an operator already cancelled it."""
    if records.is_cancelled(store, change["rule_id"]):
        raise OperationError(f'manual alert "{change["change_id"]}" is already cancelled')
    at = datetime.fromisoformat(change["time"])
    return CancelTarget(
        change["rule_id"],
        bool(change["drill"]),
        Level(change["level"]),
        dict.fromkeys(areas, at),
        manual=True,
    )


def merge(targets: Iterable[CancelTarget]) -> list[CancelTarget]:
    """Targets of the same (rule, drill) as one: one cancel message per rule."""
    merged: dict[tuple[str, bool], CancelTarget] = {}
    for t in targets:
        key = (t.rule_id, t.drill)
        old = merged.get(key)
        if old is None:
            merged[key] = t
            continue
        episodes = {s.alert_id: s for s in (*old.episodes, *t.episodes)}
        merged[key] = CancelTarget(
            t.rule_id,
            t.drill,
            max(old.level, t.level),
            {**old.since, **t.since},
            tuple(episodes[k] for k in sorted(episodes)),
            t.manual,
        )
    return list(merged.values())
