"""The store: messages, recipients (the queue), events and suppressions — SQLite or PostgreSQL."""

from __future__ import annotations

from mailfate.store.errors import StoreError
from mailfate.store.ids import new_message_id
from mailfate.store.keys import SCOPES, ApiKey
from mailfate.store.repo import Store
from mailfate.store.reports import NewReport, ReportEvent, StoredReport
from mailfate.store.views import (
    AttemptRecord,
    Claimed,
    DestinationSummary,
    MessageSummary,
    MessageView,
    NewMessage,
    NewSuppression,
    RecipientView,
    SubmitResult,
    Suppression,
)

__all__ = [
    "SCOPES",
    "ApiKey",
    "AttemptRecord",
    "Claimed",
    "DestinationSummary",
    "MessageSummary",
    "MessageView",
    "NewMessage",
    "NewReport",
    "NewSuppression",
    "RecipientView",
    "ReportEvent",
    "Store",
    "StoreError",
    "StoredReport",
    "SubmitResult",
    "Suppression",
    "new_message_id",
]
