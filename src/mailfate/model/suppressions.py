"""Suppressions: addresses refused for a sending domain (its scope; "*": all), and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["NewSuppression", "Suppression"]


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
