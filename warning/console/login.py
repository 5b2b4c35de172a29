"""`/login` and `/logout`: a form with `username` and `password`, a fresh session each time.

The login form carries a CSRF token of its own (a double-submitted cookie, as
there is no session yet); a good login ends the browser's previous session
and sets a new random token (no fixation); wrong passwords are rate-limited
by `operations.accounts.login`.
"""

from __future__ import annotations

import secrets

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from warning.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    acting,
    console,
    now,
    render,
    same_origin,
    set_cookie,
)
from warning.operations import OperationError, accounts
from warning.store.console import Role


async def login_page(request: Request) -> Response:
    """The form, with a new login CSRF token."""
    return _form(request, None, 200)


def _form(request: Request, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, csrf=token, error=error)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


async def login(request: Request) -> Response:
    """Check the form; 303 to the room with a new session cookie, or the form again."""
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = str(form.get("csrf", ""))
    if not expected or not same_origin(request) or not secrets.compare_digest(given, expected):
        return _form(request, "CSRF", 403)
    shared = console(request)
    address = request.client.host if request.client else "unknown"
    try:
        done = await to_thread.run_sync(
            lambda: accounts.login(
                shared.store,
                shared.settings.console,
                str(form.get("username", "")),
                str(form.get("password", "")),
                address=address,
                previous_token=request.cookies.get(SESSION_COOKIE),
                now=now(),
            )
        )
    except accounts.RateLimitedError as exc:
        return _form(request, str(exc), 429)
    except OperationError as exc:
        return _form(request, str(exc), 401)
    response = RedirectResponse("/", status_code=303)
    hours = shared.settings.console.session_hours
    set_cookie(request, response, SESSION_COOKIE, done.token, max_age=int(hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    """End the session (a CSRF-checked POST)."""
    await acting(request, Role.VIEWER)
    token = request.cookies.get(SESSION_COOKIE, "")
    await to_thread.run_sync(accounts.logout, console(request).store, token, now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
