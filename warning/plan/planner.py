"""The pure decision of who gets what: transitions in, planned deliveries out.

No I/O and no clock: the same transitions, rules, contacts and sirens always
give the same deliveries with the same dedup keys, which is what lets the
outbox refuse a second copy when an evaluation is replayed.

Grouping: the notifiable transitions of one rule to one level with one
TransitionKind in one evaluation form one `AlertChange`; its id is derived
from its members.  Each recipient (or siren) gets one delivery per change,
however many of their areas it touches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warning.areas import AreaIndex
from warning.delivery.channel import ChannelKind
from warning.model import Action, Level, ObservationKind, Rule, Transition, TransitionKind, utc
from warning.plan.contacts import Contact
from warning.plan.messages import (
    ACTIONS,
    ENDING_KINDS,
    LANGUAGES,
    MessageContext,
    area_phrase,
    render,
    with_source,
)
from warning.plan.payloads import CapAlert, CapChange, SirenCommand
from warning.settings import SirenSettings

PRIORITY_SIREN = 0
PRIORITY_CAP = 40
#: SMS priority by contact group: officials act first, then those who relay to neighbourhoods.
GROUP_PRIORITY: Mapping[str, int] = {"officials": 10, "rt-heads": 20, "siskamling": 20}
PRIORITY_OTHER_GROUPS = 30


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One rule's notifiable change to one level in one evaluation, over its areas."""

    id: str
    rule_id: str
    kind: TransitionKind
    level: Level
    previous_level: Level | None
    area_ids: tuple[str, ...]
    time: datetime
    drill: bool
    transitions: tuple[Transition, ...]

    @property
    def ending(self) -> bool:
        """True when the change ends the alert (all-clear)."""
        return self.kind in ENDING_KINDS


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """A delivery the outbox should hold: one recipient of one change on one channel."""

    change: AlertChange
    channel: ChannelKind
    recipient: str
    area_ids: tuple[str, ...]
    payload: Mapping[str, Any]
    priority: int

    @property
    def alert_id(self) -> str:
        """The change this delivery belongs to."""
        return self.change.id

    @property
    def drill(self) -> bool:
        """True for drill deliveries."""
        return self.change.drill

    @property
    def dedup_key(self) -> str:
        """Unique per change x channel x recipient: a replayed plan cannot enqueue twice."""
        return dedup_key(self.change.id, self.channel, self.recipient)


def dedup_key(change_id: str, channel: ChannelKind, recipient: str) -> str:
    """The outbox's unique key of one delivery."""
    return f"{change_id}:{channel.value}:{recipient}"


def plan(
    transitions: Iterable[Transition],
    rules: Mapping[str, Rule] | Iterable[Rule],
    contacts: Sequence[Contact],
    sirens: Sequence[SirenSettings],
    areas: AreaIndex,
    *,
    drill: bool,
    now: datetime,
    opted_out: Collection[str] = frozenset(),
    drill_all: bool = False,
    drill_siren_command: str = "test",
    channels: Collection[ChannelKind] = frozenset(ChannelKind),
) -> list[PlannedDelivery]:
    """Every delivery the notifiable `transitions` imply, sirens first, then SMS, then CAP.

    `drill` marks the evaluation as a drill: only contacts with drill=true
    (all of them with `drill_all`) get SMS, and sirens get `drill_siren_command`
    (`none`: no siren at all).  Numbers in `opted_out` get nothing.  Only the
    `channels` asked for are planned: the daemon commits sirens and CAP before
    it plans the SMS fan-out, whose size grows with the contacts file.
    """
    by_id = dict(rules) if isinstance(rules, Mapping) else {r.id: r for r in rules}
    planned: list[PlannedDelivery] = []
    for change in group_changes(transitions, areas, drill=drill):
        rule = by_id.get(change.rule_id)
        if rule is None:
            continue
        if Action.SIREN in rule.actions and ChannelKind.SIREN in channels:
            planned += _sirens(change, rule, sirens, areas, drill_siren_command)
        if Action.SMS in rule.actions and ChannelKind.SMS in channels:
            audience = _audience(rule, contacts, opted_out, drill and not drill_all)
            planned += _sms(change, rule, audience, areas)
        if Action.CAP in rule.actions and ChannelKind.CAP in channels:
            planned.append(_cap(change, rule, areas, now))
    return sorted(planned, key=lambda p: p.priority)


def unsilenced(
    transitions: Iterable[Transition], rules: Iterable[Rule], silenced: Collection[str]
) -> list[Transition]:
    """The transitions whose rule is not silenced; a BMKG tsunami relay is never held back.

    A silence (maintenance, a known false source) holds back a rule's notifications,
    not its state: the alert still shows, and the silence is visible beside it.
    """
    relays = {r.id for r in rules if r.kind is ObservationKind.TSUNAMI_WARNING}
    return [t for t in transitions if t.rule_id not in silenced or t.rule_id in relays]


def group_changes(
    transitions: Iterable[Transition], areas: AreaIndex, *, drill: bool
) -> list[AlertChange]:
    """Notifiable transitions grouped per (rule, kind, level), in first-seen order."""
    groups: dict[tuple[str, TransitionKind, Level], list[Transition]] = {}
    for t in transitions:
        if t.kind.notifies and t.level is not None:
            groups.setdefault((t.rule_id, t.kind, t.level), []).append(t)
    return [_change(key, members, areas, drill) for key, members in groups.items()]


def _change(
    key: tuple[str, TransitionKind, Level],
    members: Sequence[Transition],
    areas: AreaIndex,
    drill: bool,
) -> AlertChange:
    """One AlertChange with an id derived from its members."""
    rule_id, kind, level = key
    area_ids = _ordered(areas, {t.area_id for t in members})
    members_key = sorted([t.area_id, t.status.alert_id, utc(t.time).isoformat()] for t in members)
    identity = [rule_id, kind.value, level.value, drill, members_key]
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:20]
    return AlertChange(
        id=f"chg-{digest}",
        rule_id=rule_id,
        kind=kind,
        level=level,
        previous_level=members[0].previous_level,
        area_ids=area_ids,
        time=max(utc(t.time) for t in members),
        drill=drill,
        transitions=tuple(members),
    )


def _ordered(areas: AreaIndex, ids: Collection[str]) -> tuple[str, ...]:
    """Kelurahan ids in the city's (Kemendagri) order; unknown ids keep their place last."""
    known = [a.id for a in areas.kelurahan if a.id in ids]
    return tuple(known + sorted(set(ids) - set(known)))


def _names(areas: AreaIndex, ids: Iterable[str]) -> tuple[str, ...]:
    """Display names, the id itself for an area the index does not know."""
    return tuple(areas.get(i).name if i in areas else i for i in ids)


# ---------------------------------------------------------------------------
# Sirens


def siren_command(change: AlertChange, rule: Rule, drill_command: str) -> SirenCommand | None:
    """What sirens do for this change, or None: below siaga they stay silent unless allowed.

    A siren means "act now", so a live alert falling from siaga or awas to
    waspada tells the sirens `all-clear` (people on the coast stop evacuating
    and follow the SMS); its later end then needs no second all-clear.
    """
    if not _loud(change.level, rule):
        return SirenCommand.ALL_CLEAR if _quietened(change, rule) else None
    if change.drill:
        # A drill sounds the configured test once; its end needs no all-clear tone.
        return None if change.ending or drill_command == "none" else SirenCommand(drill_command)
    if change.ending:
        return SirenCommand.ALL_CLEAR
    return SirenCommand.ATTACK if change.level is Level.AWAS else SirenCommand.ALERT


def _loud(level: Level, rule: Rule) -> bool:
    """True when sirens sound at `level` for this rule."""
    return level >= Level.SIAGA or rule.allow_siren_below_siaga


def _quietened(change: AlertChange, rule: Rule) -> bool:
    """A live de-escalation from a siren level to a silent one."""
    previous = change.previous_level
    deescalated = change.kind is TransitionKind.DEESCALATED and not change.drill
    return deescalated and previous is not None and _loud(previous, rule)


def _sirens(
    change: AlertChange,
    rule: Rule,
    sirens: Sequence[SirenSettings],
    areas: AreaIndex,
    drill_command: str,
) -> list[PlannedDelivery]:
    """The rule's siren command, if any, for every siren whose areas meet the change's."""
    command = siren_command(change, rule, drill_command)
    return [] if command is None else siren_triggers(change, command, sirens, areas)


def siren_triggers(
    change: AlertChange, command: SirenCommand, sirens: Sequence[SirenSettings], areas: AreaIndex
) -> list[PlannedDelivery]:
    """One `command` trigger per siren whose areas meet the change's (rules and manual alerts)."""
    planned = []
    for siren in sirens:
        reach = set(_siren_areas(siren, areas))
        covered = tuple(a for a in change.area_ids if a in reach)
        if not covered:
            continue
        payload = {
            "command": command.value,
            "duration_s": siren.duration_s,
            "alert_id": change.id,
            "drill": change.drill,
        }
        planned.append(
            PlannedDelivery(change, ChannelKind.SIREN, siren.id, covered, payload, PRIORITY_SIREN)
        )
    return planned


def _siren_areas(siren: SirenSettings, areas: AreaIndex) -> tuple[str, ...]:
    """Kelurahan a siren covers; unknown selectors are reported by `warning check`, not here."""
    chosen: list[str] = []
    for selector in siren.areas:
        try:
            chosen += areas.select(selector)
        except KeyError:
            continue
    return tuple(chosen)


# ---------------------------------------------------------------------------
# SMS


def _audience(
    rule: Rule, contacts: Sequence[Contact], opted_out: Collection[str], drill_only: bool
) -> list[Contact]:
    """Contacts of the rule's groups, minus opted-out numbers, drill volunteers in a drill."""
    return [
        c
        for c in contacts
        if (not rule.recipients or c.group in rule.recipients)
        and c.phone not in opted_out
        and (c.drill or not drill_only)
    ]


def group_priority(group: str) -> int:
    """Sending priority of a contact group (lower first)."""
    return GROUP_PRIORITY.get(group, PRIORITY_OTHER_GROUPS)


def _sms(
    change: AlertChange, rule: Rule, audience: Sequence[Contact], areas: AreaIndex
) -> list[PlannedDelivery]:
    """One SMS per contact whose areas meet the change's, naming their affected areas."""
    planned = []
    templates = rule.templates_for(change.level)
    # A city's contacts share a few (areas, language) pairs: each text is rendered once.
    bodies: dict[tuple[tuple[str, ...], str], str] = {}
    for contact in audience:
        touched = tuple(a for a in change.area_ids if a in contact.areas)
        if not touched:
            continue
        key = (touched, contact.language)
        if key not in bodies:
            bodies[key] = render(templates, _context(change, rule, areas, touched), key[1])
        body = bodies[key]
        payload = {"to": contact.phone, "body": body, "language": contact.language}
        priority = group_priority(contact.group)
        planned.append(
            PlannedDelivery(change, ChannelKind.SMS, contact.phone, touched, payload, priority)
        )
    return planned


def _context(
    change: AlertChange, rule: Rule, areas: AreaIndex, area_ids: Sequence[str]
) -> MessageContext:
    """What a message about `change` says, for the areas one recipient cares about."""
    status = change.transitions[0].status
    return MessageContext(
        kind=rule.kind,
        transition=change.kind,
        level=change.level,
        area_names=_names(areas, area_ids),
        time=change.time,
        values=dict(status.values),
        event=rule.name,
        drill=change.drill,
    )


# ---------------------------------------------------------------------------
# CAP


def _cap(change: AlertChange, rule: Rule, areas: AreaIndex, now: datetime) -> PlannedDelivery:
    """The CAP row: everything the CAP channel needs to write the document itself."""
    first = change.transitions[0]
    context = _context(change, rule, areas, change.area_ids)
    expires = None
    if rule.expire_after is not None and not change.ending:
        expires = change.time + rule.expire_after
    headline, description, instruction = _cap_texts(rule, context)
    alert = CapAlert(
        alert_id=change.id,
        dedup_key=dedup_key(change.id, ChannelKind.CAP, "cap"),
        rule_id=rule.id,
        rule_name=rule.name,
        kind=rule.kind,
        change=_cap_transition(change.kind),
        level=change.level,
        previous_level=change.previous_level,
        area_ids=change.area_ids,
        sent=utc(now),
        event_id=first.status.event_id,
        values=dict(first.status.values),
        drill=change.drill,
        episodes=tuple(sorted({t.status.alert_id for t in change.transitions})),
        headline=headline,
        description=description,
        instruction=instruction,
        expires=expires,
    )
    return PlannedDelivery(
        change, ChannelKind.CAP, "cap", change.area_ids, alert.to_json(), PRIORITY_CAP
    )


def _cap_transition(kind: TransitionKind) -> CapChange:
    """The contract's transition word (an operator's cancel has its own)."""
    if kind is TransitionKind.CANCELLED:
        return CapChange.CANCELLED_BY_OPERATOR
    return CapChange(kind.value)


def _cap_texts(
    rule: Rule, context: MessageContext
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """headline, description and instruction, each in id and en."""
    plain = dataclasses.replace(context, drill=False)
    ending = context.transition in ENDING_KINDS
    headline = {
        lang: f"{context.level.word} {rule.name}: {area_phrase(context.area_names, lang)}"
        for lang in LANGUAGES
    }
    description = {
        lang: with_source(render(rule.templates_for(context.level), plain, lang), rule.kind, lang)
        for lang in LANGUAGES
    }
    instruction = {lang: ACTIONS[lang][None if ending else context.level] for lang in LANGUAGES}
    return headline, description, instruction


# ---------------------------------------------------------------------------
# Operational messages


def operator_sms(
    change_id: str,
    subject: str,
    phones: Sequence[str],
    body: str,
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """SMS that no rule decided (a silent siren, a test message) as deliveries of one change.

    `subject` stands in for the rule id (`siren:<id>`, `send-test`), so a newer
    message about the same subject supersedes an unsent older one.
    """
    change = _operator_change(change_id, subject, drill=drill, now=now)
    return [
        PlannedDelivery(
            change,
            ChannelKind.SMS,
            phone,
            (),
            {"to": phone, "body": body, "language": "id"},
            GROUP_PRIORITY["officials"],
        )
        for phone in dict.fromkeys(phones)
    ]


def operator_sirens(
    change_id: str,
    subject: str,
    sirens: Sequence[SirenSettings],
    command: SirenCommand,
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """Siren commands that no rule decided (the monthly test, an operator's stop)."""
    change = _operator_change(change_id, subject, drill=drill, now=now)
    return [
        PlannedDelivery(
            change,
            ChannelKind.SIREN,
            siren.id,
            (),
            {
                "command": command.value,
                "duration_s": siren.duration_s,
                "alert_id": change_id,
                "drill": drill,
            },
            PRIORITY_SIREN,
        )
        for siren in sirens
    ]


def _operator_change(change_id: str, subject: str, *, drill: bool, now: datetime) -> AlertChange:
    """The change record behind deliveries an operator or the daemon itself decided."""
    return AlertChange(
        id=change_id,
        rule_id=subject,
        kind=TransitionKind.FIRED,
        level=Level.WASPADA,
        previous_level=None,
        area_ids=(),
        time=utc(now),
        drill=drill,
        transitions=(),
    )
