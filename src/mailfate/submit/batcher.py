"""Group commit for submits arriving concurrently on an event loop (the HTTP API, SMTP submission).

Requests put their prepared message in a queue and wait; one writer takes everything queued and
stores it in one transaction, then answers each. Under load the batches grow by themselves, so the
store's write lock and commit are paid once per burst instead of once per message; alone, a
request waits for nobody. (Threads get the same from ``Queue.submit``, :mod:`mailfate.store.group`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from mailfate.model import NewMessage, SubmitResult

__all__ = ["BatchStore", "SubmitBatcher"]


class BatchStore(Protocol):
    """Messages into the queue, many in one transaction."""

    def submit_many(self, batch: Sequence[NewMessage], now: datetime) -> list[SubmitResult | Exception]: ...


class SubmitBatcher:
    def __init__(
        self,
        store: BatchStore,
        *,
        max_batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.clock = clock
        self._queue: list[tuple[NewMessage, asyncio.Future[SubmitResult]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        """Transactions written (fewer than submits under load)."""

    async def submit(self, message: NewMessage) -> SubmitResult:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[SubmitResult] = loop.create_future()
        self._queue.append((message, done))
        if self._writer is None:
            self._writer = loop.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                try:
                    results = await asyncio.to_thread(
                        self.store.submit_many, [m for m, _ in batch], self.clock()
                    )
                except Exception as exc:  # the whole transaction failed: every waiter gets the error
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                self.batches += 1
                for (_, done), result in zip(batch, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self._writer = None
