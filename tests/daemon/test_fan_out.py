"""Sirens first, SMS never lost: the fan-out owed is committed with the alert states.

The evaluation's transaction holds the states, the siren and CAP rows and a
`fanout` row; the SMS follow in batches.  A crash between two batches, a cancel
committed during the fan-out, and the order of the rows are specified here.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import responses
from structlog.testing import capture_logs

from tests.support.pipeline import BASE, PD1, LockedStore, Rig, make_rig, write_settings
from warning.model import ChannelKind
from warning.operations import OperatorSettings
from warning.operations.actions import cancel_alerts
from warning.store import outbox

URL = f"{BASE}/inatews"


def _serve_pd1() -> None:
    responses.add(responses.GET, URL, body=PD1.read_bytes(), headers={"ETag": '"v1"'})


def _pending_fan_outs(rig: Rig) -> int:
    conn = rig.store.connection()
    return int(conn.execute("SELECT count(*) FROM fanout WHERE done_at IS NULL").fetchone()[0])


def _clean_recipients(directory: Path) -> Counter[str]:
    """Who gets an SMS from the PD-1 when nothing goes wrong."""
    directory.mkdir()
    rig = make_rig(write_settings(directory, sirens=True))
    _serve_pd1()
    rig.pipeline.poll("inatews")
    return Counter(r["recipient"] for r in rig.outbox("sms"))


@responses.activate
def test_siren_rows_are_committed_with_the_states_and_before_any_sms_row(tmp_path: Path) -> None:
    """The first wake-up sees sirens, CAP, firing states and the fan-out owed, and no SMS."""
    rig = make_rig(write_settings(tmp_path, sirens=True))
    rig.pipeline.fan_out_batch = 5
    seen: list[tuple[set[str], int, int]] = []

    def woken() -> None:
        channels = Counter(r["channel"] for r in rig.outbox())
        seen.append((set(channels), len(rig.firing()), _pending_fan_outs(rig)))

    rig.pipeline.on_enqueued = woken
    _serve_pd1()
    rig.pipeline.poll("inatews")
    first_channels, firing, owed = seen[0]
    assert first_channels == {"siren", "cap"}
    assert firing > 0
    assert owed == 1
    assert len(seen) > 2  # the SMS came in several batches, each waking the outbox
    rows = rig.outbox()
    sirens = [r["id"] for r in rows if r["channel"] == "siren"]
    sms = [r["id"] for r in rows if r["channel"] == "sms"]
    assert sirens
    assert sms
    assert max(sirens) < min(sms)
    assert _pending_fan_outs(rig) == 0


@responses.activate
def test_the_first_sms_batch_is_written_only_once_the_sirens_were_sent(tmp_path: Path) -> None:
    """Each SMS batch holds SQLite's write lock, which the dispatcher needs to claim and
    send a siren: the fan-out leaves the database to the sirens until they are sent."""
    rig = make_rig(write_settings(tmp_path, sirens=True))
    rig.pipeline.fan_out_batch = 5
    rig.pipeline.sirens_first_s = 30.0  # the bound is not what this test waits for
    sent = threading.Event()
    sms_seen_with_sirens_sent: list[bool] = []

    def send_sirens() -> None:
        """The dispatcher's part, a little late: claim the siren rows, mark them sent."""
        time.sleep(0.2)
        claimed = outbox.claim(
            rig.store,
            "test-dispatcher",
            now=rig.clock.now.timestamp(),
            lease_s=60,
            limit=100,
            channels=[ChannelKind.SIREN],
        )
        for delivery in claimed:
            outbox.mark_sent(rig.store, delivery.id, "test-dispatcher", None)
        sent.set()

    dispatcher = threading.Thread(target=send_sirens)

    def woken() -> None:
        if not dispatcher.is_alive() and not sent.is_set():
            dispatcher.start()
        elif rig.outbox("sms"):
            sms_seen_with_sirens_sent.append(sent.is_set())

    rig.pipeline.on_enqueued = woken
    _serve_pd1()
    rig.pipeline.poll("inatews")
    dispatcher.join()
    assert sent.is_set()
    assert sms_seen_with_sirens_sent
    assert all(sms_seen_with_sirens_sent)
    assert _pending_fan_outs(rig) == 0


@responses.activate
def test_a_fan_out_waits_for_unsent_sirens_no_longer_than_its_bound(tmp_path: Path) -> None:
    """Nobody sends the sirens (a siren server that never answers): the SMS are written all
    the same once `sirens_first_s` has passed, each contact's once."""
    expected = _clean_recipients(tmp_path / "clean")
    (tmp_path / "silent").mkdir()
    rig = make_rig(write_settings(tmp_path / "silent", sirens=True))
    rig.pipeline.fan_out_batch = 5
    rig.pipeline.sirens_first_s = 0.05
    _serve_pd1()
    assert rig.pipeline.poll("inatews").ok
    assert Counter(r["recipient"] for r in rig.outbox("sms")) == expected
    assert {r["status"] for r in rig.outbox("siren")} == {"pending"}
    assert _pending_fan_outs(rig) == 0


@responses.activate
def test_a_crash_during_the_fan_out_is_resumed_and_each_contact_gets_exactly_one_sms(
    tmp_path: Path,
) -> None:
    """The store fails after two SMS batches: logged, the poll itself succeeds (sirens are
    committed), the fan-out stays owed; a restarted pipeline's tick writes the rest once."""
    expected = _clean_recipients(tmp_path / "clean")
    assert set(expected.values()) == {1}
    (tmp_path / "crash").mkdir()
    settings = write_settings(tmp_path / "crash", sirens=True)
    store = LockedStore(settings.state_path)
    rig = make_rig(settings, store=store)
    rig.pipeline.fan_out_batch = 5
    store.after = 3  # the evaluation's commit and two SMS batches, then the failure
    store.failures = 1
    with capture_logs() as logs:
        assert rig.pipeline.poll("inatews").ok
    assert [e["fanout"] for e in logs if e["event"] == "fanout.failed"] == [1]
    written = Counter(r["recipient"] for r in rig.outbox("sms"))
    assert 0 < sum(written.values()) < sum(expected.values())
    assert {r["channel"] for r in rig.outbox()} >= {"siren", "cap"}
    assert _pending_fan_outs(rig) == 1

    restarted = make_rig(settings)  # a new process: a new store on the same file
    restarted.clock.now = rig.clock.now + timedelta(seconds=30)
    restarted.pipeline.tick()
    assert Counter(r["recipient"] for r in restarted.outbox("sms")) == expected
    assert _pending_fan_outs(restarted) == 0
    restarted.pipeline.tick()
    assert Counter(r["recipient"] for r in restarted.outbox("sms")) == expected


@responses.activate
def test_a_cancel_committed_during_the_fan_out_stops_the_rest_of_it(tmp_path: Path) -> None:
    """An operator cancels after the first SMS batch: no later row of the cancelled changes."""
    settings = write_settings(tmp_path, sirens=True)
    rig = make_rig(settings)
    rig.pipeline.fan_out_batch = 5
    at_cancel: dict[str, int] = {}

    def woken() -> None:
        rows = rig.outbox("sms")
        if rows and not at_cancel:
            conn = rig.store.connection()
            changes = [r[0] for r in conn.execute("SELECT change_id FROM alert_changes")]
            at_cancel.update(Counter(r["change_id"] for r in rows))
            cancel_alerts(
                OperatorSettings.of(settings),
                changes,
                "uji: salah kirim",
                "operator",
                rig.clock.now,
            )

    rig.pipeline.on_enqueued = woken
    expected = _clean_recipients(tmp_path / "clean")
    _serve_pd1()
    rig.pipeline.poll("inatews")
    assert at_cancel
    cancelled = [r for r in rig.outbox("sms") if r["change_id"] in at_cancel]
    assert Counter(r["change_id"] for r in cancelled) == at_cancel
    assert sum(at_cancel.values()) < sum(expected.values())
    assert {r["status"] for r in cancelled} == {"superseded"}
    assert _pending_fan_outs(rig) == 0
