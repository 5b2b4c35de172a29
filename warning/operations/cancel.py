"""`warning alert cancel`: end an alert and correct, through the outbox, what it said.

In the caller's transaction, for each target (one rule's episodes, or a
manual alert):

- the engine episodes become CANCELLED (logged in alert_log with who and
  why), so the daemon does not fire them again for the same event (see
  rules/engine.py);
- one cancel change is enqueued: `all-clear` to every siren that was
  triggered (sent, or in flight) for the alert, a correction SMS to exactly
  the numbers whose SMS about it were sent or in flight (naming the areas
  each was told about), and a CAP Cancel (transition `cancelled_by_operator`,
  threaded on the same episodes) when CAP documents were written for it;
- unsent SMS and siren rows of the alert are superseded by the outbox's rule
  (a newer change of the rule covering their areas).

A row in flight at the moment of the cancel counts as received: a needless
correction is better than a false alert left uncorrected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from warning.areas import AreaIndex
from warning.model import (
    BROADCAST_KINDS,
    AlertChange,
    AlertState,
    ChangeKind,
    ChannelKind,
    ObservationKind,
    PlannedDelivery,
    SirenCommand,
    Transition,
    TransitionKind,
    dedup_key,
    utc,
)
from warning.operations.targets import CancelTarget
from warning.plan.broadcast import correction_post
from warning.plan.correction import INSTRUCTIONS, correction_sms, what
from warning.plan.payloads import CapAlert, CapChange, siren_payload
from warning.plan.planner import PRIORITY_CAP
from warning.store import outbox
from warning.store import targets as records
from warning.store.sqlite import Store

#: Siren commands that sounded an alert (a drill's test tone needs no all-clear).
SOUNDING = frozenset({"alert", "attack"})
#: Changes whose messages announced the alert (not its end).
_CANCELLED = {"id": "DIBATALKAN", "en": "CANCELLED"}


@dataclass(frozen=True, slots=True)
class Received:
    """One recipient (phone or siren) of an alert, and the target areas they heard about."""

    recipient: str
    area_ids: tuple[str, ...]
    payload: Mapping[str, object]
    priority: int


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What one cancel did, for the command's output and the audit log."""

    change_id: str
    rule_id: str
    episodes: tuple[str, ...]
    area_ids: tuple[str, ...]
    sms: tuple[str, ...]
    sirens: tuple[str, ...]
    cap: bool
    superseded: int

    def as_json(self) -> dict[str, object]:
        """JSON-able form."""
        return {name: getattr(self, name) for name in self.__slots__}


def received(tx: sqlite3.Connection, target: CancelTarget, channel: ChannelKind) -> list[Received]:
    """Who got (or is being sent) the alert on `channel`, each once with their areas."""
    rows = records.delivered(tx, target.rule_id, target.drill, channel.value)
    found: dict[str, Received] = {}
    for r in rows:
        start = target.since.get(r["area_id"])
        if start is None or datetime.fromisoformat(r["time"]) < start:
            continue
        payload = json.loads(r["payload_json"])
        if channel is ChannelKind.SIREN and payload.get("command") not in SOUNDING:
            continue
        old = found.get(r["recipient"])
        areas = (*old.area_ids, r["area_id"]) if old else (r["area_id"],)
        priority = min(r["priority"], old.priority) if old else r["priority"]
        found[r["recipient"]] = Received(
            r["recipient"], tuple(dict.fromkeys(areas)), payload, priority
        )
    return list(found.values())


def last_cap_payload(tx: sqlite3.Connection, target: CancelTarget) -> CapAlert | None:
    """The newest CAP payload published (or to be published) about the target's areas."""
    rows = records.cap_payloads(tx, target.rule_id, target.drill)
    for r in rows:
        payload = CapAlert.from_json(json.loads(r["payload_json"]))
        touched = [a for a in payload.area_ids if a in target.since]
        if any(datetime.fromisoformat(r["time"]) >= target.since[a] for a in touched):
            return payload
    return None


def cancel_change(
    target: CancelTarget, areas: AreaIndex, now: datetime, actor: str, reason: str
) -> AlertChange:
    """The change record of one cancel, with the episodes' CANCELLED transitions."""
    transitions = tuple(
        Transition(
            TransitionKind.CANCELLED,
            replace(s, state=AlertState.CANCELLED, since=utc(now), last_notified=utc(now)),
            utc(now),
            s.level,
            f"cancelled by operator {actor}: {reason}",
        )
        for s in target.episodes
    )
    identity = [target.rule_id, target.drill, target.area_ids, utc(now).isoformat()]
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:20]
    return AlertChange(
        id=f"cancel-{digest}",
        rule_id="" if target.manual else target.rule_id,
        origin=ChangeKind.CANCEL,
        subject=target.rule_id if target.manual else "",
        kind=TransitionKind.CANCELLED,
        level=target.level,
        previous_level=target.level,
        area_ids=tuple(a.id for a in areas.kelurahan if a.id in target.since) or target.area_ids,
        time=utc(now),
        drill=target.drill,
        transitions=transitions,
    )


def plan_cancel(
    tx: sqlite3.Connection,
    target: CancelTarget,
    change: AlertChange,
    areas: AreaIndex,
    *,
    reason: str,
    kind: ObservationKind | None,
) -> list[PlannedDelivery]:
    """Siren all-clears, corrections (SMS, posts) and the CAP Cancel of a target, sirens first."""
    cap = last_cap_payload(tx, target)
    if kind is None and cap is not None:
        kind = cap.kind
    planned = [_siren(change, r) for r in received(tx, target, ChannelKind.SIREN)]
    planned += [_sms(change, r, areas, reason, kind) for r in received(tx, target, ChannelKind.SMS)]
    planned += [
        _post(change, channel, r, areas, reason=reason, kind=kind)
        for channel in BROADCAST_KINDS
        for r in received(tx, target, channel)
    ]
    if cap is not None:
        planned.append(_cap(change, target, cap, areas, reason=reason, kind=kind))
    return sorted(planned, key=lambda p: p.priority)


def _siren(change: AlertChange, got: Received) -> PlannedDelivery:
    stored = got.payload.get("duration_s", 0)  # the trigger's own duration, an int
    duration_s = stored if isinstance(stored, int) else 0
    payload = siren_payload(SirenCommand.ALL_CLEAR, duration_s, change.id, drill=change.drill)
    return PlannedDelivery(change, ChannelKind.SIREN, got.recipient, got.area_ids, payload, 0)


def _sms(
    change: AlertChange,
    got: Received,
    areas: AreaIndex,
    reason: str,
    kind: ObservationKind | None,
) -> PlannedDelivery:
    language = str(got.payload.get("language") or "id")
    names = _names(areas, got.area_ids)
    body = correction_sms(language, change.alert_level, kind, names, reason, drill=change.drill)
    payload = {"to": got.recipient, "body": body, "language": language}
    return PlannedDelivery(
        change, ChannelKind.SMS, got.recipient, got.area_ids, payload, got.priority
    )


def _post(
    change: AlertChange,
    channel: ChannelKind,
    got: Received,
    areas: AreaIndex,
    *,
    reason: str,
    kind: ObservationKind | None,
) -> PlannedDelivery:
    """The correction to a chat, topic or receiver that got the alert: the SMS's words."""
    text = correction_sms(
        "id", change.alert_level, kind, _names(areas, got.area_ids), reason, drill=False
    )
    return correction_post(change, channel, got.recipient, got.area_ids, text=text, areas=areas)


def _cap(
    change: AlertChange,
    target: CancelTarget,
    base: CapAlert,
    areas: AreaIndex,
    *,
    reason: str,
    kind: ObservationKind | None,
) -> PlannedDelivery:
    """The CAP Cancel: the last document's alert, withdrawn, with the reason."""
    episodes = target.episode_ids or base.episodes
    names = _names(areas, change.area_ids)
    texts = {
        lang: correction_sms(lang, change.alert_level, kind, names, reason, drill=False)
        for lang in ("id", "en")
    }
    headline = {
        lang: f"{what(change.alert_level, kind, lang)}: {word}" for lang, word in _CANCELLED.items()
    }
    cap = dataclasses.replace(
        base,
        change_id=change.id,
        dedup_key=dedup_key(change.id, ChannelKind.CAP, "cap"),
        change=CapChange.CANCELLED_BY_OPERATOR,
        area_ids=change.area_ids,
        sent=change.time,
        drill=change.drill,
        episodes=tuple(episodes) or (change.id,),
        episode_areas={s.alert_id: s.area_id for s in target.episodes},
        headline=headline,
        description=texts,
        instruction=dict(INSTRUCTIONS),
        expires=None,
    )
    return PlannedDelivery(
        change, ChannelKind.CAP, "cap", change.area_ids, cap.to_json(), PRIORITY_CAP
    )


def _names(areas: AreaIndex, area_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(areas.get(a).name if a in areas else a for a in area_ids)


def apply_cancel(
    store: Store,
    tx: sqlite3.Connection,
    target: CancelTarget,
    areas: AreaIndex,
    *,
    now: datetime,
    actor: str,
    reason: str,
    kind: ObservationKind | None = None,
) -> CancelOutcome:
    """End the target's episodes and enqueue its corrections, in the caller's transaction."""
    change = cancel_change(target, areas, now, actor, reason)
    planned = plan_cancel(tx, target, change, areas, reason=reason, kind=kind)
    store.apply_transitions(tx, change.transitions)
    if not planned:
        # Nothing was received: still record the change, so unsent rows are superseded.
        outbox.record_change(tx, change)
    outbox.enqueue(tx, planned)
    superseded = records.superseded_count(tx, target.rule_id, target.drill, change.time.isoformat())
    return CancelOutcome(
        change_id=change.id,
        rule_id=target.rule_id,
        episodes=target.episode_ids,
        area_ids=change.area_ids,
        sms=tuple(p.recipient for p in planned if p.channel is ChannelKind.SMS),
        sirens=tuple(p.recipient for p in planned if p.channel is ChannelKind.SIREN),
        cap=any(p.channel is ChannelKind.CAP for p in planned),
        superseded=int(superseded),
    )
