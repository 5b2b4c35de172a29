"""Operator commands: `warning alert cancel|send`, `warning siren stop`, `warning audit export`,
`warning backup`.  Argument handling only; the work is in warning/operations/.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from warning.model import Level, ObservationKind
from warning.operations import OperationError, OperatorSettings
from warning.operations.actions import Sending, SendRequest, alert_cancel, alert_send, siren_stop
from warning.operations.audit import parse_since, to_csv, write_private
from warning.operations.delivery import DEFAULT_WAIT_S, actor
from warning.settings import Settings
from warning.store.records import StoreError, backup, export

EXIT_OK, EXIT_INVALID = 0, 1

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler = Callable[[argparse.Namespace, Settings], int]
#: An operator command's own handler: the sections operator actions read, not the settings.
OperatorHandler = Callable[[argparse.Namespace, OperatorSettings], int]


def add_operations(sub: Sub) -> None:
    """The operator command groups."""
    _add_alert(sub)
    _add_siren(sub)
    _add_audit(sub)
    b = sub.add_parser("backup", help="online copy of the state database (safe while running)")
    b.add_argument("path", metavar="PATH", help="file to write, or a directory to put it in")
    b.set_defaults(handler=_guarded(_backup))


def _guarded(handler: OperatorHandler) -> Handler:
    """The handler on the operator's sections of the settings; an OperationError or
    StoreError becomes its message and exit 1, never a traceback."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, OperatorSettings.of(settings))
        except (OperationError, StoreError) as exc:
            sys.stdout.write(f"{exc}\n")
            return EXIT_INVALID

    return run


def _sending(p: argparse.ArgumentParser) -> None:
    """--actor, --send/--no-send and --wait, shared by the actions."""
    p.add_argument("--actor", metavar="NAME", help="who acts (default: SUDO_USER or login name)")
    p.add_argument(
        "--send",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send the rows now as well as leaving them to a running daemon (default: on)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help=f"how long to send before leaving the rest to the daemon (default {DEFAULT_WAIT_S:g})",
    )


def _how(args: argparse.Namespace) -> Sending:
    return Sending(send=args.send, wait_s=args.wait)


def _add_alert(sub: Sub) -> None:
    p = sub.add_parser("alert", help="operator alerts: cancel a (false) alert, send one by hand")
    s = p.add_subparsers(dest="alert_command", metavar="SUBCOMMAND")
    c = s.add_parser("cancel", help="end an alert: CAP Cancel, siren all-clear, correction SMS")
    c.add_argument(
        "ids",
        nargs="+",
        metavar="ALERT_ID",
        help="alert id from `warning status`, a chg-... change id, or a manual-... id",
    )
    c.add_argument("--reason", required=True, help="why (it is in the correction SMS)")
    _sending(c)
    c.set_defaults(
        handler=_guarded(lambda a, st: alert_cancel(st, a.ids, a.reason, actor(a.actor), _how(a)))
    )
    m = s.add_parser("send", help="a manual alert through the outbox (asks to confirm)")
    m.add_argument("--areas", required=True, metavar="SELECTOR", help="all, coastal, ids, ...")
    m.add_argument("--level", required=True, choices=[lv.value for lv in Level])
    m.add_argument("--message", required=True, metavar="TEXT", help="the SMS text (<=160)")
    m.add_argument("--yes", action="store_true", help="send without asking")
    m.add_argument("--siren", action="store_true", help="sound the sirens (siaga or awas only)")
    m.add_argument(
        "--kind", choices=[k.value for k in ObservationKind], help="hazard (publishes CAP)"
    )
    _sending(m)
    m.set_defaults(handler=_guarded(_alert_send))


def _alert_send(args: argparse.Namespace, settings: OperatorSettings) -> int:
    request = SendRequest(
        args.areas, args.level, args.message, siren=args.siren, kind=args.kind, yes=args.yes
    )
    return alert_send(settings, request, actor(args.actor), _how(args))


def _add_siren(sub: Sub) -> None:
    p = sub.add_parser("siren", help="siren operations")
    s = p.add_subparsers(dest="siren_command", metavar="SUBCOMMAND")
    stop = s.add_parser("stop", help="send all-clear to one siren or all, now")
    stop.add_argument("siren", nargs="?", default="all", metavar="SIREN_ID|all")
    _sending(stop)
    stop.set_defaults(
        handler=_guarded(lambda a, st: siren_stop(st, a.siren, actor(a.actor), _how(a)))
    )


def _add_audit(sub: Sub) -> None:
    p = sub.add_parser("audit", help="the record of alerts, deliveries and operator actions")
    s = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    e = s.add_parser("export", help="alerts, deliveries and operator actions on stdout")
    e.add_argument("--since", metavar="DATE", help="2026-03-01 (WITA) or an ISO time")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument(
        "--output", metavar="FILE", help="write FILE (owner-only, 0600) instead of stdout"
    )
    e.set_defaults(handler=_guarded(_audit_export))


def _audit_export(args: argparse.Namespace, settings: OperatorSettings) -> int:
    records = export(settings.state_path, parse_since(args.since))
    if args.format == "json":
        text = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    else:
        text = to_csv(records)
    if args.output:
        write_private(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _backup(args: argparse.Namespace, settings: OperatorSettings) -> int:
    written, counts = backup(settings.state_path, Path(args.path))
    rows = sum(counts.values())
    sys.stdout.write(
        f"backup written to {written}: {rows} rows in {len(counts)} tables, verified\n"
    )
    return EXIT_OK
