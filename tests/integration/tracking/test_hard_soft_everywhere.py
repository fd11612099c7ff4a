"""One definition of hard and soft (``mailfate.model.bounces``), counted the same by every reader
of a real store — SQLite and PostgreSQL: the rollups behind the tiles and the chart, the receivers
table, the rates the alerts and ``/metrics`` read, the recipients behind ``/v1/stats``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mailfate.model import RollupQuery
from mailfate.model.bounces import BounceCounts
from mailfate.store import Store
from mailfate.tracking.alerts import evaluate
from mailfate.tracking.metrics import Metrics
from mailfate.tracking.overview import DOMAIN_GROUPS, SERIES_GROUPS, domain_health, overview
from mailfate.tracking.rates import per_sending_domain
from tests.e2e.web.each_fate import EXPECTED, EXPIRED, HARD, SENDER, SENT, SOFT, seed

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(hours=24)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    seed(s, NOW)
    s.rollups.catch_up_rollups(NOW + timedelta(seconds=5))
    yield s
    s.close()


def test_tiles_chart_and_receivers_count_the_same_hard_and_soft(store: Store) -> None:
    ov = overview(
        store.rollups.rollup_sums(RollupQuery(SINCE, by=SERIES_GROUPS)), SINCE, NOW + timedelta(seconds=5)
    )
    assert ov.bounces == BounceCounts(HARD, SOFT, EXPIRED)
    assert sum(c["hard"] for _, c in ov.hourly) == HARD  # the chart's red is the hard tile
    assert sum(c["soft"] for _, c in ov.hourly) == SOFT
    assert ov.sent == SENT and ov.bounce_rate == pytest.approx(HARD / SENT)
    health = {
        d.domain: d for d in domain_health(store.rollups.rollup_sums(RollupQuery(SINCE, by=DOMAIN_GROUPS)))
    }
    assert {k: (d.hard, d.soft, d.expired) for k, d in health.items()} == EXPECTED  # a 554 norelaying is soft
    assert health["expired.test"].attempts == 2  # two 451s: the expiry itself is no attempt


def test_recipients_rates_metrics_and_alerts_agree(store: Store) -> None:
    per_domain = store.stats.bounce_counts()
    assert {d: (c.hard, c.soft, c.expired) for d, c in per_domain.items()} == {
        d: v for d, v in EXPECTED.items() if v != (0, 0, 0)
    }
    assert sum(per_domain.values(), BounceCounts()) == BounceCounts(HARD, SOFT, EXPIRED)
    fates = store.stats.counts()
    assert fates["bounced"] + fates["expired"] == HARD + SOFT
    rates = per_sending_domain(store.rollups, SINCE)[SENDER]
    assert (rates.hard, rates.soft, rates.sent) == (HARD, SOFT, SENT)
    alerts = [a for a in evaluate(store.rollups, NOW, min_sent=1) if a.rule == "bounce_rate"]
    assert [(a.severity, round(a.value, 6)) for a in alerts] == [("critical", round(HARD / SENT, 6))]

    scraped = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(Metrics(store).exposition().decode())
        for sample in family.samples
    }
    assert scraped[("mailfate_bounced_recipients", (("class", "hard"),))] == HARD
    assert scraped[("mailfate_bounced_recipients", (("class", "soft"),))] == SOFT
    assert scraped[("mailfate_bounces_24h", (("class", "hard"), ("sending_domain", SENDER)))] == HARD
    assert scraped[("mailfate_bounces_24h", (("class", "soft"), ("sending_domain", SENDER)))] == SOFT
    assert scraped[("mailfate_bounce_rate_24h", (("sending_domain", SENDER),))] == pytest.approx(HARD / SENT)
