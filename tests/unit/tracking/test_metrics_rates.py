"""/metrics carries the rolling 24-hour bounce and complaint rates per sending domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mailfate.model import EventType, NewEvent
from mailfate.store import Store
from mailfate.tracking.metrics import Metrics
from tests.unit.engine.test_alerts import HARD, OK, send


def test_bounce_and_complaint_rates_per_sending_domain(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    at = datetime.now(UTC) - timedelta(minutes=10)
    delivered = send(store, 80, "a@x.example", "naver.test", OK, at=at)
    send(store, 20, "a@x.example", "naver.test", HARD, at=at)
    store.messages.append_event(NewEvent(*delivered[0], EventType.COMPLAINED, at))
    send(store, 10, "a@y.example", "naver.test", OK, at=at - timedelta(hours=30))  # outside 24 h
    store.rollups.catch_up_rollups(datetime.now(UTC))
    samples = {
        (s.name, s.labels.get("sending_domain")): s.value
        for family in text_string_to_metric_families(Metrics(store).exposition().decode())
        for s in family.samples
    }
    assert samples[("mailfate_bounce_rate_24h", "x.example")] == 20 / 100
    assert samples[("mailfate_complaint_rate_24h", "x.example")] == 1 / 80
    assert ("mailfate_bounce_rate_24h", "y.example") not in samples
    store.close()
