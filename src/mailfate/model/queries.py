"""What a reader asks the store for: a page of messages, sums of the rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["MessageQuery", "RollupQuery"]


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Messages newest first, filtered. ``fate`` is the message's, or with a recipient, domain or
    reason filter the matched recipient's (``domain=naver.com, fate=bounced``: messages whose
    Naver recipient bounced). ``cursor``: the page after the one that returned it."""

    recipient: str | None = None
    domain: str | None = None
    fate: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tag: str | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class RollupQuery:
    """Sums of the rollups from ``since``'s hour to ``until``, grouped by the columns ``by`` (hour,
    sending_domain, rcpt_domain, category, kind, reason, bucket). ``daily``: from the daily table,
    ``since`` rounded down to its day (``hour`` is then the day)."""

    since: datetime
    until: datetime | None = None
    by: tuple[str, ...] = ("kind",)
    daily: bool = False
