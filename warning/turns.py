"""Turns: threads pass through a section one at a time, in the order of their tickets.

Two places need an order that threads alone do not keep: SQLite's write lock
(its busy handler favours the thread that commits and begins again at once)
and the SMS sends (whichever thread reaches the rate limiter first sends
first).  A ticket is issued either on arrival (`turn()`) or ahead, when the
work is queued (`submit`), and turns are served strictly in ticket order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

Item = TypeVar("Item")


class Turns:
    """Ordered turns; a thread holding one may enter again (`turn()`) without waiting."""

    def __init__(self) -> None:
        self._served = threading.Condition()
        self._issuing = threading.Lock()
        self._issued = 0
        self._serving = 0
        self._forfeited: set[int] = set()
        self._owner: int | None = None

    def submit(
        self,
        pool: Executor,
        work: Callable[[Item, AbstractContextManager[None]], None],
        item: Item,
    ) -> Future[None]:
        """Queue `work(item, turn)` on `pool`, `turn` holding the next ticket's turn.

        `work` must enter `turn` (`with turn: ...`) whatever happens, or every
        later ticket waits for ever.  Issued and queued under one lock: a pool's
        queue is first in, first out, so every earlier ticket's work has started
        before this one's and a turn never waits for work queued behind it.
        """
        with self._issuing:
            ticket = self._issue()
            try:
                return pool.submit(work, item, self.turn(ticket))
            except BaseException:
                self._forfeit(ticket)  # a pool shut down: no work will take this turn
                raise

    @contextmanager
    def turn(self, ticket: int | None = None) -> Iterator[None]:
        """Hold the turn of `ticket` (None: a ticket issued now) for the body.

        Every earlier ticket's turn has ended first.  A thread already holding
        a turn enters again at once when it asks for a new one.
        """
        me = threading.get_ident()
        if ticket is None:
            if self._owner == me:
                yield
                return
            with self._issuing:
                ticket = self._issue()
        with self._served:
            try:
                self._served.wait_for(lambda: self._serving == ticket)
            except BaseException:
                self._forfeited.add(ticket)  # interrupted while waiting: pass the turn on
                self._skip_forfeited()
                self._served.notify_all()
                raise
            self._owner = me
        try:
            yield
        finally:
            with self._served:
                self._owner = None
                self._serving += 1
                self._skip_forfeited()
                self._served.notify_all()

    def _issue(self) -> int:
        ticket = self._issued
        self._issued += 1
        return ticket

    def _forfeit(self, ticket: int) -> None:
        with self._served:
            self._forfeited.add(ticket)
            self._skip_forfeited()
            self._served.notify_all()

    def _skip_forfeited(self) -> None:
        while self._serving in self._forfeited:
            self._forfeited.discard(self._serving)
            self._serving += 1
