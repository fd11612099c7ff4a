"""What the store hands out: plain frozen values, never ORM rows.

They are the project's vocabulary and live in :mod:`mailfate.model` (the worker and the doors use
them without importing the store); they are named here too, as before.
"""

from __future__ import annotations

from mailfate.model.messages import (
    DestinationSummary,
    MessageSummary,
    MessageView,
    NewMessage,
    RecipientView,
    SubmitResult,
)
from mailfate.model.queue import AttemptRecord, Claimed
from mailfate.model.suppressions import NewSuppression, Suppression

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
