"""Turns: ordered by ticket, whichever thread arrives first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import pytest

from warning.turns import Turns


def test_turns_follow_the_tickets_not_the_threads() -> None:
    """The first ticket's thread is the slowest to arrive; every later turn waits for it."""
    taken: list[int] = []
    turns = Turns()

    def take(item: int, turn: AbstractContextManager[None]) -> None:
        time.sleep(0.2 if item == 0 else 0.0)  # a thread slowed before its turn
        with turn:
            taken.append(item)

    with ThreadPoolExecutor(8) as pool:
        futures = [turns.submit(pool, take, item) for item in range(20)]
        for future in futures:
            future.result(timeout=5)
    assert taken == list(range(20))


def test_a_ticket_no_work_will_take_is_skipped() -> None:
    """A pool shut down refuses the work: its turn is forfeited, later tickets still go."""
    turns = Turns()
    closed = ThreadPoolExecutor(1)
    closed.shutdown()
    taken: list[int] = []

    def take(item: int, turn: AbstractContextManager[None]) -> None:
        with turn:
            taken.append(item)

    with pytest.raises(RuntimeError):
        turns.submit(closed, take, 0)
    with ThreadPoolExecutor(2) as pool:
        turns.submit(pool, take, 1).result(timeout=5)
    assert taken == [1]


def test_arrivals_wait_for_the_holder_who_may_enter_again() -> None:
    """`turn()` takes a ticket on arrival; the holder nests without waiting for itself."""
    turns = Turns()
    order: list[str] = []
    holding = threading.Event()

    def other() -> None:
        holding.wait(5)
        with turns.turn():
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    with turns.turn():
        holding.set()
        time.sleep(0.1)  # the other thread has arrived and waits
        with turns.turn():
            order.append("nested")
        order.append("holder")
    thread.join(5)
    assert order == ["nested", "holder", "other"]
