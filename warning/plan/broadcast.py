"""Broadcast posts: who of the Telegram chats, ntfy topics and webhooks hears of a change.

Pure, like the planner beside it: the transitions the planner plans (grouped
into the same `AlertChange`s) and the configured destinations in, one
`PlannedDelivery` per destination whose areas a change touches out, with
the dedup key `<change>:<channel>:<address>` that makes a replayed
evaluation, a restart or a second daemon post nothing twice.

Who hears what: a *public* destination carries what the public is told (a
rule that publishes CAP, a change meant for the public, never a safety
timeout); an *officials* destination carries what officials are told by SMS
(officials-only changes, timeouts and health notices included), so that
officials hear through a channel that works when SMS does not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from warning.areas import AreaIndex
from warning.model import (
    Action,
    AlertChange,
    Audience,
    ChangeKind,
    ChannelKind,
    PlannedDelivery,
    Rule,
    Transition,
    TransitionKind,
    utc,
)
from warning.plan.messages import PREFIX_DRILL, safety_timeout_sms, with_source
from warning.plan.payloads import BroadcastPost, CapChange
from warning.plan.planner import (
    message_facts,
    operator_change,
    operator_sms,
    ruled_changes,
)
from warning.rules import templates
from warning.settings import BroadcastKind, BroadcastSettings

#: Posts go right after the sirens and before the SMS fan-out: one call reaches everyone.
PRIORITY_BROADCAST = 5

#: The outbox channel of each kind of destination.
CHANNEL_OF: Mapping[BroadcastKind, ChannelKind] = MappingProxyType(
    {
        BroadcastKind.TELEGRAM: ChannelKind.TELEGRAM,
        BroadcastKind.NTFY: ChannelKind.NTFY,
        BroadcastKind.WEBHOOK: ChannelKind.WEBHOOK,
    }
)


@dataclass(frozen=True, slots=True)
class BroadcastTarget:
    """One destination with its selectors resolved to kelurahan ids."""

    channel: ChannelKind
    address: str
    area_ids: frozenset[str]
    audience: Audience


def broadcast_targets(
    destinations: Sequence[BroadcastSettings], areas: AreaIndex
) -> tuple[BroadcastTarget, ...]:
    """The destinations of the settings; unknown selectors are `warning check`'s to report."""
    targets = []
    for destination in destinations:
        chosen: set[str] = set()
        for selector in destination.areas:
            try:
                chosen.update(areas.select(selector))
            except KeyError:
                continue
        audience = Audience(destination.audience)
        channel = CHANNEL_OF[destination.kind]
        targets.append(BroadcastTarget(channel, destination.address, frozenset(chosen), audience))
    return tuple(targets)


def broadcast_posts(
    transitions: Iterable[Transition],
    rules: Iterable[Rule],
    targets: Sequence[BroadcastTarget],
    areas: AreaIndex,
    *,
    drill: bool,
) -> list[PlannedDelivery]:
    """Every post the notifiable `transitions` imply (beside `planner.plan`'s rows).

    The changes are the planner's own (`ruled_changes`), so a post shares its
    change id with the sirens, SMS and CAP of the same change.
    """
    if not targets:
        return []
    by_id = {r.id: r for r in rules}
    posts: list[PlannedDelivery] = []
    for change, rule in ruled_changes(transitions, by_id, areas, drill=drill):
        if change.kind is TransitionKind.TIMED_OUT:
            # Never "safe" to the public: officials hear that BMKG's end was not received.
            text = safety_timeout_sms("id", change.alert_level, rule.kind, drill=False)
            headline = f"{change.alert_level.word} {rule.name}: BATAS WAKTU"
            posts += notice_posts(change, headline, text, targets, areas)
        else:
            posts += rule_posts(change, rule, targets, areas)
    return posts


def rule_posts(
    change: AlertChange, rule: Rule, targets: Sequence[BroadcastTarget], areas: AreaIndex
) -> list[PlannedDelivery]:
    """One post per destination the change reaches, in the rule's own words for its areas."""
    written = rule.templates_for(change.alert_level, change.kind)
    template = written.get("id")
    if not template:
        return []  # the rule writes nothing for this change: nobody is told (as by SMS)
    posts = []
    for target in _reached(change, rule, targets):
        touched = tuple(a for a in change.area_ids if a in target.area_ids)
        if not touched:
            continue
        where = templates.area_text(touched, areas, "id")
        text = with_source(
            templates.render(template, message_facts(change, where, "id"), "id"), rule.kind, "id"
        )
        # An all-clear's first word must not read as the warning it ends.
        word = "BERAKHIR" if change.ending else change.alert_level.word
        headline = f"{word} {rule.name}: {where}"
        post = _post(change, touched, areas=areas, headline=headline, text=text, target=target)
        posts.append(_planned(change, target, touched, post))
    return posts


def _reached(
    change: AlertChange, rule: Rule, targets: Sequence[BroadcastTarget]
) -> list[BroadcastTarget]:
    """Public destinations hear what CAP publishes; officials' what officials get by SMS."""
    public = change.audience is Audience.PUBLIC and Action.CAP in rule.actions
    officials = Action.SMS in rule.actions or Action.CAP in rule.actions
    return [
        t
        for t in targets
        if (t.audience is Audience.PUBLIC and public)
        or (t.audience is Audience.OFFICIALS and officials)
    ]


def notice_posts(
    change: AlertChange,
    headline: str,
    text: str,
    targets: Sequence[BroadcastTarget],
    areas: AreaIndex,
) -> list[PlannedDelivery]:
    """A notice no rule wrote (a safety timeout, a feed down) to every officials' destination."""
    posts = []
    for target in targets:
        if target.audience is not Audience.OFFICIALS:
            continue
        post = _post(
            change, change.area_ids, areas=areas, headline=headline, text=text, target=target
        )
        posts.append(_planned(change, target, change.area_ids, post))
    return posts


def officials_notice(
    change_id: str,
    origin: ChangeKind,
    phones: Sequence[str],
    body: str,
    *,
    subject: str = "",
    targets: Sequence[BroadcastTarget],
    areas: AreaIndex,
    drill: bool,
    now: datetime,
    avoid: Collection[ChannelKind] = (),
) -> list[PlannedDelivery]:
    """A notice the daemon decided itself (a feed down, bad contacts, a provider outage).

    One SMS per official (`planner.operator_sms`) and one post per officials'
    destination, in one change: officials hear of trouble through a channel
    that works even when the trouble is the SMS provider.  `avoid` names the
    channels that must not carry it (the failing provider's).
    """
    change = operator_change(change_id, origin, subject, drill=drill, now=now)
    sms = (
        []
        if ChannelKind.SMS in avoid
        else (operator_sms(change_id, origin, phones, body, subject=subject, drill=drill, now=now))
    )
    posts = [p for p in notice_posts(change, "", body, targets, areas) if p.channel not in avoid]
    return sms + posts


def correction_post(
    change: AlertChange,
    channel: ChannelKind,
    address: str,
    area_ids: Sequence[str],
    *,
    text: str,
    areas: AreaIndex,
) -> PlannedDelivery:
    """An operator's correction to a destination that received (or may have) the alert."""
    target = BroadcastTarget(channel, address, frozenset(area_ids), Audience.PUBLIC)
    post = _post(change, area_ids, areas=areas, headline="", text=text, target=target)
    return _planned(change, target, area_ids, post)


def _post(
    change: AlertChange,
    area_ids: Sequence[str],
    *,
    areas: AreaIndex,
    headline: str,
    text: str,
    target: BroadcastTarget,
) -> BroadcastPost:
    """The post itself; a drill's is marked LATIHAN before anything else."""
    prefix = PREFIX_DRILL["id"] if change.drill else ""
    text = text.removeprefix(prefix)  # a notice written for a drill says it once
    head = f"{headline}\n\n" if headline else ""
    return BroadcastPost(
        change_id=change.id,
        rule_id=change.rule_id,
        change=_transition(change.kind),
        level=change.level,
        area_ids=tuple(area_ids),
        area_names=tuple(areas.get(a).name if a in areas else a for a in area_ids),
        headline=prefix + (headline or text.split(":")[0]),
        text=f"{prefix}{head}{text}",
        sent=utc(change.time),
        drill=change.drill,
        audience=target.audience.value,
    )


def _planned(
    change: AlertChange, target: BroadcastTarget, area_ids: Sequence[str], post: BroadcastPost
) -> PlannedDelivery:
    """The outbox row of one post."""
    return PlannedDelivery(
        change, target.channel, target.address, tuple(area_ids), post.to_json(), PRIORITY_BROADCAST
    )


def _transition(kind: TransitionKind) -> CapChange:
    """The CAP word of a change (an operator's cancel has its own)."""
    if kind is TransitionKind.CANCELLED:
        return CapChange.CANCELLED_BY_OPERATOR
    return CapChange(kind.value)
