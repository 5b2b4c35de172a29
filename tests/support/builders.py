"""Builders shared by the dispatch tests: real areas, rules, transitions and contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from warning.model import (
    Action,
    AlertState,
    AlertStatus,
    Level,
    LevelStep,
    ObservationKind,
    Rule,
    Transition,
    TransitionKind,
)
from warning.plan.contacts import Contact

NOW = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


#: The helper rule's texts (the shipped rules' shape: level, facts, area, what to do).
MESSAGES = {
    "id": "{level} GEMPA M{magnitude} {time_wita} di {area}. Keluar dari bangunan retak.",
    "en": "{level} M{magnitude} QUAKE {time_wita} in {area}. Leave cracked buildings.",
}
END_MESSAGES = {
    "id": "Peringatan gempa untuk {area} berakhir.",
    "en": "The quake warning for {area} has ended.",
}


def rule(
    rule_id: str = "gempa",
    actions: Sequence[Action] = (Action.SMS,),
    recipients: Sequence[str] = (),
    **kwargs: object,
) -> Rule:
    """An earthquake rule with the given actions and recipient groups (siaga unless `levels`).

    Its messages are written as an official would: a warning and an ending.
    """
    kwargs.setdefault("levels", (LevelStep(Level.SIAGA),))
    kwargs.setdefault("messages", MESSAGES)
    kwargs.setdefault("end_messages", END_MESSAGES)
    return Rule(
        id=rule_id,
        name=str(kwargs.pop("name", "Gempa kuat")),
        kind=ObservationKind.EARTHQUAKE,
        actions=frozenset(actions),
        recipients=tuple(recipients),
        **kwargs,  # type: ignore[arg-type]
    )


def transitions(
    area_ids: Sequence[str],
    *,
    kind: TransitionKind = TransitionKind.FIRED,
    level: Level = Level.SIAGA,
    rule_id: str = "gempa",
    at: datetime = NOW,
    drill: bool = False,
) -> list[Transition]:
    """One transition per area, as the engine makes them in one evaluation."""
    ending = kind in (TransitionKind.RESOLVED, TransitionKind.TIMED_OUT)
    return [
        Transition(
            kind=kind,
            status=AlertStatus(
                rule_id=rule_id,
                area_id=area,
                state=AlertState.RESOLVED if ending else AlertState.FIRING,
                level=None if ending else level,
                alert_id=f"{rule_id}-{area}-1",
                event_id="ev-1",
                values={"magnitude": 6.1, "depth_km": 10.0},
                drill=drill,
            ),
            time=at,
            previous_level=level if ending else None,
        )
        for area in area_ids
    ]


def contact(
    phone: str,
    areas: Sequence[str],
    group: str = "public",
    language: str = "id",
    drill: bool = False,
) -> Contact:
    """A contact covering the given kelurahan ids."""
    return Contact(phone, f"Kontak {phone[-4:]}", frozenset(areas), group, language, drill)
