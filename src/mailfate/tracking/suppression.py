"""The one suppression policy: which outcomes put an address on the suppression list.

- a hard bounce whose evidence is stronger than the reply's code class
  (:func:`mailfate.model.causes.strong_enough`): a 5xx alone is too weak — a policy block or a
  full mailbox also answers 5xx;
- a complaint (ARF, SES);
- ``soft_streak`` messages in a row to the address all expired on soft failures.

The scope is the sending domain of the message: a bounce on one brand's mail does not stop another
brand's. The worker asks it after each attempt, :func:`mailfate.tracking.reports.record_reports`
after each asynchronous report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailfate.model import EventType, NewSuppression
from mailfate.model.causes import strong_enough
from mailfate.tracking.ports import FateHistory, NotedSuppressions

__all__ = ["SuppressionPolicy", "sending_domain", "suppress"]


@dataclass(frozen=True, slots=True)
class SuppressionPolicy:
    hard: bool = True
    """Suppress on a hard bounce with strong evidence."""
    complaints: bool = True
    """Suppress on a complaint."""
    soft_streak: int = 0
    """Suppress an address whose last N messages all expired on soft failures (0: never)."""

    def reason_for(self, kind: str, *, hardbounce: bool, evidence: str, reason: str) -> str | None:
        """The suppression reason an outcome (``bounced`` / ``complained`` / anything else)
        calls for, or None when it calls for none."""
        if kind == EventType.BOUNCED and hardbounce and self.hard and strong_enough(evidence):
            return reason or "bounced"
        if kind == EventType.COMPLAINED and self.complaints:
            return "complaint"
        return None

    def streak_reason(self, store: FateHistory, address: str, last_reason: str) -> str | None:
        """After an expiry: the suppression reason if the address's last ``soft_streak`` messages
        all expired, else None."""
        n = self.soft_streak
        if n <= 0:
            return None
        fates = store.recent_fates(address, n)
        if len(fates) == n and all(f == "expired" for f in fates):
            return f"{n} soft bounces in a row ({last_reason})"
        return None


def sending_domain(from_addr: str) -> str:
    """The suppression scope of a message sent from ``from_addr``."""
    return from_addr.rpartition("@")[2].lower()


def suppress(
    store: NotedSuppressions,
    *,
    message_id: str,
    recipient_id: int,
    address: str,
    scope: str,
    reason: str,
    detail: str,
    at: datetime,
) -> bool:
    """Suppress ``address`` for ``scope`` and note it on the recipient's timeline (once: an address
    already suppressed adds no event), in one transaction. True if it was added."""
    return store.suppress_noted(
        message_id, recipient_id, NewSuppression(scope, address, reason, detail), at=at
    )
