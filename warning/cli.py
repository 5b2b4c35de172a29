"""The `warning` command: thin argument handling over the stages, no business logic.

Exit codes everywhere: 0 ok, 1 invalid input (or a failed check/test), 2 usage error.
stdout carries only a command's own output; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from warning import __version__, log
from warning.dispatch import commands
from warning.dispatch.siren import siren_problems
from warning.model import ConfigError, Problem, Severity
from warning.settings import Settings, example_toml, load_settings

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace, Settings], int]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 on usage errors and lets negative numbers be positionals."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # "-1.27" is a latitude, not an option.
        self._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$")


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = _Parser(prog="warning", description="Balikpapan's disaster early-warning daemon.")
    parser.add_argument("--version", action="version", version=f"warning {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (default: embedded defaults)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_check(sub)
    _add_settings(sub)
    _add_cap(sub)
    _add_contacts(sub)
    _add_outbox(sub)
    _add_send_test(sub)
    return parser


def _add_check(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("check", help="validate settings, areas, rules and contacts")
    p.set_defaults(handler=_check)


def _add_settings(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("settings", help="settings reference")
    s = p.add_subparsers(dest="settings_command", metavar="SUBCOMMAND", parser_class=_Parser)
    e = s.add_parser("example", help="print a commented warning.toml with every default")
    e.set_defaults(handler=lambda _a, _s: _print(example_toml(), end=""))


def _add_contacts(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("contacts", help="SMS recipients")
    s = p.add_subparsers(dest="contacts_command", metavar="SUBCOMMAND", parser_class=_Parser)
    c = s.add_parser("check", help="report every bad row of the contacts CSV with its line")
    c.add_argument("file", nargs="?", type=Path, help="CSV to check (default: [contacts] path)")
    c.set_defaults(handler=lambda a, st: commands.contacts_check(st, a.file))


def _add_outbox(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("outbox", help="deliveries: pending, sent, failed")
    p.add_argument("--status", choices=["pending", "sent", "failed", "claimed", "superseded"])
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(handler=lambda a, st: commands.outbox_list(st, a.status, a.json))
    s = p.add_subparsers(dest="outbox_command", metavar="SUBCOMMAND", parser_class=_Parser)
    r = s.add_parser("retry", help="send a failed delivery again")
    r.add_argument("id", type=int, help="delivery id (from `warning outbox`)")
    r.set_defaults(handler=lambda a, st: commands.outbox_retry(st, a.id))


def _add_send_test(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("send-test", help="send one drill-marked SMS through the outbox")
    p.add_argument("--to", required=True, metavar="PHONE", help="E.164 number, +62812...")
    p.set_defaults(handler=lambda a, st: commands.send_test(st, a.to))


def _add_cap(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("cap", help="CAP 1.2 documents")
    s = p.add_subparsers(dest="cap_command", metavar="SUBCOMMAND", parser_class=_Parser)
    listing = s.add_parser("list", help="the current CAP documents (not ended, not expired)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_cap_list)


def _cap_list(args: argparse.Namespace, settings: Settings) -> int:
    """`warning cap list [--json]`: identifier, msgType, status, event, areas, sent, expires."""
    from warning.dispatch.cap import cap_listing, current_documents  # noqa: PLC0415 - lxml on demand

    records = current_documents(settings.cap_dir, datetime.now(UTC))
    if args.json:
        return _print(json.dumps([r.as_json() for r in records], ensure_ascii=False, indent=2))
    return _print(cap_listing(records), end="")


def _print(text: str, end: str = "\n") -> int:
    sys.stdout.write(text + end)
    return EXIT_OK


def print_problems(problems: Sequence[Problem]) -> int:
    """Print problems one per line on stdout; return how many are errors."""
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    return sum(1 for p in problems if p.severity is Severity.ERROR)


def _check(_args: argparse.Namespace, settings: Settings) -> int:
    """`warning check`: every problem in settings, areas, rules and contacts."""
    problems: list[Problem] = []
    checked = ["settings"]
    for name, checker in CHECKS:
        problems.extend(checker(settings))
        checked.append(name)
    errors = print_problems(problems)
    warnings = len(problems) - errors
    if errors:
        sys.stdout.write(f"{errors} error(s), {warnings} warning(s)\n")
        return EXIT_INVALID
    sys.stdout.write(f"ok: {', '.join(checked)} valid ({warnings} warning(s))\n")
    return EXIT_OK


#: What `warning check` validates after the settings, in order (name, checker).
CHECKS: tuple[tuple[str, Callable[[Settings], list[Problem]]], ...] = (
    ("contacts", commands.check),
    ("sirens", siren_problems),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `warning` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print_problems(exc.problems)
        return EXIT_INVALID
    log.configure(settings.log.level, settings.log.format)
    try:
        return handler(args, settings)
    except ConfigError as exc:
        print_problems(exc.problems)
        return EXIT_INVALID
    except KeyboardInterrupt:
        structlog.get_logger().info("cli.interrupted")
        return 130
