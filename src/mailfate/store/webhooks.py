"""Outgoing webhooks in the store: each subscriber's position in ``events`` and the delivery log.

A subscriber's row (``webhook_state``) says which event it has done (``position``: the last event
id delivered, failed for good, or skipped as not wanted), how many attempts the event after it has
had and when the next one is due. Every POST is a ``webhook_log`` row, written in the same
transaction as the position it moves, so a restart resumes where the last commit left off.

Only one process sends to a subscriber at a time: it holds the row's lease (``lease_owner``,
``lease_until``), renewed with every write; another worker on the same store waits until the lease
runs out.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.model.webhooks import DeliveryOutcome, WebhookLogEntry, WebhookState
from mailfate.store.database import Repository
from mailfate.store.tables import events, webhook_log, webhook_state

__all__ = ["DeliveryOutcome", "WebhookLogEntry", "WebhookState", "Webhooks"]


def _state(row: Any) -> WebhookState:
    return WebhookState(
        row.subscriber,
        int(row.position),
        int(row.attempts),
        row.next_at,
        row.last_error or "",
        row.updated_at,
        row.lease_owner,
        row.lease_until,
    )


def _entry(row: Any) -> WebhookLogEntry:
    return WebhookLogEntry(
        int(row.id),
        row.subscriber,
        int(row.event_id),
        row.at,
        int(row.attempt),
        row.status_code,
        row.error or "",
        int(row.duration_ms),
        row.outcome,
    )


class Webhooks(Repository):
    """Each subscriber's position and lease, and the delivery log."""

    def _owned(self, subscriber: str, owner: str) -> Any:
        s = webhook_state.c
        return update(webhook_state).where(s.subscriber == subscriber, s.lease_owner == owner)

    def claim_webhook(
        self, subscriber: str, owner: str, *, at: datetime, until: datetime, from_start: bool = False
    ) -> WebhookState | None:
        """Take or renew ``subscriber``'s lease for ``owner`` until ``until``; None while another
        owner's lease runs. A subscriber seen for the first time starts after the newest event
        (``from_start``: before the first)."""
        s = webhook_state.c
        with self.engine.begin() as conn:
            if conn.execute(select(s.subscriber).where(s.subscriber == subscriber)).first() is None:
                start = 0 if from_start else int(conn.execute(select(func.max(events.c.id))).scalar() or 0)
                insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
                conn.execute(
                    insert(webhook_state)
                    .values(subscriber=subscriber, position=start, attempts=0, last_error="", updated_at=at)
                    .on_conflict_do_nothing(index_elements=["subscriber"])
                )
            taken = conn.execute(
                update(webhook_state)
                .where(
                    s.subscriber == subscriber,
                    or_(s.lease_owner.is_(None), s.lease_owner == owner, s.lease_until < at),
                )
                .values(lease_owner=owner, lease_until=until)
            )
            if not taken.rowcount:
                return None
            return _state(conn.execute(select(webhook_state).where(s.subscriber == subscriber)).one())

    def release_webhook(self, subscriber: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self._owned(subscriber, owner).values(lease_owner=None, lease_until=None))

    def skip_webhook_events(self, subscriber: str, owner: str, position: int, *, at: datetime) -> bool:
        """Move past events the subscriber does not want (no log rows); False if the lease is lost."""
        s = webhook_state.c
        with self.engine.begin() as conn:
            done = conn.execute(
                self._owned(subscriber, owner)
                .where(s.position < position)
                .values(position=position, attempts=0, next_at=None, updated_at=at)
            )
        return bool(done.rowcount)

    def record_webhook(
        self,
        subscriber: str,
        owner: str,
        event_id: int,
        *,
        at: datetime,
        attempt: int,
        outcome: DeliveryOutcome,
        status_code: int | None,
        error: str,
        duration_ms: int,
        next_at: datetime | None = None,
        until: datetime | None = None,
    ) -> bool:
        """Log one POST and move the subscriber's state in one transaction: past ``event_id`` when
        it was delivered or failed for good, else count the attempt and keep ``next_at``. The
        lease is renewed to ``until``. False when another owner holds the lease now (the log row
        is written all the same: the POST happened)."""
        s = webhook_state.c
        values: dict[str, Any] = {"updated_at": at}
        if until is not None:
            values["lease_until"] = until
        if outcome == "retry":
            values.update(attempts=attempt, next_at=next_at, last_error=error[:1000])
        else:
            values.update(position=event_id, attempts=0, next_at=None, last_error=error[:1000])
        with self.engine.begin() as conn:
            conn.execute(
                webhook_log.insert().values(
                    subscriber=subscriber,
                    event_id=event_id,
                    at=at,
                    attempt=attempt,
                    status_code=status_code,
                    error=error[:2000],
                    duration_ms=duration_ms,
                    outcome=outcome,
                )
            )
            done = conn.execute(self._owned(subscriber, owner).where(s.position < event_id).values(**values))
        return bool(done.rowcount)

    def webhook_states(self) -> list[WebhookState]:
        with self.reader.connect() as conn:
            rows = conn.execute(select(webhook_state).order_by(webhook_state.c.subscriber)).all()
        return [_state(row) for row in rows]

    def webhook_state(self, subscriber: str) -> WebhookState | None:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(webhook_state).where(webhook_state.c.subscriber == subscriber)
            ).one_or_none()
        return _state(row) if row is not None else None

    def webhook_log(
        self, *, subscriber: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[WebhookLogEntry]:
        """Delivery log rows, newest first; ``before_id`` pages back."""
        query = select(webhook_log).order_by(webhook_log.c.id.desc()).limit(limit)
        if subscriber is not None:
            query = query.where(webhook_log.c.subscriber == subscriber)
        if before_id is not None:
            query = query.where(webhook_log.c.id < before_id)
        with self.reader.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def count_events_after(self, after_id: int, types: Collection[str] | None = None) -> int:
        """Events with an id above ``after_id`` (of ``types`` only, when given): a backlog."""
        query = select(func.count()).select_from(events).where(events.c.id > after_id)
        if types is not None:
            query = query.where(events.c.type.in_(list(types)))
        with self.reader.connect() as conn:
            return int(conn.execute(query).scalar() or 0)
