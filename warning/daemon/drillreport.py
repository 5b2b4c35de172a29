"""The drill report: what a drill run enqueued, what the providers accepted, and how fast.

Built from the outbox rows of one run (drill rows above the highest id at its
start) and the wall-clock moment each step was injected: per alert change the
rule, areas, level and how many SMS and sirens it reached; per channel the
latency from injection to provider acceptance (`sent_at`) as p50, p95 and max;
per siren whether it acknowledged; every delivery that was not accepted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warning.model import WITA, ChannelKind, DeliveryStatus
from warning.rules.testing import format_offset
from warning.store.drillrows import RowFact

_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Which drill this was."""

    run_id: str
    scenario: str
    file: str
    speed: float
    drill_all: bool
    started: datetime
    finished: datetime


@dataclass(frozen=True, slots=True)
class Injection:
    """One evaluation on the scenario clock: simulated time, wall time, changes enqueued."""

    offset: timedelta
    time: datetime
    wall: datetime
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds from injection to provider acceptance."""

    count: int
    p50: float
    p95: float
    max: float


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One alert change of the drill."""

    change_id: str
    rule: str
    kind: str
    level: str | None
    areas: tuple[str, ...]
    offset: timedelta
    sms: int
    sirens: int
    cap: int


@dataclass(frozen=True, slots=True)
class ChannelLine:
    """One channel's deliveries and latency."""

    channel: ChannelKind
    deliveries: int
    sent: int
    failed: int
    superseded: int
    unfinished: int
    latency: Latency | None


@dataclass(frozen=True, slots=True)
class SirenAck:
    """Whether one siren acknowledged every command of the drill."""

    siren: str
    acknowledged: bool
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    """A delivery that was not accepted, and why."""

    channel: ChannelKind
    recipient: str
    change_id: str
    status: DeliveryStatus
    reason: str


@dataclass(frozen=True, slots=True)
class AckLine:
    """Who acknowledged a drill alert change's SMS, and how long after its injection."""

    alert_id: str
    name: str
    at: datetime
    after_s: float | None


@dataclass(frozen=True, slots=True)
class DrillReport:
    """Everything `warning drill` prints."""

    info: RunInfo
    settled: bool
    alerts: tuple[AlertLine, ...]
    channels: tuple[ChannelLine, ...]
    sirens: tuple[SirenAck, ...]
    failures: tuple[Failure, ...]
    acknowledgements: tuple[AckLine, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every delivery was accepted by its provider."""
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """The few numbers the audit log keeps."""
        return {
            "ok": self.ok,
            "alerts": len(self.alerts),
            "deliveries": {c.channel.value: c.deliveries for c in self.channels},
            "failures": len(self.failures),
        }

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON object."""
        return {
            "drill": {
                "run_id": self.info.run_id,
                "scenario": self.info.scenario,
                "file": self.info.file,
                "speed": self.info.speed,
                "drill_all": self.info.drill_all,
                "started": self.info.started.isoformat(),
                "finished": self.info.finished.isoformat(),
            },
            "ok": self.ok,
            "settled": self.settled,
            "alerts": [_alert_json(a) for a in self.alerts],
            "channels": {c.channel.value: _channel_json(c) for c in self.channels},
            "sirens": [
                {"siren": s.siren, "acknowledged": s.acknowledged, "commands": list(s.commands)}
                for s in self.sirens
            ],
            "failures": [
                {
                    "channel": f.channel.value,
                    "recipient": f.recipient,
                    "change_id": f.change_id,
                    "status": f.status.value,
                    "reason": f.reason,
                }
                for f in self.failures
            ],
            "acknowledgements": [
                {
                    "alert_id": a.alert_id,
                    "name": a.name,
                    "at": a.at.isoformat(),
                    "after_s": a.after_s,
                }
                for a in self.acknowledgements
            ],
        }


def _alert_json(a: AlertLine) -> dict[str, Any]:
    return {
        "change_id": a.change_id,
        "rule": a.rule,
        "kind": a.kind,
        "level": a.level,
        "areas": list(a.areas),
        "at": format_offset(a.offset),
        "sms": a.sms,
        "sirens": a.sirens,
        "cap": a.cap,
    }


def _channel_json(c: ChannelLine) -> dict[str, Any]:
    latency = None
    if c.latency is not None:
        latency = {"p50": c.latency.p50, "p95": c.latency.p95, "max": c.latency.max}
    return {
        "deliveries": c.deliveries,
        "sent": c.sent,
        "failed": c.failed,
        "superseded": c.superseded,
        "unfinished": c.unfinished,
        "latency_s": latency,
    }


# ---------------------------------------------------------------------------
# Building the report (pure)


def build_report(
    info: RunInfo, injections: Sequence[Injection], rows: Sequence[RowFact], settled: bool
) -> DrillReport:
    """The report of one run from its injections and outbox rows."""
    injected = {c: i for i in injections for c in i.changes}
    return DrillReport(
        info=info,
        settled=settled,
        alerts=tuple(_alerts(injections, rows)),
        channels=tuple(_channel(kind, rows, injected) for kind in ChannelKind),
        sirens=tuple(_sirens(rows)),
        failures=tuple(_failure(r) for r in rows if _failed(r)),
        acknowledgements=tuple(_acks(rows, injected)),
    )


def _acks(rows: Sequence[RowFact], injected: Mapping[str, Injection]) -> list[AckLine]:
    """Every acknowledgement of the run's SMS, first first, timed from its injection."""
    found = []
    for r in rows:
        if r.acknowledged_at is None:
            continue
        injection = injected.get(r.change_id)
        after = None if injection is None else (r.acknowledged_at - injection.wall).total_seconds()
        found.append(AckLine(r.change_id, r.contact or r.recipient, r.acknowledged_at, after))
    unique = {(a.alert_id, a.name): a for a in found}
    return sorted(unique.values(), key=lambda a: a.at)


def _alerts(injections: Sequence[Injection], rows: Sequence[RowFact]) -> list[AlertLine]:
    """One line per alert change the drill's steps made, in order."""
    lines = []
    for injection in injections:
        for change_id in injection.changes:
            mine = [r for r in rows if r.change_id == change_id]
            if not mine:
                continue
            first = mine[0]
            lines.append(
                AlertLine(
                    change_id=change_id,
                    rule=first.rule_id,
                    kind=first.kind,
                    level=first.level,
                    areas=first.areas,
                    offset=injection.offset,
                    sms=_count(mine, ChannelKind.SMS),
                    sirens=_count(mine, ChannelKind.SIREN),
                    cap=_count(mine, ChannelKind.CAP),
                )
            )
    return lines


def _count(rows: Iterable[RowFact], kind: ChannelKind) -> int:
    return sum(1 for r in rows if r.channel is kind)


def _channel(
    kind: ChannelKind, rows: Sequence[RowFact], injected: Mapping[str, Injection]
) -> ChannelLine:
    """Counts by outcome and latency of one channel's rows."""
    mine = [r for r in rows if r.channel is kind]
    waits = [
        (r.sent_at - injected[r.change_id].wall).total_seconds()
        for r in mine
        if r.sent_at is not None and r.status is DeliveryStatus.SENT and r.change_id in injected
    ]
    return ChannelLine(
        channel=kind,
        deliveries=len(mine),
        sent=sum(1 for r in mine if r.status is DeliveryStatus.SENT),
        failed=sum(1 for r in mine if r.status is DeliveryStatus.FAILED),
        superseded=sum(1 for r in mine if r.status is DeliveryStatus.SUPERSEDED),
        unfinished=sum(1 for r in mine if r.status in _UNFINISHED),
        latency=latency(waits),
    )


def latency(seconds: Sequence[float]) -> Latency | None:
    """p50, p95 (nearest rank) and max of `seconds`; None when there are none."""
    if not seconds:
        return None
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)

    return Latency(len(ordered), rank(0.5), rank(0.95), round(ordered[-1], 3))


def _sirens(rows: Sequence[RowFact]) -> list[SirenAck]:
    """Per siren: acknowledged when every command it was sent was accepted."""
    by_siren: dict[str, list[RowFact]] = {}
    for r in rows:
        if r.channel is ChannelKind.SIREN and (
            r.status is not DeliveryStatus.SUPERSEDED or r.error
        ):
            by_siren.setdefault(r.recipient, []).append(r)
    return [
        SirenAck(
            siren=siren,
            acknowledged=all(r.status is DeliveryStatus.SENT for r in mine),
            commands=tuple(r.command or "" for r in mine),
        )
        for siren, mine in by_siren.items()
    ]


def _failed(row: RowFact) -> bool:
    """Not accepted: failed, still unsent, or superseded after failed attempts.

    A row superseded before any attempt was stale by design (a newer change of
    its alert came first); one that had already failed hides a real fault.
    """
    if row.status is DeliveryStatus.SUPERSEDED:
        return row.error is not None
    return row.status is not DeliveryStatus.SENT


def _failure(row: RowFact) -> Failure:
    """Why a row was not accepted, in an operator's words."""
    if row.status is DeliveryStatus.FAILED:
        reason = row.error or "failed"
    elif row.status is DeliveryStatus.SUPERSEDED:
        reason = f"superseded by a later change after failed attempts: {row.error}"
    else:
        reason = "not accepted before the drill stopped waiting"
        reason += f" (last error: {row.error})" if row.error else ""
    return Failure(row.channel, row.recipient, row.change_id, row.status, reason)


# ---------------------------------------------------------------------------
# Text


def render_text(report: DrillReport) -> str:
    """The report for a terminal."""
    info = report.info
    audience = "every contact" if info.drill_all else "drill contacts only"
    lines = [
        f"DRILL REPORT: {info.scenario}",
        f"run {info.run_id}  file {info.file}  speed {info.speed:g}x  SMS to {audience}",
        f"from {_wita(info.started)} to {_wita(info.finished)}",
        "",
        "alerts:",
    ]
    lines += [_alert_text(a) for a in report.alerts] or ["  none"]
    lines += ["", "channels (latency from injection to provider acceptance):"]
    lines += [_channel_text(c) for c in report.channels if c.deliveries]
    lines += ["", "sirens:"]
    lines += [
        f"  {s.siren:<24} {'acknowledged' if s.acknowledged else 'NOT ACKNOWLEDGED'}"
        f" ({', '.join(s.commands)})"
        for s in report.sirens
    ] or ["  none"]
    lines += ["", "failures:"]
    lines += [
        f"  {f.channel.value:<6} {f.recipient:<18} {f.status.value}: {f.reason}"
        for f in report.failures
    ] or ["  none"]
    lines += ["", "acknowledgements (from injection to the tap on Diterima):"]
    lines += [
        f"  {a.name:<24} {_wita(a.at)}" + ("" if a.after_s is None else f"  +{a.after_s:.0f} s")
        for a in report.acknowledgements
    ] or ["  none"]
    verdict = "OK: every delivery was accepted"
    if not report.ok:
        verdict = f"FAILED: {len(report.failures)} deliveries were not accepted"
    return "\n".join([*lines, "", verdict])


def _alert_text(a: AlertLine) -> str:
    level = (a.level or "").upper()
    areas = ", ".join(a.areas)
    counts = f"sms {a.sms}  sirens {a.sirens}  cap {a.cap}"
    return (
        f"  +{format_offset(a.offset):<6} {a.rule:<22} {a.kind:<10} {level:<8} {counts}  [{areas}]"
    )


def _channel_text(c: ChannelLine) -> str:
    outcome = f"{c.sent} sent, {c.failed} failed, {c.superseded} superseded"
    if c.unfinished:
        outcome += f", {c.unfinished} unfinished"
    if c.latency is None:
        return f"  {c.channel.value:<6} {outcome}"
    t = c.latency
    return (
        f"  {c.channel.value:<6} {outcome}  p50 {t.p50:.2f} s  p95 {t.p95:.2f} s  max {t.max:.2f} s"
    )


def _wita(moment: datetime) -> str:
    return moment.astimezone(WITA).strftime("%d/%m/%Y %H:%M:%S WITA")
