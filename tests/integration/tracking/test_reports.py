"""tracking/ records outcomes: one report path (raw kept, events naming it), one suppression policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from mailfate.errors import InputError
from mailfate.model import EventType, NewEvent, NewMessage
from mailfate.store import NewReport, ReportEvent, Store
from mailfate.tracking.reports import InboundReport, event_kind, record_reports, report_of
from mailfate.tracking.suppression import SuppressionPolicy, sending_domain

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """On SQLite and PostgreSQL: a report and what it made are one transaction on both."""
    s = Store.open(store_url)
    yield s
    s.close()


def _sent(store: Store, address: str, sender: str = "no-reply@App.Example") -> tuple[str, int]:
    mid = store.queue.submit(NewMessage(sender, (address,), b"x"), NOW).message_id
    rid = store.messages.find_recipient(mid, address)
    assert rid is not None
    return mid, rid


def _bounce(mid: str, rid: int, *, evidence: str = "status", kind: str = "bounced") -> InboundReport:
    return InboundReport(
        message_id=mid,
        recipient_id=rid,
        kind=kind,
        reason="userunknown",
        hardbounce=True,
        status="5.1.1",
        diagnostic="550 5.1.1 user unknown",
        at=NOW,
        evidence=evidence,
    )


def test_the_raw_report_is_kept_and_each_event_names_it(store: Store) -> None:
    mid, rid = _sent(store, "kim@naver.test")
    raw = b"From: MAILER-DAEMON\r\n\r\nthe DSN as received\r\n"
    assert record_reports(store.messages, [_bounce(mid, rid)], raw=raw, at=NOW) == 1
    [bounced] = [e for e in store.messages.events_since(mid, 0) if e.type == "bounced"]
    kept = store.messages.report(int(bounced.data["report_id"]))
    assert kept is not None
    assert (kept.kind, kept.message_id, kept.raw, kept.size, kept.received_at) == (
        "dsn",
        mid,
        raw,
        len(raw),
        NOW,
    )


def test_a_complaint_is_kept_as_arf_and_suppresses_for_the_sending_domain(store: Store) -> None:
    mid, rid = _sent(store, "lee@daum.test")
    report = InboundReport(message_id=mid, recipient_id=rid, kind="complained", feedback_type="abuse", at=NOW)
    record_reports(store.messages, [report], raw=b"arf")
    [event] = [e for e in store.messages.events_since(mid, 0) if e.type == "complained"]
    kept = store.messages.report(int(event.data["report_id"]))
    assert kept is not None and kept.kind == "arf"
    found = store.suppressions.suppression("lee@daum.test", "app.example")
    assert found is not None and found.reason == "complaint"
    assert [e.data for e in store.messages.events_since(mid, 0) if e.type == EventType.SUPPRESSION_ADDED] == [
        {"scope": "app.example", "reason": "complaint"}
    ]


def test_without_raw_nothing_is_kept_and_a_report_on_no_known_recipient_is_skipped(store: Store) -> None:
    mid, rid = _sent(store, "kim@naver.test")
    assert record_reports(store.messages, [_bounce(mid, rid + 99), _bounce("0" * 32, rid)], raw=b"x") == 0
    assert record_reports(store.messages, [_bounce(mid, rid)]) == 1
    [bounced] = [e for e in store.messages.events_since(mid, 0) if e.type == "bounced"]
    assert "report_id" not in bounced.data


def test_weak_evidence_and_a_policy_without_hard_do_not_suppress(store: Store) -> None:
    weak = _sent(store, "a@example.org")
    off = _sent(store, "b@example.org")
    record_reports(store.messages, [_bounce(*weak, evidence="code-class")])
    record_reports(store.messages, [_bounce(*off)], policy=SuppressionPolicy(hard=False))
    assert store.suppressions.suppression("a@example.org", "app.example") is None
    assert store.suppressions.suppression("b@example.org", "app.example") is None


def test_the_policy_decides_once_for_attempts_and_reports() -> None:
    policy = SuppressionPolicy()
    assert (
        policy.reason_for("bounced", hardbounce=True, evidence="status", reason="userunknown")
        == "userunknown"
    )
    assert policy.reason_for("bounced", hardbounce=True, evidence="", reason="") == "bounced"
    assert policy.reason_for("bounced", hardbounce=True, evidence="code-class", reason="x") is None
    assert policy.reason_for("bounced", hardbounce=False, evidence="status", reason="x") is None
    assert policy.reason_for("deferred", hardbounce=True, evidence="status", reason="x") is None
    assert policy.reason_for("complained", hardbounce=False, evidence="", reason="") == "complaint"
    assert (
        SuppressionPolicy(complaints=False).reason_for("complained", hardbounce=False, evidence="", reason="")
        is None
    )
    assert sending_domain("No-Reply@App.Example") == "app.example"


def test_the_soft_streak_needs_n_expiries_in_a_row(store: Store) -> None:
    address = "c@example.org"
    assert SuppressionPolicy(soft_streak=0).streak_reason(store.messages, address, "mailboxfull") is None
    policy = SuppressionPolicy(soft_streak=2)
    for _ in range(2):
        mid, rid = _sent(store, address)
        store.messages.append_event(NewEvent(mid, rid, EventType.EXPIRED, NOW, {"why": "max_age"}))
    assert (
        policy.streak_reason(store.messages, address, "mailboxfull")
        == "2 soft bounces in a row (mailboxfull)"
    )
    assert SuppressionPolicy(soft_streak=3).streak_reason(store.messages, address, "mailboxfull") is None


def test_one_mapping_from_a_classified_record_to_a_report_kind() -> None:
    def record(kind: str, action: str = "failed") -> SimpleNamespace:
        return SimpleNamespace(
            kind=kind,
            action=action,
            reason="userunknown",
            hardbounce=kind == "hard",
            status="5.1.1",
            diagnostic="550 5.1.1 user unknown",
            remote_mta="mx.example.org",
            feedback_type="",
            cause="mailbox_unknown",
            cause_detail="",
            evidence="status",
        )

    assert event_kind(record("complaint")) == "complained"
    assert event_kind(record("autoreply")) == "autoreplied"
    assert event_kind(record("delivered")) == "delivered"
    assert event_kind(record("hard")) == "bounced"
    assert event_kind(record("soft", "Delayed")) == "delayed"
    assert event_kind(record("delayed", "delayed")) == "delayed"
    made = report_of(record("hard"), message_id="m", recipient_id=3, at=NOW, size=10)
    assert (made.kind, made.message_id, made.recipient_id, made.raw_size, made.at) == (
        "bounced",
        "m",
        3,
        10,
        NOW,
    )


def test_old_reports_are_pruned_and_their_events_stay(store: Store) -> None:
    mid, rid = _sent(store, "kim@naver.test")
    record_reports(store.messages, [_bounce(mid, rid)], raw=b"old", at=NOW - timedelta(days=31))
    record_reports(store.messages, [_bounce(mid, rid)], raw=b"new", at=NOW)
    assert store.messages.prune_reports(NOW - timedelta(days=30)) == 1
    ids = [int(e.data["report_id"]) for e in store.messages.events_since(mid, 0) if e.type == "bounced"]
    assert [store.messages.report(i) is None for i in ids] == [True, False]


def test_a_report_and_what_it_made_are_one_transaction(store: Store) -> None:
    mid, rid = _sent(store, "kim@naver.test")
    good = ReportEvent(mid, rid, EventType.BOUNCED, NOW, {"status": "5.1.1"}, reason="userunknown")
    bad = ReportEvent(mid, rid + 99, EventType.BOUNCED, NOW)  # no such recipient: the write fails
    with pytest.raises(InputError):
        store.messages.record_report(NewReport("dsn", b"raw", NOW, mid), [good, bad])
    assert store.messages.report(1) is None
    assert [e.type for e in store.messages.events_since(mid, 0)] == ["queued"]
