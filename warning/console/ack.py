"""Acknowledgement links and Twilio's delivery receipts: the two pages the world calls back on.

`/a/<token>` is the link an official's or an RT head's SMS ends with.  GET
shows the one-tap "Diterima" page and records nothing (link previewers and
scanners open links too); POST to the same URL records the acknowledgement,
once however often it is tapped.  It needs no login and no CSRF token: the
signature is the credential, checked against the key only the daemon and
the console hold.  A forged link is refused (403), an expired one too (410).

`/twilio/status` takes Twilio's StatusCallback, checked with the twilio
library's RequestValidator on the URL Twilio was given; a receipt is a hint
(carriers in Indonesia report unreliably), the acknowledgement is the proof.
"""

from __future__ import annotations

import re

import structlog
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from warning.console.data import rule_name
from warning.console.web import console, now, render
from warning.model import WITA
from warning.plan.acklinks import PATH, RECEIPT_PATH, TOKEN_CHARS
from warning.store import acks
from warning.store.acks import AckLink, ReceiptStatus

log = structlog.get_logger()

_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")


def _checked(request: Request) -> tuple[AckLink | None, int]:
    """The link of the request's token and the status to answer with (200, 403, 410)."""
    shared = console(request)
    token = request.path_params["token"]
    links = shared.links
    if links is None or not _TOKEN.fullmatch(token):
        return None, 403
    found = acks.link(shared.store, token)
    if found is None or not links.signed(token, found.recipient, found.change_id, found.expires):
        return None, 403
    if now() >= found.expires:
        return found, 410
    return found, 200


async def confirm_page(request: Request) -> Response:
    """GET: the "Diterima" page (or why the link cannot be used); nothing is recorded."""
    found, status = await to_thread.run_sync(_checked, request)
    if found is None or status != 200:
        return _refusal(request, found, status)
    state = "ask" if found.acknowledged_at is None else "done"
    return _page(request, found, state)


async def acknowledge(request: Request) -> Response:
    """POST: record the acknowledgement (idempotent) and say so."""
    found, status = await to_thread.run_sync(_checked, request)
    if found is None or status != 200:
        return _refusal(request, found, status)
    shared = console(request)

    def record() -> AckLink:
        with shared.store.transaction() as tx:
            new = acks.acknowledge(tx, found, now())
        if new:
            log.info(
                "ack.recorded", change_id=found.change_id, group=found.group, drill=found.drill
            )
        return acks.link(shared.store, found.token) or found

    recorded = await to_thread.run_sync(record)
    return _page(request, recorded, "done")


def _page(request: Request, found: AckLink, state: str, status_code: int = 200) -> Response:
    """The acknowledgement page in one of its states."""
    acknowledged = found.acknowledged_at
    return render(
        request,
        "ack.html",
        status_code,
        state=state,
        link=found,
        rule=rule_name(console(request).settings, found.rule_id),
        expires=found.expires.astimezone(WITA).strftime("%d-%m-%Y %H:%M"),
        acknowledged=""
        if acknowledged is None
        else acknowledged.astimezone(WITA).strftime("%H:%M"),
    )


def _refusal(request: Request, found: AckLink | None, status: int) -> Response:
    """A forged link (403) or an expired one (410), logged without the token."""
    state = "expired" if status == 410 else "refused"
    log.warning("ack.refused", reason=state, path_length=len(request.url.path))
    if found is None:
        return render(request, "ack.html", status, state=state, link=None)
    return _page(request, found, state, status)


# ---------------------------------------------------------------------------
# Delivery receipts


async def receipt(request: Request) -> Response:
    """Twilio's StatusCallback: 403 unless signed with our auth token for our public URL."""
    shared = console(request)
    form = await request.form()
    params = {k: str(v) for k, v in form.items()}
    url = shared.settings.console.public_url.rstrip("/") + RECEIPT_PATH
    signature = request.headers.get("x-twilio-signature", "")
    token = shared.twilio_token
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        log.warning("receipt.refused", signed=bool(signature), configured=bool(token))
        return Response("forbidden", status_code=403, media_type="text/plain")
    try:
        status = ReceiptStatus(params.get("MessageStatus", ""))
    except ValueError:
        return Response(status_code=204)  # queued, sending, accepted: not a receipt
    sid = params.get("MessageSid", "")
    code = params.get("ErrorCode") or None

    def record() -> int | None:
        with shared.store.transaction() as tx:
            return acks.record_receipt(tx, sid, status, code, now())

    delivery = await to_thread.run_sync(record)
    log.info("receipt.recorded", status=status.value, error_code=code, delivery_id=delivery)
    return Response(status_code=204)


ROUTES = [
    Route(PATH + "{token}", confirm_page, methods=["GET"]),
    Route(PATH + "{token}", acknowledge, methods=["POST"]),
    Route(RECEIPT_PATH, receipt, methods=["POST"]),
]
