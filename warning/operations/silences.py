"""Silencing a rule for a maintenance window or a known false source.

While a silence is in force the daemon still evaluates the rule and keeps
its state (the map shows it), but plans no notification for it; a silence
never holds back a BMKG tsunami relay (see `dispatch/planner.unsilenced`).
Silences are listed by `warning status` and the console.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from warning.areas import load_areas
from warning.model import ConfigError
from warning.operations import OperationError, OperatorSettings
from warning.rules import load_rules
from warning.store import console as db
from warning.store.sqlite import Store

log = structlog.get_logger()

#: The longest silence one action may set: a forgotten silence must end by itself.
LONGEST = timedelta(days=7)


def rule_ids(settings: OperatorSettings) -> list[str]:
    """The configured rules' ids (empty when the rule files do not load)."""
    try:
        return [r.id for r in load_rules([settings.rules_dir], load_areas(settings.areas_path))]
    except ConfigError:
        return []


def silence(
    settings: OperatorSettings,
    rule_id: str,
    *,
    until: datetime,
    reason: str,
    who: str,
    now: datetime,
) -> int:
    """Silence `rule_id` from now until `until`; the silence's id."""
    if not reason.strip():
        raise OperationError("a silence needs a reason")
    if rule_id not in rule_ids(settings):
        raise OperationError(f'unknown rule "{rule_id}"')
    if not now < until <= now + LONGEST:
        raise OperationError("the end must be in the future and at most 7 days away")
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        silence_id = db.add_silence(tx, rule_id, now=now, until=until, reason=reason, actor=who)
        detail = {"silence_id": silence_id, "rule": rule_id, "until": until.isoformat()}
        store.audit(tx, who, "rule.silenced", {**detail, "reason": reason}, now)
    log.warning("rule.silenced", actor=who, reason=reason, **detail)
    return silence_id


def unsilence(settings: OperatorSettings, silence_id: int, who: str, now: datetime) -> None:
    """End a silence before its time."""
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        if not db.end_silence(tx, silence_id, now):
            raise OperationError(f"silence #{silence_id} is not in force")
        store.audit(tx, who, "rule.unsilenced", {"silence_id": silence_id}, now)
