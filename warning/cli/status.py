"""`warning status` for a terminal: the store's status read model as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render_text(report: Mapping[str, Any]) -> str:
    """The report for a terminal."""
    if not report["started"]:
        return f"no state yet at {report['state']}: the daemon has not run"
    lines = [f"state: {report['state']}", "", "firing alerts:"]
    lines += [
        f"  {a['rule']:<28} {a['area']:<24} {str(a['level']).upper():<8} since {a['since']}"
        f"  id {a['alert_id']}"
        for a in report["firing"]
    ] or ["  none"]
    lines += [
        f"  silenced: {s['rule']} until {s['ends_at']} by {s['actor']}: {s['reason']}"
        for s in report.get("silences", [])
    ]
    lines += ["", "feeds:"]
    lines += [
        f"  {f['feed']:<20} {f['health']:<9} last ok {f['last_success'] or '-'}"
        f"  next {f['next_run']}" + (f"  error: {f['last_error']}" if f["last_error"] else "")
        for f in report["feeds"]
    ]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report["outbox"].items())) or "empty"
    lines += ["", f"outbox: {counts}", _drill_text(report["last_drill"])]
    test = report["last_siren_test"]
    if test is None:
        lines.append("last siren test: never")
    else:
        acks = ", ".join(f"{k} {'ok' if v else 'NO ACK'}" for k, v in test["acknowledged"].items())
        lines.append(f"last siren test: {test['time']} ({acks or 'no sirens'})")
    return "\n".join(lines)


def _drill_text(drill: Mapping[str, Any] | None) -> str:
    """`last drill: ...` for a terminal."""
    if drill is None:
        return "last drill: never"
    what = drill.get("scenario") or drill.get("mode") or "drill"
    if drill.get("finished") is None:
        return f"last drill: {drill['time']} ({what}, running or interrupted)"
    ok = drill.get("ok")
    verdict = "" if ok is None else (", every delivery accepted" if ok else ", FAILED deliveries")
    return f"last drill: {drill['time']} to {drill['finished']} ({what}{verdict})"
