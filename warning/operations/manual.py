"""`warning alert send`: an operator's own alert, planned like a rule's (pure).

The text is the operator's, in GSM-7, in one segment: it is refused, not cut,
when too long, and starts with the level word when it does not say it.  SMS
go to every contact covering one of the areas (officials first, then those
who relay, then the others); sirens only when asked and at siaga or awas;
a CAP document when the hazard kind is given (CAP needs its category).
The alert's id, `manual-<UTC time>`, is also its "rule": `warning alert
cancel manual-...` corrects it like any other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from warning.areas import AreaIndex
from warning.model import (
    AlertChange,
    ChangeKind,
    ChannelKind,
    Level,
    ObservationKind,
    PlannedDelivery,
    SirenCommand,
    TransitionKind,
    dedup_key,
    utc,
)
from warning.operations import OperationError
from warning.operations.targets import MANUAL_PREFIX
from warning.plan.contacts import Contact
from warning.plan.messages import (
    ACTIONS,
    LANGUAGES,
    SEGMENT,
    area_phrase,
    gsm7_units,
    to_gsm7,
)
from warning.plan.notices import MANUAL_ALERT_NAME
from warning.plan.payloads import CapAlert, CapChange
from warning.plan.planner import PRIORITY_CAP, group_priority, siren_triggers
from warning.settings import SirenSettings


@dataclass(frozen=True, slots=True)
class ManualAlert:
    """What the operator asked for."""

    area_ids: tuple[str, ...]
    level: Level
    message: str
    sirens: bool = False
    kind: ObservationKind | None = None


def select_areas(areas: AreaIndex, selector: str) -> tuple[str, ...]:
    """Kelurahan of a comma-separated selector (all, coastal, kecamatan:<id>, area ids)."""
    words = [w.strip() for w in selector.split(",") if w.strip()]
    if not words:
        raise OperationError("--areas is empty: name kelurahan, kecamatan, coastal or all")
    try:
        return areas.select(words)
    except KeyError as exc:
        raise OperationError(f"--areas: {exc.args[0]}") from None


def body(alert: ManualAlert) -> str:
    """The SMS text: GSM-7, level word first unless the operator wrote it; refused if too long."""
    text = to_gsm7(" ".join(alert.message.split()))
    if not text:
        raise OperationError("--message is empty")
    if alert.level.word not in text.upper():
        text = f"{alert.level.word}: {text}"
    units = gsm7_units(text)
    if units > SEGMENT:
        raise OperationError(
            f"the message is {units} GSM-7 characters with its level word; at most {SEGMENT}"
            " fit one SMS: shorten it"
        )
    return text


def manual_change(alert: ManualAlert, now: datetime) -> AlertChange:
    """The change record of a manual alert: no rule decided it, its id is its subject."""
    change_id = f"{MANUAL_PREFIX}{utc(now):%Y%m%dT%H%M%S%fZ}"
    return AlertChange(
        id=change_id,
        rule_id="",
        kind=TransitionKind.FIRED,
        level=alert.level,
        previous_level=None,
        area_ids=alert.area_ids,
        time=utc(now),
        drill=False,
        transitions=(),
        origin=ChangeKind.MANUAL,
        subject=change_id,
    )


def plan_manual(
    alert: ManualAlert,
    change: AlertChange,
    contacts: Sequence[Contact],
    sirens: Sequence[SirenSettings],
    areas: AreaIndex,
    *,
    opted_out: Collection[str] = frozenset(),
) -> list[PlannedDelivery]:
    """Sirens (if asked), SMS by group order, then CAP (if a kind is given)."""
    if alert.sirens and alert.level < Level.SIAGA:
        raise OperationError("sirens sound only at siaga or awas: drop --siren or raise --level")
    text = body(alert)
    command = SirenCommand.ATTACK if change.level is Level.AWAS else SirenCommand.ALERT
    planned = siren_triggers(change, command, sirens, areas) if alert.sirens else []
    for c in contacts:
        touched = tuple(a for a in alert.area_ids if a in c.areas)
        if touched and c.phone not in opted_out:
            payload = {"to": c.phone, "body": text, "language": c.language}
            planned.append(
                PlannedDelivery(
                    change, ChannelKind.SMS, c.phone, touched, payload, group_priority(c.group)
                )
            )
    if alert.kind is not None:
        planned.append(_cap(change, alert, alert.kind, areas, text))
    return sorted(planned, key=lambda p: p.priority)


def _cap(
    change: AlertChange, alert: ManualAlert, kind: ObservationKind, areas: AreaIndex, text: str
) -> PlannedDelivery:
    """The CAP document of a manual alert, in both languages (the text as written)."""
    names = [areas.get(a).name for a in change.area_ids]
    cap = CapAlert(
        change_id=change.id,
        dedup_key=dedup_key(change.id, ChannelKind.CAP, "cap"),
        rule_id=change.scope,
        rule_name=MANUAL_ALERT_NAME,
        kind=kind,
        change=CapChange.FIRED,
        level=alert.level,
        area_ids=change.area_ids,
        sent=change.time,
        drill=change.drill,
        episodes=(change.id,),
        headline={lang: f"{alert.level.word}: {area_phrase(names, lang)}" for lang in LANGUAGES},
        description=dict.fromkeys(LANGUAGES, text),
        instruction={lang: ACTIONS[lang][alert.level] for lang in LANGUAGES},
        expires=None,
    )
    return PlannedDelivery(
        change, ChannelKind.CAP, "cap", change.area_ids, cap.to_json(), PRIORITY_CAP
    )
