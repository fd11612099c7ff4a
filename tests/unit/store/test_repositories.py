"""The store is one database and a repository per concern; each layer is handed only its own."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailfate.delivery.ports import WorkerRepositories
from mailfate.errors import InputError
from mailfate.intake.ports import ApiRepositories, SubmissionRepositories
from mailfate.model import EventType, NewEvent, NewMessage, NewSuppression
from mailfate.store import Store
from mailfate.store.reports import NewReport, ReportEvent
from mailfate.tracking.ports import MetricsRepositories, WebhookRepositories
from mailfate.web.deps import DashboardRepositories

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REPOSITORIES = ("queue", "messages", "suppressions", "keys", "rollups", "stats", "webhooks", "workers", "sns")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "s.db")
    yield s
    s.close()


def test_the_store_is_its_repositories_over_one_database(store: Store) -> None:
    methods = {n for n, v in inspect.getmembers(store) if callable(v) and not n.startswith("_")}
    assert methods == {"open", "migrate", "close"}  # no store method of its own, no wrappers
    for name in REPOSITORIES:
        assert getattr(store, name).db is store.db
    assert len({id(getattr(store, name)) for name in REPOSITORIES}) == len(REPOSITORIES)


def test_each_door_is_handed_only_the_repositories_it_reads(store: Store) -> None:
    handed = {
        WorkerRepositories.of(store): {"queue", "messages", "suppressions", "rollups"},
        SubmissionRepositories.of(store): {"keys", "suppressions"},
        ApiRepositories.of(store): {
            "queue", "keys", "suppressions", "messages", "workers", "stats", "rollups", "webhooks",
        },
        DashboardRepositories.of(store): {"keys", "messages", "suppressions", "stats", "rollups"},
        WebhookRepositories.of(store): {"webhooks", "messages"},
        MetricsRepositories.of(store): {"stats", "rollups"},
    }  # fmt: skip
    for parts, names in handed.items():
        assert set(type(parts).__slots__) == names, type(parts).__name__  # type: ignore[attr-defined]
        for name in names:
            assert getattr(parts, name) is getattr(store, name)


def test_a_report_its_events_and_suppressions_are_one_transaction_across_repositories(store: Store) -> None:
    sent = store.queue.submit(NewMessage("a@app.example", ("kim@naver.test",), b"x"), NOW)
    rid = store.messages.find_recipient(sent.message_id, "kim@naver.test")
    assert rid is not None
    gone = NewSuppression("app.example", "kim@naver.test", "userunknown", "550 5.1.1")
    good = ReportEvent(
        sent.message_id, rid, EventType.BOUNCED, NOW, {"hardbounce": True}, "userunknown", gone
    )
    bad = ReportEvent(sent.message_id, rid + 1000, EventType.BOUNCED, NOW)  # no such recipient
    with pytest.raises(InputError):
        store.messages.record_report(NewReport("dsn", b"raw", NOW, sent.message_id), [good, bad])
    # nothing of it was written: not the report, not the event, not the suppression
    assert store.messages.report(1) is None
    assert [e.type for e in store.messages.events_since(sent.message_id, 0)] == ["queued"]
    assert store.suppressions.suppression("kim@naver.test", "app.example") is None
    kept = store.messages.record_report(NewReport("dsn", b"raw", NOW, sent.message_id), [good])
    assert kept is not None and store.messages.report(kept) is not None
    types = [e.type for e in store.messages.events_since(sent.message_id, 0)]
    assert types == ["queued", "bounced", "suppression_added"]
    assert store.suppressions.suppression("kim@naver.test", "app.example") is not None


def test_an_event_appended_moves_the_fate_the_queue_reads(store: Store) -> None:
    sent = store.queue.submit(NewMessage("a@app.example", ("lee@daum.test",), b"x"), NOW)
    rid = store.messages.find_recipient(sent.message_id, "lee@daum.test")
    assert rid is not None
    store.messages.append_event(NewEvent(sent.message_id, rid, EventType.EXPIRED, NOW, {"why": "test"}))
    assert store.queue.claim(10, now=NOW, lease=60, owner="w") == []
    assert store.stats.counts() == {"expired": 1}
