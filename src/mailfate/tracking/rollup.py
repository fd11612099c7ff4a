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
    batch: int = 5000,
    pause: float = 0.05,
    settle: float = 0.25,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Fold new events until ``stop`` is set: ``batch`` events per transaction; ``pause`` seconds
    after a full batch (more are waiting: a backlog drains fast in short transactions, since the
    write lock is shared with the submits and the workers), ``settle`` seconds after a partial one
    (events keep coming but slower than a batch: each fold has a fixed cost — the cursor, the
    query, a write transaction — that twenty folds a second make a tenth of the API's CPU per
    request; the rollups are then at most ``settle`` seconds late), ``interval`` seconds once
    caught up. A failed fold is logged and tried again: the cursor only moves with the counts."""
    while not stop.is_set():
        wait = interval
        try:
            folded = await asyncio.to_thread(store.fold_rollups, clock(), batch=batch)
            if folded:
                wait = pause if folded >= batch else settle
        except Exception:  # loop boundary: the next round tries again from the stored cursor
            log.exception("folding events into the rollups failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
