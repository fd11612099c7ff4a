"""Amazon SES events (SNS notifications or event publishing) → events on the matching messages.

A message sent through the SES transport keeps the SES MessageId of its accepted attempt
(``recipients.remote_id``); each SES record is matched by that id and the recipient's address.
Bounce → ``bounced`` (a hard one suppresses the address), Complaint → ``complained`` (suppresses),
DeliveryDelay → ``delayed``; Delivery confirms what the 250 from SES already said and is counted,
not stored. ``mailfate ses import FILE`` reads exported events in bulk: one JSON document, a JSON
array, or JSON lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from mailfate.bounce.parsers.ses import parse_ses_json
from mailfate.delivery.engine import apply_reports
from mailfate.errors import ParseError
from mailfate.intake.smtp_inbound import InboundReport
from mailfate.store import Store

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


def import_ses(store: Store, data: bytes, *, now: datetime | None = None) -> SesImport:
    result = SesImport()
    at = now or datetime.now(UTC)
    reports: list[InboundReport] = []
    for document in split_documents(data):
        try:
            records = parse_ses_json(document)
        except (ParseError, ValueError):
            result.errors += 1
            continue
        for rec in records:
            kind = str(rec.kind)
            if kind == "delivered":
                result.delivered += 1
                continue
            if kind == "complaint":
                event = "complained"
            elif kind in ("hard", "soft", "undetermined"):
                event = "delayed" if str(rec.action).lower() == "delayed" else "bounced"
            else:
                result.ignored += 1
                continue
            found = store.find_by_remote_id(rec.original_message_id, rec.recipient or None)
            if found is None:
                result.unmatched += 1
                continue
            reports.append(
                InboundReport(
                    found[0],
                    found[1],
                    event,
                    str(rec.reason),
                    bool(rec.hardbounce),
                    rec.status,
                    rec.diagnostic[:2000],
                    rec.remote_mta,
                    rec.feedback_type,
                    rec.timestamp or at,
                    len(document),
                )
            )
    result.applied = apply_reports(store, reports)
    return result
