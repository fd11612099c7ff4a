"""The background fold of new events into the hourly rollups (see :mod:`mailfate.store.rollups`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from mailfate.store import Store

__all__ = ["fold_forever"]

log = logging.getLogger(__name__)


async def fold_forever(
    store: Store,
    stop: asyncio.Event,
    *,
    interval: float = 1.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Fold new events every ``interval`` seconds until ``stop`` is set (a failed fold is logged and
    tried again: nothing is lost, the cursor only moves with the counts)."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(store.catch_up_rollups, clock())
        except Exception:  # loop boundary: the next round tries again from the stored cursor
            log.exception("folding events into the rollups failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
