"""Counts over the live tables (recipients per fate, the busiest domains, bounces, the queue by
destination) and what a postmaster inquiry reads (the receiving domains with trouble, one
domain's attempts). The rollups (:mod:`mailfate.store.rollups`) are the folded counts the pages
and alerts read over time; these are now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from mailfate.model import DestinationSummary, Event, Fate
from mailfate.model.bounces import BounceClass, BounceCounts, bounce_class, fate_class
from mailfate.store.database import Repository
from mailfate.store.rows import aware, to_event
from mailfate.store.tables import events, messages, recipients

__all__ = ["TROUBLE_FATES", "DomainTrouble", "Stats"]

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


class Stats(Repository):
    """Counts and inquiries over the live tables."""

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

    # -- inquiries ------------------------------------------------------------------------------
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
