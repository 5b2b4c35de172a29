"""The escalation job: judge every watched (change, kelurahan) on the daemon's clock.

Runs every `ESCALATION_S` in the daemon (and in tests on a simulated clock).
For each (change, kelurahan) whose chain must move on, the next group's SMS
and the step itself are committed in one transaction: a crash never notifies
a step twice (the outbox's dedup key per step and person) nor loses one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from warning.daemon.configuration import Configuration
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
    enqueued = 0
    opted_out = outbox.opted_out(store)
    for judged in acks.watched(store, now - links.valid):
        if judged.level < links.level:
            continue
        step = due(judged, steps, now)
        if step is None:
            continue
        planned = notices(
            judged,
            step,
            steps,
            config.contacts,
            config.areas,
            links,
            now,
            drill_all=drill_all,
            opted_out=opted_out,
        )
        with store.transaction() as tx:
            if not acks.record_step(tx, judged, step, steps[step].group, now):
                continue
            enqueued += outbox.enqueue(tx, planned)
        on_step(steps[step].group)
        log.warning(
            "alert.escalation",
            change_id=judged.change_id,
            area=judged.area_id,
            step=step,
            group=steps[step].group,
            recipients=len(planned),
            drill=judged.drill,
        )
    return enqueued
