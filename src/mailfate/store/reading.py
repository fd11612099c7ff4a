"""Reading the store: one message's timeline, recipients, the queue by destination, counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from mailfate.model import Event, Fate
from mailfate.store.rows import aware, normalize_address, to_event, to_recipient
from mailfate.store.tables import events, messages, recipients
from mailfate.store.views import DestinationSummary, MessageView, RecipientView

__all__ = ["StoreReading"]


class StoreReading:
    engine: Engine

    # -- reading --------------------------------------------------------------------------------
    def message(self, message_id: str) -> MessageView | None:
        m = messages.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    m.id,
                    m.created_at,
                    m.from_addr,
                    m.subject,
                    m.category,
                    m.tags,
                    m.deadline,
                    m.expires_at,
                    m.header_message_id,
                    m.size,
                    m.fate,
                ).where(m.id == message_id)
            ).one_or_none()
            if row is None:
                return None
            recs = [
                to_recipient(x)
                for x in conn.execute(
                    select(recipients).where(recipients.c.message_id == message_id).order_by(recipients.c.id)
                )
            ]
            names = {x.id: x.address for x in recs}
            evs = tuple(
                to_event(e, names)
                for e in conn.execute(
                    select(events).where(events.c.message_id == message_id).order_by(events.c.id)
                )
            )
        return MessageView(
            row.id,
            row.created_at,
            row.from_addr,
            row.subject,
            row.category,
            tuple(row.tags or ()),
            row.deadline,
            row.expires_at,
            row.header_message_id,
            row.size,
            row.fate,
            tuple(recs),
            evs,
        )

    def recipient(self, recipient_id: int) -> RecipientView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(recipients).where(recipients.c.id == recipient_id)).one_or_none()
        return to_recipient(row) if row is not None else None

    def find_recipient(self, message_id: str, address: str) -> int | None:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(recipients.c.id, recipients.c.address).where(recipients.c.message_id == message_id)
            ).all()
        wanted = normalize_address(address).lower()
        return next((row.id for row in rows if row.address.lower() == wanted), None)

    def events_since(self, message_id: str, after_id: int) -> list[Event]:
        with self.engine.connect() as conn:
            names = dict(
                conn.execute(
                    select(recipients.c.id, recipients.c.address).where(recipients.c.message_id == message_id)
                ).all()
            )
            return [
                to_event(e, names)
                for e in conn.execute(
                    select(events)
                    .where(events.c.message_id == message_id, events.c.id > after_id)
                    .order_by(events.c.id)
                )
            ]

    def recent_fates(self, address: str, limit: int) -> list[str]:
        """The fates of the last ``limit`` messages to ``address`` (newest first)."""
        wanted = normalize_address(address)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(recipients.c.fate)
                .where(recipients.c.address == wanted)
                .order_by(recipients.c.id.desc())
                .limit(limit)
            ).all()
        return [row.fate for row in rows]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(recipients.c.fate, func.count()).group_by(recipients.c.fate)).all()
        return {fate: int(n) for fate, n in rows}

    def queue_summary(self, now: datetime, top: int = 3) -> list[DestinationSummary]:
        r, m = recipients.c, messages.c
        open_fates = (Fate.QUEUED.value, Fate.SENDING.value, Fate.DEFERRED.value)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.domain, r.fate, func.count(), func.min(m.created_at), func.min(r.next_attempt_at))
                .join(messages, m.id == r.message_id)
                .where(r.fate.in_(open_fates))
                .group_by(r.domain, r.fate)
            ).all()
            reasons = conn.execute(
                select(r.domain, r.last_reason, func.count(), func.max(r.last_text))
                .where(r.fate == Fate.DEFERRED.value)
                .group_by(r.domain, r.last_reason)
            ).all()
        per: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"queued": 0, "sending": 0, "deferred": 0, "oldest": None, "next": None}
        )
        for domain, fate, n, first, soonest in rows:
            d = per[domain]
            d[fate] = int(n)
            oldest = aware(first)
            nxt = aware(soonest)
            d["oldest"] = (
                min(x for x in (d["oldest"], oldest) if x is not None) if oldest or d["oldest"] else None
            )
            if fate != Fate.SENDING.value and nxt is not None:
                d["next"] = min(x for x in (d["next"], nxt) if x is not None)
        tops: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for domain, reason, n, sample in sorted(reasons, key=lambda x: -x[2]):
            if len(tops[domain]) < top:
                tops[domain].append((reason or "undefined", int(n), sample or ""))
        out = [
            DestinationSummary(
                domain, d["queued"], d["sending"], d["deferred"], d["oldest"], d["next"], tuple(tops[domain])
            )
            for domain, d in per.items()
        ]
        return sorted(out, key=lambda s: -(s.queued + s.sending + s.deferred))
