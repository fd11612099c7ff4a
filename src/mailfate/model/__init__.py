"""The delivery engine's vocabulary: fates, event types, attempt results, derived fates."""

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
from mailfate.model.records import AttemptResult, Envelope, Event, Outcome

__all__ = [
    "FINAL_FATES",
    "OPEN_FATES",
    "AttemptResult",
    "Envelope",
    "Event",
    "EventType",
    "Fate",
    "Outcome",
    "advance",
    "fate_of",
    "fold_step",
    "message_fate",
]
