"""What operators do from the console: CSRF-checked POSTs, each one call into `operations`.

Every action answers JSON `{"ok": bool, "message": str, ...}`: 200 done,
422 refused with the reason in the operator's words, 403 for a viewer or a
forged request.  Who acted comes from the session, never from the form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from warning.console.web import Console, acting, console, now
from warning.model import WITA
from warning.operations import OperationError, approvals, silences
from warning.operations.actions import SendRequest, cancel_alerts, stop_sirens
from warning.store.console import Role, Session

Action = Callable[[Console, Session, FormData], dict[str, Any]]


def _field(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def cancel(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """Cancel one alert (engine ids, a change id or a manual id); a reason is required."""
    ids = [i for i in _field(form, "ids").split(",") if i]
    if not ids:
        raise OperationError("which alert? (no id given)")
    outcomes = cancel_alerts(shared.operator, ids, _field(form, "reason"), who.account, now())
    sms = sum(len(o.sms) for o in outcomes)
    return {"message": f"dibatalkan: {sms} SMS koreksi diantrekan", "sms": sms}


def manual(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """A manual alert: sent now when low, else stored for a second operator."""
    areas = ",".join(str(a) for a in form.getlist("areas") if str(a).strip())
    request = SendRequest(
        areas,
        _field(form, "level"),
        _field(form, "message"),
        siren=_field(form, "siren") in ("on", "true", "1"),
        kind=_field(form, "kind") or None,
    )
    done = approvals.request_manual(shared.operator, request, who.account, now())
    if done.approval_id is not None:
        return {
            "message": f"menunggu persetujuan operator kedua (#{done.approval_id})",
            "approval_id": done.approval_id,
        }
    return {"message": f"dikirim: {done.change_id}", "change_id": done.change_id}


def approve(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """The second operator approves a pending manual alert."""
    change_id = approvals.approve(
        shared.operator, _number(form, "id"), who.account, who.role, now()
    )
    return {"message": f"disetujui dan dikirim: {change_id}", "change_id": change_id}


def reject(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """A pending manual alert is withdrawn."""
    approvals.reject(shared.operator, _number(form, "id"), who.account, who.role, now())
    return {"message": "ditolak"}


def siren_stop(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """All-clear to one siren or all."""
    detail = stop_sirens(shared.operator, _field(form, "siren") or "all", who.account, now())
    return {"message": f"all-clear: {', '.join(detail['sirens'])}"}


def silence(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """Silence a rule until a WITA time, with a reason."""
    until = _until(_field(form, "until"))
    silence_id = silences.silence(
        shared.operator,
        _field(form, "rule"),
        until=until,
        reason=_field(form, "reason"),
        who=who.account,
        now=now(),
    )
    return {"message": f"aturan disenyapkan (#{silence_id})", "silence_id": silence_id}


def unsilence(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """End a silence early."""
    silences.unsilence(shared.operator, _number(form, "id"), who.account, now())
    return {"message": "senyap diakhiri"}


def drill(shared: Console, who: Session, form: FormData) -> dict[str, Any]:
    """Start a shipped scenario as a drill."""
    try:
        speed = float(_field(form, "speed") or "1")
    except ValueError:
        raise OperationError("speed must be a number") from None
    shared.drills.start(_field(form, "scenario"), who.account, speed)
    return {"message": "latihan dimulai", "report": "/drill"}


def _number(form: FormData, name: str) -> int:
    try:
        return int(_field(form, name))
    except ValueError:
        raise OperationError(f"{name} must be a number") from None


def _until(text: str) -> datetime:
    """A `datetime-local` value read as WITA."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OperationError("give the end time as YYYY-MM-DDTHH:MM (WITA)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=WITA)


def endpoint(action: Action, role: Role) -> Callable[[Request], Any]:
    """A POST handler: role and CSRF checked, the operation run on a worker thread."""

    async def handle(request: Request) -> Response:
        who, form = await acting(request, role)
        shared = console(request)
        try:
            body = await to_thread.run_sync(action, shared, who, form)
        except OperationError as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=422)
        return JSONResponse({"ok": True, **body})

    return handle


ROUTES = [
    Route(f"/actions/{name}", endpoint(action, role), methods=["POST"])
    for name, action, role in (
        ("cancel", cancel, Role.OPERATOR),
        ("manual", manual, Role.OPERATOR),
        ("approve", approve, Role.APPROVER),
        ("reject", reject, Role.OPERATOR),
        ("siren-stop", siren_stop, Role.OPERATOR),
        ("silence", silence, Role.OPERATOR),
        ("unsilence", unsilence, Role.OPERATOR),
        ("drill", drill, Role.OPERATOR),
    )
]
