"""Residents' reports: `/lapor` (the form, no login), its API, status pages, the operators' queue.

Residents: `GET /lapor` is the form (works with JavaScript off; with it, GPS
and an offline queue), `POST /lapor` the plain form post (303 to the status
page), `POST /api/reports` the same as JSON or multipart (201/422/429),
`GET /api/reports/CODE` and `GET /lapor/CODE` the status without login.
Operators: `GET /laporan` is the queue (photo, position; phone numbers for
operators only), `POST /laporan/CODE` a CSRF-checked decision, `GET
/laporan.csv` the export with masked phones.  Every decision goes through
`warning.reports`; nothing here decides anything.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from warning.areas import AreaIndex, load_areas
from warning.console.web import HERE, acting, console, lang, now, render, require, same_origin
from warning.console.web import set_cookie as set_strict_cookie
from warning.model import WITA, ReportCategory, ReportStatus
from warning.reports import RateLimitedError, RefusedError, ReportError
from warning.reports.intake import Draft, mask_phone
from warning.reports.submit import Receipt, Sender, current_contacts, submit
from warning.reports.verify import decide
from warning.reports.words import Refusal
from warning.store import reports as db
from warning.store.console import Role
from warning.store.reports import StoredReport

DEVICE_COOKIE = "lapor_device"
#: The upload is read whole into memory: refuse anything far over the photo limit first.
FORM_OVERHEAD = 64_000
#: How far back the operators' queue looks.
QUEUE_DAYS = 7


def _areas(request: Request) -> AreaIndex:
    """The areas, loaded once per app (the console process never reloads them)."""
    state = request.app.state
    if getattr(state, "report_areas", None) is None:
        settings = console(request).settings
        state.report_areas = load_areas(settings.areas_path, settings.areas.min_polygon_share)
    found: AreaIndex = state.report_areas
    return found


def _kelurahan(request: Request) -> list[tuple[str, str]]:
    """(id, name) of every kelurahan, by name, for the picker."""
    return sorted(((a.id, a.name) for a in _areas(request).kelurahan), key=lambda kv: kv[1])


# ---------------------------------------------------------------------------
# Residents


async def form_page(request: Request) -> Response:
    """The reporting form, with a device cookie for the rate limit."""
    return _form(request, {}, None, 200)


def _form(request: Request, values: dict[str, str], error: str | None, status: int) -> Response:
    """The form (again, with what was sent and why it was refused)."""
    response = render(
        request,
        "lapor.html",
        status,
        kelurahan=_kelurahan(request),
        categories=[c.value for c in ReportCategory],
        values=values,
        error=error,
    )
    _remember_device(request, response, _device(request))
    return response


def _device(request: Request) -> str:
    """The browser's device token: its cookie, or a new one (set on the answer)."""
    found = request.cookies.get(DEVICE_COOKIE, "")
    return found if 16 <= len(found) <= 64 else secrets.token_urlsafe(18)


def _remember_device(request: Request, response: Response, token: str) -> None:
    """Set the device token when the browser does not have it yet (a year, HttpOnly)."""
    if request.cookies.get(DEVICE_COOKIE) != token:
        set_strict_cookie(request, response, DEVICE_COOKIE, token, max_age=365 * 86400)


async def form_post(request: Request) -> Response:
    """The plain form post: 303 to the status page, or the form again with the reason."""
    form = await _read_form(request)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    device = _device(request)
    try:
        receipt = await _submit(request, await _draft(form), device)
    except RefusedError as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 422
        return _form(request, values, exc.message(lang(request)), status)
    response = RedirectResponse(f"/lapor/{receipt.code}", status_code=303)
    _remember_device(request, response, device)
    return response


async def api_post(request: Request) -> Response:
    """`POST /api/reports`: JSON or multipart; 201 with the code, 422 or 429 with the reason."""
    device = _device(request)
    try:
        draft = await _api_draft(request)
        receipt = await _submit(request, draft, device)
    except RefusedError as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 422
        return JSONResponse({"error": exc.message(lang(request))}, status_code=status)
    body = {"code": receipt.code, "kelurahan": receipt.kelurahan, "status": receipt.status.value}
    response = JSONResponse(body, status_code=201)
    _remember_device(request, response, device)
    return response


async def _api_draft(request: Request) -> Draft:
    """The draft of a JSON body (the contract) or of a multipart form (with a photo)."""
    _same_site(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise RefusedError(Refusal.BAD_REQUEST) from None
        if not isinstance(body, dict):
            raise RefusedError(Refusal.BAD_REQUEST)
        return Draft(
            category=_text(body.get("category")),
            lon=body.get("lon"),
            lat=body.get("lat"),
            kelurahan=_text(body.get("kelurahan")),
            description=_text(body.get("description")),
            phone=_text(body.get("phone")),
        )
    return await _draft(await _read_form(request))


def _same_site(request: Request) -> None:
    """A browser posting from another site is refused (403): reports come from our form."""
    if not same_origin(request):
        raise HTTPException(403, "reports are sent from this site's form")


def _text(value: object) -> str:
    """A JSON field as text (a number or a list is no text: it fails validation as empty)."""
    return value if isinstance(value, str) else ""


async def _read_form(request: Request) -> FormData:
    """The posted form, refused early when far larger than a photo may be."""
    _same_site(request)
    limit = console(request).settings.reports.photo_max_bytes + FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit * 2:
        raise HTTPException(413, "too large")
    try:
        return await request.form(max_files=1, max_fields=20)
    except HTTPException:
        raise RefusedError(Refusal.BAD_REQUEST) from None


async def _draft(form: FormData) -> Draft:
    """A multipart or urlencoded form as a draft (an empty file input is no photo)."""
    upload = form.get("photo")
    photo = await upload.read() if isinstance(upload, UploadFile) else None

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return Draft(
        category=field("category"),
        lon=field("lon"),
        lat=field("lat"),
        kelurahan=field("kelurahan"),
        description=field("description"),
        phone=field("phone"),
        photo=photo or None,
    )


async def _submit(request: Request, draft: Draft, device: str) -> Receipt:
    """Hand the draft to `warning.reports.submit` on a worker thread.

    A client that keeps no cookie gets a new device token each time: the
    per-address limit is what holds it back.
    """
    shared = console(request)
    address = request.client.host if request.client else "unknown"
    areas = _areas(request)

    def run() -> Receipt:
        return submit(
            shared.store,
            draft,
            Sender("web", device, address),
            areas=areas,
            contacts=current_contacts(shared.settings, areas),
            settings=shared.settings.reports,
            now=now(),
        )

    return await to_thread.run_sync(run)


async def status_json(request: Request) -> Response:
    """`GET /api/reports/CODE`: the status (no description, no phone: codes can be guessed)."""
    found = await _find(request)
    if found is None:
        return JSONResponse({"error": "kode laporan tidak dikenal"}, status_code=404)
    return JSONResponse(_public(found), headers={"cache-control": "no-store"})


async def status_page(request: Request) -> Response:
    """`GET /lapor/CODE`: the status for the reporter, without login."""
    found = await _find(request)
    if found is None:
        raise HTTPException(404, "kode laporan tidak dikenal")
    place = {a.id: a.name for a in _areas(request).kelurahan}.get(found.kelurahan)
    return render(request, "lapor_status.html", report=_public(found), place=place)


async def _find(request: Request) -> StoredReport | None:
    """The report named by the path's code (upper-cased: people type it)."""
    code = request.path_params["code"].strip().upper()
    if not code.isalnum() or len(code) > 12:
        return None
    return await to_thread.run_sync(db.find, console(request).store, code)


def _public(report: StoredReport) -> dict[str, Any]:
    """What anyone holding the code may see."""
    return {
        "code": report.code,
        "status": report.status.value,
        "category": report.category.value,
        "kelurahan": report.kelurahan,
        "received_at": report.created_at.isoformat(),
        "received_wita": _wita(report.created_at),
    }


def _wita(moment: datetime | None) -> str:
    """A time as people read it."""
    return "" if moment is None else moment.astimezone(WITA).strftime("%d/%m %H.%M WITA")


async def manifest(_request: Request) -> Response:
    """The web app manifest: /lapor installs as an app."""
    text = (HERE / "static" / "lapor.webmanifest").read_text(encoding="utf-8")
    return Response(text, media_type="application/manifest+json")


async def service_worker(_request: Request) -> Response:
    """The service worker, served from the root so it may control /lapor."""
    text = (HERE / "static" / "lapor-sw.js").read_text(encoding="utf-8")
    return Response(text, media_type="text/javascript", headers={"cache-control": "no-cache"})


# ---------------------------------------------------------------------------
# Operators


async def queue_page(request: Request) -> Response:
    """The queue: open reports first, each with its photo, position and (operators) phone."""
    who = require(request)
    shared = console(request)
    since = now() - timedelta(days=QUEUE_DAYS)
    found = await to_thread.run_sync(db.queue, shared.store, since)
    operator = who.role.at_least(Role.OPERATOR)
    names = {a.id: a.name for a in _areas(request).kelurahan}
    rows = [_row(r, names, operator=operator) for r in found]
    return render(request, "laporan.html", rows=rows, csrf=who.csrf, operator=operator)


def _row(report: StoredReport, names: dict[str, str], *, operator: bool) -> dict[str, Any]:
    """One queue row: the phone in full for operators only."""
    return {
        **_public(report),
        "place": names.get(report.kelurahan, report.kelurahan),
        "description": report.description,
        "phone": report.phone if operator else mask_phone(report.phone),
        "position": "" if report.lon is None else f"{report.lat:.5f}, {report.lon:.5f}",
        "lon": report.lon,
        "lat": report.lat,
        "photo": report.has_photo,
        "group": report.group_code,
        "grouped": report.group_code != report.code,
        "channel": report.channel,
        "decided": f"{report.decided_by} {_wita(report.decided_at)}" if report.decided_by else "",
        "reason": report.reason or "",
    }


async def queue_json(request: Request) -> Response:
    """How many reports the queue holds and the newest code (the page reloads on change)."""
    require(request)
    since = now() - timedelta(days=QUEUE_DAYS)
    found = await to_thread.run_sync(db.queue, console(request).store, since)
    marks = [f"{r.code}:{r.status.value}" for r in found]
    return JSONResponse({"count": len(found), "mark": "|".join(marks)})


async def photo(request: Request) -> Response:
    """A report's re-encoded photo, for logged-in users only."""
    require(request)
    code = request.path_params["code"]
    found = await to_thread.run_sync(db.photo, console(request).store, code)
    if found is None:
        raise HTTPException(404, "no photo")
    return Response(found.data, media_type=found.media_type, headers={"cache-control": "no-store"})


async def decision(request: Request) -> Response:
    """An operator verifies, rejects (reason required) or marks a report acted on."""
    who, form = await acting(request, Role.OPERATOR)
    code = request.path_params["code"]
    try:
        status = ReportStatus(str(form.get("status") or ""))
        reason = str(form.get("reason") or "")
        shared = console(request)
        await to_thread.run_sync(
            lambda: decide(shared.store, code, status, actor=who.account, reason=reason, now=now())
        )
    except (ValueError, ReportError) as exc:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=422)
        raise HTTPException(422, str(exc)) from None
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "message": f"{code}: {status.value}"})
    return RedirectResponse("/laporan", status_code=303)


async def export(request: Request) -> Response:
    """CSV of the queue's reports: phone numbers masked, whoever exports."""
    require(request, Role.OPERATOR)
    since = now() - timedelta(days=QUEUE_DAYS)
    found = await to_thread.run_sync(db.queue, console(request).store, since)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "received_at", "category", "kelurahan", "status", "phone", "text"])
    for r in found:
        writer.writerow(
            [
                r.code,
                r.created_at.isoformat(),
                r.category.value,
                r.kelurahan,
                r.status.value,
                mask_phone(r.phone),
                _cell(r.description),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="laporan.csv"'},
    )


def _cell(text: str) -> str:
    """A resident's text as a spreadsheet reads it: never a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


ROUTES = [
    Route("/lapor", form_page, methods=["GET"]),
    Route("/lapor", form_post, methods=["POST"]),
    Route("/lapor.webmanifest", manifest),
    Route("/lapor-sw.js", service_worker),
    Route("/lapor/{code}", status_page),
    Route("/api/reports", api_post, methods=["POST"]),
    Route("/api/reports/{code}", status_json),
    Route("/laporan", queue_page),
    Route("/laporan.csv", export),
    Route("/api/laporan", queue_json),
    Route("/laporan/{code}/foto", photo),
    Route("/laporan/{code}", decision, methods=["POST"]),
]
