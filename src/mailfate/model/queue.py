"""The queue as the worker sees it: a recipient claimed for one attempt, and the attempt's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailfate.model.records import AttemptResult
from mailfate.model.suppressions import Suppression

__all__ = ["AttemptRecord", "Claimed"]


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
