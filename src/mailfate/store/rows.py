"""Rows → the store's frozen views, and the datetime fix-up aggregates need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailfate.model import Event, RecipientView, Suppression

__all__ = [
    "aware",
    "normalize_address",
    "refusal_text",
    "suppressed_event_data",
    "to_event",
    "to_recipient",
    "to_suppression",
]


def normalize_address(address: str) -> str:
    """The address with its domain in lower case (the local part is case-sensitive, RFC 5321)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def to_event(row: Any, names: dict[int, str]) -> Event:
    data = dict(row.data or {})
    if row.reason and "reason" not in data:
        data["reason"] = row.reason
    if row.outcome and "outcome" not in data:
        data["outcome"] = row.outcome
    return Event(
        row.id, row.message_id, row.recipient_id, names.get(row.recipient_id, ""), row.at, row.type, data
    )


def to_recipient(row: Any) -> RecipientView:
    return RecipientView(
        row.id,
        row.message_id,
        row.address,
        row.domain,
        row.fate,
        row.attempts,
        row.next_attempt_at,
        row.last_reason,
        row.last_code,
        row.last_status,
        row.last_text,
    )


def to_suppression(row: Any) -> Suppression:
    return Suppression(row.scope, row.address, row.reason, row.detail, row.source_message_id, row.created_at)


def aware(value: datetime | None) -> datetime | None:
    """Aggregates (min, max) bypass the column type: SQLite hands back naive datetimes or text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def refusal_text(s: Suppression) -> str:
    """A suppressed recipient's last text: since when and why."""
    return f"suppressed since {s.created_at:%Y-%m-%d %H:%M} UTC ({s.reason})"


def suppressed_event_data(s: Suppression) -> dict[str, Any]:
    """The data of a ``suppressed`` event: the suppression's facts."""
    return {"reason": s.reason, "since": s.created_at.isoformat(), "detail": s.detail, "scope": s.scope}
