"""Reading the store: one message's timeline, recipients, the queue by destination, counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, String, cast, func, select

from mailfate.model import (
    DestinationSummary,
    Event,
    Fate,
    MessageSummary,
    MessageView,
    RecipientView,
)
from mailfate.model.bounces import BounceClass, BounceCounts, bounce_class, fate_class
from mailfate.store.rows import aware, normalize_address, to_event, to_recipient
from mailfate.store.tables import events, messages, recipients

__all__ = ["StoreReading"]


class StoreReading:
    engine: Engine
    reader: Engine

    # -- reading --------------------------------------------------------------------------------
    def message(self, message_id: str) -> MessageView | None:
        m = messages.c
        with self.reader.connect() as conn:
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
        with self.reader.connect() as conn:
            row = conn.execute(select(recipients).where(recipients.c.id == recipient_id)).one_or_none()
        return to_recipient(row) if row is not None else None

    def find_recipient(self, message_id: str, address: str) -> int | None:
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(recipients.c.id, recipients.c.address).where(recipients.c.message_id == message_id)
            ).all()
        wanted = normalize_address(address).lower()
        return next((row.id for row in rows if row.address.lower() == wanted), None)

    def events_since(self, message_id: str, after_id: int) -> list[Event]:
        with self.reader.connect() as conn:
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
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(recipients.c.fate)
                .where(recipients.c.address == wanted)
                .order_by(recipients.c.id.desc())
                .limit(limit)
            ).all()
        return [row.fate for row in rows]

    def search_messages(
        self,
        *,
        recipient: str | None = None,
        domain: str | None = None,
        fate: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[MessageSummary], str | None]:
        """Messages newest first, filtered; the cursor for the next page (None: no more). ``fate``
        is the message's, or with a recipient, domain or reason filter the matched recipient's
        (``domain=naver.com, fate=bounced``: messages whose Naver recipient bounced). Every value
        is a bound parameter: nothing a caller passes becomes SQL."""
        m, r = messages.c, recipients.c
        query = select(m.id, m.created_at, m.from_addr, m.subject, m.fate, m.tags).order_by(m.id.desc())
        conditions = []
        if recipient:
            conditions.append(r.address == normalize_address(recipient))
        if domain:
            conditions.append(r.domain == domain.lower())
        if reason:
            conditions.append(r.last_reason == reason)
        if conditions and fate:  # the matched recipient's fate: through the (domain, fate) index
            conditions.append(r.fate == fate)
        if conditions:  # through the recipients' indexes (address; domain and fate), not a scan
            query = query.where(m.id.in_(select(r.message_id).where(*conditions)))
        elif fate:
            query = query.where(m.fate == fate)
        if since:
            query = query.where(m.created_at >= since)
        if until:
            query = query.where(m.created_at < until)
        if tag:
            query = query.where(cast(m.tags, String).like(f'%"{tag}"%'))
        if cursor:
            query = query.where(m.id < cursor)
        with self.reader.connect() as conn:
            rows = conn.execute(query.limit(limit + 1)).all()
            page = rows[:limit]
            ids = [row.id for row in page]
            addrs: dict[str, list[str]] = defaultdict(list)
            if ids:
                for mid, address in conn.execute(
                    select(r.message_id, r.address).where(r.message_id.in_(ids)).order_by(r.id)
                ):
                    addrs[mid].append(address)
        items = [
            MessageSummary(
                row.id,
                row.created_at,
                row.from_addr,
                row.subject,
                row.fate,
                tuple(addrs[row.id]),
                tuple(row.tags or ()),
            )
            for row in page
        ]
        return items, (page[-1].id if len(rows) > limit else None)

    def events_after(self, after_id: int = 0, limit: int = 100) -> list[Event]:
        """Every event with an id above ``after_id``, oldest first (a cursor over the whole store)."""
        e, r = events.c, recipients.c
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(events, r.address)
                .join(recipients, r.id == e.recipient_id, isouter=True)
                .where(e.id > after_id)
                .order_by(e.id)
                .limit(limit)
            ).all()
        return [to_event(row, {row.recipient_id: row.address or ""}) for row in rows]

    def domain_stats(self, top: int = 20) -> list[dict[str, Any]]:
        """Recipients per fate for the busiest recipient domains."""
        r = recipients.c
        with self.reader.connect() as conn:
            rows = conn.execute(select(r.domain, r.fate, func.count()).group_by(r.domain, r.fate)).all()
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for domain, fate, n in rows:
            per[domain][fate] = int(n)
        ranked = sorted(per.items(), key=lambda kv: -sum(kv[1].values()))[:top]
        return [{"domain": d, "total": sum(c.values()), "fates": c} for d, c in ranked]

    def find_by_remote_id(self, remote_id: str, address: str | None = None) -> tuple[str, int] | None:
        """(message id, recipient id) of the recipient whose accepted attempt got ``remote_id``
        (an SES MessageId); ``address`` picks one when a message went to several."""
        r = recipients.c
        query = select(r.message_id, r.id, r.address).where(r.remote_id == remote_id).order_by(r.id)
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        if address is not None:
            wanted = normalize_address(address).lower()
            rows = [row for row in rows if row.address.lower() == wanted]
        return (rows[0].message_id, int(rows[0].id)) if rows else None

    def activity_since(
        self, since: datetime
    ) -> list[tuple[str, str, str, str, str, bool, datetime, datetime]]:
        """Events since ``since`` that count for reputation and timing, as plain tuples:
        (type, outcome, sending domain, recipient domain, category, hard, event time, submit time)."""
        e, r, m = events.c, recipients.c, messages.c
        query = (
            select(e.type, e.outcome, m.sending_domain, r.domain, m.category, e.data, e.at, m.created_at)
            .join(recipients, r.id == e.recipient_id)
            .join(messages, m.id == e.message_id)
            .where(e.at >= since, e.type.in_(["attempt", "bounced", "complained"]))
        )
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (
                row.type,
                row.outcome or "",
                row.sending_domain,
                row.domain,
                row.category,
                bounce_class(row.type, row.outcome, row.data or {}) is BounceClass.HARD,
                row.at,
                row.created_at,
            )
            for row in rows
        ]

    def recent_events(self, *, after_id: int = 0, limit: int = 100) -> list[Event]:
        """The newest events (newest first); with ``after_id``, only those above it."""
        e, r = events.c, recipients.c
        query = (
            select(events, r.address)
            .join(recipients, r.id == e.recipient_id, isouter=True)
            .order_by(e.id.desc())
            .limit(limit)
        )
        if after_id:
            query = query.where(e.id > after_id)
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        return [to_event(row, {row.recipient_id: row.address or ""}) for row in rows]

    def open_counts(self) -> dict[str, int]:
        """Recipients still in the queue, per fate (queued, sending, deferred: index ranges), and
        ``paused``: the deferred ones a marketing pause holds."""
        r = recipients.c
        open_fates = (Fate.QUEUED.value, Fate.SENDING.value, Fate.DEFERRED.value)
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(r.fate, func.count()).where(r.fate.in_(open_fates)).group_by(r.fate)
            ).all()
        found = {fate: 0 for fate in open_fates} | {fate: int(n) for fate, n in rows}
        with self.reader.connect() as conn:  # held by a marketing pause: the reason index
            found["paused"] = int(
                conn.execute(
                    select(func.count()).where(r.last_reason == "paused", r.fate == Fate.DEFERRED.value)
                ).scalar_one()
            )
        return found

    def bounce_counts(self) -> dict[str, BounceCounts]:
        """Recipients that bounced, per recipient domain, hard or soft as
        :mod:`mailfate.model.bounces` defines them (:func:`~mailfate.model.bounces.fate_class`): a
        recipient whose fate is ``bounced`` is hard when the bounce that ended it was marked hard
        (``recipients.hard_bounce``, written with the fate), an ``expired`` one is soft. Reads the
        bounced and expired recipients only, never their events."""
        r = recipients.c
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(r.domain, r.fate, r.hard_bounce, func.count())
                .where(r.fate.in_([Fate.BOUNCED.value, Fate.EXPIRED.value]))
                .group_by(r.domain, r.fate, r.hard_bounce)
            ).all()
        per: dict[str, dict[str, int]] = defaultdict(lambda: {"hard": 0, "soft": 0, "expired": 0})
        for domain, fate, hard, n in rows:
            found = fate_class(fate, bool(hard))
            if found is not None:
                per[domain][found.value] += int(n)
            if fate == Fate.EXPIRED:
                per[domain]["expired"] += int(n)
        return {domain: BounceCounts(**c) for domain, c in sorted(per.items())}

    def counts(self) -> dict[str, int]:
        with self.reader.connect() as conn:
            rows = conn.execute(select(recipients.c.fate, func.count()).group_by(recipients.c.fate)).all()
        return {fate: int(n) for fate, n in rows}

    def queue_summary(self, now: datetime, top: int = 3) -> list[DestinationSummary]:
        r, m = recipients.c, messages.c
        open_fates = (Fate.QUEUED.value, Fate.SENDING.value, Fate.DEFERRED.value)
        with self.reader.connect() as conn:
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
