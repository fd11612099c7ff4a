"""What a postmaster inquiry reads: the receiving domains with trouble, and one domain's attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from mailfate.model import Event
from mailfate.store.rows import aware, to_event
from mailfate.store.tables import events, messages, recipients

__all__ = ["TROUBLE_FATES", "DomainTrouble", "StoreInquiries"]

TROUBLE_FATES = ("deferred", "bounced", "expired")
"""The fates an inquiry is about: still deferred, refused for good, or given up."""


@dataclass(frozen=True, slots=True)
class DomainTrouble:
    domain: str
    recipients: int
    """Recipients affected (deferred now, bounced or expired) since the window began."""
    deferred: int
    bounced: int
    expired: int
    first_at: datetime | None
    last_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "recipients": self.recipients,
            "deferred": self.deferred,
            "bounced": self.bounced,
            "expired": self.expired,
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
        }


class StoreInquiries:
    engine: Engine
    reader: Engine

    def troubled_domains(self, since: datetime, *, limit: int = 1000) -> list[DomainTrouble]:
        """Receiving domains with recipients deferred, bounced or expired since ``since``, the most
        recipients affected first (a thousand company servers: which to ask first)."""
        r = recipients.c
        query = (
            select(r.domain, r.fate, func.count(), func.min(r.updated_at), func.max(r.updated_at))
            .where(r.fate.in_(TROUBLE_FATES), r.updated_at >= since)
            .group_by(r.domain, r.fate)
        )
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        per: dict[str, dict[str, Any]] = {}
        for domain, fate, n, first, last in rows:
            d = per.setdefault(
                domain, {"deferred": 0, "bounced": 0, "expired": 0, "first": None, "last": None}
            )
            d[fate] = int(n)
            first_at, last_at = aware(first), aware(last)
            d["first"] = min(x for x in (d["first"], first_at) if x) if first_at or d["first"] else None
            d["last"] = max(x for x in (d["last"], last_at) if x) if last_at or d["last"] else None
        out = [
            DomainTrouble(
                domain, d["deferred"] + d["bounced"] + d["expired"],
                d["deferred"], d["bounced"], d["expired"], d["first"], d["last"],
            )
            for domain, d in per.items()
        ]  # fmt: skip
        out.sort(key=lambda t: (-t.recipients, t.domain))
        return out[:limit]

    def domain_attempts(
        self, domain: str, since: datetime, *, limit: int = 5000
    ) -> list[tuple[str, str, str, str, str, Event]]:
        """The attempts and reports for the troubled recipients at ``domain`` since ``since``, oldest
        first: (message id, header Message-ID, sending domain, address, the recipient's fate, event)."""
        r, e, m = recipients.c, events.c, messages.c
        wanted = (
            select(r.id)
            .where(r.domain == domain.lower(), r.fate.in_(TROUBLE_FATES), r.updated_at >= since)
            .order_by(r.id.desc())
            .limit(limit)
            .scalar_subquery()
        )
        query = (
            select(events, r.address, r.fate.label("rfate"), m.header_message_id, m.sending_domain)
            .join(recipients, r.id == e.recipient_id)
            .join(messages, m.id == e.message_id)
            .where(e.recipient_id.in_(wanted), e.type.in_(["attempt", "bounced", "delayed", "expired"]))
            .order_by(e.id)
        )
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (
                row.message_id, row.header_message_id, row.sending_domain, row.address, row.rfate,
                to_event(row, {row.recipient_id: row.address}),
            )
            for row in rows
        ]  # fmt: skip
