"""Amazon SES events (SNS notifications or event publishing) → events on the matching messages.

A message sent through the SES transport keeps the SES MessageId of its accepted attempt
(``recipients.remote_id``); each SES record is matched by that id and the recipient's address.
Bounce → ``bounced`` (a hard one suppresses the address), Complaint → ``complained`` (suppresses),
DeliveryDelay → ``delayed`` — recorded by :func:`mailfate.tracking.reports.record_reports`, the
same path as the DSNs, with the SES document kept as the raw report (kind ``ses``); Reject (SES
found a virus) and Rendering Failure (a template failed) → ``rejected``; Delivery →
``delivery_report`` (the receiving server's reply, remote MTA and processing time), Send →
``sent``, Open → ``opened``, Click → ``clicked``, Subscription → ``unsubscribed``: information on
the timeline, the fate does not change. Types SES adds later are counted as ignored.
``mailfate ses import FILE`` reads exported events in bulk: one JSON document, a JSON array, or
JSON lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailfate.bounce.parsers.ses import parse_ses_json, ses_events
from mailfate.bounce.record import BounceRecord
from mailfate.errors import ParseError
from mailfate.intake.ports import SesRepository
from mailfate.model import EventType, NewEvent
from mailfate.tracking.reports import EVENT_TYPES, InboundReport, event_kind, record_reports, report_of

__all__ = ["SesImport", "import_ses", "split_documents"]


@dataclass(slots=True)
class SesImport:
    applied: int = 0
    delivered: int = 0
    unmatched: int = 0
    ignored: int = 0
    errors: int = 0


def split_documents(data: bytes) -> list[bytes]:
    """One JSON document, a JSON array of them, or JSON lines → the documents as bytes."""
    text = data.strip()
    if not text:
        return []
    if text.startswith(b"["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not JSON: {exc}", parser="ses") from exc
        return [json.dumps(item).encode() for item in items]
    try:
        json.loads(text)
        return [text]
    except json.JSONDecodeError:
        return [line for line in text.splitlines() if line.strip()]


_INFO = {
    "send": EventType.SENT,
    "delivery": EventType.DELIVERY_REPORT,
    "open": EventType.OPENED,
    "click": EventType.CLICKED,
    "subscription": EventType.UNSUBSCRIBED,
    "reject": EventType.REJECTED,
    "rendering failure": EventType.REJECTED,
    "renderingfailure": EventType.REJECTED,
}
_REPORTED = frozenset({"bounce", "complaint", "deliverydelay", "delivery delay"})


def import_ses(store: SesRepository, data: bytes, *, now: datetime | None = None) -> SesImport:
    result = SesImport()
    at = now or datetime.now(UTC)
    for document in split_documents(data):
        try:
            found = ses_events(document)
        except (ParseError, ValueError):
            result.errors += 1
            continue
        reports: list[InboundReport] = []
        for event in found:
            kind = str(event.get("eventType", event.get("notificationType", ""))).strip().lower()
            if kind in _INFO:
                if kind == "delivery":
                    result.delivered += 1
                if _apply_info(store, event, _INFO[kind], at):
                    result.applied += 1
                else:
                    result.unmatched += 1
                continue
            if kind not in _REPORTED:
                result.ignored += 1
                continue
            try:
                records = parse_ses_json(event)
            except (ParseError, ValueError):
                result.errors += 1
                continue
            reports.extend(_reports(store, records, result, at, len(document)))
        if reports:
            result.applied += record_reports(store, reports, raw=document, source="ses", at=at)
    return result


def _reports(
    store: SesRepository, records: list[BounceRecord], result: SesImport, at: datetime, size: int
) -> list[InboundReport]:
    out: list[InboundReport] = []
    for rec in records:
        if event_kind(rec) not in EVENT_TYPES:
            result.ignored += 1
            continue
        found = store.find_by_remote_id(rec.original_message_id, rec.recipient or None)
        if found is None:
            result.unmatched += 1
            continue
        out.append(
            report_of(rec, message_id=found[0], recipient_id=found[1], at=rec.timestamp or at, size=size)
        )
    return out


def _apply_info(store: SesRepository, event: dict[str, Any], kind: EventType, now: datetime) -> bool:
    """One event on each recipient of the SES message it names (a delivery or a subscription
    change names its recipients; an open, a click or a send names the message's destinations)."""
    found_mail = event.get("mail")
    mail: dict[str, Any] = found_mail if isinstance(found_mail, dict) else {}
    ses_id = str(mail.get("messageId") or "")
    key = next((k for k in event if k not in ("eventType", "notificationType", "mail")), "")
    found_detail = event.get(key)
    detail: dict[str, Any] = found_detail if isinstance(found_detail, dict) else {}
    listed = detail.get("recipients") or mail.get("destination") or []
    addresses: list[str | None] = []
    if isinstance(listed, list):
        addresses.extend(str(a) for a in listed[:100] if a)
    matched = set()
    for address in addresses or [None]:
        found = store.find_by_remote_id(ses_id, address) if ses_id else None
        if found is None or found in matched:
            continue
        matched.add(found)
        when = _timestamp(detail.get("timestamp")) or _timestamp(mail.get("timestamp")) or now
        data = {k: v for k, v in _info_data(key, detail).items() if v not in (None, "", [], {})}
        reason = (
            "virusdetected" if key == "reject" else "contenterror" if kind == EventType.REJECTED else None
        )
        store.append_event(NewEvent(found[0], found[1], kind, when, data | {"source": "ses"}, reason=reason))
    return bool(matched)


def _info_data(key: str, detail: dict[str, Any]) -> dict[str, Any]:
    wanted = {
        "delivery": ("smtpResponse", "remoteMtaIp", "reportingMTA", "processingTimeMillis"),
        "open": ("ipAddress", "userAgent"),
        "click": ("ipAddress", "userAgent", "link", "linkTags"),
        "reject": ("reason",),
        "failure": ("errorMessage", "templateName"),
        "subscription": ("contactList", "source", "newTopicPreferences"),
    }.get(key, ())
    out = {name: detail.get(name) for name in wanted}
    if "reason" in out:  # SES's words ("Bad content"); the event's reason is the taxonomy's
        out["detail"] = out.pop("reason")
    return out


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
