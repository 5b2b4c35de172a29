"""The sending loop: claim due outbox rows, sirens first, broadcast posts, SMS, then CAP.

Like healthchecks' `sendalerts`, one bad row never stops the loop: a channel
that raises is treated as a transient failure, every retry is bounded, and
the outcome of every attempt is written back before the row is forgotten.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import structlog

from warning.delivery.channel import Channel, Outcome, SendResult
from warning.http import backoff_s
from warning.model import (
    BROADCAST_KINDS,
    FIRST_OUT_KINDS,
    OFFICIALS_GROUP,
    ChangeKind,
    ChannelKind,
    Delivery,
)
from warning.plan.contacts import Contact
from warning.plan.notices import silent_siren_sms
from warning.plan.planner import GROUP_PRIORITY, operator_sms
from warning.settings import SirenDeliverySettings, SmsSettings
from warning.store import outbox
from warning.store.sqlite import Store
from warning.turns import Turns

#: Twilio's "unsubscribed recipient": the number goes on the opt-out list.
OPT_OUT_CODE = "21610"

#: Longest wait between SMS attempts during an outage (a Retry-After may ask for more).
SMS_RETRY_CAP_S = 30.0

#: The order kinds are sent in within a batch: sirens say "act now", one post reaches a
#: whole chat or topic at once, then the SMS fan-out, then CAP documents.
SEND_ORDER = (ChannelKind.SIREN, *BROADCAST_KINDS, ChannelKind.SMS, ChannelKind.CAP)

#: Sirens (priority 0) and broadcast posts (5) sort before every SMS group (10 and up):
#: `run_first` claims below this, so its walk of the outbox never reaches a fan-out's rows.
FIRST_BELOW = min(GROUP_PRIORITY.values())
#: Threads sending sirens and posts (`run_first`), apart from the SMS threads.
FIRST_THREADS = 8

#: Seconds of SMS at the rate cap one claim takes (`Dispatcher.batch_size`): about how
#: long the officials of a second event wait for the batch in hand.
CLAIM_SECONDS = 5.0

#: Kinds tried until the warning's validity ends (`[sms] validity_period_s`), not only
#: for `attempts`: a provider outage longer than the backoff must not lose a warning.
UNTIL_VALIDITY = frozenset({ChannelKind.SMS, *BROADCAST_KINDS})

#: Seconds a row waits when an older row to the same recipient is still in flight.
WAIT_FOR_OLDER_S = 0.2

#: Where Linux names this boot; a claim made in another boot is dead.
BOOT_ID = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str:
    """This machine's boot id ("" where there is none)."""
    try:
        with open(BOOT_ID, encoding="ascii") as found:
            return found.read().strip()
    except OSError:
        return ""


def worker_name() -> str:
    """A claim owner naming this boot and process: `dispatcher:<boot>:<pid>:<random>`."""
    return f"dispatcher:{boot_id()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def worker_is_dead(worker: str) -> bool:
    """True when `worker` (see `worker_name`) was a process of an earlier boot or has exited.

    Names of another form (an older release's) are never judged dead: their
    lease still ends them.
    """
    parts = worker.split(":")
    if len(parts) != 4 or parts[0] != "dispatcher" or not parts[2].isdigit():
        return False
    if parts[1] != boot_id():
        return True
    pid = int(parts[2])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


@runtime_checkable
class Closable(Protocol):
    """A channel that holds connections (MQTT sirens) and must release them."""

    def close(self) -> None:
        """Release the connections."""


class RateLimiter:
    """Evenly spaced starts: at most `rate` in any one-second window (a bucket of one token).

    Spacing requests 1/rate apart, rather than letting a full window's worth
    go at once, keeps the provider's own count under the cap even when
    network delays shift requests a little; `margin_s` per second of sending
    widens the spacing for the same reason.  5 % is what a loaded two-core host
    needed: at 2 % the provider counted 51 arrivals in one second at a cap of 50
    (threads scheduled late bunch their requests on the wire).
    """

    def __init__(
        self,
        rate: float,
        *,
        margin_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self.interval_s = (1.0 + margin_s) / rate
        self._next = -float("inf")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self, until: float = float("inf")) -> float | None:
        """Block until a request may start; return its start time.

        None, without waiting, when the start would fall after `until` (on the
        limiter's clock): a stop never waits for slots it will not use.
        """
        with self._lock:
            wait_s = self._next - self._clock()
            if self._clock() + max(wait_s, 0.0) >= until:
                return None
            if wait_s > 0:
                self._sleep(wait_s)
            start = self._clock()
            self._next = start + self.interval_s
            return start


@dataclass(frozen=True, slots=True)
class Backoff:
    """The outbox's retry delays: `http.backoff_s` with a provider's Retry-After as a floor."""

    base_s: float = 2.0
    cap_s: float = 300.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds before the next attempt; a provider's Retry-After is a floor."""
        return max(backoff_s(attempt, self.base_s, self.cap_s, rng), retry_after_s or 0.0)


class Dispatcher:
    """Sends outbox rows through `channels`; kinds without a channel wait in the outbox.

    With `drill_only` it sends drill rows only and leaves live rows to the daemon;
    with `changes`, only the rows of those change ids are claimed (see `outbox.claim`).
    """

    def __init__(
        self,
        store: Store,
        channels: Mapping[ChannelKind, Channel],
        sms: SmsSettings,
        *,
        siren: SirenDeliverySettings | None = None,
        contacts: Sequence[Contact] = (),
        lease_s: float = 120.0,
        backoff: Backoff = Backoff(),
        clock: Callable[[], float] = time.time,
        worker: str | None = None,
        drill_only: bool = False,
        changes: Collection[str] | None = None,
        observer: Callable[[Delivery, SendResult], None] | None = None,
    ) -> None:
        self._store = store
        self._changes = None if changes is None else frozenset(changes)
        self._channels = dict(channels)
        self._sms = sms
        self._siren = siren or SirenDeliverySettings()
        self._officials = [c for c in contacts if c.group == OFFICIALS_GROUP]
        self._lease_s = lease_s
        self._backoff = backoff
        self._clock = clock
        self.worker = worker or worker_name()
        self._limiter = RateLimiter(sms.max_per_second)
        self._pool = ThreadPoolExecutor(max(1, sms.concurrency), "sms")
        # Sirens and posts have threads of their own: SMS threads wait on the rate cap.
        self._first_pool = ThreadPoolExecutor(FIRST_THREADS, "first")
        self._rng = random.Random()  # noqa: S311 - jitter, not secrecy
        self._log = structlog.get_logger().bind(worker=self.worker)
        self._opted_out: frozenset[str] = frozenset()
        self._drill_only = drill_only
        self._observer = observer
        # No send starts after this (time.monotonic()): a stop's drain bound.
        self._stop_at = float("inf")
        self._released = 0
        self._unsent: set[int] = set()
        #: Held by `run_first` from its claim to its last send: SMS claimed meanwhile wait.
        self._first_sending = threading.Lock()
        #: The sends an overlapping `run_once` left in flight (`drain` waits for them).
        self._tail: set[Future[None]] = set()
        #: Sends start in claim order (SMS: officials, RT heads, everyone else), whichever
        #: thread is quicker: without turns, the first to the rate limiter sent first.
        self._turns = Turns()
        self._first_turns = Turns()

    @property
    def channels(self) -> Mapping[ChannelKind, Channel]:
        """The channels this dispatcher sends through."""
        return self._channels

    def stop(self) -> None:
        """Start no more sends: rows claimed and not yet sent go back to the outbox."""
        self._stop_at = -float("inf")

    def close(self) -> None:
        """Stop, finish the sends in flight, stop the threads, release the channels' connections."""
        self.stop()
        self._first_pool.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        self._release_unsent(list(self._unsent))  # the last wave's, after a stop
        if self._released:
            self._log.warning("dispatcher.released", released=self._released)
        for channel in self._channels.values():
            # Sirens hold MQTT connections; the other channels have nothing to release.
            if isinstance(channel, Closable):
                channel.close()

    def batch_size(self) -> int:
        """Rows per claim: `CLAIM_SECONDS` of SMS at the rate cap, well within one lease.

        A claimed batch is sent whole before the next claim: at 1,000 SMS per claim
        and 100/s, a second event's officials waited up to 10 s behind the first
        event's public SMS (its sirens and posts wait for nothing: `run_first`).
        """
        rate = self._sms.max_per_second
        within_lease = int(rate * self._lease_s / 4)
        return max(1, min(1000, int(rate * CLAIM_SECONDS), within_lease))

    def run_once(self, *, overlap: bool = False) -> int:
        """Claim one batch of due rows and send it in order; return how many were claimed.

        With `overlap` it returns while the batch's last wave of SMS is still in
        flight (see `_send_all`), for a caller that claims again at once (`drain`,
        the daemon's outbox job); without, every send of the batch has ended.
        """
        if time.monotonic() >= self._stop_at:
            return 0
        claimed = outbox.claim(
            self._store,
            self.worker,
            now=self._clock(),
            lease_s=self._lease_s,
            limit=self.batch_size(),
            channels=self._channels.keys(),
            drill_only=self._drill_only,
            changes=self._changes,
        )
        if claimed:
            self._opted_out = outbox.opted_out(self._store)
        for kind in SEND_ORDER:
            batch = [d for d in claimed if d.channel is kind]
            if batch and kind is ChannelKind.SMS:
                # Sirens and posts `run_first` is sending (an evaluation's, claimed just
                # before these SMS) leave first: the SMS wait for that batch, no more.
                with self._first_sending:
                    pass
            tail = self._sms.concurrency if overlap and kind is ChannelKind.SMS else 0
            self._send_all(batch, self._pool, self._turns, overlap=tail)
        return len(claimed)

    def run_first(self) -> int:
        """Claim the due sirens and broadcast posts only, and send them; return how many.

        The daemon runs this beside `run_once`, in a job of its own: `run_once`
        sends a claimed batch whole before it claims again, so a siren committed
        while a city's SMS are sent (a second event, a cancel's all-clear) would
        wait for that batch, at the provider's pace.  Here it waits for nothing.
        """
        kinds = FIRST_OUT_KINDS & self._channels.keys()
        if time.monotonic() >= self._stop_at or not kinds:
            return 0
        # A read first: the claim waits for the write lock (a fan-out's batch holds it
        # for a quarter of a second), and `_first_sending` is held meanwhile, so an
        # empty claim repeated at every wake-up of a fan-out kept its SMS waiting.
        if not outbox.claimable(
            self._store,
            now=self._clock(),
            channels=kinds,
            priority_below=FIRST_BELOW,
            changes=self._changes,
            drill_only=self._drill_only,
        ):
            return 0
        with self._first_sending:
            return self._claim_and_send_first(kinds)

    def _claim_and_send_first(self, kinds: Collection[ChannelKind]) -> int:
        """`run_first`'s claim and sends, while it holds `_first_sending`."""
        claimed = outbox.claim(
            self._store,
            self.worker,
            now=self._clock(),
            lease_s=self._lease_s,
            limit=FIRST_THREADS * 4,
            channels=kinds,
            drill_only=self._drill_only,
            changes=self._changes,
            priority_below=FIRST_BELOW,
        )
        for kind in SEND_ORDER:
            self._send_all(
                [d for d in claimed if d.channel is kind], self._first_pool, self._first_turns
            )
        return len(claimed)

    def drain(self, timeout: float, *, final: bool = False) -> bool:
        """Send until nothing is left to send or `timeout` passes; True when drained.

        `final` (a stop): no send starts after the timeout, even one of a batch
        another thread claimed; the unsent rows go back to the outbox, counted.
        """
        deadline = time.monotonic() + timeout
        if final:
            self._stop_at = min(self._stop_at, deadline)
        while time.monotonic() < deadline:
            if self.run_once(overlap=True):
                continue
            if self.settle(max(deadline - time.monotonic(), 0.0)):
                continue  # our own last wave ended: look again at once, not after a lease
            if outbox.open_count(self._store) == 0:
                return True
            due = outbox.next_due(self._store)
            pause = 0.05 if due is None else due - self._clock()
            time.sleep(min(max(pause, 0.01), 1.0, max(deadline - time.monotonic(), 0.0)))
        return outbox.open_count(self._store) == 0

    def settle(self, timeout: float | None = None) -> bool:
        """Wait for the sends an overlapping `run_once` left in flight; False if there were none."""
        tail, self._tail = self._tail, set()
        if not tail:
            return False
        wait(tail, timeout=timeout)
        return True

    # -- sending -----------------------------------------------------------------------

    def _send_all(
        self,
        deliveries: Sequence[Delivery],
        pool: ThreadPoolExecutor,
        turns: Turns,
        *,
        overlap: int = 0,
    ) -> None:
        """Send a batch concurrently on `pool` and wait for it; sends start in its order.

        With `overlap`, return once no more than that many sends are still in flight
        (the last wave): the next claim overlaps their round trips instead of waiting
        for the slowest answer of every batch (a provider answering in 200 ms held
        100/s to 85/s).  Rows of the last wave a stop leaves unsent are released by
        `close`.
        """
        pending = {turns.submit(pool, self._send_one, d) for d in deliveries}
        while len(pending) > overlap:
            _, pending = wait(pending, return_when=FIRST_COMPLETED)
        if overlap:
            self._tail = {f for f in self._tail if not f.done()} | pending
        self._release_unsent([d.id for d in deliveries])

    def _release_unsent(self, delivery_ids: Collection[int]) -> None:
        """Give back the rows of `delivery_ids` a stop left unsent (their sends never began)."""
        unsent = [i for i in delivery_ids if i in self._unsent]
        if not unsent:
            return
        self.stop()  # the stop's bound is reached: claim nothing more
        released = outbox.release(self._store, unsent, self.worker, due_at=self._clock())
        self._released += released
        self._unsent.difference_update(unsent)
        self._log.warning("dispatcher.stopped_batch", released=released, batch=len(delivery_ids))

    def _send_one(self, delivery: Delivery, turn: AbstractContextManager[None]) -> None:
        """One attempt, recorded; never raises.  It starts in its `turn` (see `Turns`).

        The turn covers the slot of the rate cap only: `begin_send` writes, and a
        fan-out's batch holds the write lock for a quarter of a second, so with
        it inside the turns the SMS left one per batch.  The store queues writes in
        arrival order, and each send arrives there a rate-cap interval after the
        one before it, so the order holds.
        """
        try:
            with turn:
                slot = self._take_slot(delivery)
            if not slot:
                self._unsent.add(delivery.id)
                return
            gate = outbox.begin_send(self._store, delivery.id, self.worker, now=self._clock())
            if gate is outbox.Gate.STOP:
                self._log.info(
                    "delivery.stopped", delivery_id=delivery.id, change_id=delivery.change_id
                )
                return
            if gate is outbox.Gate.WAIT:
                due = self._clock() + WAIT_FOR_OLDER_S
                outbox.release(self._store, [delivery.id], self.worker, due_at=due)
                return
            result = self._attempt(delivery)
            self._record(delivery, result)
        except Exception:
            # The row stays claimed and comes back after its lease: nothing is lost.
            self._log.exception("delivery.crashed", delivery_id=delivery.id)

    def _take_slot(self, delivery: Delivery) -> bool:
        """Take a slot of the rate cap when the row needs one; False when a stop came first."""
        # A row superseded since the claim (a cancel) spends no slot of the rate cap:
        # a cancel of a claimed batch is skipped at once, not at the provider's pace,
        # and the sirens of the next claim do not wait for it.  `begin_send` is the
        # atomic look; this one is a read that saves the wait.
        limited = (
            delivery.channel is ChannelKind.SMS
            and delivery.recipient not in self._opted_out
            and outbox.still_claimed(self._store, delivery.id, self.worker)
        )
        if limited and self._limiter.acquire(self._stop_at) is None:
            return False
        return time.monotonic() < self._stop_at

    def _attempt(self, delivery: Delivery) -> SendResult:
        """Ask the channel; a channel bug counts as a transient failure."""
        if delivery.channel is ChannelKind.SMS and delivery.recipient in self._opted_out:
            return SendResult(Outcome.FAILED, error="number unsubscribed", code=OPT_OUT_CODE)
        try:
            return self._channels[delivery.channel].send(delivery)
        except Exception as exc:
            return SendResult(Outcome.RETRY, error=f"channel error: {type(exc).__name__}: {exc}")

    def _record(self, delivery: Delivery, result: SendResult) -> None:
        """Write the outcome back to the row, log it and tell the observer (metrics)."""
        if self._observer is not None:
            self._observer(delivery, result)
        fields: dict[str, object] = {
            "delivery_id": delivery.id,
            "channel": delivery.channel.value,
            "recipient": delivery.recipient,
            "change_id": delivery.change_id,
            "attempt": delivery.attempts + 1,
        }
        if result.outcome is Outcome.SENT:
            outbox.mark_sent(self._store, delivery.id, self.worker, result.provider_id)
            self._log.info("delivery.sent", provider_id=result.provider_id, **fields)
        elif result.outcome is Outcome.RETRY and self._may_retry(delivery):
            self._retry(delivery, result, fields)
        else:
            self._fail(delivery, result, fields)

    def _may_retry(self, delivery: Delivery) -> bool:
        """Within its attempts, or an SMS or post still within its validity.

        A provider outage longer than the attempts' backoff must not fail a
        warning for good: an SMS is tried until its ValidityPeriod ends (after
        which Twilio would not deliver it anyway), and a broadcast post as long.
        """
        if delivery.attempts + 1 < self._attempts(delivery):
            return True
        return delivery.channel in UNTIL_VALIDITY and self._clock() < self._valid_until(delivery)

    def _valid_until(self, delivery: Delivery) -> float:
        """When an SMS stops being worth sending: enqueued + `[sms] validity_period_s`."""
        if delivery.enqueued_at is None:
            return 0.0
        return delivery.enqueued_at.timestamp() + self._sms.validity_period_s

    def _attempts(self, delivery: Delivery) -> int:
        """Attempt cap of the delivery's channel: `[siren] attempts` for sirens, else `[sms]`."""
        if delivery.channel is ChannelKind.SIREN:
            return max(1, self._siren.attempts)
        return max(1, self._sms.attempts)

    def _retry(self, delivery: Delivery, result: SendResult, fields: dict[str, object]) -> None:
        """Put the row back with backoff; log only when the error changes."""
        delay = self._backoff.delay(delivery.attempts + 1, result.retry_after_s, self._rng)
        if delivery.channel in UNTIL_VALIDITY:
            # Capped for warnings: an outage's end must not wait out a long backoff.
            delay = min(delay, max(SMS_RETRY_CAP_S, result.retry_after_s or 0.0))
        error = result.error or "transient failure"
        previous = outbox.retry_later(
            self._store,
            delivery.id,
            self.worker,
            due_at=self._clock() + delay,
            error=error,
            code=result.code,
        )
        if previous != error:
            self._log.warning(
                "delivery.retry", error=error, code=result.code, delay_s=delay, **fields
            )

    def _fail(self, delivery: Delivery, result: SendResult, fields: dict[str, object]) -> None:
        """Record a permanent failure; opt-outs and silent sirens have consequences."""
        error = result.error or "failed"
        if result.outcome is Outcome.RETRY:
            why = "validity ended" if delivery.channel in UNTIL_VALIDITY else "gave up"
            error = f"{why} after {delivery.attempts + 1} attempts: {error}"
        outbox.mark_failed(self._store, delivery.id, self.worker, error, result.code)
        if delivery.channel is ChannelKind.SMS and result.code == OPT_OUT_CODE:
            with self._store.transaction() as tx:
                outbox.opt_out(tx, delivery.recipient, OPT_OUT_CODE, datetime.now(UTC))
        self._log.error("delivery.failed", error=error, code=result.code, **fields)
        if delivery.channel is ChannelKind.SIREN:
            self._report_siren(delivery)

    def _report_siren(self, delivery: Delivery) -> None:
        """Tell the officials by SMS that a siren did not respond."""
        self._log.error(
            "siren.unresponsive", siren=delivery.recipient, change_id=delivery.change_id
        )
        body = silent_siren_sms(delivery.recipient, drill=delivery.drill)
        key = hashlib.sha256(delivery.dedup_key.encode()).hexdigest()[:20]
        planned = operator_sms(
            f"siren-{key}",
            ChangeKind.SIREN_REPORT,
            [c.phone for c in self._officials if c.phone not in self._opted_out],
            body,
            subject=delivery.recipient,
            drill=delivery.drill,
            now=datetime.now(UTC),
        )
        with self._store.transaction() as tx:
            outbox.enqueue(tx, planned)
