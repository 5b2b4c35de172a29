"""What `warning alert cancel`, `warning alert send` and `warning siren stop` do.

Each writes its outbox rows, state changes and audit entry in one transaction,
then (unless `--no-send`) sends its own rows for a bounded time; a running
daemon sends them too, within its 2 s outbox poll, and atomic claims keep a
row from being sent twice.  Exit codes: 0 done, 1 refused or a delivery failed.
A cancel never depends on the rule files: a broken rule must not block it.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from warning.areas import AreaIndex, load_areas
from warning.model import (
    AlertChange,
    ChangeKind,
    ConfigError,
    Level,
    ObservationKind,
    PlannedDelivery,
    SirenCommand,
)
from warning.operations import OperationError, OperatorSettings
from warning.operations.cancel import CancelOutcome, apply_cancel
from warning.operations.delivery import DEFAULT_WAIT_S, send_own, summary
from warning.operations.manual import ManualAlert, manual_change, plan_manual, select_areas
from warning.operations.targets import resolve
from warning.plan.contacts import Contact, load_contacts
from warning.plan.planner import operator_sirens
from warning.rules import load_rules
from warning.store import outbox
from warning.store.outbox import change_counts
from warning.store.sqlite import Store

EXIT_OK, EXIT_INVALID = 0, 1

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Sending:
    """Whether and how long the command sends its own rows."""

    send: bool = True
    wait_s: float = DEFAULT_WAIT_S


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _contacts(settings: OperatorSettings, areas: AreaIndex) -> tuple[Contact, ...]:
    """The configured contacts (none when no file is configured)."""
    path = settings.contacts_path
    return load_contacts(path, areas) if path is not None else ()


def _rule_kinds(settings: OperatorSettings, areas: AreaIndex) -> dict[str, ObservationKind]:
    """Each rule's hazard, for naming it in corrections; empty when the rules do not load."""
    try:
        return {r.id: r.kind for r in load_rules([settings.rules_dir], areas)}
    except ConfigError:
        log.warning("alert.cancel_rules_unreadable", message="corrections name no hazard")
        return {}


def _finish(
    settings: OperatorSettings,
    store: Store,
    change_ids: Sequence[str],
    areas: AreaIndex,
    sending: Sending,
    *,
    contacts: Sequence[Contact] = (),
) -> int:
    """Send the command's rows now (or leave them to the daemon) and report them."""
    if sending.send:
        counts = send_own(
            settings, store, change_ids, areas, contacts=contacts, wait_s=sending.wait_s
        )
    else:
        counts = change_counts(store, change_ids)
    _print(f"deliveries: {summary(counts)}")
    if counts["pending"] or counts["claimed"]:
        _print("open deliveries stay in the outbox: the running daemon sends them")
    return EXIT_INVALID if counts["failed"] else EXIT_OK


# ---------------------------------------------------------------------------
# warning alert cancel


def cancel_alerts(
    settings: OperatorSettings, ids: Sequence[str], reason: str, who: str, now: datetime
) -> list[CancelOutcome]:
    """Cancel `ids` in one transaction with its audit entry; OperationError when refused."""
    if not reason.strip():
        raise OperationError("--reason must say why the alert is cancelled")
    areas = load_areas(settings.areas_path)
    kinds = _rule_kinds(settings, areas)
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        outcomes = [
            apply_cancel(
                store, tx, t, areas, now=now, actor=who, reason=reason, kind=kinds.get(t.rule_id)
            )
            for t in resolve(store, ids)
        ]
        detail = {"ids": list(ids), "reason": reason, "cancels": [o.as_json() for o in outcomes]}
        store.audit(tx, who, "alert.cancel", detail, now)
    for o in outcomes:
        log.warning("alert.cancelled_by_operator", actor=who, reason=reason, **o.as_json())
    return outcomes


def alert_cancel(
    settings: OperatorSettings, ids: Sequence[str], reason: str, who: str, sending: Sending
) -> int:
    """`warning alert cancel ALERT_ID... --reason TEXT`."""
    try:
        outcomes = cancel_alerts(settings, ids, reason, who, datetime.now(UTC))
    except OperationError as exc:
        _print(str(exc))
        return EXIT_INVALID
    for o in outcomes:
        _print_cancel(o)
    areas = load_areas(settings.areas_path)
    contacts = _contacts(settings, areas)
    store = Store(settings.state_path, create=False)
    changes = [o.change_id for o in outcomes]
    return _finish(settings, store, changes, areas, sending, contacts=contacts)


def _print_cancel(o: CancelOutcome) -> None:
    """One line per cancelled alert."""
    _print(
        f"cancelled {o.rule_id} in {len(o.area_ids)} kelurahan ({o.change_id}):"
        f" {len(o.sms)} correction SMS, sirens all-clear {list(o.sirens)},"
        f" CAP Cancel {'yes' if o.cap else 'no'}, {o.superseded} unsent superseded"
    )


# ---------------------------------------------------------------------------
# warning siren stop


def stop_sirens(
    settings: OperatorSettings, siren_id: str, who: str, now: datetime
) -> dict[str, Any]:
    """All-clear to one siren or all, unsent triggers superseded, audited; what was done."""
    known = {s.id: s for s in settings.channels.sirens}
    chosen = (
        list(known.values())
        if siren_id == "all"
        else [known[siren_id]]
        if siren_id in known
        else []
    )
    if not chosen:
        names = ", ".join(known) or "none configured"
        raise OperationError(f'unknown siren "{siren_id}" (sirens: {names})')
    change_id = f"siren-stop-{now:%Y%m%dT%H%M%S%fZ}"
    planned = operator_sirens(
        change_id, ChangeKind.SIREN_STOP, chosen, SirenCommand.ALL_CLEAR, drill=False, now=now
    )
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        superseded = outbox.supersede_recipients(tx, [s.id for s in chosen], now)
        outbox.enqueue(tx, planned)
        detail = {
            "sirens": [s.id for s in chosen],
            "change_id": change_id,
            "superseded": superseded,
        }
        store.audit(tx, who, "siren.stop", detail, now)
    log.warning("siren.stopped_by_operator", actor=who, **detail)
    return detail


def siren_stop(settings: OperatorSettings, siren_id: str, who: str, sending: Sending) -> int:
    """`warning siren stop [SIREN_ID|all]`: all-clear now, unsent triggers superseded."""
    try:
        detail = stop_sirens(settings, siren_id, who, datetime.now(UTC))
    except OperationError as exc:
        _print(str(exc))
        return EXIT_INVALID
    _print(
        f"all-clear to {', '.join(detail['sirens'])} ({detail['change_id']});"
        f" {detail['superseded']} unsent trigger(s) superseded"
    )
    store = Store(settings.state_path, create=False)
    areas = load_areas(settings.areas_path)
    return _finish(settings, store, [detail["change_id"]], areas, sending)


# ---------------------------------------------------------------------------
# warning alert send


@dataclass(frozen=True, slots=True)
class SendRequest:
    """The arguments of `warning alert send`."""

    areas: str
    level: str
    message: str
    siren: bool = False
    kind: str | None = None
    yes: bool = False


Confirm = Callable[[str], bool]


def terminal_confirm(question: str) -> bool:
    """Ask on the terminal; only 'yes' (or 'ya') sends."""
    sys.stdout.write(question + " [type yes to send] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("yes", "ya")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A manual alert checked and planned, not yet enqueued."""

    alert: ManualAlert
    change: AlertChange
    planned: tuple[PlannedDelivery, ...]
    kind: str | None


def prepare_manual(settings: OperatorSettings, request: SendRequest, now: datetime) -> Prepared:
    """Check and plan a manual alert; OperationError in the operator's words when refused."""
    areas = load_areas(settings.areas_path)
    contacts = _contacts(settings, areas)
    store = Store(settings.state_path, create=False)
    try:
        level = Level(request.level)
        kind = ObservationKind(request.kind) if request.kind else None
    except ValueError as exc:
        raise OperationError(str(exc)) from None
    alert = ManualAlert(
        select_areas(areas, request.areas), level, request.message, sirens=request.siren, kind=kind
    )
    change = manual_change(alert, now)
    planned = plan_manual(
        alert, change, contacts, settings.channels.sirens, areas, opted_out=outbox.opted_out(store)
    )
    return Prepared(alert, change, tuple(planned), request.kind)


def enqueue_manual(
    store: Store,
    tx: sqlite3.Connection,
    prepared: Prepared,
    who: str,
    *,
    now: datetime,
    approved_by: str | None = None,
) -> dict[str, Any]:
    """Enqueue a prepared manual alert and audit it, in the caller's transaction."""
    alert = prepared.alert
    outbox.enqueue(tx, prepared.planned)
    detail: dict[str, Any] = {
        "change_id": prepared.change.id,
        "areas": list(alert.area_ids),
        "level": alert.level.value,
        "message": alert.message,
        "siren": alert.sirens,
        "kind": prepared.kind,
        "recipients": sum(1 for p in prepared.planned if p.channel.value == "sms"),
    }
    if approved_by is not None:
        detail["approved_by"] = approved_by
    store.audit(tx, who, "alert.send", detail, now)
    log.warning("alert.sent_by_operator", actor=who, **detail)
    return detail


def alert_send(
    settings: OperatorSettings,
    request: SendRequest,
    who: str,
    sending: Sending,
    *,
    confirm: Confirm = terminal_confirm,
    interactive: bool | None = None,
) -> int:
    """`warning alert send --areas SELECTOR --level LEVEL --message TEXT [--yes] [--siren]`."""
    now = datetime.now(UTC)
    try:
        prepared = prepare_manual(settings, request, now)
    except OperationError as exc:
        _print(str(exc))
        return EXIT_INVALID
    _print(describe(prepared))
    if not request.yes:
        tty = sys.stdin.isatty() if interactive is None else interactive
        if not tty:
            _print("refusing to send: stdin is not a terminal, so nobody confirmed; add --yes")
            return EXIT_INVALID
        if not confirm("Send this alert?"):
            _print("not sent")
            return EXIT_INVALID
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        enqueue_manual(store, tx, prepared, who, now=now)
    change_id = prepared.change.id
    _print(
        f"alert {change_id} enqueued (to correct it: warning alert cancel {change_id} --reason ...)"
    )
    areas = load_areas(settings.areas_path)
    contacts = _contacts(settings, areas)
    return _finish(settings, store, [change_id], areas, sending, contacts=contacts)


def describe(prepared: Prepared) -> str:
    """What will be sent, for the confirmation."""
    planned, alert = prepared.planned, prepared.alert
    sms = sum(1 for p in planned if p.channel.value == "sms")
    sirens = [p.recipient for p in planned if p.channel.value == "siren"]
    cap = any(p.channel.value == "cap" for p in planned)
    return (
        f"{alert.level.word} alert to {sms} recipient(s) in {len(alert.area_ids)} kelurahan;"
        f" sirens: {', '.join(sirens) or 'none'}; CAP: {'yes' if cap else 'no (give --kind)'}"
    )
