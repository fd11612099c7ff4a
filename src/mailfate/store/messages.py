"""Messages and their events as read back (a timeline, a recipient, a page of messages, the
events after a cursor), events appended, and the raw asynchronous reports kept with the events
they made."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, cast, delete, select

from mailfate.model import Event, MessageQuery, MessageSummary, MessageView, NewEvent, RecipientView
from mailfate.store.database import Repository
from mailfate.store.reports import NewReport, ReportEvent, StoredReport, insert_report
from mailfate.store.rows import normalize_address, to_event, to_recipient
from mailfate.store.suppressions import suppress_noted_in
from mailfate.store.tables import events, messages, recipients, reports
from mailfate.store.timeline import append_in

__all__ = ["Messages"]


class Messages(Repository):
    """Messages, recipients and events; the raw reports."""

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

    def search_messages(self, q: MessageQuery) -> tuple[list[MessageSummary], str | None]:
        """Messages newest first, filtered as :class:`~mailfate.model.MessageQuery` says; the cursor
        for the next page (None: no more). Every value is a bound parameter: nothing a caller
        passes becomes SQL."""
        m, r = messages.c, recipients.c
        query = select(m.id, m.created_at, m.from_addr, m.subject, m.fate, m.tags).order_by(m.id.desc())
        conditions = []
        if q.recipient:
            conditions.append(r.address == normalize_address(q.recipient))
        if q.domain:
            conditions.append(r.domain == q.domain.lower())
        if q.reason:
            conditions.append(r.last_reason == q.reason)
        if conditions and q.fate:  # the matched recipient's fate: through the (domain, fate) index
            conditions.append(r.fate == q.fate)
        if conditions:  # through the recipients' indexes (address; domain and fate), not a scan
            query = query.where(m.id.in_(select(r.message_id).where(*conditions)))
        elif q.fate:
            query = query.where(m.fate == q.fate)
        if q.since:
            query = query.where(m.created_at >= q.since)
        if q.until:
            query = query.where(m.created_at < q.until)
        if q.tag:
            query = query.where(cast(m.tags, String).like(f'%"{q.tag}"%'))
        if q.cursor:
            query = query.where(m.id < q.cursor)
        with self.reader.connect() as conn:
            rows = conn.execute(query.limit(q.limit + 1)).all()
            page = rows[: q.limit]
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
        return items, (page[-1].id if len(rows) > q.limit else None)

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

    # -- writing the timeline -------------------------------------------------------------------
    def append_event(self, event: NewEvent, *, owner: str | None = None) -> int:
        """Append one event (an asynchronous report, an expiry, a refusal) and move the fate.

        ``owner``: a worker settling a recipient it claimed (an expiry, a suppression). If its lease
        was lost meanwhile, the event is kept, marked ``lease_lost``, and the fate is left to the
        worker that holds the recipient now. A report that arrives while the recipient is leased
        (its attempt not yet written) decides the fate but leaves the lease to its holder, whose
        result is then recorded as an attempt, not as a lost lease."""
        with self.db.writing() as conn:
            return append_in(conn, event, owner=owner)

    def record_report(self, raw: NewReport | None, made: Sequence[ReportEvent]) -> int | None:
        """One transaction: keep the raw report (when given), append the events it made — each
        naming it (``report_id`` in its data) — and add the suppressions they call for. The id of
        the kept report."""
        with self.db.writing() as conn:
            report_id = insert_report(conn, raw) if raw is not None else None
            named = {"report_id": report_id} if report_id is not None else {}
            for e in made:
                append_in(
                    conn, NewEvent(e.message_id, e.recipient_id, e.type, e.at, e.data | named, e.reason)
                )
                if e.suppress is not None:
                    suppress_noted_in(conn, e.message_id, e.recipient_id, e.suppress, at=e.at)
        return report_id

    # -- the raw reports ------------------------------------------------------------------------
    def report(self, report_id: int) -> StoredReport | None:
        with self.reader.connect() as conn:
            row = conn.execute(select(reports).where(reports.c.id == report_id)).one_or_none()
        if row is None:
            return None
        return StoredReport(row.id, row.received_at, row.kind, row.message_id, bytes(row.raw), row.size)

    def prune_reports(self, before: datetime) -> int:
        """Drop the reports received before ``before``; how many went (their events stay)."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(reports).where(reports.c.received_at < before)).rowcount or 0)
