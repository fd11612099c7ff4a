"""Messages as submitted and as read back: what goes into the queue and what a caller sees of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailfate.model.records import Event

__all__ = [
    "DestinationSummary",
    "MessageSummary",
    "MessageView",
    "NewMessage",
    "RecipientView",
    "SubmitResult",
]


@dataclass(frozen=True, slots=True)
class NewMessage:
    from_addr: str
    recipients: tuple[str, ...]
    raw: bytes
    subject: str = ""
    category: str = "transactional"
    tags: tuple[str, ...] = ()
    idempotency_key: str | None = None
    deadline: datetime | None = None
    header_message_id: str = ""
    max_age: float = 5 * 86400.0


@dataclass(frozen=True, slots=True)
class SubmitResult:
    message_id: str
    created: bool
    """False: the idempotency key named an existing message; nothing was written."""
    suppressed: tuple[tuple[str, str, datetime], ...] = ()
    """(address, reason, since) of the recipients refused at submit."""


@dataclass(frozen=True, slots=True)
class RecipientView:
    id: int
    message_id: str
    address: str
    domain: str
    fate: str
    attempts: int
    next_attempt_at: datetime | None
    last_reason: str | None
    last_code: int | None
    last_status: str | None
    last_text: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: str
    created_at: datetime
    from_addr: str
    subject: str
    category: str
    tags: tuple[str, ...]
    deadline: datetime | None
    expires_at: datetime
    header_message_id: str
    size: int
    fate: str
    recipients: tuple[RecipientView, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class DestinationSummary:
    domain: str
    queued: int
    sending: int
    deferred: int
    oldest: datetime | None
    next_attempt_at: datetime | None
    top_reasons: tuple[tuple[str, int, str], ...] = field(default=())
    """(reason, recipients, a sample reply text), most frequent first."""

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "queued": self.queued,
            "sending": self.sending,
            "deferred": self.deferred,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "top_reasons": [{"reason": r, "count": n, "sample": s} for r, n, s in self.top_reasons],
        }


@dataclass(frozen=True, slots=True)
class MessageSummary:
    id: str
    created_at: datetime
    from_addr: str
    subject: str
    fate: str
    recipients: tuple[str, ...]
    tags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.id,
            "created_at": self.created_at.isoformat(),
            "from": self.from_addr,
            "subject": self.subject,
            "fate": self.fate,
            "to": list(self.recipients),
            "tags": list(self.tags),
        }
