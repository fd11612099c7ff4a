"""What the dashboard shows, computed from the hourly rollups (never by scanning the events).

- :func:`overview`: sent, delivered, deferred, hard and soft bounces, complained, expired,
  suppressed in a window, the bounce and complaint rates against the SES and Gmail/Yahoo lines, and
  an hourly series for the chart.
- :func:`domain_health`: per recipient domain: volume, deferral rate, hard and soft bounces, the
  top deferral reasons, p50 / p95 submit → accepted.

Hard and soft are :mod:`mailfate.model.bounces`'s: a soft bounce is a bounce not marked hard or an
expiry, so the tiles, the chart's series and the receivers table count the same thing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailfate.model.bounces import KIND_CLASS, BounceCounts
from mailfate.store.rollups import LATENCY_BOUNDS, day_of, hour_of
from mailfate.tracking.rates import Rates

__all__ = [
    "DOMAIN_GROUPS",
    "SERIES",
    "SERIES_GROUPS",
    "DomainHealth",
    "Overview",
    "domain_health",
    "overview",
    "percentile",
]

SERIES_GROUPS = ("hour", "kind", "bucket")
"""What :func:`overview` needs from ``Store.rollup_sums``."""
DOMAIN_GROUPS = ("rcpt_domain", "kind", "reason", "bucket")
"""What :func:`domain_health` needs from ``Store.rollup_sums``."""

KINDS = (
    "queued", "delivered", "deferred", "bounced_hard", "bounced_soft", "complained", "expired",
    "suppressed", "rejected", "autoreplied",
)  # fmt: skip

SERIES = ("delivered", "deferred", "hard", "soft", "complained")
"""The chart's series: ``hard`` and ``soft`` are the bounces by :data:`~mailfate.model.bounces.KIND_CLASS`."""

BOUNCE_LINES = ((0.05, "SES review"), (0.10, "SES pause"))
COMPLAINT_LINES = ((0.001, "SES review"), (0.003, "Gmail/Yahoo"), (0.005, "SES pause"))


def percentile(buckets: Counter[int], p: float) -> float | None:
    """The upper bound (seconds) of the bucket holding the ``p`` quantile; None without data,
    ``inf`` when it lies past the last bound."""
    total = sum(buckets.values())
    if total == 0:
        return None
    wanted = p * total
    seen = 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= wanted:
            return LATENCY_BOUNDS[index] if index < len(LATENCY_BOUNDS) else float("inf")
    return float("inf")


@dataclass(frozen=True, slots=True)
class Overview:
    since: datetime
    until: datetime
    totals: dict[str, int]
    hourly: list[tuple[datetime, dict[str, int]]]
    p50: float | None
    p95: float | None
    daily: bool = False
    """The series is per day (``hourly`` then holds days)."""

    @property
    def sent(self) -> int:
        """Answered by receivers for good: delivered plus hard and soft bounces (not expiries)."""
        return Rates.of(self.totals).sent

    @property
    def bounces(self) -> BounceCounts:
        """Hard and soft bounces (expiries among the soft ones)."""
        return BounceCounts.of_kinds(self.totals)

    @property
    def bounce_rate(self) -> float:
        return Rates.of(self.totals).bounce_rate

    @property
    def complaint_rate(self) -> float:
        return Rates.of(self.totals).complaint_rate

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "sent": self.sent,
            **self.totals,
            "bounces": self.bounces.to_json(),
            "bounce_rate": self.bounce_rate,
            "complaint_rate": self.complaint_rate,
            "p50_seconds": self.p50,
            "p95_seconds": self.p95,
            "hourly": [{"hour": h.isoformat(), **counts} for h, counts in self.hourly],
        }


def overview(
    series: list[tuple[Any, ...]], since: datetime, until: datetime, *, daily: bool = False
) -> Overview:
    """From ``rollup_sums(since, by=SERIES_GROUPS, daily=daily)``: (hour or day, kind, bucket, n)
    tuples; the series has one slot per hour (per day when ``daily``)."""
    start = day_of(since) if daily else hour_of(since)
    step = timedelta(days=1) if daily else timedelta(hours=1)
    totals = dict.fromkeys(KINDS, 0)
    per_hour: dict[datetime, dict[str, int]] = {}
    hour = start
    while hour < until:
        per_hour[hour] = dict.fromkeys(SERIES, 0)
        hour += step
    latency: Counter[int] = Counter()
    for at, kind, bucket, n in series:
        if kind == "latency":
            latency[bucket] += n
            continue
        if kind in totals:
            totals[kind] += n
        slot = per_hour.get(at)
        if slot is not None:
            key = _series_of(kind)
            if key in slot:
                slot[key] += n
    return Overview(
        since,
        until,
        totals,
        sorted(per_hour.items()),
        percentile(latency, 0.50),
        percentile(latency, 0.95),
        daily,
    )


def _series_of(kind: str) -> str:
    """The chart series (and receivers column) a rollup kind counts in: ``hard``, ``soft`` or itself."""
    found = KIND_CLASS.get(kind)
    return found.value if found is not None else kind


@dataclass(frozen=True, slots=True)
class DomainHealth:
    domain: str
    delivered: int = 0
    deferred: int = 0
    hard: int = 0
    """Hard bounces."""
    soft: int = 0
    """Soft bounces, expiries included."""
    complained: int = 0
    expired: int = 0
    """Of the soft bounces, the expiries."""
    reasons: list[tuple[str, int]] = field(default_factory=list)
    p50: float | None = None
    p95: float | None = None

    @property
    def attempts(self) -> int:
        """Attempts answered: delivered, deferred, or bounced (an expiry is no answer)."""
        return self.delivered + self.deferred + self.hard + self.soft - self.expired

    @property
    def deferral_rate(self) -> float:
        return self.deferred / self.attempts if self.attempts else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "attempts": self.attempts,
            "delivered": self.delivered,
            "deferred": self.deferred,
            "bounces": {"hard": self.hard, "soft": self.soft, "expired": self.expired},
            "complained": self.complained,
            "deferral_rate": self.deferral_rate,
            "top_deferral_reasons": [{"reason": r, "count": n} for r, n in self.reasons],
            "p50_seconds": self.p50,
            "p95_seconds": self.p95,
        }


def domain_health(rows: list[tuple[Any, ...]], *, top: int = 50, reasons: int = 3) -> list[DomainHealth]:
    """From ``rollup_sums(since, by=DOMAIN_GROUPS)``: (recipient domain, kind, reason, bucket, n)
    tuples; the busiest recipient domains first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    why: dict[str, Counter[str]] = defaultdict(Counter)
    latency: dict[str, Counter[int]] = defaultdict(Counter)
    for domain, kind, reason, bucket, n in rows:
        if not domain:
            continue
        if kind == "latency":
            latency[domain][bucket] += n
            continue
        counts[domain][_series_of(kind)] += n
        if kind == "expired":
            counts[domain]["expired"] += n
        if kind == "deferred":
            why[domain][reason or "undefined"] += n
    out = [
        DomainHealth(
            domain,
            c["delivered"],
            c["deferred"],
            c["hard"],
            c["soft"],
            c["complained"],
            c["expired"],
            why[domain].most_common(reasons),
            percentile(latency[domain], 0.50),
            percentile(latency[domain], 0.95),
        )
        for domain, c in counts.items()
    ]
    out.sort(key=lambda d: (-(d.attempts + d.expired), d.domain))
    return out[:top]
