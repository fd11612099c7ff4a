"""The raw asynchronous reports (``reports``): what a receiver or SES sent, kept as received for
``[inbound] keep_reports_days`` so that a recorded event can be checked against its source.

A report, the events it made and the suppressions they called for are written in one transaction
(:meth:`mailfate.store.messages.Messages.record_report`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from mailfate.model import EventType, NewSuppression
from mailfate.store.tables import reports

__all__ = ["NewReport", "ReportEvent", "StoredReport", "insert_report"]


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
