"""Public pages, no login: levels for residents (`/peta`, `/api/areas`) and the CAP feed (`/cap/`).

Nothing here shows operator data: only the current level per kelurahan and
the CAP documents the daemon publishes anyway.
"""

from __future__ import annotations

import re

from anyio import to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from warning.console import data
from warning.console.i18n import LANGUAGES
from warning.console.web import LANG_COOKIE, console, render, set_cookie

#: The file names the CAP writer produces (identifiers, the index); nothing else is served.
CAP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(xml|atom)$")
MEDIA = {"xml": "application/cap+xml", "atom": "application/atom+xml"}


async def areas(request: Request) -> Response:
    """GeoJSON of the 34 kelurahan with their live level."""
    shared = console(request)
    body = await to_thread.run_sync(data.areas_collection, shared.settings, shared.store)
    return JSONResponse(body, headers={"cache-control": "no-store"})


async def kecamatan(request: Request) -> Response:
    """GeoJSON of the six kecamatan outlines."""
    return JSONResponse(data.kecamatan_collection(console(request).settings))


async def peta(request: Request) -> Response:
    """The residents' read-only map."""
    return render(request, "peta.html")


async def cap(request: Request) -> Response:
    """A CAP document or the Atom index, as the daemon wrote it."""
    name = request.path_params["name"]
    if not CAP_NAME.match(name):
        raise HTTPException(404)
    path = console(request).settings.cap_dir / name
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=MEDIA[name.rsplit(".", 1)[1]])


async def cap_root(_request: Request) -> Response:
    """`/cap/` leads to the index feed."""
    return RedirectResponse("/cap/index.atom", status_code=302)


async def choose_language(request: Request) -> Response:
    """`/lang/en` or `/lang/id`: remember the choice, go back where the reader was."""
    chosen = request.path_params["code"]
    if chosen not in LANGUAGES:
        raise HTTPException(404)
    back = request.query_params.get("next", "/")
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, LANG_COOKIE, chosen, max_age=365 * 86400)
    return response


ROUTES = [
    Route("/api/areas", areas),
    Route("/api/kecamatan", kecamatan),
    Route("/peta", peta),
    Route("/cap/", cap_root),
    Route("/cap/{name}", cap),
    Route("/lang/{code}", choose_language),
]
