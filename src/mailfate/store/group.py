"""Group commit for threads: concurrent ``Queue.submit`` calls share one transaction.

A durable submit pays for one commit (an fsync) before it returns. Callers that submit at the same
moment from several threads — an application's request handlers, SMTP submission sessions — do not
each pay for their own: the first caller leads, writes everything queued by then in one transaction
and wakes the others with their results. A lone caller leads at once and waits for nobody, so a
sequential sender pays exactly what it did before. (The asyncio front doors do the same with
``submit.batcher.SubmitBatcher``; this is its counterpart for threads.)

Leader and followers, as database logs do it: while a leader writes, new callers queue; when its
own message is written, the leader hands the lead to the oldest caller still waiting, so nobody
commits for others forever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

M = TypeVar("M")
R = TypeVar("R")


class _Waiting(Generic[M, R]):
    __slots__ = ("done", "message", "now", "result", "wake")

    def __init__(self, message: M, now: datetime) -> None:
        self.message = message
        self.now = now
        self.result: R | BaseException | None = None
        self.done = False
        self.wake = threading.Event()


class GroupCommit(Generic[M, R]):
    """``submit(message, now)`` through ``write(messages, nows)``, which writes a batch in one
    transaction and returns, for each message, its result or the exception of that message alone."""

    def __init__(
        self,
        write: Callable[[Sequence[M], Sequence[datetime]], Sequence[R | Exception]],
        *,
        max_batch: int = 500,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Waiting[M, R]] = []
        self._busy = False
        self.batches = 0
        """Transactions written (tests and benchmarks read it: fewer than submits under load)."""

    def submit(self, message: M, now: datetime) -> R:
        me: _Waiting[M, R] = _Waiting(message, now)
        with self._lock:
            self._queue.append(me)
            leads = not self._busy
            self._busy = True
        if not leads:
            me.wake.wait()  # settled by a leader, or handed the lead
        if not me.done:
            self._lead(me)
        if isinstance(me.result, BaseException):
            raise me.result
        return me.result  # type: ignore[return-value]

    def _lead(self, me: _Waiting[M, R]) -> None:
        try:
            while not me.done:
                with self._lock:
                    batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                try:
                    results: Sequence[R | BaseException] = self._write(
                        [w.message for w in batch], [w.now for w in batch]
                    )
                    self.batches += 1
                except BaseException as exc:  # the transaction failed: each waiter gets the error
                    results = [exc] * len(batch)
                for waiting, result in zip(batch, results, strict=True):
                    waiting.result, waiting.done = result, True
                    if waiting is not me:
                        waiting.wake.set()
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # not done: it wakes to lead
                else:
                    self._busy = False
