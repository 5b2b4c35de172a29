"""What `warning alert cancel`, `warning alert send` and `warning siren stop` do.

Each writes its outbox rows, state changes and audit entry in one transaction,
then (unless `--no-send`) sends its own rows for a bounded time; a running
daemon sends them too, within its 2 s outbox poll, and atomic claims keep a
row from being sent twice.  Exit codes: 0 done, 1 refused or a delivery failed.
A cancel never depends on the rule files: a broken rule must not block it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from warning.areas import AreaIndex, load_areas
from warning.model import ConfigError, Level, ObservationKind
from warning.operations import OperationError
from warning.operations.cancel import CancelOutcome, apply_cancel
from warning.operations.delivery import DEFAULT_WAIT_S, send_own, summary
from warning.operations.manual import ManualAlert, manual_change, plan_manual, select_areas
from warning.operations.targets import resolve
from warning.plan.contacts import Contact, load_contacts
from warning.plan.payloads import SirenCommand
from warning.plan.planner import operator_sirens
from warning.rules import load_rules
from warning.settings import Settings
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


def _contacts(settings: Settings, areas: AreaIndex) -> tuple[Contact, ...]:
    """The configured contacts (none when no file is configured)."""
    path = settings.contacts_path
    return load_contacts(path, areas) if path is not None else ()


def _rule_kinds(settings: Settings, areas: AreaIndex) -> dict[str, ObservationKind]:
    """Each rule's hazard, for naming it in corrections; empty when the rules do not load."""
    try:
        return {r.id: r.kind for r in load_rules([settings.rules_dir], areas)}
    except ConfigError:
        log.warning("alert.cancel_rules_unreadable", message="corrections name no hazard")
        return {}


def _finish(
    settings: Settings,
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


def alert_cancel(
    settings: Settings, ids: Sequence[str], reason: str, who: str, sending: Sending
) -> int:
    """`warning alert cancel ALERT_ID... --reason TEXT`."""
    if not reason.strip():
        _print("--reason must say why the alert is cancelled")
        return EXIT_INVALID
    areas = load_areas(settings.areas_path)
    kinds = _rule_kinds(settings, areas)
    store = Store(settings.state_path)
    now = datetime.now(UTC)
    try:
        with store.transaction() as tx:
            outcomes = [
                apply_cancel(
                    store,
                    tx,
                    t,
                    areas,
                    now=now,
                    actor=who,
                    reason=reason,
                    kind=kinds.get(t.rule_id),
                )
                for t in resolve(store, ids)
            ]
            detail = {
                "ids": list(ids),
                "reason": reason,
                "cancels": [o.as_json() for o in outcomes],
            }
            store.audit(tx, who, "alert.cancel", detail, now)
    except OperationError as exc:
        _print(str(exc))
        return EXIT_INVALID
    for o in outcomes:
        _print_cancel(o)
        log.warning("alert.cancelled_by_operator", actor=who, reason=reason, **o.as_json())
    contacts = _contacts(settings, areas)
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


def siren_stop(settings: Settings, siren_id: str, who: str, sending: Sending) -> int:
    """`warning siren stop [SIREN_ID|all]`: all-clear now, unsent triggers superseded."""
    known = {s.id: s for s in settings.sirens}
    chosen = (
        list(known.values())
        if siren_id == "all"
        else [known[siren_id]]
        if siren_id in known
        else []
    )
    if not chosen:
        names = ", ".join(known) or "none configured"
        _print(f'unknown siren "{siren_id}" (sirens: {names})')
        return EXIT_INVALID
    now = datetime.now(UTC)
    change_id = f"siren-stop-{now:%Y%m%dT%H%M%S%fZ}"
    planned = operator_sirens(
        change_id, "siren-stop", chosen, SirenCommand.ALL_CLEAR, drill=False, now=now
    )
    store = Store(settings.state_path)
    with store.transaction() as tx:
        superseded = outbox.supersede_recipients(tx, [s.id for s in chosen], now)
        outbox.enqueue(tx, planned)
        detail = {
            "sirens": [s.id for s in chosen],
            "change_id": change_id,
            "superseded": superseded,
        }
        store.audit(tx, who, "siren.stop", detail, now)
    _print(
        f"all-clear to {', '.join(s.id for s in chosen)} ({change_id});"
        f" {superseded} unsent trigger(s) superseded"
    )
    log.warning("siren.stopped_by_operator", actor=who, **detail)
    return _finish(settings, store, [change_id], load_areas(settings.areas_path), sending)


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


def alert_send(
    settings: Settings,
    request: SendRequest,
    who: str,
    sending: Sending,
    *,
    confirm: Confirm = terminal_confirm,
    interactive: bool | None = None,
) -> int:
    """`warning alert send --areas SELECTOR --level LEVEL --message TEXT [--yes] [--siren]`."""
    areas = load_areas(settings.areas_path)
    contacts = _contacts(settings, areas)
    store = Store(settings.state_path)
    now = datetime.now(UTC)
    try:
        alert = ManualAlert(
            select_areas(areas, request.areas),
            Level(request.level),
            request.message,
            sirens=request.siren,
            kind=ObservationKind(request.kind) if request.kind else None,
        )
        change = manual_change(alert, now)
        planned = plan_manual(
            alert, change, contacts, settings.sirens, areas, opted_out=outbox.opted_out(store)
        )
    except OperationError as exc:
        _print(str(exc))
        return EXIT_INVALID
    question = _describe(alert, planned)
    _print(question)
    if not request.yes:
        tty = sys.stdin.isatty() if interactive is None else interactive
        if not tty:
            _print("refusing to send: stdin is not a terminal, so nobody confirmed; add --yes")
            return EXIT_INVALID
        if not confirm("Send this alert?"):
            _print("not sent")
            return EXIT_INVALID
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
        detail = {
            "change_id": change.id,
            "areas": list(alert.area_ids),
            "level": alert.level.value,
            "message": alert.message,
            "siren": alert.sirens,
            "kind": request.kind,
            "recipients": sum(1 for p in planned if p.channel.value == "sms"),
        }
        store.audit(tx, who, "alert.send", detail, now)
    _print(
        f"alert {change.id} enqueued (to correct it: warning alert cancel {change.id} --reason ...)"
    )
    log.warning("alert.sent_by_operator", actor=who, **detail)
    return _finish(settings, store, [change.id], areas, sending, contacts=contacts)


def _describe(alert: ManualAlert, planned: Sequence[outbox.PlannedDelivery]) -> str:
    """What will be sent, for the confirmation."""
    sms = sum(1 for p in planned if p.channel.value == "sms")
    sirens = [p.recipient for p in planned if p.channel.value == "siren"]
    cap = any(p.channel.value == "cap" for p in planned)
    return (
        f"{alert.level.word} alert to {sms} recipient(s) in {len(alert.area_ids)} kelurahan;"
        f" sirens: {', '.join(sirens) or 'none'}; CAP: {'yes' if cap else 'no (give --kind)'}"
    )
