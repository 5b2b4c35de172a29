"""The `warning` command: thin argument handling over the stages, no business logic.

Exit codes everywhere: 0 ok, 1 invalid input (or a failed check/test), 2 usage error.
stdout carries only a command's own output; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from warning import __version__, log
from warning.areas import AreaIndex, load_areas
from warning.cli import console as console_cli
from warning.cli import feeds as feeds_cli
from warning.cli import ops as ops_cli
from warning.cli import outbox as outbox_cli
from warning.cli.status import render_text
from warning.daemon.configuration import load_configuration
from warning.daemon.drill import DrillOptions, DrillSetup, run_drill
from warning.daemon.drillreport import render_text as drill_text
from warning.daemon.schedule import Daemon, RunOptions
from warning.delivery.broadcast import check_broadcasts
from warning.delivery.siren import siren_problems
from warning.model import Area, ConfigError, Level, Problem, Rule, Severity
from warning.operations import OperatorSettings
from warning.plan.acklinks import ack_links, link_chars
from warning.plan.escalation import chain_problems
from warning.rules import load_rules, read_rules, rule_files
from warning.rules.bahasa import SUMMARY, localise
from warning.rules.scenario import load_scenarios
from warning.rules.schema import LANGUAGES, render_reference
from warning.rules.templates import link_problems, samples
from warning.rules.testing import report, run_scenario
from warning.settings import ConsoleSettings, Settings, example_toml, load_settings, secret
from warning.store.records import StoreError
from warning.store.status import status_report

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog="warning", description="Balikpapan's disaster early-warning daemon."
    )
    parser.add_argument("--version", action="version", version=f"warning {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (default: embedded defaults)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(sub)
    _add_settings(sub)
    _add_areas(sub)
    _add_feeds(sub)
    _add_rules(sub)
    _add_cap(sub)
    _add_contacts(sub)
    _add_outbox(sub)
    _add_send_test(sub)
    _add_run(sub)
    _add_drill(sub)
    _add_status(sub)
    ops_cli.add_operations(sub)
    console_cli.add_console(sub)
    return parser


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="validate settings, areas, rules and contacts")
    p.set_defaults(handler=_check)


def _add_settings(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("settings", help="settings reference")
    s = p.add_subparsers(dest="settings_command", metavar="SUBCOMMAND")
    e = s.add_parser("example", help="print a commented warning.toml with every default")
    e.set_defaults(handler=lambda _a, _s: _print(example_toml(), end=""))


def _add_areas(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("areas", help="list, locate and measure Balikpapan's areas")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=_areas_list)
    s = p.add_subparsers(dest="areas_command", metavar="SUBCOMMAND")
    for name, handler, text in (
        ("locate", _areas_locate, "the kelurahan and kecamatan containing a point"),
        ("distance", _areas_distance, "geodesic distance in km from a point to every area"),
    ):
        q = s.add_parser(name, help=text)
        q.add_argument("lon", type=float, help="longitude, e.g. 116.83")
        q.add_argument("lat", type=float, help="latitude, e.g. -1.27")
        q.add_argument("--json", action="store_true", help="JSON output")
        q.set_defaults(handler=handler)


def area_json(area: Area) -> dict[str, object]:
    """The six published properties of an area."""
    data: dict[str, object] = {"id": area.id, "name": area.name, "level": area.level.value}
    if area.kecamatan_id is not None:
        data["kecamatan_id"] = area.kecamatan_id
    data["kemendagri_code"] = area.kemendagri_code
    data["coastal"] = area.coastal
    return data


def _load_areas(settings: Settings) -> AreaIndex:
    return load_areas(settings.areas_path, settings.areas.min_polygon_share)


def _areas_list(args: argparse.Namespace, settings: Settings) -> int:
    areas = _load_areas(settings)
    if args.json:
        return _print(json.dumps([area_json(a) for a in areas.areas], ensure_ascii=False, indent=2))
    for a in areas.areas:
        coast = "coastal" if a.coastal else ""
        parent = a.kecamatan_id or ""
        sys.stdout.write(
            f"{a.id:<24} {a.name:<24} {a.level.value:<10} {a.kemendagri_code:<14} "
            f"{parent:<20} {coast}\n"
        )
    return EXIT_OK


def _check_point(lon: float, lat: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ConfigError(f"coordinates out of range: lon {lon}, lat {lat} (give LON then LAT)")


def _areas_locate(args: argparse.Namespace, settings: Settings) -> int:
    _check_point(args.lon, args.lat)
    found = _load_areas(settings).locate(args.lon, args.lat)
    kel = found.kelurahan.id if found.kelurahan else None
    kec = found.kecamatan.id if found.kecamatan else None
    if args.json:
        return _print(json.dumps({"kelurahan": kel, "kecamatan": kec}))
    if kel is None and kec is None:
        return _print("outside Kota Balikpapan")
    return _print(f"kelurahan {kel}, kecamatan {kec}")


def _areas_distance(args: argparse.Namespace, settings: Settings) -> int:
    _check_point(args.lon, args.lat)
    km = _load_areas(settings).distances_km(args.lon, args.lat)
    rounded = {area_id: round(value, 1) for area_id, value in km.items()}
    if args.json:
        return _print(json.dumps(rounded))
    for area_id, value in rounded.items():
        sys.stdout.write(f"{area_id:<24} {value:>10.1f} km\n")
    return EXIT_OK


def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="check the officials' rule files")
    s = p.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    c = s.add_parser("check", help="every mistake in rule files, with file:line:col")
    c.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or directories")
    c.add_argument("--lang", choices=LANGUAGES, default="id", help="language (default: id)")
    c.add_argument(
        "--show", action="store_true", help="print every message rendered on sample facts"
    )
    c.set_defaults(handler=_rules_check)
    r = s.add_parser("reference", help="print the rule-file reference (docs/rules.md)")
    r.add_argument("--lang", choices=LANGUAGES, default="en", help="en: rules.md, id: aturan.md")
    r.set_defaults(handler=lambda a, _s: _print(render_reference(a.lang), end=""))
    t = s.add_parser("test", help="run rule tests (scenarios) against the rules")
    t.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="scenario files or directories"
    )
    t.add_argument("--rules", type=Path, metavar="DIR", help="rule files (default: [rules])")
    t.set_defaults(handler=_rules_test)


def _rules_test(args: argparse.Namespace, settings: Settings) -> int:
    """`warning rules test [PATH...] [--rules DIR]`: PASS/FAIL per scenario, then totals."""
    areas = _load_areas(settings)
    rules = load_rules([args.rules or settings.rules_dir], areas)
    scenarios = load_scenarios(args.paths or [settings.rules_dir / "tests"], areas, settings.feeds)
    outcomes = [run_scenario(scenario, rules, areas) for scenario in scenarios]
    return report(outcomes, sys.stdout.write)


def _areas_or_none(settings: Settings) -> AreaIndex | None:
    """The areas for checking rule selectors; None when the areas file is itself broken."""
    try:
        return _load_areas(settings)
    except ConfigError:
        return None


def _rules_check(args: argparse.Namespace, settings: Settings) -> int:
    """`warning rules check [PATH...]`: every problem, then a summary line."""
    paths = args.paths or [settings.rules_dir]
    areas = _areas_or_none(settings)
    rules, problems = read_rules(paths, areas)
    problems += link_room(rules, areas, settings.console, ack_links(settings, secret) is not None)
    for line in localise(problems, args.lang):
        sys.stdout.write(f"{line}\n")
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    words = SUMMARY[args.lang]
    warnings = len(problems) - errors
    if errors:
        sys.stdout.write(words["errors"].format(errors=errors, warnings=warnings) + "\n")
        return EXIT_INVALID
    if args.show:
        for line in samples(rules, areas):
            sys.stdout.write(f"{line}\n")
    files = len(rule_files(paths))
    summary = words["ok"].format(rules=len(rules), files=files, warnings=warnings)
    sys.stdout.write(summary + "\n")
    return EXIT_OK


def link_room(
    rules: Sequence[Rule], areas: AreaIndex | None, console: ConsoleSettings, links_on: bool
) -> list[Problem]:
    """Messages that leave no room for the acknowledgement link (only when links are on)."""
    if not links_on:
        return []
    return link_problems(
        rules,
        areas,
        link_units=link_chars(console.public_url),
        groups=console.ack_groups,
        lowest=Level(console.ack_level),
    )


def check_rules_setting(settings: Settings) -> list[Problem]:
    """`warning check` part: the configured rule files."""
    return read_rules([settings.rules_dir], _areas_or_none(settings))[1]


def check_areas(settings: Settings) -> list[Problem]:
    """`warning check` part: the areas file loads without problems."""
    try:
        _load_areas(settings)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def _add_feeds(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("feeds", help="list, parse or fetch the hazard feeds")
    s = p.add_subparsers(dest="feeds_command", metavar="SUBCOMMAND")
    lst = s.add_parser("list", help="every feed: name, kinds, default interval, URL")
    lst.add_argument("--json", action="store_true", help="one JSON object per feed per line")
    lst.set_defaults(handler=feeds_cli.list_feeds)
    parse = s.add_parser("parse", help="parse a saved payload; one JSON observation per line")
    parse.add_argument("source", metavar="SOURCE", help="feed name (see `warning feeds list`)")
    parse.add_argument("file", metavar="FILE", type=Path, help="the payload file")
    parse.set_defaults(handler=feeds_cli.parse_file)
    fetch = s.add_parser("fetch", help="fetch a feed once live and print its observations")
    fetch.add_argument("source", metavar="SOURCE", help="feed name (see `warning feeds list`)")
    fetch.set_defaults(handler=feeds_cli.fetch_once)


def _add_contacts(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("contacts", help="SMS recipients")
    s = p.add_subparsers(dest="contacts_command", metavar="SUBCOMMAND")
    c = s.add_parser("check", help="report every bad row of the contacts CSV with its line")
    c.add_argument("file", nargs="?", type=Path, help="CSV to check (default: [contacts] path)")
    c.set_defaults(handler=lambda a, st: outbox_cli.contacts_check(OperatorSettings.of(st), a.file))


def _add_outbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("outbox", help="deliveries: pending, sent, failed")
    p.add_argument("--status", choices=["pending", "sent", "failed", "claimed", "superseded"])
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(
        handler=lambda a, st: outbox_cli.outbox_list(OperatorSettings.of(st), a.status, a.json)
    )
    s = p.add_subparsers(dest="outbox_command", metavar="SUBCOMMAND")
    r = s.add_parser("retry", help="send a failed delivery again (or every failed one)")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?", help="delivery id (from `warning outbox`)")
    which.add_argument(
        "--all-failed", action="store_true", help="every failed delivery (after an outage)"
    )
    r.set_defaults(
        handler=lambda a, st: (
            outbox_cli.outbox_retry_failed(OperatorSettings.of(st))
            if a.all_failed
            else outbox_cli.outbox_retry(OperatorSettings.of(st), a.id)
        )
    )


def _add_send_test(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("send-test", help="send one drill-marked SMS through the outbox")
    p.add_argument("--to", required=True, metavar="PHONE", help="E.164 number, +62812...")
    p.set_defaults(handler=lambda a, st: outbox_cli.send_test(OperatorSettings.of(st), a.to))


def _add_cap(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cap", help="CAP 1.2 documents")
    s = p.add_subparsers(dest="cap_command", metavar="SUBCOMMAND")
    listing = s.add_parser("list", help="the current CAP documents (not ended, not expired)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_cap_list)


def _cap_list(args: argparse.Namespace, settings: Settings) -> int:
    """`warning cap list [--json]`: identifier, msgType, status, event, areas, sent, expires."""
    from warning.delivery.cap import cap_listing, current_documents  # noqa: PLC0415 - lxml on demand

    records = current_documents(settings.cap_dir, datetime.now(UTC))
    if args.json:
        return _print(json.dumps([r.as_json() for r in records], ensure_ascii=False, indent=2))
    return _print(cap_listing(records), end="")


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the daemon: poll feeds, evaluate rules, warn")
    p.add_argument("--drill", action="store_true", help="every transition is a drill")
    p.add_argument(
        "--drill-all",
        action="store_true",
        help="in a drill, SMS every contact, not only drill=true",
    )
    p.add_argument(
        "--once", action="store_true", help="poll every feed once, drain the outbox, exit"
    )
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    options = RunOptions(drill=args.drill or args.drill_all, drill_all=args.drill_all)
    daemon = Daemon(settings, options)
    return daemon.once() if args.once else daemon.run()


def _add_drill(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "drill",
        help="play a scenario through the real channels as a drill, then print a drill report",
        description="Exit 0 when every delivery was accepted by its provider, 1 otherwise.",
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="a rule-test scenario")
    p.add_argument(
        "--speed", type=_speed, default=1.0, metavar="N", help="run N times faster (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--drill-all", action="store_true", help="SMS every contact, not only drill=true"
    )
    p.set_defaults(handler=_drill)


def _speed(text: str) -> float:
    """A positive speed-up factor."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be a positive number, not {text!r}")
    return value


def _drill(args: argparse.Namespace, settings: Settings) -> int:
    """`warning drill SCENARIO.yaml [--speed N] [--json] [--drill-all]`."""
    setup = DrillSetup.of(load_configuration(settings))
    report = run_drill(setup, args.scenario, DrillOptions(args.speed, args.drill_all))
    if args.json:
        _print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        _print(drill_text(report))
    return EXIT_OK if report.ok else EXIT_INVALID


def _add_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="firing alerts, feed health, outbox (reads the database)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(handler=_status)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    report = status_report(settings, datetime.now(UTC))
    if args.json:
        return _print(json.dumps(report, indent=2, default=str))
    return _print(render_text(report))


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


def escalation_problems(settings: Settings) -> list[Problem]:
    """The escalation chain against the links and the contacts (their own errors: elsewhere)."""
    try:
        config = load_configuration(settings)
    except ConfigError:
        return []  # the other checks report why
    chain = settings.escalation
    return chain_problems(chain, config.contacts.kept, links=config.links is not None)


#: What `warning check` validates after the settings, in order (name, checker).
CHECKS: tuple[tuple[str, Callable[[Settings], list[Problem]]], ...] = (
    ("areas", check_areas),
    ("rules", check_rules_setting),
    ("contacts", lambda st: outbox_cli.check(OperatorSettings.of(st))),
    ("sirens", siren_problems),
    ("escalation", escalation_problems),
    ("broadcast channels", check_broadcasts),
)


def _refused(exc: ConfigError | StoreError | sqlite3.DatabaseError, state: Path) -> None:
    """Every problem of a bad setup, or one line for a missing or unreadable database."""
    if isinstance(exc, ConfigError):
        print_problems(exc.problems)
    elif isinstance(exc, StoreError):
        sys.stdout.write(f"{exc}\n")
    else:
        sys.stdout.write(f"state database {state}: {exc} (restore it from a backup)\n")


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
    except (ConfigError, StoreError, sqlite3.DatabaseError) as exc:
        _refused(exc, settings.state_path)
        return EXIT_INVALID
    except KeyboardInterrupt:
        structlog.get_logger().info("cli.interrupted")
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) went away; nothing more to say.
        sys.stderr.close()
        return EXIT_OK
