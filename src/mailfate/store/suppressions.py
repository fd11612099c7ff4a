"""The suppression list: addresses refused per sending domain (``scope``) or everywhere (``"*"``).

:func:`suppress_in` and :func:`suppress_noted_in` write inside the caller's transaction: a report
adds its suppressions in the transaction that records its events
(:meth:`mailfate.store.messages.Messages.record_report`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.model import EventType, NewEvent, NewSuppression, Suppression
from mailfate.store.database import Repository
from mailfate.store.rows import to_suppression
from mailfate.store.tables import suppressions
from mailfate.store.timeline import append_in

__all__ = ["SUPPRESSED", "Suppressions", "suppress_in", "suppress_noted_in"]

SUPPRESSED = select(suppressions).where(
    suppressions.c.address.in_(bindparam("addrs", expanding=True)),
    suppressions.c.scope.in_(bindparam("scopes", expanding=True)),
)


def suppress_in(
    conn: Connection, s: NewSuppression, *, at: datetime, source_message_id: str | None = None
) -> bool:
    """Refuse ``s.address`` for the sending domain ``s.scope`` ("*": all) inside the caller's
    transaction; False if it already was."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(suppressions)
        .values(
            scope=s.scope.lower(),
            address=s.address.strip().lower(),
            reason=s.reason,
            detail=s.detail[:1000],
            source_message_id=source_message_id,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["scope", "address"])
    )
    # RETURNING: rowcount is not reliable for DO NOTHING everywhere
    return conn.execute(stmt.returning(suppressions.c.id)).first() is not None


def suppress_noted_in(
    conn: Connection, message_id: str, recipient_id: int, s: NewSuppression, *, at: datetime
) -> bool:
    """Suppress the address and, if it was not yet, note it on the recipient's timeline (a
    ``suppression_added`` event), inside the caller's transaction. True if it was added."""
    noted = NewSuppression(s.scope, s.address, s.reason, s.detail[:500])
    added = suppress_in(conn, noted, at=at, source_message_id=message_id)
    if added:
        data = {"scope": s.scope, "reason": s.reason}
        append_in(conn, NewEvent(message_id, recipient_id, EventType.SUPPRESSION_ADDED, at, data))
    return added


class Suppressions(Repository):
    """The suppression list, read, edited by hand and written by the suppression policy."""

    def suppress(self, s: NewSuppression, *, at: datetime, source_message_id: str | None = None) -> bool:
        """Refuse ``s.address`` for the sending domain ``s.scope`` ("*": all); False if it already was."""
        with self.engine.begin() as conn:
            return suppress_in(conn, s, at=at, source_message_id=source_message_id)

    def suppress_noted(
        self, message_id: str, recipient_id: int, suppression: NewSuppression, *, at: datetime
    ) -> bool:
        """One transaction: suppress the address and, if it was not yet, note it on the recipient's
        timeline (a ``suppression_added`` event). True if it was added."""
        with self.db.writing() as conn:
            return suppress_noted_in(conn, message_id, recipient_id, suppression, at=at)

    def unsuppress(self, scope: str, address: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                suppressions.delete().where(
                    suppressions.c.scope == scope.lower(), suppressions.c.address == address.strip().lower()
                )
            )
        return bool(result.rowcount)

    def suppression(self, address: str, sending_domain: str) -> Suppression | None:
        with self.reader.connect() as conn:
            rows = conn.execute(
                SUPPRESSED, {"addrs": [address.lower()], "scopes": [sending_domain.lower(), "*"]}
            )
            found = {r.address: to_suppression(r) for r in rows}
        return next(iter(found.values()), None)

    def suppressions(self, *, scope: str | None = None, limit: int = 1000) -> list[Suppression]:
        query = select(suppressions).order_by(suppressions.c.created_at.desc()).limit(limit)
        if scope is not None:
            query = query.where(suppressions.c.scope == scope.lower())
        with self.reader.connect() as conn:
            return [to_suppression(row) for row in conn.execute(query)]
