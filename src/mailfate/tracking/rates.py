"""Bounce and complaint rates from the rollups' counts, the way SES and the mailbox providers count
them: hard bounces / sent (delivered plus refused), complaints / delivered. One definition for the
alerts, ``/metrics`` and the dashboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mailfate.tracking.ports import RollupSums

__all__ = ["Rates", "per_sending_domain"]


@dataclass(frozen=True, slots=True)
class Rates:
    sent: int
    """Handed to receivers and answered: delivered plus refused (hard and soft)."""
    delivered: int
    hard: int
    complained: int

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> Rates:
        """From counts per rollup kind (``delivered``, ``bounced_hard``, ``bounced_soft``, ``complained``)."""
        delivered = counts.get("delivered", 0)
        hard = counts.get("bounced_hard", 0)
        return cls(
            delivered + hard + counts.get("bounced_soft", 0), delivered, hard, counts.get("complained", 0)
        )

    @property
    def bounce_rate(self) -> float:
        return self.hard / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.delivered if self.delivered else 0.0


def per_sending_domain(store: RollupSums, since: datetime, until: datetime | None = None) -> dict[str, Rates]:
    """The rates of each sending domain over the rollup hours from ``since`` to ``until``."""
    per: dict[str, Counter[str]] = {}
    for sending, kind, n in store.rollup_sums(since, until, by=("sending_domain", "kind")):
        per.setdefault(sending, Counter())[kind] += n
    return {domain: Rates.of(counts) for domain, counts in sorted(per.items())}
