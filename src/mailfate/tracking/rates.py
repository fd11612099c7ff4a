"""Bounce and complaint rates from the rollups' counts, the way SES and the mailbox providers count
them: hard bounces / sent (what receivers answered for good: delivered plus hard and soft
bounces), complaints / delivered. Hard and soft as :mod:`mailfate.model.bounces` defines them. One
definition for the alerts, ``/metrics`` and the dashboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mailfate.model import RollupQuery
from mailfate.model.bounces import ANSWERED_KINDS, BounceCounts
from mailfate.tracking.ports import RollupSums

__all__ = ["Rates", "per_sending_domain"]


@dataclass(frozen=True, slots=True)
class Rates:
    sent: int
    """Answered by receivers for good: delivered plus hard and soft bounces (not expiries)."""
    delivered: int
    hard: int
    """Hard bounces."""
    complained: int
    soft: int = 0
    """Soft bounces, expiries included."""

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> Rates:
        """From counts per rollup kind (``delivered``, ``bounced_hard``, ``bounced_soft``,
        ``expired``, ``complained``)."""
        bounces = BounceCounts.of_kinds(counts)
        sent = sum(counts.get(kind, 0) for kind in ANSWERED_KINDS)
        return cls(sent, counts.get("delivered", 0), bounces.hard, counts.get("complained", 0), bounces.soft)

    @property
    def bounce_rate(self) -> float:
        return self.hard / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.delivered if self.delivered else 0.0


def per_sending_domain(store: RollupSums, since: datetime, until: datetime | None = None) -> dict[str, Rates]:
    """The rates of each sending domain over the rollup hours from ``since`` to ``until``."""
    per: dict[str, Counter[str]] = {}
    for sending, kind, n in store.rollup_sums(RollupQuery(since, until, by=("sending_domain", "kind"))):
        per.setdefault(sending, Counter())[kind] += n
    return {domain: Rates.of(counts) for domain, counts in sorted(per.items())}
