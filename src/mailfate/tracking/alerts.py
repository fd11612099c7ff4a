"""Alerts: the thresholds that get a sender paused or filtered, checked on recent activity.

Per sending domain over the last 24 hours (at least ``min_sent`` messages handed to receivers):

- bounce rate (hard bounces / sent): 5 % → warning (Amazon SES puts an account under review),
  10 % → critical (SES pauses sending);
- complaint rate (complaints / delivered): 0.1 % → warning (SES review), 0.5 % → critical (SES
  pause); 0.3 % → critical as well: Gmail and Yahoo's bulk-sender spam-rate limit (2024).

Per recipient domain over the last hour: a deferral spike — half or more of at least
``min_attempts`` attempts deferred. For verification codes (transactional mail) over the last hour:
the 95th percentile of submit → 250 above 60 seconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailfate.store import Store

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


SES = "Amazon SES sending review and pause thresholds (SES developer guide, reputation metrics)"
GMAIL = "Gmail and Yahoo bulk sender requirements, February 2024 (spam rate below 0.3 %)"


def evaluate(
    store: Store, now: datetime, *, min_sent: int = 100, min_attempts: int = 20, code_p95: float = 60.0
) -> list[Alert]:
    alerts: list[Alert] = []
    day = store.activity_since(now - timedelta(hours=24))
    sent: dict[str, int] = defaultdict(int)
    delivered: dict[str, int] = defaultdict(int)
    hard: dict[str, int] = defaultdict(int)
    complaints: dict[str, int] = defaultdict(int)
    for kind, outcome, sending, _, _, is_hard, _, _ in day:
        if kind == "attempt" and outcome in ("delivered", "bounced"):
            sent[sending] += 1
            delivered[sending] += outcome == "delivered"
            hard[sending] += outcome == "bounced" and is_hard
        elif kind == "bounced":
            hard[sending] += 1
        elif kind == "complained":
            complaints[sending] += 1
    for domain, n in sent.items():
        if n < min_sent:
            continue
        rate = hard[domain] / n
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
        complaint_rate = complaints[domain] / max(1, delivered[domain])
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
    hour = [row for row in day if row[6] >= now - timedelta(hours=1)]
    attempts: dict[str, int] = defaultdict(int)
    deferred: dict[str, int] = defaultdict(int)
    waits: list[float] = []
    for kind, outcome, _, rcpt_domain, category, _, at, created in hour:
        if kind != "attempt":
            continue
        attempts[rcpt_domain] += 1
        deferred[rcpt_domain] += outcome == "deferred"
        if outcome == "delivered" and category == "transactional":
            waits.append((at - created).total_seconds())
    for domain, n in attempts.items():
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
    if len(waits) >= 20:
        waits.sort()
        p95 = waits[int(len(waits) * 0.95) - 1]
        if p95 > code_p95:
            alerts.append(
                Alert(
                    "code_latency",
                    "warning",
                    "*",
                    p95,
                    code_p95,
                    f"95 % of transactional mail took up to {p95:.0f} s to be accepted "
                    f"(objective {code_p95:.0f} s)",
                    "mailfate: a verification code is useless after minutes",
                )
            )
    return alerts
