"""The operations room: `/` (the page), `/api/room` (its data) and `/events` (live updates).

The page is drawn by `static/room.js` from the same snapshot `/api/room`
returns; `/events` is a server-sent event stream that pushes a new snapshot
whenever the store changed (checked every second, and at least every 15 s
so ages and the heartbeat stay fresh).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from warning.console import data
from warning.console.data import Viewer
from warning.console.web import Console, console, now, render, require, session
from warning.daemon.drillreport import render_text
from warning.model import Level
from warning.operations.drills import scenarios
from warning.operations.silences import rule_ids
from warning.rules.templates import GSM7_BASIC, GSM7_EXTENSION
from warning.store import console as db

#: Seconds between checks of the store for changes, and the longest quiet gap.
POLL_S = 1.0
REFRESH_S = 15.0


async def page(request: Request) -> Response:
    """The room for a logged-in user; the login form otherwise."""
    found = session(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    shared = console(request)
    viewer = Viewer.of(found)
    return render(
        request,
        "room.html",
        me=viewer,
        csrf=found.csrf,
        areas=sorted(data.area_names(shared.settings).items(), key=lambda kv: kv[1]),
        levels=[lv.value for lv in Level],
        sirens=[s.id for s in shared.settings.sirens],
        rules=await to_thread.run_sync(rule_ids, shared.operator),
        scenarios=scenarios(shared.drills.folder),
        gsm7_basic="".join(sorted(GSM7_BASIC)),
        gsm7_ext="".join(sorted(GSM7_EXTENSION)),
    )


def snapshot(shared: Console, viewer: Viewer) -> dict[str, Any]:
    """The room's data now (runs on a worker thread: SQLite and /healthz block)."""
    return data.room(shared.settings, shared.store, viewer, now())


async def room_json(request: Request) -> Response:
    """The snapshot as JSON."""
    viewer = Viewer.of(require(request))
    body = await to_thread.run_sync(snapshot, console(request), viewer)
    return JSONResponse(body, headers={"cache-control": "no-store"})


async def events(request: Request) -> Response:
    """Server-sent events: one `data:` line of snapshot JSON per change."""
    viewer = Viewer.of(require(request))
    return StreamingResponse(
        _stream(request, console(request), viewer),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _stream(request: Request, shared: Console, viewer: Viewer) -> AsyncIterator[str]:
    last: tuple[Any, ...] | None = None
    quiet = 0.0
    while not await request.is_disconnected():
        if session(request) is None:
            yield "event: logout\ndata: {}\n\n"
            return
        mark = await to_thread.run_sync(db.fingerprint, shared.store)
        if mark != last or quiet >= REFRESH_S:
            body = await to_thread.run_sync(snapshot, shared, viewer)
            yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
            last, quiet = mark, 0.0
        await asyncio.sleep(POLL_S)
        quiet += POLL_S


async def drill_page(request: Request) -> Response:
    """The last drill started here: running, its report, or why it failed."""
    require(request)
    drills = console(request).drills
    report = render_text(drills.report) if drills.report else None
    return render(request, "drill.html", running=drills.running, report=report, error=drills.error)


ROUTES = [
    Route("/", page),
    Route("/api/room", room_json),
    Route("/events", events),
    Route("/drill", drill_page),
]
