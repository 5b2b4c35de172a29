"""`warning console` (serve the web console) and `warning console user add|remove|passwd`.

Passwords are read from standard input: on a terminal without echo (asked
twice), otherwise the first line (for scripts).  They are never arguments,
so they never show in `ps` or shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from warning.operations import OperationError, accounts
from warning.operations.delivery import actor
from warning.settings import Settings
from warning.store.console import Role
from warning.store.sqlite import Store

EXIT_OK, EXIT_INVALID = 0, 1

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_console(sub: Sub) -> None:
    """The `console` command group."""
    p = sub.add_parser("console", help="the operations-room web console ([console] listen)")
    p.add_argument(
        "--first-look",
        action="store_true",
        help="when no account exists, create `admin` with a random password and print it once",
    )
    p.set_defaults(handler=_serve)
    s = p.add_subparsers(dest="console_command", metavar="SUBCOMMAND")
    user = s.add_parser("user", help="console accounts")
    user.set_defaults(handler=lambda _a, _s: _usage(user))
    u = user.add_subparsers(dest="user_command", metavar="SUBCOMMAND")
    add = u.add_parser("add", help="create an account (password from stdin)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.set_defaults(handler=_user_add)
    remove = u.add_parser("remove", help="delete an account and its sessions")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=_user_remove)
    passwd = u.add_parser("passwd", help="set a new password (stdin); ends its sessions")
    passwd.add_argument("name", metavar="NAME")
    passwd.set_defaults(handler=_user_passwd)


def _usage(parser: argparse.ArgumentParser) -> int:
    """`warning console user` alone: its sub-commands, exit 2."""
    parser.print_help(sys.stderr)
    return 2


def read_password() -> str:
    """The new password: asked twice without echo on a terminal, else stdin's first line."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise OperationError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _guard(run: argparse.Namespace, state_path: Path, action: str) -> int:
    """Add, remove or re-password an account in the state at `state_path`."""
    store = Store(state_path)
    now = datetime.now(UTC)
    who = actor(None)
    try:
        if action == "add":
            created = accounts.add_user(
                store, run.name, run.role, read_password(), who=who, now=now
            )
            sys.stdout.write(f"{'created' if created else 'updated'} {run.name} ({run.role})\n")
        elif action == "remove":
            accounts.remove_user(store, run.name, who, now)
            sys.stdout.write(f"removed {run.name}\n")
        else:
            accounts.change_password(store, run.name, read_password(), who, now)
            sys.stdout.write(f"password of {run.name} changed; its sessions ended\n")
    except OperationError as exc:
        sys.stdout.write(f"{exc}\n")
        return EXIT_INVALID
    return EXIT_OK


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    return _guard(args, settings.state_path, "add")


def _user_remove(args: argparse.Namespace, settings: Settings) -> int:
    return _guard(args, settings.state_path, "remove")


def _user_passwd(args: argparse.Namespace, settings: Settings) -> int:
    return _guard(args, settings.state_path, "passwd")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from warning.console.app import serve  # noqa: PLC0415 - web stack only when serving

    if args.first_look:
        password = accounts.first_admin(Store(settings.state_path), datetime.now(UTC))
        if password is not None:
            # Printed once, to the terminal that asked; never logged.
            sys.stdout.write(f"first look: log in as admin with password {password}\n")
            sys.stdout.flush()
    sys.stdout.write(f"console on http://{settings.console.listen}/\n")
    sys.stdout.flush()
    return serve(settings)
