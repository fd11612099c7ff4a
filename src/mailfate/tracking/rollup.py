"""The background fold of new events into the rollups (see :mod:`mailfate.store.rollups`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from mailfate.store.rollups import Rollups

__all__ = ["fold_forever"]

log = logging.getLogger(__name__)


async def fold_forever(
    store: Rollups,
    stop: asyncio.Event,
    *,
    interval: float = 2.0,
    batch: int = 2000,
    pause: float = 0.05,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Fold new events until ``stop`` is set: ``batch`` events per transaction, ``pause`` seconds
    between two batches (the write lock is shared with the submits and the workers: short
    transactions keep their latency low), ``interval`` seconds between two looks once caught up.
    A failed fold is logged and tried again: the cursor only moves with the counts."""
    while not stop.is_set():
        wait = interval
        try:
            if await asyncio.to_thread(store.fold_rollups, clock(), batch=batch):
                wait = pause  # more may be waiting
        except Exception:  # loop boundary: the next round tries again from the stored cursor
            log.exception("folding events into the rollups failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
