"""Escalation chains: when nobody in a kelurahan confirms a warning in time, the next group hears.

The chain is `[[escalation]]` in the settings, e.g. rt-heads (10 min) ->
lurah (10 min) -> camat (15 min) -> pusdalops.  Its first step is the rule's
own SMS; each later step is notified when the step before it had its minutes
without an acknowledgement from anyone about that change in that kelurahan,
or at once when nobody of the step before could be reached (every linked SMS
of that group failed, or it had nobody there).  The first acknowledgement
stops the chain.  Everything here is pure: the daemon's job reads the store,
asks `due` and `notices`, and commits the SMS with the step.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

from warning.areas import AreaIndex
from warning.model import (
    AlertChange,
    ChannelKind,
    EscalationJudged,
    Level,
    PlannedDelivery,
    Problem,
    Severity,
    TransitionKind,
    utc,
)
from warning.plan.acklinks import AckLinks, link_chars, with_link
from warning.plan.contacts import Contact
from warning.plan.messages import (
    PREFIX_DRILL,
    SEGMENT,
    area_phrase,
    cut_units,
    gsm7_units,
    to_gsm7,
)
from warning.plan.planner import group_priority
from warning.settings import EscalationStep

#: How a message names a contact group (its id when not listed).
GROUP_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "officials": "Pejabat",
        "rt-heads": "Ketua RT/RW",
        "siskamling": "Siskamling",
        "lurah": "Lurah",
        "camat": "Camat",
        "pusdalops": "Pusdalops",
    }
)


def due(judged: EscalationJudged, steps: Sequence[EscalationStep], now: datetime) -> int | None:
    """The chain step to notify now for this (change, kelurahan), or None.

    None once someone acknowledged, past the last step, or while the current
    step's group still has time.  A group nobody of which can be reached (every
    linked SMS failed, or, after the first step, nobody there) gives way at once:
    an undelivered warning is no acknowledgement.
    """
    following = judged.step + 1
    if judged.acknowledged or following >= len(steps):
        return None
    current = steps[judged.step]
    waited = utc(now) - utc(judged.step_at) >= timedelta(minutes=current.after_minutes)
    return following if waited or _unreachable(judged, current.group) else None


def _unreachable(judged: EscalationJudged, group: str) -> bool:
    """True when no SMS of `group` about the change in the kelurahan can be confirmed."""
    outcomes = [failed for g, failed in judged.reached if g == group]
    if not outcomes:
        return judged.step > 0
    return all(outcomes)


def chain_problems(
    steps: Sequence[EscalationStep], contacts: Sequence[Contact], *, links: bool
) -> list[Problem]:
    """Why a configured chain would not escalate as written (warnings for `warning check`)."""
    if not steps:
        return []
    found = []
    if not links:
        found.append(
            "escalation needs acknowledgement links: set [console] public_url and a key "
            "(ACK_SECRET, console.ack_secret_file or the credential ack_secret)"
        )
    if len(steps) < 2:
        found.append("escalation has one step: add the group to tell when nobody confirms")
    groups = {c.group for c in contacts}
    found += [
        f'escalation[{i}]: no contact is in group "{s.group}" (contacts.csv): that step '
        "reaches nobody and the next one is told at once"
        for i, s in enumerate(steps)
        if s.group not in groups
    ]
    return [Problem("[[escalation]]", text, severity=Severity.WARNING) for text in found]


def audience(
    contacts: Sequence[Contact],
    group: str,
    area_id: str,
    *,
    drill: bool,
    drill_all: bool,
    opted_out: Collection[str] = frozenset(),
) -> list[Contact]:
    """The contacts of `group` covering the kelurahan (drill volunteers only in a drill)."""
    return [
        c
        for c in contacts
        if c.group == group
        and area_id in c.areas
        and c.phone not in opted_out
        and (c.drill or not drill or drill_all)
    ]


def escalation_text(
    level: Level,
    area: str,
    silent_group: str,
    silent: Sequence[str],
    minutes: float | None,
    *,
    drill: bool,
    room: int,
) -> str:
    """The escalation SMS before its link: what, where, who did not confirm, what to do.

    `minutes` is how long the silent group had (None: nobody of it could be
    reached).  Names are dropped from the end (counted) until the text fits
    in `room` units.
    """
    prefix = PREFIX_DRILL["id"] if drill else ""
    who = GROUP_WORDS.get(silent_group, silent_group)
    why = "tak terjangkau" if minutes is None else f"belum konfirmasi {minutes:g} mnt"
    head = f"{prefix}ESKALASI {level.word} {area}: {who} {why}"
    tail = ". Mohon tindak lanjuti & konfirmasi:"
    for shown in range(len(silent), -1, -1):
        listed = ", ".join(silent[:shown])
        more = f" +{len(silent) - shown}" if shown < len(silent) else ""
        named = f" ({listed}{more})" if listed else (f" ({len(silent)} org)" if silent else "")
        text = to_gsm7(head + named + tail)
        if gsm7_units(text) <= room:
            return text
    return cut_units(to_gsm7(head + tail), room)


def notices(  # noqa: PLR0917 - the pure planner's inputs, as `plan` takes them
    due_now: Sequence[EscalationJudged],
    step: int,
    steps: Sequence[EscalationStep],
    contacts: Sequence[Contact],
    areas: AreaIndex,
    links: AckLinks,
    now: datetime,
    *,
    drill_all: bool = False,
    opted_out: Collection[str] = frozenset(),
) -> list[PlannedDelivery]:
    """The SMS of `step` for the kelurahan of one change due now, one per person with their link.

    A camat covering four silent kelurahan gets one SMS naming them.  The
    deliveries belong to the escalated change (a cancel or a newer change
    stops them like the rule's own SMS) under a topic per step, so a person
    hears of each step of a change once; a kelurahan reaching the step later
    joins the person's delivery (`store.acks.cover`) instead of a second SMS.
    """
    first = due_now[0]
    previous, group = steps[step - 1], steps[step].group
    waited = any(
        utc(now) - utc(j.step_at) >= timedelta(minutes=previous.after_minutes) for j in due_now
    )
    change = AlertChange(
        id=first.change_id,
        rule_id=first.rule_id,
        kind=TransitionKind.ESCALATED,
        level=first.level,
        previous_level=first.level,
        area_ids=tuple(j.area_id for j in due_now),
        time=utc(now),
        drill=first.drill,
        transitions=(),
    )
    planned = []
    for contact in _step_audience(contacts, group, change.area_ids, first.drill, drill_all):
        if contact.phone in opted_out:
            continue
        touched = tuple(a for a in change.area_ids if a in contact.areas)
        silent = _step_audience(contacts, previous.group, touched, first.drill, drill_all)
        text = escalation_text(
            first.level,
            area_phrase([areas.get(a).name if a in areas else a for a in touched], "id", 1),
            previous.group,
            [c.name for c in silent],
            previous.after_minutes if waited else None,
            drill=first.drill,
            room=SEGMENT - link_chars(links.base),
        )
        ack = links.payload(
            contact.phone, first.change_id, first.changed_at, name=contact.name, group=group
        )
        payload = {
            "to": contact.phone,
            "body": with_link(text, links.url(ack["token"])),
            "language": "id",
            "ack": ack,
            "escalation_step": step,
        }
        planned.append(
            PlannedDelivery(
                change,
                ChannelKind.SMS,
                contact.phone,
                touched,
                payload,
                group_priority(group),
                topic=f"{first.change_id}:esc{step}",
            )
        )
    return planned


def _step_audience(
    contacts: Sequence[Contact], group: str, area_ids: Sequence[str], drill: bool, drill_all: bool
) -> list[Contact]:
    """The contacts of `group` covering any of the kelurahan, once each."""
    found = {
        c.phone: c
        for a in area_ids
        for c in audience(contacts, group, a, drill=drill, drill_all=drill_all)
    }
    return list(found.values())
