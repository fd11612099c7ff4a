"""SNS MessageIds already taken (``sns_seen``): replays are refused by every process on the store,
and after a restart, for as long as the message's Timestamp would still be accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.store.database import Repository
from mailfate.store.tables import sns_seen

__all__ = ["SnsSeen"]


class SnsSeen(Repository):
    """SNS MessageIds already taken."""

    def sns_seen(self, message_id: str, *, now: datetime) -> bool:
        """True if ``message_id`` was taken and its row has not expired."""
        c = sns_seen.c
        with self.reader.connect() as conn:
            row = conn.execute(
                select(c.message_id).where(c.message_id == message_id, c.expires_at >= now)
            ).first()
        return row is not None

    def remember_sns(self, message_id: str, *, expires_at: datetime, now: datetime) -> bool:
        """Take ``message_id`` until ``expires_at``; False if it was already taken (a replay).

        One statement, so two processes given the same message cannot both take it; an expired
        row of the same id is taken over."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = insert(sns_seen).values(message_id=message_id, expires_at=expires_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["message_id"],
            set_={"expires_at": stmt.excluded.expires_at},
            where=sns_seen.c.expires_at < now,
        )
        with self.engine.begin() as conn:  # RETURNING: rowcount is not reliable for upserts everywhere
            return conn.execute(stmt.returning(sns_seen.c.message_id)).first() is not None

    def forget_sns(self, message_id: str) -> None:
        """Give ``message_id`` back (its handling failed: SNS's retry of it must not be a replay)."""
        with self.engine.begin() as conn:
            conn.execute(delete(sns_seen).where(sns_seen.c.message_id == message_id))

    def prune_sns_seen(self, now: datetime) -> int:
        """Forget the ids whose messages are too old to be accepted anyway; how many went."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(sns_seen).where(sns_seen.c.expires_at < now)).rowcount or 0)
