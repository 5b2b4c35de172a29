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

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from warning.areas import AreaIndex
from warning.model import (
    OFFICIALS_GROUP,
    Action,
    AlertChange,
    Audience,
    ChangeKind,
    ChannelKind,
    Level,
    ObservationKind,
    PlannedDelivery,
    Rule,
    SirenCommand,
    Transition,
    TransitionKind,
    dedup_key,
    utc,
)
from warning.plan.acklinks import AckLinks, with_link
from warning.plan.contacts import Contact
from warning.plan.messages import (
    LANGUAGES,
    render_plain,
    safety_timeout_sms,
    with_source,
)
from warning.plan.payloads import AREA_SLOT, CapAlert, CapChange, siren_payload
from warning.rules import templates
from warning.rules.events import EVENT_KINDS
from warning.rules.schema import END_REASONS
from warning.settings import SirenSettings

PRIORITY_SIREN = 0
PRIORITY_CAP = 40
#: SMS priority by contact group: officials act first, then those who relay to neighbourhoods.
GROUP_PRIORITY: Mapping[str, int] = {OFFICIALS_GROUP: 10, "rt-heads": 20, "siskamling": 20}
PRIORITY_OTHER_GROUPS = 30


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
    links: AckLinks | None = None,
    channels: Collection[ChannelKind] = frozenset(ChannelKind),
) -> list[PlannedDelivery]:
    """Every delivery the notifiable `transitions` imply, sirens first, then SMS, then CAP.

    `drill` marks the evaluation as a drill: only contacts with drill=true
    (all of them with `drill_all`) get SMS, and sirens get `drill_siren_command`
    (`none`: no siren at all).  Numbers in `opted_out` get nothing.  With
    `links`, the SMS of the groups that acknowledge end with their signed link.
    Only the `channels` asked for are planned: the daemon commits sirens and CAP
    first and plans the SMS fan-out, whose size grows with the contacts file, after them.
    """
    by_id = dict(rules) if isinstance(rules, Mapping) else {r.id: r for r in rules}
    planned: list[PlannedDelivery] = []
    messages: list[_Candidate] = []
    for change, rule in ruled_changes(transitions, by_id, areas, drill=drill):
        if change.kind is TransitionKind.TIMED_OUT:
            # A safety timeout never tells the public it is safe: no all-clear siren,
            # SMS or CAP; the officials hear that BMKG's end was not received, once per
            # event however many rules timed out (once_per_person weighs the notices).
            if ChannelKind.SMS in channels:
                drill_only = drill and not drill_all
                officials = [c for c in contacts if c.group == OFFICIALS_GROUP]
                messages += _timeout_notice(
                    change, rule, _audience(rule, officials, opted_out, drill_only)
                )
            continue
        public = change.audience is Audience.PUBLIC
        if Action.SIREN in rule.actions and public and ChannelKind.SIREN in channels:
            planned += _sirens(change, rule, sirens, areas, drill_siren_command)
        if Action.SMS in rule.actions and ChannelKind.SMS in channels:
            drill_only = drill and not drill_all
            audience = _audience(rule, contacts, opted_out, drill_only, officials_only=not public)
            messages += _sms(change, rule, audience, areas, links)
        if Action.CAP in rule.actions and public and ChannelKind.CAP in channels:
            planned.append(_cap(change, rule, areas, now))
    planned += once_per_person(messages)
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


def ruled_changes(
    transitions: Iterable[Transition],
    rules: Mapping[str, Rule],
    areas: AreaIndex,
    *,
    drill: bool,
) -> Iterator[tuple[AlertChange, Rule]]:
    """Each change of `group_changes` with its rule (a change whose rule is gone is skipped).

    The planner and the broadcast posts walk the same changes: a post shares
    its change id with the sirens, SMS and CAP of the same change.
    """
    for change in group_changes(transitions, areas, drill=drill):
        rule = rules.get(change.rule_id)
        if rule is not None:
            yield change, rule


def group_changes(
    transitions: Iterable[Transition], areas: AreaIndex, *, drill: bool
) -> list[AlertChange]:
    """Notifiable transitions grouped per (rule, kind, level, audience), in first-seen order.

    Officials-only transitions (an event known only from a non-BMKG source, or
    first seen late) form changes of their own: they never reach the public.
    """
    groups: dict[tuple[str, TransitionKind, Level, Audience], list[Transition]] = {}
    for t in transitions:
        if t.kind.notifies and t.level is not None:
            groups.setdefault((t.rule_id, t.kind, t.level, t.audience), []).append(t)
    return [_change(key, members, areas, drill) for key, members in groups.items()]


def _change(
    key: tuple[str, TransitionKind, Level, Audience],
    members: Sequence[Transition],
    areas: AreaIndex,
    drill: bool,
) -> AlertChange:
    """One AlertChange with an id derived from its members."""
    rule_id, kind, level, audience = key
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
        audience=audience,
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
    if not _loud(change.alert_level, rule):
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
        payload = siren_payload(command, siren.duration_s, change.id, drill=change.drill)
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
    rule: Rule,
    contacts: Sequence[Contact],
    opted_out: Collection[str],
    drill_only: bool,
    *,
    officials_only: bool = False,
) -> list[Contact]:
    """Contacts of the rule's groups, minus opted-out numbers, drill volunteers in a drill.

    `officials_only` (an event BMKG has not reported, or a late one) narrows it
    to the officials group whatever the rule addresses.
    """
    return [
        c
        for c in contacts
        if (not rule.recipients or c.group in rule.recipients)
        and (not officials_only or c.group == OFFICIALS_GROUP)
        and c.phone not in opted_out
        and (c.drill or not drill_only)
    ]


def priority_tiers(contacts: Sequence[Contact]) -> list[list[Contact]]:
    """The contacts split by sending priority, most urgent first (officials first).

    A person listed in several groups stays whole in the tier of their most
    urgent group: the per-person choice of one SMS per event change
    (`once_per_person`) sees all of their rows at once.
    """
    best: dict[str, int] = {}
    for c in contacts:
        best[c.phone] = min(best.get(c.phone, PRIORITY_OTHER_GROUPS), group_priority(c.group))
    tiers: dict[int, list[Contact]] = {}
    for c in contacts:
        tiers.setdefault(best[c.phone], []).append(c)
    return [tiers[p] for p in sorted(tiers)]


def group_priority(group: str) -> int:
    """Sending priority of a contact group (lower first)."""
    return GROUP_PRIORITY.get(group, PRIORITY_OTHER_GROUPS)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One rule's SMS to one person, before the person's other messages are weighed."""

    delivery: PlannedDelivery
    rule: Rule
    group: str
    about: str  # the event change it speaks of (else its reading hazard)
    #: The same SMS speaking of other kelurahan (reading rules, whose equals merge).
    widen: Callable[[Collection[str]], PlannedDelivery] | None = field(default=None, compare=False)


def _sms(
    change: AlertChange,
    rule: Rule,
    audience: Sequence[Contact],
    areas: AreaIndex,
    links: AckLinks | None = None,
) -> list[_Candidate]:
    """One SMS per contact whose areas meet the change's, naming their affected areas.

    The official's own words for this change (`Rule.templates_for`), in the
    contact's language (else Indonesian); none when the rule wrote none.
    """
    written = rule.templates_for(change.alert_level, change.kind)
    if not written:
        return []
    event, topic = _topic(change, rule)
    planned = []
    # A city's contacts share a few (areas, language) pairs: each text is rendered once.
    bodies: dict[tuple[tuple[str, ...], str], str] = {}
    for contact in audience:
        touched = tuple(a for a in change.area_ids if a in contact.areas)
        if not touched:
            continue
        lang = contact.language if contact.language in written else "id"
        body = bodies.get((touched, lang))
        if body is None:
            body = bodies[touched, lang] = sms_text(change, written[lang], areas, touched, lang)
        payload = acknowledged(
            {"to": contact.phone, "body": body, "language": contact.language},
            change,
            contact,
            links,
        )
        delivery = PlannedDelivery(
            change,
            ChannelKind.SMS,
            contact.phone,
            touched,
            payload,
            group_priority(contact.group),
            topic=topic,
        )
        if event:
            planned.append(_Candidate(delivery, rule, contact.group, event))
            continue
        widen = partial(_widened, delivery, written[lang], areas, lang, links=links)
        planned.append(_Candidate(delivery, rule, contact.group, _hazard(change, rule), widen))
    return planned


def _widened(
    delivery: PlannedDelivery,
    template: str,
    areas: AreaIndex,
    lang: str,
    ids: Collection[str],
    *,
    links: AckLinks | None,
) -> PlannedDelivery:
    """`delivery` rewritten to speak of the kelurahan `ids` (city order), its link kept."""
    ordered = _ordered(areas, ids)
    body = sms_text(delivery.change, template, areas, ordered, lang)
    ack = delivery.payload.get("ack")
    if links is not None and ack is not None:
        body = with_link(body, links.url(ack["token"]))
    return replace(delivery, area_ids=ordered, payload={**delivery.payload, "body": body})


def _hazard(change: AlertChange, rule: Rule) -> str:
    """What a reading rule's SMS is about: its hazard (kind) in this evaluation and mode.

    Reading rules overlap on one rain event (hourly, 3-hour, 24-hour, landslide):
    at one evaluation a person hears the hazard once, the most severe rule's text.
    """
    return json.dumps([_scope(change), "reading", rule.kind.value])


def acknowledged(
    payload: dict[str, Any], change: AlertChange, contact: Contact, links: AckLinks | None
) -> dict[str, Any]:
    """The SMS payload with the contact's signed link appended, when their group acknowledges."""
    if links is None or not links.wants(contact.group, change.alert_level, change.ending):
        return payload
    ack = links.payload(
        contact.phone, change.id, change.time, name=contact.name, group=contact.group
    )
    body = with_link(payload["body"], links.url(ack["token"]))
    return {**payload, "body": body, "ack": ack}


def _timeout_notice(
    change: AlertChange, rule: Rule, officials: Sequence[Contact]
) -> list[_Candidate]:
    """The safety-timeout SMS to every official, whatever areas they cover.

    Keyed like any ending of the event: when two rules time out for one tsunami,
    an official reads one notice (the most severe), not one per rule.
    """
    event, topic = _topic(change, rule)
    planned = []
    for contact in officials:
        body = safety_timeout_sms(
            contact.language, change.alert_level, rule.kind, drill=change.drill
        )
        payload = {"to": contact.phone, "body": body, "language": contact.language}
        delivery = PlannedDelivery(
            change,
            ChannelKind.SMS,
            contact.phone,
            change.area_ids,
            payload,
            group_priority(contact.group),
            topic=topic,
        )
        planned.append(_Candidate(delivery, rule, contact.group, event or change.id))
    return planned


def sms_text(
    change: AlertChange, template: str, areas: AreaIndex, area_ids: Sequence[str], lang: str
) -> str:
    """`template` rendered on the change's facts for these areas, as one GSM-7 segment."""
    facts = message_facts(change, templates.area_text(area_ids, areas, lang), lang)
    return render_plain(templates.render(template, facts, lang, drill=change.drill))


def message_facts(change: AlertChange, area: str, lang: str) -> templates.Facts:
    """What a message says: the level, where, the event's own time, values, why it ended."""
    first = change.transitions[0] if change.transitions else None
    values = dict(first.status.values) if first is not None else {}
    # Each kelurahan knows its own distance; "km dari Balikpapan" is the nearest.
    distances = [t.status.values.get("distance_km") for t in change.transitions]
    known = [d for d in distances if isinstance(d, int | float) and not isinstance(d, bool)]
    if known:
        values["distance_km"] = min(known)
    when = first.facts.time if first is not None and first.facts is not None else change.time
    source = first.facts.source if first is not None and first.facts is not None else ""
    reason = ""
    if first is not None and first.end_reason is not None:
        reason = END_REASONS[first.end_reason].get(lang, END_REASONS[first.end_reason]["id"])
    return templates.Facts(change.alert_level, area, when, values, reason, source)


# ---------------------------------------------------------------------------
# One message per person per event change


#: How a rule's change ranks against another rule's change about the same event.
_Rank = tuple[bool, Level, bool, int, str]


def once_per_person(candidates: Sequence[_Candidate]) -> list[PlannedDelivery]:
    """Each person's one SMS per (event, change): the best-ranked rule's message wins.

    Rules overlap on purpose (the coast's tsunami rule and the officials' AWAS
    rule both speak to an official in Manggar), yet a person must hear an event
    change once: two all-clears at PD-4, or two warnings from one bulletin, read
    as two events.  Among the messages about one event change the winner is:

    1. the most severe level: someone who must act on AWAS never reads the
       SIAGA text instead;
    2. a rule written for the person's group (its `recipients` name it) over
       one for everyone: it tells an official what to do in office (open the
       posko, the shelters), which the public's text does not;
    3. the narrower rule (fewer kelurahan): it speaks of the person's place;
    4. the rule id, so that a replayed evaluation picks the same winner.

    Readings (rain, wind, sea level) are weighed per hazard at one evaluation:
    the hourly, 3-hour, 24-hour and landslide rules all speak of one rain event,
    so a person reads the most severe of them once, and a warning wins over an
    ending of the same hazard (the rain is not over while another rule warns).
    """
    best: dict[tuple[str, str], tuple[_Rank, _Candidate]] = {}
    peers: dict[tuple[str, str], list[_Candidate]] = {}
    # A rank depends on the change, the rule and the group only: a city's contacts
    # share a handful, so each is computed once, not once per person.
    ranks: dict[tuple[str, str, str], _Rank] = {}
    for candidate in candidates:
        delivery = candidate.delivery
        slot = (delivery.recipient, candidate.about)
        peers.setdefault(slot, []).append(candidate)
        key = (delivery.change.id, candidate.rule.id, candidate.group)
        rank = ranks.get(key)
        if rank is None:
            rank = ranks[key] = _rank(candidate)
        if slot not in best or rank > best[slot][0]:
            best[slot] = (rank, candidate)
    return [_merged(winner, peers[slot]) for slot, (_rank_, winner) in best.items()]


def _merged(winner: _Candidate, peers: Sequence[_Candidate]) -> PlannedDelivery:
    """The winner's SMS, naming every kelurahan its equals warn (same level and phase).

    Two reading rules at SIAGA over different kelurahan are one message about all
    of them; a lower level's kelurahan are not named at the higher level.
    """
    change = winner.delivery.change
    equal = [
        p.delivery.area_ids
        for p in peers
        if p.delivery.change.level is change.level and p.delivery.change.ending == change.ending
    ]
    ids = {a for area_ids in equal for a in area_ids}
    if winner.widen is None or ids <= set(winner.delivery.area_ids):
        return winner.delivery
    return winner.widen(ids)


def _rank(candidate: _Candidate) -> _Rank:
    """A warning, then severity, then written for the person's group, narrowness, rule id."""
    change, rule = candidate.delivery.change, candidate.rule
    own = bool(rule.recipients) and candidate.group in rule.recipients
    # max() picks the winner: fewer areas and an earlier rule id must rank higher.
    return (not change.ending, change.alert_level, own, -len(change.area_ids), _inverted(rule.id))


def _inverted(text: str) -> str:
    """A string ordering in reverse (so that max() prefers the smallest id)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _topic(change: AlertChange, rule: Rule) -> tuple[str, str]:
    """(the event change an SMS is about, its dedup topic); ("", "") for a reading rule.

    The event change is the event (BMKG's merged event ids) and its phase,
    warning or ending: rules speaking of it at once compete for one message.
    The topic keys the winner in the outbox: a warning by its level (and, for
    news such as an escalation or an update, the bulletin behind it), an ending
    by the event alone.  A rule whose state was dropped (an edited rule after a
    reload) firing again for the same event finds the topic taken: nobody
    hears it twice, and an event's all-clear reaches a person once.
    """
    if rule.kind not in EVENT_KINDS or not change.transitions:
        return "", ""
    events = sorted({t.status.event_id or "" for t in change.transitions})
    if not all(events):
        return "", ""
    phase = "end" if change.ending else "warn"
    about = json.dumps([_scope(change), events, phase])
    detail: list[str] = []
    if not change.ending:
        detail += [change.alert_level.value, change.audience.value]
        if change.kind is not TransitionKind.FIRED:
            detail += sorted({t.status.fingerprint for t in change.transitions})
    digest = hashlib.sha256(json.dumps([about, detail]).encode()).hexdigest()[:20]
    return about, f"evt-{digest}"


def _scope(change: AlertChange) -> str:
    """ "live", or the drill run an episode's alert id starts with ("drill:<run>:")."""
    if not change.drill:
        return "live"
    episode = change.transitions[0].status.alert_id
    return episode[: episode.index(change.rule_id)] if change.rule_id in episode else "drill"


# ---------------------------------------------------------------------------
# CAP


def _cap(change: AlertChange, rule: Rule, areas: AreaIndex, now: datetime) -> PlannedDelivery:
    """The CAP row: everything the CAP channel needs to write the document itself."""
    first = change.transitions[0]
    expires = None
    if rule.expire_after is not None and not change.ending:
        expires = change.time + rule.expire_after
    headline, description, instruction = _cap_texts(change, rule, areas)
    form = _cap_description_form(change, rule)
    alert = CapAlert(
        change_id=change.id,
        dedup_key=dedup_key(change.id, ChannelKind.CAP, "cap"),
        rule_id=rule.id,
        rule_name=rule.name,
        kind=rule.kind,
        change=_cap_transition(change.kind),
        level=change.alert_level,
        previous_level=change.previous_level,
        area_ids=change.area_ids,
        sent=utc(now),
        event_id=first.status.event_id,
        values=dict(first.status.values),
        drill=change.drill,
        episodes=tuple(sorted({t.status.alert_id for t in change.transitions})),
        episode_areas={t.status.alert_id: t.area_id for t in change.transitions},
        headline=headline,
        description=description,
        instruction=instruction,
        expires=expires,
        description_form=form,
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
    change: AlertChange, rule: Rule, areas: AreaIndex
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """headline, description and instruction, each in id and en.

    The description is the rule's own message for this change (the drill is
    marked by the CAP status, not in the text), naming BMKG as the source of a
    relayed warning; the instruction stays empty:
    the official's message already says what to do, and nothing is appended.
    """
    written = rule.templates_for(change.alert_level, change.kind)
    headline: dict[str, str] = {}
    description: dict[str, str] = {}
    for lang in LANGUAGES:
        where = templates.area_text(change.area_ids, areas, lang)
        headline[lang] = f"{change.alert_level.word} {rule.name}: {where}"
        template = written.get(lang) or written.get("id")
        if template:
            facts = message_facts(change, where, lang)
            text = templates.render(template, facts, lang)
            description[lang] = with_source(text, rule.kind, lang)
    return headline, description, {}


def _cap_description_form(change: AlertChange, rule: Rule) -> dict[str, str]:
    """The description per language with the area left open (`AREA_SLOT`).

    A partial ending later narrows the warning to the kelurahan still warned: the
    CAP writer fills the slot with them, so the Update says what is now true.
    """
    written = rule.templates_for(change.alert_level, change.kind)
    forms: dict[str, str] = {}
    for lang in LANGUAGES:
        template = written.get(lang) or written.get("id")
        if template:
            text = templates.render(template, message_facts(change, AREA_SLOT, lang), lang)
            forms[lang] = with_source(text, rule.kind, lang)
    return forms


# ---------------------------------------------------------------------------
# Operational messages


def operator_sms(
    change_id: str,
    origin: ChangeKind,
    phones: Sequence[str],
    body: str,
    *,
    subject: str = "",
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """SMS that no rule decided (a silent siren, a test message) as deliveries of one change.

    `origin` and `subject` (the siren, the feed, the phone) say what the change
    is about, so a newer message about the same thing supersedes an unsent older one.
    """
    change = operator_change(change_id, origin, subject, drill=drill, now=now)
    return [
        PlannedDelivery(
            change,
            ChannelKind.SMS,
            phone,
            (),
            {"to": phone, "body": body, "language": "id"},
            GROUP_PRIORITY[OFFICIALS_GROUP],
        )
        for phone in dict.fromkeys(phones)
    ]


def operator_sirens(
    change_id: str,
    origin: ChangeKind,
    sirens: Sequence[SirenSettings],
    command: SirenCommand,
    *,
    drill: bool,
    now: datetime,
) -> list[PlannedDelivery]:
    """Siren commands that no rule decided (the monthly test, an operator's stop)."""
    change = operator_change(change_id, origin, "", drill=drill, now=now)
    return [
        PlannedDelivery(
            change,
            ChannelKind.SIREN,
            siren.id,
            (),
            siren_payload(command, siren.duration_s, change_id, drill=drill),
            PRIORITY_SIREN,
        )
        for siren in sirens
    ]


def operator_change(
    change_id: str, origin: ChangeKind, subject: str, *, drill: bool, now: datetime
) -> AlertChange:
    """The change record behind deliveries an operator or the daemon itself decided.

    It warns of no level: a notice about the system is not an alert.
    """
    return AlertChange(
        id=change_id,
        rule_id="",
        kind=TransitionKind.FIRED,
        level=None,
        previous_level=None,
        area_ids=(),
        time=utc(now),
        drill=drill,
        transitions=(),
        origin=origin,
        subject=subject,
    )
