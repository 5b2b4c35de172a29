"""Builders for engine tests: rules written as data, observations, and a state keeper."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.areas import city
from warning.areas import AreaIndex
from warning.model import (
    Action,
    Aggregation,
    AlertStatus,
    AllOf,
    Comparison,
    Condition,
    Expression,
    Level,
    LevelStep,
    Observation,
    ObservationKind,
    Rule,
    Transition,
    Value,
)
from warning.rules.engine import StateKey, evaluate

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
#: Balikpapan city centre and a point 300 km away in the Makassar Strait.
CITY = (116.83, -1.25)
FAR = (119.5, -1.0)


def areas() -> AreaIndex:
    """The shipped areas of Balikpapan."""
    return city()


def at(minutes: float = 0) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def cond(
    name: str, op: str, operand: Any, over: timedelta | None = None, agg: str = ""
) -> Condition:
    """One condition as an official writes it."""
    aggregation = Aggregation(agg) if agg else None
    return Condition(name, Comparison(op), operand, over=over, agg=aggregation)


def rule(
    rule_id: str,
    kind: ObservationKind,
    when: Expression | None = None,
    levels: Sequence[tuple[str, Expression | None]] = (("waspada", None),),
    **options: Any,
) -> Rule:
    """A validated rule built directly (no YAML)."""
    steps = tuple(LevelStep(Level(name), w) for name, w in levels)
    return Rule(id=rule_id, name=rule_id, kind=kind, levels=steps, when=when, **options)


def quake_rule(**options: Any) -> Rule:
    """M >= 6.0 shallower than 70 km within 100 km: siaga from M 7."""
    when = AllOf(
        (cond("magnitude", ">=", 6.0), cond("depth_km", "<", 70), cond("distance_km", "<=", 100))
    )
    levels = (("waspada", None), ("siaga", cond("magnitude", ">=", 7.0)))
    return rule("gempa-kuat", ObservationKind.EARTHQUAKE, when, levels, **options)


def rain_rule(**options: Any) -> Rule:
    """100 mm in 24 h: waspada; 150 mm: siaga."""
    day = timedelta(hours=24)
    levels = (
        ("waspada", cond("precipitation_mm", ">=", 100, day, "sum")),
        ("siaga", cond("precipitation_mm", ">=", 150, day, "sum")),
    )
    options.setdefault("areas", ("graha-indah",))
    return rule("hujan-24j", ObservationKind.RAINFALL, None, levels, **options)


def tsunami_rule(**options: Any) -> Rule:
    """Relay InaTEWS levels for Balikpapan to coastal kelurahan."""
    levels = (
        ("waspada", cond("level", "==", "waspada")),
        ("siaga", cond("level", "==", "siaga")),
        ("awas", cond("level", "==", "awas")),
    )
    when = cond("level", "in", ("waspada", "siaga", "awas"))
    options.setdefault("areas", ("coastal",))
    options.setdefault("actions", frozenset({Action.SMS, Action.SIREN}))
    return rule("tsunami", ObservationKind.TSUNAMI_WARNING, when, levels, **options)


def obs(kind: ObservationKind, values: Mapping[str, Value], **fields: Any) -> Observation:
    """An observation with defaults: source test, time T0."""
    fields.setdefault("source", "test")
    fields.setdefault("event_id", "e1")
    fields.setdefault("time", T0)
    return Observation(kind=kind, values=values, **fields)


def quake(magnitude: float, where: tuple[float, float] = CITY, **fields: Any) -> Observation:
    """A shallow earthquake reported by BMKG."""
    fields.setdefault("source", "bmkg-autogempa")
    fields.setdefault("event_id", "q1")
    values = {"magnitude": magnitude, "depth_km": fields.pop("depth_km", 10.0)}
    return obs(ObservationKind.EARTHQUAKE, values, lon=where[0], lat=where[1], **fields)


def tsunami(level: str, bulletin: int, area_ids: Sequence[str], **fields: Any) -> Observation:
    """An InaTEWS bulletin of event ts1."""
    fields.setdefault("source", "inatews")
    fields.setdefault("event_id", "ts1")
    values: dict[str, Value] = {"level": level, "bulletin": bulletin, "magnitude": 7.8}
    return obs(ObservationKind.TSUNAMI_WARNING, values, area_ids=tuple(area_ids), **fields)


def rain(mm: float, minutes: float, area: str = "graha-indah", **fields: Any) -> Observation:
    """An hour of rain over one kelurahan."""
    fields.setdefault("source", "open-meteo")
    fields.setdefault("event_id", f"r{minutes}")
    values = {"precipitation_mm": mm, "period_s": 3600}
    return obs(ObservationKind.RAINFALL, values, area_ids=(area,), time=at(minutes), **fields)


@dataclass
class Keeper:
    """What the daemon does around the engine: keep history and apply transitions."""

    rules: Sequence[Rule]
    index: AreaIndex
    drill: bool = False
    history: list[Observation] = field(default_factory=list)
    states: dict[StateKey, AlertStatus] = field(default_factory=dict)

    def step(self, minutes: float, new: Iterable[Observation] = ()) -> list[Transition]:
        """Receive observations at T0 + minutes, evaluate, apply; check idempotence."""
        self.history.extend(new)
        now = at(minutes)
        transitions = evaluate(
            self.rules, self.history, self.index, self.states, now, drill=self.drill
        )
        for t in transitions:
            self.states[(t.rule_id, t.area_id)] = t.status
        again = evaluate(self.rules, self.history, self.index, self.states, now, drill=self.drill)
        assert again == [], f"not idempotent at {now}: {again}"
        return transitions

    def status(self, area_id: str, rule_id: str | None = None) -> AlertStatus:
        """The stored status of (rule, area); the only rule when not named."""
        rid = rule_id or self.rules[0].id
        return self.states.get((rid, area_id), AlertStatus(rid, area_id))


def kinds(transitions: Iterable[Transition], area_id: str | None = None) -> list[str]:
    """Transition kinds, optionally of one area."""
    return [t.kind.value for t in transitions if area_id is None or t.area_id == area_id]


def with_values(o: Observation, **values: Value) -> Observation:
    """The observation with some values changed."""
    return replace(o, values={**o.values, **values})
