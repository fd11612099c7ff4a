"""Prometheus metrics: what the store holds (read at scrape time) and what the worker sees.

From the store, at each scrape: recipients per fate, per recipient domain and fate (the 20
busiest domains), bounced recipients hard and soft, the queue depth, deferred recipients per
reason, and per sending domain the rolling 24-hour hard and soft bounces and the bounce and
complaint rates (from the rollups). Hard and soft as :mod:`mailfate.model.bounces` defines them:
the dashboard's tiles, its receivers page and ``/v1/stats`` count the same. From the worker, as it
happens: attempts per outcome and reason, and the time from submit to the 250 per recipient
domain (a histogram: p50/p95 per domain for the dashboard and for the verification-code
objective). Each process has its own registry (no global state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mailfate.model import AttemptResult, Claimed
from mailfate.model.bounces import BounceClass, BounceCounts
from mailfate.tracking.ports import MetricsSources
from mailfate.tracking.rates import per_sending_domain

__all__ = ["Metrics"]

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400)


class _StoreCollector(Collector):
    def __init__(self, store: MetricsSources) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        counts = self.store.stats.counts()
        fates = GaugeMetricFamily("mailfate_recipients", "Recipients by fate", labels=["fate"])
        for fate, n in sorted(counts.items()):
            fates.add_metric([fate], n)
        yield fates
        depth = sum(counts.get(f, 0) for f in ("queued", "sending", "deferred"))
        yield GaugeMetricFamily("mailfate_queue_depth", "Recipients not yet at a final fate", value=depth)
        by_domain = GaugeMetricFamily(
            "mailfate_recipients_by_domain",
            "Recipients by recipient domain and fate (20 busiest)",
            labels=["domain", "fate"],
        )
        for row in self.store.stats.domain_stats(20):
            for fate, n in sorted(row["fates"].items()):
                by_domain.add_metric([row["domain"], fate], n)
        yield by_domain
        yield self._bounced_recipients()
        deferred = GaugeMetricFamily(
            "mailfate_deferred_by_reason",
            "Deferred recipients by the reason of their last reply",
            labels=["reason"],
        )
        for summary in self.store.stats.queue_summary(datetime.now().astimezone()):
            for reason, n, _ in summary.top_reasons:
                deferred.add_metric([reason], n)
        yield deferred
        yield from self._rates()

    def _bounced_recipients(self) -> Metric:
        """Recipients that failed for good, hard or soft (``/v1/stats``'s ``bounces``)."""
        total = sum(self.store.stats.bounce_counts().values(), BounceCounts())
        family = GaugeMetricFamily(
            "mailfate_bounced_recipients",
            "Recipients that bounced: hard, or soft (a soft reason, or expired after deferrals)",
            labels=["class"],
        )
        family.add_metric([BounceClass.HARD.value], total.hard)
        family.add_metric([BounceClass.SOFT.value], total.soft)
        return family

    def _rates(self) -> Iterator[Metric]:
        """Rolling 24-hour bounce and complaint rates per sending domain (from the hourly rollups,
        as the alerts read them): hard bounces / sent, complaints / delivered."""
        rates = per_sending_domain(self.store.rollups, datetime.now(UTC) - timedelta(hours=24))
        bounce = GaugeMetricFamily(
            "mailfate_bounce_rate_24h", "Hard bounces / sent over 24 hours", labels=["sending_domain"]
        )
        complaint = GaugeMetricFamily(
            "mailfate_complaint_rate_24h", "Complaints / delivered over 24 hours", labels=["sending_domain"]
        )
        bounces = GaugeMetricFamily(
            "mailfate_bounces_24h",
            "Hard and soft bounces (soft: expiries included) over 24 hours",
            labels=["sending_domain", "class"],
        )
        for sending, r in rates.items():
            bounces.add_metric([sending, BounceClass.HARD.value], r.hard)
            bounces.add_metric([sending, BounceClass.SOFT.value], r.soft)
            if r.sent:
                bounce.add_metric([sending], r.bounce_rate)
            if r.delivered:
                complaint.add_metric([sending], r.complaint_rate)
        yield bounce
        yield complaint
        yield bounces


class Metrics:
    def __init__(self, store: MetricsSources | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        if store is not None:
            self.watch(store)
        self.attempts = Counter(
            "mailfate_attempts",
            "Delivery attempts by outcome and reason",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mailfate_submit_to_delivered_seconds",
            "Time from submit to the receiver's 250, per recipient domain",
            ["domain"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch(self, store: MetricsSources) -> None:
        """Read the store's figures at every scrape."""
        self.registry.register(_StoreCollector(store))

    def observe(self, item: Claimed, result: AttemptResult, at: datetime) -> None:
        """The worker's hook: called for every attempt."""
        self.attempts.labels(result.outcome, result.reason).inc()
        if result.outcome == "delivered":
            self.latency.labels(item.domain).observe(max(0.0, (at - item.created_at).total_seconds()))

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))

    def serve(self, host: str, port: int) -> tuple[str, int, Callable[[], None]]:
        """Serve the exposition over HTTP on a thread of its own, for a process with no API to
        mount ``/metrics`` on (``mailfate worker``): (host, port bound, stop)."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        bound = server.server_address
        return str(bound[0]), int(bound[1]), server.shutdown
