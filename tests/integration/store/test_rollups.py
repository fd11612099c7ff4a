"""The hourly rollups: every event counted once, in its hour, with its latency bucket — also when
two processes fold at once — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mailfate.model import (
    AttemptRecord,
    AttemptResult,
    EventType,
    MessageQuery,
    NewEvent,
    NewMessage,
    RollupQuery,
)
from mailfate.store import Store
from mailfate.store.rollups import LATENCY_BOUNDS, latency_bucket
from mailfate.tracking.overview import DOMAIN_GROUPS, SERIES_GROUPS, domain_health, overview, percentile

NOW = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
OK = AttemptResult("delivered", 250, "2.0.0", "ok", "delivered", False)
HARD = AttemptResult("bounced", 550, "5.1.1", "unknown", "userunknown", True)
GREY = AttemptResult("deferred", 451, "4.7.1", "greylisted", "greylisting", False)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()


def send(store: Store, to: str, result: AttemptResult, *, at: datetime, waited: float = 3.0) -> None:
    store.queue.submit(NewMessage("a@app.example", (to,), b"x"), at - timedelta(seconds=waited))
    [c] = store.queue.claim(1, now=at, lease=60, owner="t")
    store.queue.record_attempts([AttemptRecord(c.recipient_id, result, at, at + timedelta(minutes=5))])


def totals(store: Store, kind: str, domain: str | None = None) -> int:
    return sum(
        n
        for rcpt, k, n in store.rollups.rollup_sums(
            RollupQuery(NOW - timedelta(days=2), by=("rcpt_domain", "kind"))
        )
        if k == kind and (domain is None or rcpt == domain)
    )


def test_each_event_is_counted_once_in_its_hour(store: Store) -> None:
    for i in range(5):
        send(store, f"u{i}@naver.test", OK, at=NOW - timedelta(hours=1), waited=3)
    send(store, "x@naver.test", HARD, at=NOW)
    send(store, "g@daum.test", GREY, at=NOW)
    assert store.rollups.rollup_backlog() > 0
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=5))
    assert store.rollups.rollup_backlog() == 0
    assert totals(store, "delivered", "naver.test") == 5
    assert totals(store, "bounced_hard", "naver.test") == 1
    assert totals(store, "deferred", "daum.test") == 1
    assert totals(store, "queued") == 7
    hours = {
        h
        for h, k, _ in store.rollups.rollup_sums(RollupQuery(NOW - timedelta(days=1), by=("hour", "kind")))
        if k == "delivered"
    }
    assert hours == {datetime(2026, 11, 29, 11, 0, tzinfo=UTC)}
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=10))  # nothing new: nothing added twice
    assert totals(store, "delivered", "naver.test") == 5
    sums = store.rollups.rollup_sums(RollupQuery(NOW - timedelta(days=1), by=("kind", "reason", "bucket")))
    assert [(r, n) for k, r, _, n in sums if k == "deferred"] == [("greylisting", 1)]
    assert [(b, n) for k, _, b, n in sums if k == "latency"] == [(latency_bucket(3.0), 5)]
    with pytest.raises(ValueError, match="cannot group"):
        store.rollups.rollup_sums(RollupQuery(NOW, by=("n; DROP TABLE rollups",)))


def test_a_late_bounce_after_a_250_counts_as_a_hard_bounce(store: Store) -> None:
    send(store, "late@naver.test", OK, at=NOW)
    view = store.messages.search_messages(MessageQuery(recipient="late@naver.test"))[0][0]
    rid = store.messages.find_recipient(view.id, "late@naver.test")
    store.messages.append_event(
        NewEvent(view.id, rid, EventType.BOUNCED, NOW, {"hardbounce": True}, reason="userunknown")
    )
    store.messages.append_event(NewEvent(view.id, rid, EventType.COMPLAINED, NOW))
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=5))
    assert totals(store, "bounced_hard") == 1 and totals(store, "complained") == 1


def test_what_a_worker_recorded_after_losing_its_lease_is_not_counted(store: Store) -> None:
    store.queue.submit(NewMessage("a@app.example", ("slow@naver.test",), b"x"), NOW - timedelta(seconds=3))
    [first] = store.queue.claim(1, now=NOW, lease=5, owner="w1")
    store.queue.claim(1, now=NOW + timedelta(seconds=10), lease=60, owner="w2")  # w1's lease ran out
    later = NOW + timedelta(seconds=11)
    store.queue.record_attempts(
        [AttemptRecord(first.recipient_id, OK, later)], owner="w1"
    )  # lost: a duplicate
    store.queue.record_attempts([AttemptRecord(first.recipient_id, OK, later)], owner="w2")
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=20))
    assert totals(store, "delivered") == 1


def test_two_folders_at_once_never_count_a_batch_twice(store_url: str) -> None:
    first = Store.open(store_url)
    for i in range(60):
        send(first, f"u{i}@naver.test", OK, at=NOW)
    stores = [first, Store.open(store_url), Store.open(store_url)]
    barrier = threading.Barrier(len(stores))

    def fold(s: Store) -> None:
        barrier.wait()
        for _ in range(200):
            if (
                s.rollups.fold_rollups(NOW + timedelta(seconds=5), batch=7) == 0
                and s.rollups.rollup_backlog() == 0
            ):
                break

    threads = [threading.Thread(target=fold, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    first.rollups.catch_up_rollups(NOW + timedelta(seconds=5))
    assert totals(first, "delivered") == 60
    assert totals(first, "queued") == 60
    for s in stores:
        s.close()


def test_events_newer_than_the_settle_delay_wait_on_postgresql(store: Store) -> None:
    send(store, "u@naver.test", OK, at=NOW)
    store.rollups.catch_up_rollups(NOW)  # the events are as new as "now"
    expected = 0 if store.db.dialect == "postgresql" else 1
    assert totals(store, "delivered") == expected
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=3))
    assert totals(store, "delivered") == 1


def test_overview_rates_series_and_percentiles(store: Store) -> None:
    for i in range(18):
        send(store, f"u{i}@naver.test", OK, at=NOW, waited=1 if i < 9 else 200)
    send(store, "x@naver.test", HARD, at=NOW)
    send(store, "y@gmail.test", HARD, at=NOW - timedelta(hours=3))
    for i in range(3):
        send(store, f"g{i}@daum.test", GREY, at=NOW)
    store.rollups.catch_up_rollups(NOW + timedelta(seconds=5))
    since = NOW - timedelta(hours=24)
    ov = overview(store.rollups.rollup_sums(RollupQuery(since, by=SERIES_GROUPS)), since, NOW)
    assert ov.sent == 20 and ov.totals["bounced_hard"] == 2 and ov.totals["deferred"] == 3
    assert ov.bounce_rate == pytest.approx(2 / 20)
    assert ov.p50 == 1 and ov.p95 == 300  # the buckets' upper bounds: 1 s and 5 min
    assert len(ov.hourly) == 25 and sum(c["delivered"] for _, c in ov.hourly) == 18
    health = {
        d.domain: d for d in domain_health(store.rollups.rollup_sums(RollupQuery(since, by=DOMAIN_GROUPS)))
    }
    assert health["daum.test"].deferral_rate == 1.0
    assert health["daum.test"].reasons == [("greylisting", 3)]
    assert health["naver.test"].attempts == 19 and health["naver.test"].p50 == 1


def test_percentile_edges() -> None:
    from collections import Counter

    assert percentile(Counter(), 0.5) is None
    assert percentile(Counter({len(LATENCY_BOUNDS): 3}), 0.95) == float("inf")
    assert latency_bucket(0.2) == 0 and latency_bucket(86400) == len(LATENCY_BOUNDS) - 1
