"""Hourly rollups of the events: what the dashboard and the alerts read instead of the events.

The events table is append-only with increasing ids, so a reader can fold it in order and remember
how far it got. :meth:`Rollups.fold_rollups` reads the events after the ``rollup`` cursor,
counts them per (hour, sending domain, recipient domain, category, kind, reason, latency bucket)
and adds the counts and the new cursor in one transaction: the fold is exactly-once, and two
processes folding at once cannot both count a batch (the cursor moves by compare-and-set; the
loser's transaction rolls back and it tries again from the new position).

PostgreSQL allots ids when rows are inserted, not when they commit: a transaction that commits
late can add an event below an id already folded. The fold only moves past events older than
``settle`` (2 s on PostgreSQL, none on SQLite, whose writers take turns), which covers the store's
short write transactions.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.model import RollupQuery
from mailfate.model.bounces import BounceClass, bounce_class, bounce_kind, is_bounce
from mailfate.store.database import Repository
from mailfate.store.tables import ROLLUP_KEY, cursors, events, messages, recipients, rollups, rollups_daily

__all__ = ["GROUPABLE", "LATENCY_BOUNDS", "RollupKey", "Rollups", "day_of", "hour_of", "latency_bucket"]

LATENCY_BOUNDS: tuple[float, ...] = (
    1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400,
)  # fmt: skip
"""Upper bounds (seconds) of the submit → accepted latency buckets; the last bucket is open."""

CURSOR = "rollup"
GROUPABLE = ROLLUP_KEY


def latency_bucket(seconds: float) -> int:
    """The index of the first bound at or above ``seconds`` (len(LATENCY_BOUNDS): above them all)."""
    return bisect_left(LATENCY_BOUNDS, seconds)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_of(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class RollupKey:
    hour: datetime
    sending_domain: str
    rcpt_domain: str
    category: str
    kind: str
    """queued, delivered, deferred, bounced_hard, bounced_soft, expired, suppressed, rejected,
    complained, autoreplied, delayed, or latency (delivered attempts, by ``bucket``). Hard and soft
    as :mod:`mailfate.model.bounces` defines them (``expired`` counts as a soft bounce there)."""
    reason: str = ""
    bucket: int = -1


def _kind(kind: str, outcome: str | None, data: dict[str, Any]) -> str | None:
    """The rollup kind an event counts as (None: not counted). What a worker recorded after losing
    its lease is not counted: the worker that holds the recipient counts its fate."""
    if data.get("lease_lost"):
        return None
    if is_bounce(kind, outcome):  # hard or soft as mailfate.model.bounces defines them
        return bounce_kind(bounce_class(kind, outcome, data) is BounceClass.HARD)
    if kind == "attempt":
        return outcome if outcome in ("delivered", "deferred") else None
    if kind in ("queued", "expired", "suppressed", "rejected", "complained", "autoreplied", "delayed"):
        return kind
    return None


class _Folded(Exception):
    """Leaves the transaction (rolled back by ``engine.begin()``, once): the batch was folded
    elsewhere. An explicit ``rollback()`` inside ``begin()`` would end the transaction twice."""


class Rollups(Repository):
    """The rollups: folded from the events, summed for the pages and the alerts."""

    @property
    def settle(self) -> timedelta:
        return timedelta(seconds=2) if self.dialect == "postgresql" else timedelta(0)

    def rollup_position(self) -> int:
        with self.reader.connect() as conn:
            found = conn.execute(select(cursors.c.position).where(cursors.c.name == CURSOR)).scalar()
        return int(found or 0)

    def fold_rollups(self, now: datetime, *, batch: int = 20_000) -> int:
        """Fold one batch of new events into the rollups; the number of events folded (0: caught up)."""
        start = self.rollup_position()
        e, r, m = events.c, recipients.c, messages.c
        query = (
            select(
                e.id, e.at, e.type, e.outcome, e.reason, e.data, r.domain, m.sending_domain, m.category,
                m.created_at,
            )
            .join(recipients, r.id == e.recipient_id, isouter=True)
            .join(messages, m.id == e.message_id)
            .where(e.id > start)
            .order_by(e.id)
            .limit(batch)
        )  # fmt: skip
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        counts: Counter[RollupKey] = Counter()
        position = start
        newest = now - self.settle
        for row in rows:
            if row.at > newest:
                break
            position = row.id
            data = row.data or {}
            kind = _kind(row.type, row.outcome, data)
            if kind is None:
                continue
            hour = hour_of(row.at)
            rcpt = row.domain or ""
            reason = (row.reason or "")[:32] if kind not in ("queued", "delivered") else ""
            counts[RollupKey(hour, row.sending_domain, rcpt, row.category, kind, reason)] += 1
            if kind == "delivered":
                waited = (row.at - row.created_at).total_seconds()
                bucket = latency_bucket(waited)
                counts[RollupKey(hour, row.sending_domain, rcpt, row.category, "latency", "", bucket)] += 1
        if position == start:
            return 0
        self._add_rollups(counts, start, position, now)
        return len(rows)

    def _add_rollups(self, counts: Counter[RollupKey], start: int, position: int, now: datetime) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        daily: Counter[RollupKey] = Counter()
        for k, n in counts.items():
            daily[dataclasses.replace(k, hour=day_of(k.hour))] += n
        hourly = self._rows(counts)
        by_day = self._rows(daily)
        if start == 0:  # the cursor's row, once (two processes may race here: one insert wins)
            with self.engine.begin() as conn:
                conn.execute(
                    insert(cursors)
                    .values(name=CURSOR, position=0, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
        try:
            with self.engine.begin() as conn:
                moved = conn.execute(
                    update(cursors)
                    .where(cursors.c.name == CURSOR, cursors.c.position == start)
                    .values(position=position, updated_at=now)
                )
                if moved.rowcount != 1:  # another process folded this batch first: roll back
                    raise _Folded
                for table, values in ((rollups, hourly), (rollups_daily, by_day)):
                    stmt = insert(table)
                    upsert = stmt.on_conflict_do_update(
                        index_elements=list(GROUPABLE), set_={"n": table.c.n + stmt.excluded.n}
                    )
                    for i in range(0, len(values), 500):
                        conn.execute(upsert, values[i : i + 500])
        except _Folded:
            return

    @staticmethod
    def _rows(counts: Counter[RollupKey]) -> list[dict[str, Any]]:
        return [
            {
                "hour": k.hour,
                "sending_domain": k.sending_domain,
                "rcpt_domain": k.rcpt_domain,
                "category": k.category,
                "kind": k.kind,
                "reason": k.reason,
                "bucket": k.bucket,
                "n": n,
            }
            for k, n in counts.items()
        ]

    def catch_up_rollups(self, now: datetime, *, batch: int = 20_000, max_batches: int = 1_000_000) -> int:
        """Fold until caught up (or ``max_batches``); the number of events read."""
        total = 0
        for _ in range(max_batches):
            n = self.fold_rollups(now, batch=batch)
            if n == 0:
                break
            total += n
        return total

    def rollup_sums(self, q: RollupQuery) -> list[tuple[Any, ...]]:
        """Sums of the rollups as :class:`~mailfate.model.RollupQuery` says: tuples of the ``by``
        columns' values and the count. The database does the grouping: a page reads a few thousand
        tuples at most, however many events there were."""
        by, since, until, daily = q.by, q.since, q.until, q.daily
        unknown = set(by) - set(GROUPABLE)
        if unknown:
            raise ValueError(f"cannot group rollups by {sorted(unknown)}")
        ro = (rollups_daily if daily else rollups).c
        start = day_of(since) if daily else hour_of(since)
        columns = [ro[name] for name in by]
        query = select(*columns, func.sum(ro.n)).where(ro.hour >= start).group_by(*columns)
        if until is not None:
            query = query.where(ro.hour < until)
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [(*row[:-1], int(row[-1])) for row in rows]

    def rollup_backlog(self) -> int:
        """Events not folded yet."""
        with self.reader.connect() as conn:
            last = conn.execute(select(func.max(events.c.id))).scalar()
        return max(0, int(last or 0) - self.rollup_position())
