"""Console accounts and logins: argon2 hashes, sessions that rotate at login, a login rate limit.

Passwords are hashed with argon2id (argon2-cffi's defaults); only the hash is
stored.  A login creates a new random session token (the browser's old one,
if any, is ended: no session fixation) and keeps only the token's SHA-256 in
the store, with a CSRF token for the session's forms.  Wrong passwords are
counted per user name and per client address; past the limit a login is
refused before the password is even checked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warning.operations import OperationError
from warning.settings import ConsoleSettings
from warning.store import console as db
from warning.store.console import Account, Role, Session
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Shortest password accepted for a console account.
MIN_PASSWORD = 10
#: Wrong passwords allowed per client address, as a multiple of those per user name.
ADDRESS_FACTOR = 4
_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so both cases cost the same time.
#: Written out, not hashed at import: argon2id's 64 MiB and ~0.3 s would be paid by
#: every `warning` command and would set the daemon's memory high-water mark.  Its
#: parameters must stay `_HASHER`'s (tests/console/test_operations.py checks it).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$f2oI4FU4WSQyR+YJuzA6rQ"
    "$59D4AQ13iouHdVeCrE8j5psRJHvFusgGjpWJsUB102A"
)


class RateLimitedError(OperationError):
    """Too many wrong passwords: try later."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperationError(f"the password must have at least {MIN_PASSWORD} characters")


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise OperationError(
            f'unknown role "{text}" (roles: {", ".join(r.value for r in Role)})'
        ) from None


def add_user(store: Store, name: str, role: str, password: str, *, who: str, now: datetime) -> bool:
    """Create (or replace) an account; True when it is new. Audited without the password."""
    if not name.strip() or name != name.strip():
        raise OperationError("the user name must be non-empty, without surrounding spaces")
    _check_password(password)
    chosen = _role(role)
    with store.transaction() as tx:
        created = db.save_account(tx, Account(name, chosen, _HASHER.hash(password)), now)
        store.audit(tx, who, "console.user_add", {"user": name, "role": chosen.value}, now)
    return created


def remove_user(store: Store, name: str, who: str, now: datetime) -> None:
    """Delete an account and its sessions."""
    with store.transaction() as tx:
        if not db.delete_account(tx, name):
            raise OperationError(f'no console user "{name}"')
        store.audit(tx, who, "console.user_remove", {"user": name}, now)


def change_password(store: Store, name: str, password: str, who: str, now: datetime) -> None:
    """Set a new password; every session of the account ends."""
    _check_password(password)
    with store.transaction() as tx:
        if not db.set_password(tx, name, _HASHER.hash(password), now):
            raise OperationError(f'no console user "{name}"')
        store.audit(tx, who, "console.user_passwd", {"user": name}, now)


@dataclass(frozen=True, slots=True)
class Login:
    """A successful login: the token for the cookie (never stored) and the session."""

    token: str
    session: Session


def token_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    store: Store,
    settings: ConsoleSettings,
    name: str,
    password: str,
    *,
    address: str,
    previous_token: str | None,
    now: datetime,
) -> Login:
    """Check the password under the rate limit and open a fresh session."""
    keys = (f"user:{name}", f"addr:{address}")
    since = now - timedelta(seconds=settings.login_window_s)
    # An address may be shared by a whole office (NAT): it gets more tries than one user.
    limits = (settings.login_attempts, ADDRESS_FACTOR * settings.login_attempts)
    if any(db.failures(store, k, since) >= n for k, n in zip(keys, limits, strict=True)):
        log.warning("console.login_rate_limited", user=name, address=address)
        raise RateLimitedError("too many wrong passwords: wait a few minutes and try again")
    found = db.account(store, name)
    if not _verify(found.password_hash if found else _DUMMY_HASH, password) or found is None:
        with store.transaction() as tx:
            db.add_failure(tx, keys, now)
        log.warning("console.login_failed", user=name, address=address)
        raise OperationError("wrong user name or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    until = now + timedelta(hours=settings.session_hours)
    with store.transaction() as tx:
        # The browser's previous session ends (no fixation), and every expired one with it.
        db.end_session(tx, token_hash(previous_token or ""), now)
        db.add_session(tx, token_hash(token), found.name, csrf, now=now, until=until)
        db.forget_failures(tx, keys, since)
        store.audit(tx, found.name, "console.login", {"address": address}, now)
    log.info("console.login", user=found.name, address=address)
    return Login(token, Session(found.name, found.role, csrf, until))


def _verify(encoded: str, password: str) -> bool:
    try:
        return _HASHER.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


def current(store: Store, token: str | None, now: datetime) -> Session | None:
    """The session a cookie's token opens, if it is valid."""
    return db.session(store, token_hash(token), now) if token else None


def logout(store: Store, token: str, now: datetime) -> None:
    """End the session of this token."""
    with store.transaction() as tx:
        db.end_session(tx, token_hash(token), now)


def first_admin(store: Store, now: datetime) -> str | None:
    """For a first look: create `admin` with a random password when no account exists.

    Returns the password (to print once), or None when accounts exist already.
    """
    if db.account_names(store):
        return None
    password = secrets.token_urlsafe(12)
    add_user(store, "admin", Role.ADMIN.value, password, who="system", now=now)
    return password
