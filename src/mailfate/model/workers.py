"""Worker heartbeats, as the store gives them: a worker's row and whether any worker is alive.

A worker process beats every :data:`BEAT_EVERY` seconds (``mailfate.store.workers`` writes it);
one that has not beaten for :data:`STALE_AFTER` seconds is taken for dead. ``Client.wait``, the
HTTP API's ``?wait=`` and ``mailfate send`` read a :class:`WorkerStatus` to say "no worker runs"
instead of waiting on ``queued``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["BEAT_EVERY", "STALE_AFTER", "WorkerBeat", "WorkerStatus"]

BEAT_EVERY = 5.0
"""Seconds between two heartbeats of a running worker."""
STALE_AFTER = 30.0
"""A worker that has not beaten for this many seconds is taken for dead (six missed beats)."""


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    """One worker process's row: who, since when, its last heartbeat, when it stopped (if cleanly)."""

    id: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """Whether a worker is running on the store, as of ``now``."""

    alive: bool
    """Some worker beat within ``threshold`` seconds and has not stopped."""
    last: WorkerBeat | None
    """The worker that beat last (None: no worker has ever run on this store)."""
    idle: float | None
    """Seconds since ``last`` beat (None when there is none)."""
    threshold: float

    @property
    def hint(self) -> str | None:
        """What to tell a sender when no worker is running (None when one is)."""
        if self.alive:
            return None
        start = "start `mailfate worker` (or `mailfate serve`) on this store to deliver"
        if self.last is None or self.idle is None:
            return f"no worker has ever run on this store: {start}"
        how = "stopped" if self.last.stopped_at is not None else "last beat"
        return (
            f"no worker has run for {self.idle:.0f} s ({self.last.host} pid {self.last.pid} {how} "
            f"at {self.last.beat_at:%Y-%m-%d %H:%M:%S} UTC): {start}"
        )
