"""What the store hands out: plain frozen values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailfate.model import AttemptResult, Event

__all__ = [
    "AttemptRecord",
    "Claimed",
    "DestinationSummary",
    "MessageSummary",
    "MessageView",
    "NewMessage",
    "NewSuppression",
    "RecipientView",
    "SubmitResult",
    "Suppression",
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
class Claimed:
    """One recipient leased to a worker for one attempt."""

    recipient_id: int
    message_id: str
    address: str
    domain: str
    from_addr: str
    sending_domain: str
    attempts: int
    """Including this one."""
    created_at: datetime
    deadline: datetime | None
    expires_at: datetime
    category: str
    raw: bytes = b""
    """The message (fetched with the claim: one round trip for the batch)."""
    suppressed: Suppression | None = None
    """Set when the address was suppressed after the message was queued."""


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    recipient_id: int
    result: AttemptResult
    at: datetime
    next_attempt_at: datetime | None = None
    expire: bool = False
    """Deferred, but past the deadline or maximum age: an ``expired`` event follows the attempt."""
    expire_why: str = "deadline"


@dataclass(frozen=True, slots=True)
class Suppression:
    scope: str
    address: str
    reason: str
    detail: str
    source_message_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewSuppression:
    """An address to suppress for a sending domain (``scope``; "*": all), and why."""

    scope: str
    address: str
    reason: str
    detail: str = ""


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
