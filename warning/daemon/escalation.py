"""The escalation job: judge every watched (change, kelurahan) on the daemon's clock.

Runs every `ESCALATION_S` in the daemon (and in tests on a simulated clock).
For each (change, kelurahan) whose chain must move on, the next group's SMS
and the step itself are committed in one transaction: a crash never notifies
a step twice (the outbox's dedup key per step and person) nor loses one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from warning.daemon.configuration import Configuration
from warning.model import EscalationJudged
from warning.plan.escalation import due, notices
from warning.store import acks, outbox
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Seconds between two judgements (a step's minutes are met to within this).
ESCALATION_S = 30.0


def escalate(
    store: Store,
    config: Configuration,
    now: datetime,
    *,
    drill_all: bool = False,
    on_step: Callable[[str], None] = lambda _group: None,
) -> int:
    """Notify every escalation step due at `now`; return how many SMS were enqueued."""
    links, steps = config.links, config.settings.escalation
    if links is None or len(steps) < 2:
        return 0
    batches: dict[tuple[str, int], list[EscalationJudged]] = {}
    for judged in acks.watched(store, now - links.valid):
        step = due(judged, steps, now) if judged.level >= links.level else None
        if step is not None:
            batches.setdefault((judged.change_id, step), []).append(judged)
    opted_out = outbox.opted_out(store)
    enqueued = 0
    for (_change, step), due_now in batches.items():
        planned = notices(
            due_now,
            step,
            steps,
            config.contacts.kept,
            config.areas,
            links,
            now,
            drill_all=drill_all,
            opted_out=opted_out,
        )
        with store.transaction() as tx:
            recorded = [j for j in due_now if acks.record_step(tx, j, step, steps[step].group, now)]
            if not recorded:
                continue
            enqueued += outbox.enqueue(tx, planned)
            acks.cover(tx, planned)
        _told(recorded, step, steps[step].group, len(planned), on_step)
    return enqueued


def _told(
    recorded: Sequence[EscalationJudged],
    step: int,
    group: str,
    recipients: int,
    on_step: Callable[[str], None],
) -> None:
    """Count and log one step notified for some kelurahan of one change."""
    on_step(group)
    log.warning(
        "alert.escalation",
        change_id=recorded[0].change_id,
        areas=[j.area_id for j in recorded],
        step=step,
        group=group,
        recipients=recipients,
        drill=recorded[0].drill,
    )
