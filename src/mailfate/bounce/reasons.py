"""The reason vocabulary, re-exported: it lives in :mod:`mailfate.model.reasons`."""

from __future__ import annotations

from mailfate.model.reasons import (
    ALWAYS_HARD,
    BOUNCE_REASONS,
    NOT_BOUNCES,
    RETRYABLE_REASONS,
    Kind,
    Reason,
    is_hard,
    kind_of,
)

__all__ = [
    "ALWAYS_HARD",
    "BOUNCE_REASONS",
    "NOT_BOUNCES",
    "RETRYABLE_REASONS",
    "Kind",
    "Reason",
    "is_hard",
    "kind_of",
]
