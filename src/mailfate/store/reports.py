"""The raw asynchronous reports (``reports``): what a receiver or SES sent, kept as received for
``[inbound] keep_reports_days`` so that a recorded event can be checked against its source.

A report, the events it made and the suppressions they called for are written in one transaction
(:meth:`mailfate.store.repo.Store.record_report`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from mailfate.model import EventType, NewSuppression
from mailfate.store.tables import reports

__all__ = ["NewReport", "ReportEvent", "StoreReports", "StoredReport", "insert_report"]


@dataclass(frozen=True, slots=True)
class NewReport:
    kind: str
    """dsn | arf | autoreply | ses"""
    raw: bytes
    received_at: datetime
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """An event a report made on one recipient, and the suppression it calls for (if any)."""

    message_id: str
    recipient_id: int
    type: EventType
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    suppress: NewSuppression | None = None


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: int
    received_at: datetime
    kind: str
    message_id: str | None
    raw: bytes
    size: int


def insert_report(conn: Connection, report: NewReport) -> int:
    """Keep ``report`` inside the caller's transaction; its id."""
    return int(
        conn.execute(
            reports.insert()
            .values(
                received_at=report.received_at,
                kind=report.kind,
                message_id=report.message_id,
                raw=report.raw,
                size=len(report.raw),
            )
            .returning(reports.c.id)
        ).scalar_one()
    )


class StoreReports:
    engine: Engine
    reader: Engine

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
