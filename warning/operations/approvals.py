"""Manual alerts from the console under the two-person rule.

A manual alert at SIAGA or above, or one that sounds sirens, is stored as a
pending request and sends nothing until a second, different account with the
approver (or admin) role approves it; then it is enqueued exactly as
`warning alert send` enqueues one, in the transaction that records the
decision.  Lower alerts are sent at once.  Automatic relays of BMKG never
pass through here, so they are never held.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog

from warning.model import Level
from warning.operations import OperationError, OperatorSettings
from warning.operations.actions import SendRequest, enqueue_manual, prepare_manual
from warning.store import console as db
from warning.store.console import ApprovalStatus, Role
from warning.store.sqlite import Store

log = structlog.get_logger()


def needs_approval(request: SendRequest) -> bool:
    """SIAGA and above, or sirens: a second operator must agree."""
    try:
        level = Level(request.level)
    except ValueError:
        raise OperationError(f'unknown level "{request.level}"') from None
    return request.siren or level >= Level.SIAGA


@dataclass(frozen=True, slots=True)
class Requested:
    """What a manual-alert request did: sent now (change_id) or waits (approval_id)."""

    change_id: str | None = None
    approval_id: int | None = None


def request_manual(
    settings: OperatorSettings, request: SendRequest, who: str, now: datetime
) -> Requested:
    """Send a low alert now, or store a high one for approval (checked and planned either way)."""
    prepared = prepare_manual(settings, request, now)
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        if not needs_approval(request):
            detail = enqueue_manual(store, tx, prepared, who, now=now)
            return Requested(change_id=str(detail["change_id"]))
        approval_id = db.add_approval(tx, who, asdict(request), now)
        detail_req = {"approval_id": approval_id, **asdict(request)}
        store.audit(tx, who, "alert.requested", detail_req, now)
    log.warning("alert.awaiting_approval", actor=who, approval_id=approval_id)
    return Requested(approval_id=approval_id)


def approve(
    settings: OperatorSettings, approval_id: int, who: str, role: Role, now: datetime
) -> str:
    """A second operator approves: the alert is planned now and enqueued; its change id."""
    if not role.at_least(Role.APPROVER):
        raise OperationError("only an approver or an admin can approve a manual alert")
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        pending = _pending(tx, approval_id)
        if pending.requested_by == who:
            raise OperationError("the operator who asked for an alert cannot approve it")
        request = SendRequest(**{k: v for k, v in pending.request.items() if k != "yes"})
        prepared = prepare_manual(settings, request, now)
        detail = enqueue_manual(store, tx, prepared, pending.requested_by, now=now, approved_by=who)
        change_id = str(detail["change_id"])
        db.decide(tx, approval_id, ApprovalStatus.APPROVED, who, now=now, change_id=change_id)
        store.audit(tx, who, "alert.approved", {"approval_id": approval_id, **detail}, now)
    return change_id


def reject(
    settings: OperatorSettings, approval_id: int, who: str, role: Role, now: datetime
) -> None:
    """A second operator (or the requester) withdraws the request; nothing is sent."""
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        pending = _pending(tx, approval_id)
        if pending.requested_by != who and not role.at_least(Role.APPROVER):
            raise OperationError("only an approver, an admin or the requester can reject it")
        db.decide(tx, approval_id, ApprovalStatus.REJECTED, who, now=now)
        store.audit(tx, who, "alert.rejected", {"approval_id": approval_id}, now)


def _pending(tx: sqlite3.Connection, approval_id: int) -> db.Approval:
    found = db.approval(tx, approval_id)
    if found is None or found.status is not ApprovalStatus.PENDING:
        raise OperationError(f"no pending manual alert #{approval_id}")
    return found
