"""The vocabulary: bounce reasons and causes, the SMTP reply, fates, event types, attempt results,
derived fates, and the values the store hands out and takes in (messages, the queue's claims and
records, suppressions, keys, webhooks).

``model`` imports nothing of the project but ``errors``: every other package may import it."""

from __future__ import annotations

from mailfate.model.causes import Cause, Evidence
from mailfate.model.changes import Hold, NewEvent
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
from mailfate.model.queries import MessageQuery, RollupQuery
from mailfate.model.queue import AttemptRecord, Claimed
from mailfate.model.reasons import Kind, Reason
from mailfate.model.records import AttemptResult, Envelope, Event, Outcome
from mailfate.model.reply import SmtpReply, parse_reply
from mailfate.model.suppressions import NewSuppression, Suppression
from mailfate.model.webhooks import DeliveryOutcome, WebhookLogEntry, WebhookState

__all__ = [
    "FINAL_FATES",
    "OPEN_FATES",
    "SCOPES",
    "ApiKey",
    "AttemptRecord",
    "AttemptResult",
    "Cause",
    "Claimed",
    "DeliveryOutcome",
    "DestinationSummary",
    "Envelope",
    "Event",
    "EventType",
    "Evidence",
    "Fate",
    "Hold",
    "Kind",
    "MessageQuery",
    "MessageSummary",
    "MessageView",
    "NewEvent",
    "NewMessage",
    "NewSuppression",
    "Outcome",
    "Reason",
    "RecipientView",
    "RollupQuery",
    "SmtpReply",
    "SubmitResult",
    "Suppression",
    "WebhookLogEntry",
    "WebhookState",
    "advance",
    "fate_of",
    "fold_step",
    "hash_key",
    "message_fate",
    "parse_reply",
]
