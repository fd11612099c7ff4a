"""Alerts: the thresholds that get a sender paused or filtered, checked on recent activity.

Per sending domain over the last 24 hours (at least ``min_sent`` messages handed to receivers):

- bounce rate (hard bounces / sent, as :mod:`mailfate.tracking.rates` and
  :mod:`mailfate.model.bounces` define them): 5 % → warning (Amazon SES puts an account under review),
  10 % → critical (SES pauses sending);
- complaint rate (complaints / delivered): 0.1 % → warning (SES review), 0.5 % → critical (SES
  pause); 0.3 % → critical as well: Gmail and Yahoo's bulk-sender spam-rate limit (2024).

Per recipient domain over the last hour (the current and the previous hour of the rollups): a
deferral spike — half or more of at least ``min_attempts`` attempts deferred. For verification
codes (transactional mail) over the same hours: the 95th percentile of submit → 250 above 60 s
(read from the latency buckets: the bucket's upper bound).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailfate.model import RollupQuery
from mailfate.model.bounces import ANSWERED_KINDS
from mailfate.tracking.overview import percentile
from mailfate.tracking.ports import RollupRepository, RollupSums
from mailfate.tracking.rates import Rates, per_sending_domain

__all__ = ["Alert", "evaluate"]


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    severity: str
    """"warning" or "critical"."""
    subject: str
    """The sending domain or the recipient domain concerned."""
    value: float
    threshold: float
    message: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


_ATTEMPT_KINDS = frozenset({*ANSWERED_KINDS, "deferred"})
"""Rollup kinds of attempts answered: delivered, deferred, or bounced (hard or soft)."""

SES = "Amazon SES sending review and pause thresholds (SES developer guide, reputation metrics)"
GMAIL = "Gmail and Yahoo bulk sender requirements, February 2024 (spam rate below 0.3 %)"


def evaluate(
    store: RollupRepository,
    now: datetime,
    *,
    min_sent: int = 100,
    min_attempts: int = 20,
    code_p95: float = 60.0,
    fold: bool = True,
) -> list[Alert]:
    """The alerts at ``now``, from the hourly rollups (folded up to ``now`` first): the 24-hour
    rates read the hours from ``now - 24 h`` rounded down, the one-hour rules the current and the
    previous hour. ``fold=False``: read the rollups as they are (a background task folds them)."""
    if fold:
        store.catch_up_rollups(now, batch=2000)  # short transactions: the write lock is shared
    alerts: list[Alert] = []
    for domain, r in per_sending_domain(store, now - timedelta(hours=24), now + timedelta(hours=1)).items():
        if r.sent < min_sent:
            continue
        alerts.extend(_sending_domain_alerts(domain, r))
    attempts, deferred, waits = _last_hour(store, now)
    alerts.extend(_deferral_spikes(attempts, deferred, min_attempts))
    latency = _code_latency_alert(waits, code_p95)
    if latency is not None:
        alerts.append(latency)
    return alerts


def _sending_domain_alerts(domain: str, r: Rates) -> list[Alert]:
    """The bounce-rate and complaint-rate alerts of one sending domain (the worst level of each)."""
    alerts: list[Alert] = []
    rate = r.bounce_rate
    for limit, severity in ((0.10, "critical"), (0.05, "warning")):
        if rate >= limit:
            alerts.append(
                Alert(
                    "bounce_rate",
                    severity,
                    domain,
                    rate,
                    limit,
                    f"{rate:.1%} of mail from {domain} hard-bounced in 24 h",
                    SES,
                )
            )
            break
    complaint_rate = r.complaint_rate
    for limit, severity, source in (
        (0.005, "critical", SES),
        (0.003, "critical", GMAIL),
        (0.001, "warning", SES),
    ):
        if complaint_rate >= limit:
            alerts.append(
                Alert(
                    "complaint_rate",
                    severity,
                    domain,
                    complaint_rate,
                    limit,
                    f"{complaint_rate:.2%} of delivered mail from {domain} drew complaints",
                    source,
                )
            )
            break
    return alerts


def _last_hour(store: RollupSums, now: datetime) -> tuple[Counter[str], Counter[str], Counter[int]]:
    """(attempts, deferred) per recipient domain and transactional latency buckets, over the current
    and the previous rollup hour."""
    by = ("rcpt_domain", "category", "kind", "bucket")
    recent = store.rollup_sums(RollupQuery(now - timedelta(hours=1), now + timedelta(hours=1), by=by))
    attempts: Counter[str] = Counter()
    deferred: Counter[str] = Counter()
    waits: Counter[int] = Counter()
    for rcpt_domain, category, kind, bucket, n in recent:
        if kind in _ATTEMPT_KINDS:
            attempts[rcpt_domain] += n
            deferred[rcpt_domain] += n if kind == "deferred" else 0
        elif kind == "latency" and category == "transactional":
            waits[bucket] += n
    return attempts, deferred, waits


def _deferral_spikes(attempts: Counter[str], deferred: Counter[str], min_attempts: int) -> list[Alert]:
    alerts: list[Alert] = []
    for domain, n in sorted(attempts.items()):
        if n >= min_attempts and deferred[domain] / n >= 0.5:
            alerts.append(
                Alert(
                    "deferral_spike",
                    "warning",
                    domain,
                    deferred[domain] / n,
                    0.5,
                    f"{deferred[domain]} of {n} attempts to {domain} deferred in the last hour",
                    "mailfate: a receiver slowing or refusing your mail",
                )
            )
    return alerts


def _code_latency_alert(waits: Counter[int], code_p95: float) -> Alert | None:
    p95 = percentile(waits, 0.95) if sum(waits.values()) >= 20 else None
    if p95 is not None and p95 > code_p95:
        return Alert(
            "code_latency",
            "warning",
            "*",
            p95,
            code_p95,
            f"95 % of transactional mail took up to {p95:.0f} s to be accepted (objective {code_p95:.0f} s)",
            "mailfate: a verification code is useless after minutes",
        )
    return None
