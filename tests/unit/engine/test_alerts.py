"""Alerts: each threshold crossed (and not crossed) on activity written to a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailfate.model import AttemptRecord, AttemptResult, EventType, NewEvent, NewMessage
from mailfate.store import Store
from mailfate.tracking.alerts import evaluate

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OK = AttemptResult("delivered", 250, "2.0.0", "ok", "delivered", False)
HARD = AttemptResult("bounced", 550, "5.1.1", "unknown", "userunknown", True)
GREY = AttemptResult("deferred", 451, "4.7.1", "greylisted", "spamdetected", False)


def send(
    store: Store,
    n: int,
    sender: str,
    domain: str,
    result: AttemptResult,
    *,
    at: datetime = NOW,
    created: datetime | None = None,
) -> list[tuple[str, int]]:
    out = []
    for i in range(n):
        mid = store.queue.submit(
            NewMessage(sender, (f"u{i}.{result.outcome}@{domain}",), b"x"), created or at
        ).message_id
        [c] = store.queue.claim(1, now=at, lease=60, owner="t")
        store.queue.record_attempts([AttemptRecord(c.recipient_id, result, at, at + timedelta(minutes=5))])
        out.append((mid, c.recipient_id))
    return out


def rules(store: Store) -> dict[tuple[str, str], str]:
    return {
        (a.rule, a.subject): a.severity
        for a in evaluate(store.rollups, NOW + timedelta(minutes=1), min_sent=50)
    }


def test_bounce_and_complaint_rates_cross_the_ses_and_gmail_lines(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    send(store, 90, "a@good.example", "naver.test", OK)
    send(store, 4, "a@good.example", "naver.test", HARD)  # 4.3 %: under 5 %
    send(store, 80, "a@bad.example", "naver.test", OK)
    send(store, 12, "a@bad.example", "naver.test", HARD)  # 13 %: over 10 %
    delivered = send(store, 60, "a@spam.example", "gmail.test", OK)
    for mid, rid in delivered[:1]:  # 1 / 60 = 1.7 %: over every complaint line
        store.messages.append_event(NewEvent(mid, rid, EventType.COMPLAINED, NOW))
    found = rules(store)
    assert found[("bounce_rate", "bad.example")] == "critical"
    assert ("bounce_rate", "good.example") not in found
    assert found[("complaint_rate", "spam.example")] == "critical"
    store.close()


def test_deferral_spike_and_code_latency(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    send(store, 25, "a@app.example", "corp.test", GREY)
    send(store, 5, "a@app.example", "corp.test", OK)
    send(store, 30, "a@app.example", "kakao.test", OK, created=NOW - timedelta(seconds=90))  # 90 s to a 250
    found = rules(store)
    assert found[("deferral_spike", "corp.test")] == "warning"
    assert ("deferral_spike", "kakao.test") not in found
    assert found[("code_latency", "*")] == "warning"
    store.close()
