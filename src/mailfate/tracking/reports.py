"""Asynchronous reports → events: the one path for DSNs, ARF complaints, auto-replies and SES events.

A door (the inbound SMTP server, the SES import, the SNS endpoint) turns what it received into
:class:`InboundReport` values — one per recipient it concerns, built by :func:`report_of` from a
classified record — and calls :func:`record_reports`, which:

1. keeps the raw report in the store (``reports``; pruned after ``[inbound] keep_reports_days``);
2. appends one event per report to the recipient's timeline, its data naming the raw report
   (``report_id``);
3. asks the :class:`~mailfate.tracking.suppression.SuppressionPolicy` whether the address is to be
   suppressed for the message's sending domain.

All of it is one transaction (:meth:`mailfate.store.messages.Messages.record_report`), committed before
the call returns, so a door answers "accepted" only for what is on disk. The worker, whose
attempts must precede the reports about them, writes its pending attempts first
(:meth:`mailfate.delivery.engine.Engine.on_inbound`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailfate.model import EventType, NewSuppression
from mailfate.store import NewReport, ReportEvent
from mailfate.tracking.ports import ReportRepository
from mailfate.tracking.suppression import SuppressionPolicy, sending_domain

__all__ = ["EVENT_TYPES", "InboundReport", "event_kind", "record_reports", "report_of"]

log = logging.getLogger(__name__)

EVENT_TYPES = {
    "bounced": EventType.BOUNCED,
    "delayed": EventType.DELAYED,
    "complained": EventType.COMPLAINED,
    "autoreplied": EventType.AUTOREPLIED,
}
"""The report kinds that become events (a ``delivered`` DSN adds nothing the attempt did not)."""
_SOURCE = {"complained": "arf", "autoreplied": "autoreply"}
"""What a raw report is, by the kind of its first report (anything else: a DSN)."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundReport:
    """One asynchronous report on one recipient. Build it with keywords (or :func:`report_of`)."""

    message_id: str
    recipient_id: int
    kind: str
    """bounced | delayed | complained | autoreplied | delivered"""
    reason: str = ""
    hardbounce: bool = False
    status: str = ""
    diagnostic: str = ""
    remote_mta: str = ""
    feedback_type: str = ""
    at: datetime = field(default_factory=_now)
    raw_size: int = 0
    cause: str = ""
    cause_detail: str = ""
    evidence: str = ""
    """What decided the reason; a hard bounce suppresses only on strong evidence."""


def event_kind(record: Any) -> str:
    """The report kind of a classified record (:class:`~mailfate.bounce.record.BounceRecord`):
    complained, autoreplied, delivered, else delayed (a delay notice) or bounced."""
    kind = str(record.kind)
    if kind == "complaint":
        return "complained"
    if kind == "autoreply":
        return "autoreplied"
    if kind == "delivered":
        return "delivered"
    return "delayed" if str(record.action).lower() == "delayed" else "bounced"


def report_of(record: Any, *, message_id: str, recipient_id: int, at: datetime, size: int) -> InboundReport:
    """The report a classified record makes on the recipient it was matched to."""
    return InboundReport(
        message_id=message_id,
        recipient_id=recipient_id,
        kind=event_kind(record),
        reason=str(record.reason),
        hardbounce=bool(record.hardbounce),
        status=record.status,
        diagnostic=record.diagnostic[:2000],
        remote_mta=record.remote_mta,
        feedback_type=record.feedback_type,
        at=at,
        raw_size=size,
        cause=str(record.cause),
        cause_detail=record.cause_detail,
        evidence=str(record.evidence),
    )


def record_reports(
    store: ReportRepository,
    reports: list[InboundReport],
    *,
    raw: bytes | None = None,
    source: str | None = None,
    policy: SuppressionPolicy | None = None,
    at: datetime | None = None,
) -> int:
    """Keep ``raw`` (when given and there is a report), append each report to its recipient's
    timeline and apply the suppression policy — all in one transaction, on disk when this returns.
    ``source``: what ``raw`` is (dsn | arf | autoreply | ses; by default from the first report's
    kind). The number of reports applied (a report naming no known recipient is skipped)."""
    policy = policy or SuppressionPolicy()
    made = [e for e in (_event_of(store, report, policy) for report in reports) if e is not None]
    kept: NewReport | None = None
    if raw is not None and reports:
        first = reports[0]
        kind = source or _SOURCE.get(first.kind, "dsn")
        kept = NewReport(kind, raw, at or _now(), first.message_id)
    if kept is not None or made:
        store.record_report(kept, made)
    return len(made)


def _event_of(
    store: ReportRepository, report: InboundReport, policy: SuppressionPolicy
) -> ReportEvent | None:
    """The event ``report`` makes on its recipient and the suppression it calls for; None if it
    names no recipient of ours (or is of a kind that makes no event)."""
    kind = EVENT_TYPES.get(report.kind)
    view = store.recipient(report.recipient_id)
    if kind is None or view is None or view.message_id != report.message_id:
        log.info("%s report for %s/%s ignored", report.kind, report.message_id, report.recipient_id)
        return None
    data: dict[str, Any] = {
        "status": report.status,
        "diagnostic": report.diagnostic,
        "remote_mta": report.remote_mta,
        "feedback_type": report.feedback_type,
        "cause": report.cause,
        "cause_detail": report.cause_detail,
        "evidence": report.evidence,
    }
    data = {k: v for k, v in data.items() if v}
    if kind == EventType.BOUNCED:
        data["hardbounce"] = report.hardbounce
    why = policy.reason_for(
        kind, hardbounce=report.hardbounce, evidence=report.evidence, reason=report.reason
    )
    suppression: NewSuppression | None = None
    if why is not None:
        message = store.message(report.message_id)
        scope = sending_domain(message.from_addr) if message else "*"
        suppression = NewSuppression(scope, view.address, why, report.diagnostic or report.feedback_type)
    return ReportEvent(
        report.message_id,
        report.recipient_id,
        kind,
        report.at,
        data,
        reason=report.reason or None,
        suppress=suppression,
    )
