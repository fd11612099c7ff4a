"""Worker heartbeats (``workers``): each worker process writes one row and refreshes ``beat_at``
every :data:`BEAT_EVERY` seconds while it runs, so a sender can tell whether anything will
deliver what it queues (``Client.wait``, ``mailfate send``) instead of waiting on ``queued``.

A worker is alive when it beat within :data:`STALE_AFTER` seconds and has not stopped. Rows of
workers long gone are pruned by the beats of a live one; with no worker running, the last row
stays, so "no worker has run for N s" can still be told from "no worker has ever run".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.model.workers import BEAT_EVERY, STALE_AFTER, WorkerBeat, WorkerStatus
from mailfate.store.database import Repository
from mailfate.store.tables import workers

__all__ = ["BEAT_EVERY", "STALE_AFTER", "WorkerBeat", "WorkerStatus", "Workers"]

_FORGET_AFTER = timedelta(days=1)


def _beat(row: object) -> WorkerBeat:
    r = row._mapping  # type: ignore[attr-defined]
    return WorkerBeat(r["id"], r["host"], r["pid"], r["started_at"], r["beat_at"], r["stopped_at"])


class Workers(Repository):
    """Worker heartbeats."""

    def worker_beat(
        self, worker_id: str, *, host: str, pid: int, started_at: datetime, now: datetime
    ) -> None:
        """Write (or refresh) ``worker_id``'s heartbeat; forget workers silent for a day."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = insert(workers).values(
            id=worker_id, host=host[:255], pid=pid, started_at=started_at, beat_at=now, stopped_at=None
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={"beat_at": stmt.excluded.beat_at, "stopped_at": None}
        )
        c = workers.c
        with self.engine.begin() as conn:
            conn.execute(stmt)
            conn.execute(delete(workers).where(and_(c.beat_at < now - _FORGET_AFTER, c.id != worker_id)))

    def worker_stopped(self, worker_id: str, *, now: datetime) -> None:
        """``worker_id`` stopped cleanly (its row stays: "no worker has run for N s")."""
        with self.engine.begin() as conn:
            conn.execute(update(workers).where(workers.c.id == worker_id).values(beat_at=now, stopped_at=now))

    def worker_status(self, now: datetime, *, threshold: float = STALE_AFTER) -> WorkerStatus:
        """Whether a worker runs on this store: alive if one beat within ``threshold`` seconds."""
        c = workers.c
        with self.reader.connect() as conn:
            live = conn.execute(
                select(workers)
                .where(c.stopped_at.is_(None), c.beat_at >= now - timedelta(seconds=threshold))
                .order_by(c.beat_at.desc())
                .limit(1)
            ).first()
            row = live or conn.execute(select(workers).order_by(c.beat_at.desc()).limit(1)).first()
        if row is None:
            return WorkerStatus(False, None, None, threshold)
        beat = _beat(row)
        idle = max(0.0, (now - beat.beat_at).total_seconds())
        return WorkerStatus(live is not None, beat, idle, threshold)
