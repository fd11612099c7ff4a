"""What every jurisdiction module is given besides the message: kind, advertising found, time, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Kind", "LintContext"]


class Kind(StrEnum):
    """What the sender declares the message to be."""

    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


@dataclass(frozen=True, slots=True)
class LintContext:
    """``advertising`` lists the promotional phrases found in the message; ``send_at`` is aware UTC."""

    kind: Kind
    lang: str
    advertising: tuple[str, ...] = ()
    send_at: datetime | None = None

    @property
    def is_marketing(self) -> bool:
        return self.kind is Kind.MARKETING

    @property
    def carries_advertising(self) -> bool:
        """Marketing, or transactional mail with advertising in it (which the law then treats as an ad)."""
        return self.is_marketing or bool(self.advertising)
