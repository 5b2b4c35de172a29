"""`warning console`: the Starlette app and its uvicorn server.

Page families are modules with a `ROUTES` list, mounted in `FAMILIES` order
(the acknowledgement links and Twilio's receipts are `ack`; residents' reports join later);
they share one `web.Console` context, the templates and the static assets,
all served by this process (no CDN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import structlog
import uvicorn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warning.console import ack, actions, login, public, reports, room
from warning.console.web import HERE, Console, headers
from warning.daemon.configuration import load_configuration
from warning.daemon.drill import DrillSetup
from warning.operations import OperatorSettings
from warning.operations.drills import DrillRunner
from warning.plan.acklinks import ack_links
from warning.reports.telegram import start_bot
from warning.settings import Settings, secret
from warning.store.sqlite import Store

log = structlog.get_logger()

#: Every page family's routes, in the order they are matched.
FAMILIES: Sequence[Sequence[BaseRoute]] = (
    public.ROUTES,
    ack.ROUTES,
    login.ROUTES,
    room.ROUTES,
    actions.ROUTES,
    reports.ROUTES,
)


def _drill_setup(settings: Settings) -> DrillSetup:
    """A console drill's sections, its configuration loaded from the files as they are now."""
    return DrillSetup.of(load_configuration(settings))


def build_app(settings: Settings) -> Starlette:
    """The console app on the configured store."""
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape()
    )
    shared = Console(
        settings=settings,
        operator=OperatorSettings.of(settings),
        store=Store(settings.state_path),
        templates=Jinja2Templates(env=environment),
        drills=DrillRunner(settings.rules_dir / "tests", partial(_drill_setup, settings)),
        links=ack_links(settings, secret),
        twilio_token=secret("TWILIO_AUTH_TOKEN", settings.sms.auth_token_file, "twilio_auth_token"),
    )
    routes: list[BaseRoute] = [r for family in FAMILIES for r in family]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(SecurityHeaders, values=headers(settings.console.tile_url))],
    )
    app.state.console = shared
    return app


class SecurityHeaders:
    """ASGI middleware: the same security headers on every answer (streams included)."""

    def __init__(self, app: ASGIApp, values: Mapping[str, str]) -> None:
        self.app = app
        self.values = [(k.encode(), v.encode()) for k, v in values.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.values]
            await send(message)

        await self.app(scope, receive, sending)


async def _http_error(request: Request, exc: Exception) -> Response:
    """401 on a page leads to the login form; everything else is a short JSON answer."""
    assert isinstance(exc, HTTPException)
    if (
        exc.status_code == 401
        and request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
    ):
        return RedirectResponse("/login", status_code=303)
    return JSONResponse({"ok": False, "message": exc.detail}, status_code=exc.status_code)


def serve(settings: Settings) -> int:
    """Run the console until SIGTERM/SIGINT (uvicorn handles both)."""
    host, _, port = settings.console.listen.rpartition(":")
    app = build_app(settings)
    log.info("console.ready", listen=settings.console.listen)
    # The residents' Telegram bot lives beside the reporting page (when a token is set).
    bot = start_bot(settings)
    try:
        # Behind a local TLS proxy, X-Forwarded-Proto says https (cookies become Secure).
        uvicorn.run(
            app,
            host=host.strip("[]") or "127.0.0.1",
            port=int(port),
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            log_level="warning",
            access_log=False,
            # Live-update streams never end by themselves: do not wait for them on SIGTERM.
            timeout_graceful_shutdown=3,
        )
    finally:
        if bot is not None:
            bot.stop()
    return 0
