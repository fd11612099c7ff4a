"""Outgoing webhooks as values: a subscriber's position in the events, and one POST of the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["DeliveryOutcome", "WebhookLogEntry", "WebhookState"]

DeliveryOutcome = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class WebhookState:
    subscriber: str
    position: int
    """The last event id done with (delivered, failed for good, or not wanted)."""
    attempts: int
    """Attempts so far at the event after ``position`` (0: none yet)."""
    next_at: datetime | None
    """When the next attempt at that event is due (None: now)."""
    last_error: str
    updated_at: datetime
    lease_owner: str | None
    lease_until: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookLogEntry:
    id: int
    subscriber: str
    event_id: int
    at: datetime
    attempt: int
    status_code: int | None
    error: str
    duration_ms: int
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscriber": self.subscriber,
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "attempt": self.attempt,
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "outcome": self.outcome,
        }
