"""What every page family of the console shares: context, sessions, CSRF, templates, headers.

Page families (public pages, login, the operations room, actions; later the
residents' reports and acknowledgement pages) are modules with a `ROUTES`
list; `app.build_app` mounts them all on one Starlette app around this shared
`Console` context.  Nothing here decides anything: it only says who is
asking and whether the request may go on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from warning.console import i18n
from warning.operations import OperatorSettings, accounts
from warning.operations.drills import DrillRunner
from warning.plan.acklinks import AckLinks
from warning.settings import Settings
from warning.store.console import Role, Session
from warning.store.sqlite import Store

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "warning_session"
LOGIN_CSRF_COOKIE = "warning_login_csrf"
LANG_COOKIE = "lang"


@dataclass(frozen=True)
class Console:
    """The console process's shared objects (one per app; no globals)."""

    settings: Settings
    #: The sections operator actions read (built from `settings`).
    operator: OperatorSettings
    store: Store
    templates: Jinja2Templates
    drills: DrillRunner
    #: Checks acknowledgement links (None: links are off, every link is refused).
    links: AckLinks | None = None
    #: Twilio's auth token, to validate its delivery receipts (None: all refused).
    twilio_token: str | None = None


def console(request: Request) -> Console:
    """The shared context of the app serving `request`."""
    found: Console = request.app.state.console
    return found


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def lang(request: Request) -> str:
    """The reader's language (cookie), Bahasa Indonesia by default."""
    return i18n.language(request.cookies.get(LANG_COOKIE))


def session(request: Request) -> Session | None:
    """The logged-in session of the request's cookie, if valid."""
    return accounts.current(console(request).store, request.cookies.get(SESSION_COOKIE), now())


def require(request: Request, role: Role = Role.VIEWER) -> Session:
    """The session, or 401 (no login) / 403 (role too low)."""
    found = session(request)
    if found is None:
        raise HTTPException(401, "login required")
    if not found.role.at_least(role):
        raise HTTPException(403, f"the {found.role.value} role cannot do this")
    return found


def same_origin(request: Request) -> bool:
    """A state-changing request must come from this site (Origin or Referer, when sent)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # non-browser clients send neither; the CSRF token still has to match
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def acting(request: Request, role: Role = Role.OPERATOR) -> tuple[Session, FormData]:
    """A POST from a logged-in browser with the right role and its session's CSRF token."""
    found = require(request, role)
    form = await request.form()
    token = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    if not same_origin(request) or not secrets.compare_digest(token, found.csrf):
        raise HTTPException(403, "CSRF check failed: reload the page")
    return found, form


def secure(request: Request) -> bool:
    """Served over TLS (directly, or behind a proxy that said so)."""
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, **extra: Any) -> None:
    """An HttpOnly, SameSite=Strict cookie, Secure over TLS."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/",
        **extra,
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page in the reader's language, with the words and the tile setting."""
    shared = console(request)
    words = i18n.words(lang(request))
    page = {
        "lang": lang(request),
        "t": words,
        "tile_url": shared.settings.console.tile_url,
        **context,
    }
    return shared.templates.TemplateResponse(request, template, page, status_code=status_code)


def headers(tile_url: str) -> dict[str, str]:
    """Security headers of every answer: our own assets only (the tile server for images)."""
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        tiles = f" {parts.scheme}://{parts.netloc}"
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{tiles}; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    )
    return {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
    }
