"""What a writer hands the store besides messages and attempt results: an event on a timeline, a
claimed recipient given back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailfate.model.fate import EventType

__all__ = ["Hold", "NewEvent"]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event for a message (and one of its recipients): an asynchronous report, an expiry, a
    refusal. Appending it moves the recipient's fate."""

    message_id: str
    recipient_id: int | None
    type: EventType | str
    at: datetime
    data: dict[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A claimed recipient given back without an attempt, ``deferred`` (reason ``paused``) until
    ``until``; ``data`` is the ``held`` event's."""

    message_id: str
    recipient_id: int
    at: datetime
    until: datetime
    data: dict[str, Any] = field(default_factory=dict)
