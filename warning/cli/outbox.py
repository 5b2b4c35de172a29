"""What `warning contacts check`, `warning outbox` and `warning send-test` do.

The CLI parses arguments; these functions do the work and return exit codes
(0 ok, 1 invalid input or a failed send).  stdout carries only their output.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from warning.areas import load_areas
from warning.delivery import build_channels
from warning.delivery.dispatcher import Dispatcher
from warning.model import ChangeKind, ChannelKind, DeliveryStatus, Problem, Severity
from warning.operations import OperatorSettings
from warning.plan import contacts
from warning.plan.notices import send_test_sms
from warning.plan.planner import operator_sms
from warning.settings import secret
from warning.store import outbox
from warning.store.sqlite import Store

EXIT_OK, EXIT_INVALID = 0, 1


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _existing_store(settings: OperatorSettings) -> Store | None:
    """The state store when it exists; checks never create one."""
    return Store(settings.state_path) if settings.state_path.is_file() else None


def known_opt_outs(settings: OperatorSettings) -> frozenset[str]:
    """Numbers on the opt-out list of the state store, if there is one."""
    store = _existing_store(settings)
    return outbox.opted_out(store) if store else frozenset()


def check(settings: OperatorSettings) -> list[Problem]:
    """The `warning check` entry: contacts problems plus opted-out numbers."""
    return contacts.check(settings.contacts_path, settings.areas_path, known_opt_outs(settings))


def contacts_check(settings: OperatorSettings, path: Path | None) -> int:
    """`warning contacts check [FILE]`: every bad row with its line number."""
    problems = (
        contacts.check_file(path, load_areas(settings.areas_path), known_opt_outs(settings))
        if path
        else check(settings)
    )
    for problem in problems:
        _print(str(problem))
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    if errors:
        _print(f"{errors} error(s), {len(problems) - errors} warning(s)")
        return EXIT_INVALID
    _print(f"ok: contacts valid ({len(problems)} warning(s))")
    return EXIT_OK


def outbox_list(settings: OperatorSettings, status: str | None, as_json: bool) -> int:
    """`warning outbox [--status ...] [--json]`: the rows, newest first."""
    store = _existing_store(settings)
    wanted = DeliveryStatus(status) if status else None
    found = outbox.rows(store, wanted) if store else []
    if as_json:
        _print(json.dumps([r.as_json() for r in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    _print(f"{'ID':>6}  {'STATUS':<10} {'CHANNEL':<6} {'RECIPIENT':<18} {'TRIES':>5}  DETAIL")
    for r in found:
        detail = r.provider_id or r.last_error or ""
        _print(
            f"{r.id:>6}  {r.status.value:<10} {r.channel.value:<6} {r.recipient:<18}"
            f" {r.attempts:>5}  {detail}"
        )
    return EXIT_OK


def outbox_retry(settings: OperatorSettings, delivery_id: int) -> int:
    """`warning outbox retry ID`: send a failed (or superseded) row again."""
    store = _existing_store(settings)
    row = outbox.retry(store, delivery_id, time.time()) if store else None
    if store is None or row is None:
        _print(f"no failed or superseded delivery with id {delivery_id}")
        return EXIT_INVALID
    with store.transaction() as tx:
        store.audit(tx, "cli", "outbox.retry", {"id": delivery_id}, datetime.now(UTC))
    _print(f"delivery {delivery_id} is pending again")
    return EXIT_OK


def outbox_retry_failed(settings: OperatorSettings) -> int:
    """`warning outbox retry --all-failed`: every failed row pending again (after an outage)."""
    store = Store(settings.state_path, create=False)
    ids = outbox.retry_failed(store, time.time())
    with store.transaction() as tx:
        store.audit(tx, "cli", "outbox.retry", {"ids": ids}, datetime.now(UTC))
    _print(f"{len(ids)} failed deliveries are pending again")
    return EXIT_OK


def send_test(settings: OperatorSettings, phone: str, timeout_s: float = 60.0) -> int:
    """`warning send-test --to PHONE`: one drill-marked SMS through the outbox, now."""
    normalised = contacts.normalise_phone(phone)
    problem = contacts.phone_problem(normalised)
    if problem and problem[0] is Severity.ERROR:
        _print(problem[1])
        return EXIT_INVALID
    now = datetime.now(UTC)
    body = send_test_sms(now)
    planned = operator_sms(
        f"test-{now.strftime('%Y%m%dT%H%M%S%f')}",
        ChangeKind.SEND_TEST,
        [normalised],
        body,
        subject=normalised,
        drill=True,
        now=now,
    )
    store = Store(settings.state_path, create=False)
    with store.transaction() as tx:
        outbox.enqueue(tx, planned)
    channels = build_channels(settings.channels, None, secret)
    sms_only = {ChannelKind.SMS: channels[ChannelKind.SMS]}
    dispatcher = Dispatcher(store, sms_only, settings.channels.sms)
    deadline = time.monotonic() + timeout_s
    row = outbox.row_by_key(store, planned[0].dedup_key)
    while row is not None and row.status in _UNFINISHED and time.monotonic() < deadline:
        if not dispatcher.run_once():
            time.sleep(0.2)
        row = outbox.row_by_key(store, planned[0].dedup_key)
    dispatcher.close()
    return _report_test(row)


_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)


def _report_test(row: outbox.OutboxRow | None) -> int:
    """Print what became of the test message."""
    if row is None:
        _print("the test message was not enqueued")
        return EXIT_INVALID
    if row.status is DeliveryStatus.SENT:
        _print(f"sent to {row.recipient}: {row.provider_id}")
        return EXIT_OK
    _print(f"not sent to {row.recipient} ({row.status.value}): {row.last_error}")
    return EXIT_INVALID
