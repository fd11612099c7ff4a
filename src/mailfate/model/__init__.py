"""The vocabulary: fates, event types, attempt results, derived fates, and the values the store
hands out and takes in (messages, the queue's claims and records, suppressions, keys, webhooks)."""

from __future__ import annotations

from mailfate.model.fate import (
    FINAL_FATES,
    OPEN_FATES,
    EventType,
    Fate,
    advance,
    fate_of,
    fold_step,
    message_fate,
)
from mailfate.model.keys import SCOPES, ApiKey, hash_key
from mailfate.model.messages import (
    DestinationSummary,
    MessageSummary,
    MessageView,
    NewMessage,
    RecipientView,
    SubmitResult,
)
from mailfate.model.queue import AttemptRecord, Claimed
from mailfate.model.records import AttemptResult, Envelope, Event, Outcome
from mailfate.model.suppressions import NewSuppression, Suppression
from mailfate.model.webhooks import DeliveryOutcome, WebhookLogEntry, WebhookState

__all__ = [
    "FINAL_FATES",
    "OPEN_FATES",
    "SCOPES",
    "ApiKey",
    "AttemptRecord",
    "AttemptResult",
    "Claimed",
    "DeliveryOutcome",
    "DestinationSummary",
    "Envelope",
    "Event",
    "EventType",
    "Fate",
    "MessageSummary",
    "MessageView",
    "NewMessage",
    "NewSuppression",
    "Outcome",
    "RecipientView",
    "SubmitResult",
    "Suppression",
    "WebhookLogEntry",
    "WebhookState",
    "advance",
    "fate_of",
    "fold_step",
    "hash_key",
    "message_fate",
]
