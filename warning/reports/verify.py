"""Operators' decisions on reports: verify, reject (with a reason), mark as acted on; audited.

A report moves diterima -> diverifikasi -> ditindaklanjuti, or diterima ->
ditolak; nothing else (a verified report already counted in the rules, so it
cannot be taken back by a rejection: cancel the alert instead).  Each decision
and its audit entry are one transaction.  Deleting reports past their
retention (`purge`) is the daemon's housekeeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import structlog

from warning.model import ReportStatus
from warning.reports import ReportError
from warning.store import reports as db
from warning.store.sqlite import Store

log = structlog.get_logger()

#: The statuses a decision may move a report from, per status it moves it to.
ALLOWED: Mapping[ReportStatus, frozenset[ReportStatus]] = MappingProxyType(
    {
        ReportStatus.VERIFIED: frozenset({ReportStatus.RECEIVED}),
        ReportStatus.REJECTED: frozenset({ReportStatus.RECEIVED}),
        ReportStatus.ACTED_ON: frozenset({ReportStatus.VERIFIED}),
    }
)
#: The audit action of each decision.
ACTIONS: Mapping[ReportStatus, str] = MappingProxyType(
    {
        ReportStatus.VERIFIED: "report.verified",
        ReportStatus.REJECTED: "report.rejected",
        ReportStatus.ACTED_ON: "report.acted_on",
    }
)


def decide(
    store: Store, code: str, status: ReportStatus, *, actor: str, reason: str, now: datetime
) -> db.StoredReport:
    """Record an operator's decision on a report; ReportError when it cannot be made."""
    reason = " ".join(reason.split())[:500]
    if status not in ALLOWED:
        raise ReportError(f"a report cannot be set to {status.value}")
    if status is ReportStatus.REJECTED and not reason:
        raise ReportError("alasan wajib diisi untuk menolak laporan (a reason is required)")
    with store.transaction() as tx:
        found = db.find_in(tx, code)
        if found is None:
            raise ReportError(f"tidak ada laporan dengan kode {code}")
        if found.status not in ALLOWED[status]:
            raise ReportError(
                f"laporan {code} sudah {found.status.value}: tidak bisa menjadi {status.value}"
            )
        db.decide(tx, code, status, actor=actor, reason=reason, at=now)
        detail = {"code": code, "status": status.value, "reason": reason}
        store.audit(tx, actor, ACTIONS[status], detail, now)
    log.info(ACTIONS[status], code=code, actor=actor)
    decided = db.find(store, code)
    assert decided is not None  # just written in the transaction above
    return decided


def purge(store: Store, now: datetime, retention_days: int) -> int:
    """Delete reports (and photos) older than the retention; how many went."""
    with store.transaction() as tx:
        gone = db.purge(tx, now - timedelta(days=retention_days))
    if gone:
        log.info("report.purged", reports=gone, retention_days=retention_days)
    return gone
