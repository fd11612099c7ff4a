"""The suppression list: addresses refused per sending domain (``scope``) or everywhere (``"*"``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailfate.model import Suppression
from mailfate.store.rows import to_suppression
from mailfate.store.tables import suppressions

__all__ = ["SUPPRESSED", "StoreSuppressions"]

SUPPRESSED = select(suppressions).where(
    suppressions.c.address.in_(bindparam("addrs", expanding=True)),
    suppressions.c.scope.in_(bindparam("scopes", expanding=True)),
)


class StoreSuppressions:
    engine: Engine
    reader: Engine
    dialect: str

    def _suppressed(self, conn: Connection, addresses: list[str], sending: str) -> dict[str, Suppression]:
        lowered = [a.lower() for a in addresses]
        rows = conn.execute(SUPPRESSED, {"addrs": lowered, "scopes": [sending, "*"]}).all()
        return {r.address: to_suppression(r) for r in rows}

    # -- suppressions ---------------------------------------------------------------------------
    def suppress(
        self,
        scope: str,
        address: str,
        reason: str,
        *,
        at: datetime,
        detail: str = "",
        source_message_id: str | None = None,
    ) -> bool:
        """Refuse ``address`` for the sending domain ``scope`` ("*": all); False if it already was."""
        with self.engine.begin() as conn:
            return self._suppress_in(
                conn, scope, address, reason, at=at, detail=detail, source_message_id=source_message_id
            )

    def _suppress_in(
        self,
        conn: Connection,
        scope: str,
        address: str,
        reason: str,
        *,
        at: datetime,
        detail: str = "",
        source_message_id: str | None = None,
    ) -> bool:
        """:meth:`suppress` inside the caller's transaction."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(suppressions)
            .values(
                scope=scope.lower(),
                address=address.strip().lower(),
                reason=reason,
                detail=detail[:1000],
                source_message_id=source_message_id,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["scope", "address"])
        )
        # RETURNING: rowcount is not reliable for DO NOTHING everywhere
        return conn.execute(stmt.returning(suppressions.c.id)).first() is not None

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
            found = self._suppressed(conn, [address], sending_domain.lower())
        return next(iter(found.values()), None)

    def suppressions(self, *, scope: str | None = None, limit: int = 1000) -> list[Suppression]:
        query = select(suppressions).order_by(suppressions.c.created_at.desc()).limit(limit)
        if scope is not None:
            query = query.where(suppressions.c.scope == scope.lower())
        with self.reader.connect() as conn:
            return [to_suppression(row) for row in conn.execute(query)]
