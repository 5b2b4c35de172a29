"""Everything the console reads, in one place: levels, the operations room's snapshot, maps.

The console never writes SQL: it reads through the store's read models
(`warning.store.console`, `warning.store.status`) and the areas file, and
asks the daemon's own /healthz for its heartbeat.  Every time shown to a
person is WITA.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import requests

from warning.areas import load_areas
from warning.model import WITA, ConfigError, Level, ObservationKind, Rule
from warning.plan.messages import RELAYED_KINDS
from warning.rules import load_rules
from warning.settings import Settings
from warning.store import acks
from warning.store import console as db
from warning.store.console import Firing, Role, Session
from warning.store.sqlite import Store
from warning.store.status import status_report

#: How far back nowcast polygons and quake epicentres are drawn.
OVERLAY_SPAN = timedelta(hours=6)
#: Seconds the console waits for the daemon's /healthz.
HEALTH_TIMEOUT_S = 0.5


def wita(moment: datetime | str | None) -> str | None:
    """`2026-03-01 10:30 WITA`, or None."""
    if moment is None:
        return None
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{when.astimezone(WITA):%Y-%m-%d %H:%M} WITA"


@cache
def _geojson(path: Path) -> dict[str, Any]:
    """The areas file as parsed JSON (read once per process)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _features(settings: Settings, kind: str) -> list[dict[str, Any]]:
    return [
        f for f in _geojson(settings.areas_path)["features"] if f["properties"]["level"] == kind
    ]


def levels(firing: Iterable[Firing], *, drill: bool) -> dict[str, Level]:
    """The highest firing level per kelurahan, live or drill alerts only."""
    found: dict[str, Level] = {}
    for f in firing:
        if f.drill == drill:
            found[f.area_id] = max(found.get(f.area_id, f.level), f.level)
    return found


def live_levels(store: Store) -> dict[str, Level]:
    """Live levels per kelurahan: engine alerts and manual alerts not cancelled."""
    found = levels(db.firing(store), drill=False)
    for manual in db.manual_alerts(store):
        level = Level(manual["level"])
        for area in manual["areas"]:
            found[area] = max(found.get(area, level), level)
    return found


def areas_collection(settings: Settings, store: Store) -> dict[str, Any]:
    """`GET /api/areas`: the 34 kelurahan with id, name and live level (none when quiet)."""
    current = live_levels(store)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {
                    "id": f["properties"]["id"],
                    "name": f["properties"]["name"],
                    "level": current[f["properties"]["id"]].value
                    if f["properties"]["id"] in current
                    else "none",
                },
            }
            for f in _features(settings, "kelurahan")
        ],
    }


def kecamatan_collection(settings: Settings) -> dict[str, Any]:
    """The six kecamatan outlines (id and name only)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {"id": f["properties"]["id"], "name": f["properties"]["name"]},
            }
            for f in _features(settings, "kecamatan")
        ],
    }


def area_names(settings: Settings) -> dict[str, str]:
    """Kelurahan id -> name, for selectors."""
    return {
        f["properties"]["id"]: f["properties"]["name"] for f in _features(settings, "kelurahan")
    }


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks at the room and what they may do."""

    name: str
    role: Role

    @property
    def can_act(self) -> bool:
        """Operators (and above) get action buttons."""
        return self.role.at_least(Role.OPERATOR)

    @property
    def can_approve(self) -> bool:
        """Approvers and admins decide on manual alerts."""
        return self.role.at_least(Role.APPROVER)

    @classmethod
    def of(cls, session: Session) -> Viewer:
        """The viewer of a session."""
        return cls(session.account, session.role)


def room(settings: Settings, store: Store, viewer: Viewer, now: datetime) -> dict[str, Any]:
    """The operations room's whole picture, as JSON-able data (the page and its live updates)."""
    status = status_report(settings, now)
    firing = db.firing(store)
    drill_running = status["last_drill"] is not None and status["last_drill"]["finished"] is None
    return {
        "now": wita(now),
        "me": {
            "name": viewer.name,
            "role": viewer.role.value,
            "can_act": viewer.can_act,
            "can_approve": viewer.can_approve,
        },
        "levels": {k: v.value for k, v in live_levels(store).items()},
        "drill_levels": {k: v.value for k, v in levels(firing, drill=True).items()},
        "drill_running": drill_running or any(f.drill for f in firing),
        "alerts": _alerts(store, firing, settings) + _manual(store, settings),
        "feeds": [_feed(f, now) for f in status["feeds"]],
        "outbox": [_delivery(d) for d in db.open_deliveries(store)],
        "outbox_counts": status["outbox"],
        "audit": [_action(a) for a in db.audit_tail(store)],
        "sirens": _sirens(settings, store),
        "approvals": [_approval(a, viewer) for a in db.pending_approvals(store)],
        "silences": [{**s, "ends_at": wita(str(s["ends_at"]))} for s in status["silences"]],
        "last_drill": _drill(status["last_drill"]),
        "last_siren_test": _siren_test(status["last_siren_test"]),
        "daemon": daemon_health(settings),
        "overlays": overlays(store, now),
    }


def _alerts(store: Store, firing: Sequence[Firing], settings: Settings) -> list[dict[str, Any]]:
    """Firing alerts grouped per (rule, drill): level, kelurahan, source, progress, history."""
    groups: dict[tuple[str, bool], list[Firing]] = {}
    for f in firing:
        groups.setdefault((f.rule_id, f.drill), []).append(f)
    names = area_names(settings)
    found = []
    for (rule_id, drill), members in groups.items():
        started = min((m.since for m in members if m.since), default=None)
        since = started.isoformat() if started else ""
        found.append(
            {
                "id": members[0].alert_id
                if len(members) == 1
                else ",".join(m.alert_id for m in members),
                "rule": rule_id,
                "drill": drill,
                "level": max(m.level for m in members).value,
                "areas": [names.get(m.area_id, m.area_id) for m in members],
                "source": _source(settings, rule_id),
                "started": wita(started),
                "progress": db.delivery_progress(store, rule_id, drill, since),
                "acknowledgement": _acknowledgement(store, members, names),
                "history": [
                    {**h, "time": wita(h["time"])} for h in db.alert_history(store, rule_id, drill)
                ],
            }
        )
    return found


def _acknowledgement(
    store: Store, members: Sequence[Firing], names: Mapping[str, str]
) -> dict[str, Any] | None:
    """Who confirmed the alert's latest change, the kelurahan nobody confirmed, the step.

    None when no SMS about it carried a link (links off, or a level below them).
    """
    known = [acks.alert_acks(store.connection(), m.rule_id, m.area_id, m.drill) for m in members]
    if not any(k.linked for k in known):
        return None
    confirmed = [name for k in known for name in acks.names(k.by)]
    silent = [
        names.get(m.area_id, m.area_id)
        for m, k in zip(members, known, strict=True)
        if k.linked and not k.by
    ]
    return {
        "by": list(dict.fromkeys(confirmed)),
        "missing": silent,
        "step": max(k.step for k in known),
    }


def _manual(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """Manual alerts still standing, shaped like engine alerts."""
    names = area_names(settings)
    return [
        {
            "id": m["change_id"],
            "rule": m["change_id"],
            "drill": False,
            "level": m["level"],
            "areas": [names.get(a, a) for a in m["areas"]],
            "source": "manual",
            "started": wita(m["time"]),
            "progress": db.delivery_progress(store, m["change_id"], False, m["time"]),
            "history": [],
        }
        for m in db.manual_alerts(store)
    ]


@cache
def _rules(rules_dir: Path, areas_path: Path) -> tuple[Rule, ...]:
    """The rules as the daemon reads them (once per process; none if they are broken)."""
    try:
        return tuple(load_rules([rules_dir], load_areas(areas_path)))
    except ConfigError:
        return ()


def _source(settings: Settings, rule_id: str) -> str:
    """`bmkg` for a relay of BMKG's warnings, `city` for the city's own rules."""
    rules = _rules(settings.rules_dir, settings.areas_path)
    relays = {r.id for r in rules if r.kind in RELAYED_KINDS}
    return "bmkg" if rule_id in relays else "city"


def rule_name(settings: Settings, rule_id: str) -> str:
    """The name officials gave a rule, as people read it (its id when unknown)."""
    found = (r.name for r in _rules(settings.rules_dir, settings.areas_path) if r.id == rule_id)
    return next(found, rule_id)


def _feed(feed: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    last = feed.get("last_success")
    age = (now - datetime.fromisoformat(last)).total_seconds() if last else None
    return {
        "name": feed["feed"],
        "health": feed["health"],
        "age_s": None if age is None else round(age),
        "last_success": wita(last),
        "error": feed.get("last_error"),
    }


def mask(recipient: str) -> str:
    """A phone number shown with its middle hidden; siren ids and `cap` as they are."""
    if recipient.startswith("+") and len(recipient) > 8:
        return recipient[:5] + "•" * (len(recipient) - 8) + recipient[-3:]
    return recipient


def _delivery(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "recipient": mask(str(row["recipient"])),
        "status": row["status"],
        "attempts": row["attempts"],
        "created": wita(row["created_at"]),
        "error": row["last_error"],
        "rule": row["rule_id"],
        "drill": bool(row["drill"]),
    }


def _action(row: Mapping[str, Any]) -> dict[str, Any]:
    detail = row["detail"]
    reason = detail.get("reason") if isinstance(detail, dict) else None
    return {
        "time": wita(row["time"]),
        "actor": row["actor"],
        "action": row["action"],
        "reason": reason,
    }


def _sirens(settings: Settings, store: Store) -> list[dict[str, Any]]:
    """Every configured siren with its last command, acknowledgement and position."""
    last = db.siren_commands(store)
    names = area_names(settings)
    found = []
    for siren in settings.sirens:
        command = last.get(siren.id, {})
        found.append(
            {
                "id": siren.id,
                "areas": [names.get(a, a) for a in siren.areas],
                "area_ids": list(siren.areas),
                "command": command.get("command"),
                "status": command.get("status"),
                "time": wita(command.get("time")),
                "acknowledged": wita(command.get("acknowledged")),
                "failed": command.get("status") == "failed",
            }
        )
    return found


def _approval(approval: db.Approval, viewer: Viewer) -> dict[str, Any]:
    request = approval.request
    return {
        "id": approval.id,
        "requested_by": approval.requested_by,
        "requested_at": wita(approval.requested_at),
        "level": request.get("level"),
        "areas": request.get("areas"),
        "message": request.get("message"),
        "siren": bool(request.get("siren")),
        "may_approve": viewer.can_approve and viewer.name != approval.requested_by,
    }


def _drill(drill: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if drill is None:
        return None
    return {**drill, "time": wita(drill["time"]), "finished": wita(drill.get("finished"))}


def _siren_test(test: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if test is None else {**test, "time": wita(test["time"])}


def daemon_health(settings: Settings) -> dict[str, Any]:
    """The daemon's own /healthz (heartbeat age, status), or why it did not answer."""
    listen = settings.health.listen
    if not listen:
        return {"ok": None, "status": "disabled"}
    try:
        reply = requests.get(f"http://{listen}/healthz", timeout=HEALTH_TIMEOUT_S)
        body = reply.json()
    except (requests.RequestException, ValueError):
        return {"ok": False, "status": "unreachable"}
    return {
        "ok": reply.status_code == 200,
        "status": body.get("status"),
        "heartbeat_age_s": body.get("heartbeat_age_s"),
        "problems": body.get("problems", []),
    }


def overlays(store: Store, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Recent BMKG nowcast polygons and quake epicentres, for the map."""
    nowcasts, quakes = [], []
    for o in store.recent_observations(now - OVERLAY_SPAN):
        if o.kind is ObservationKind.WEATHER_WARNING and o.polygons:
            rings = [[[lat, lon] for lon, lat in ring] for ring in o.polygons]
            nowcasts.append({"rings": rings, "time": wita(o.time), "source": o.source})
        elif o.kind is ObservationKind.EARTHQUAKE and o.lon is not None and o.lat is not None:
            magnitude = o.values.get("magnitude")
            quakes.append(
                {"lat": o.lat, "lon": o.lon, "magnitude": magnitude, "time": wita(o.time)}
            )
    return {"nowcasts": nowcasts[-20:], "quakes": quakes[-20:]}


def public_levels(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    """What `/peta` shows residents: levels and when, nothing about operators."""
    return {"now": wita(now), "areas": areas_collection(settings, store)}
