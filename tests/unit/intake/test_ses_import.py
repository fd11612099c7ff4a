"""SES events land on the messages sent through SES (matched by the SES MessageId)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailfate.intake.ses import import_ses
from mailfate.model import AttemptResult
from mailfate.store import AttemptRecord, NewMessage, Store

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def event(kind: str, message_id: str, address: str) -> dict[str, object]:
    mail = {
        "timestamp": "2026-11-28T10:00:00.000Z",
        "source": "no-reply@app.example",
        "messageId": message_id,
        "destination": [address],
    }
    if kind == "Bounce":
        body = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2026-11-28T10:05:00.000Z",
            "feedbackId": "f1",
            "reportingMTA": "dsn; a1.us-east-1.amazonses.com",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        }
        return {"eventType": "Bounce", "bounce": body, "mail": mail}
    body = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": "2026-11-28T11:00:00.000Z",
        "feedbackId": "f2",
        "complaintFeedbackType": "abuse",
    }
    return {"eventType": "Complaint", "complaint": body, "mail": mail}


@pytest.fixture
def sent(tmp_path: Path) -> tuple[Store, list[str]]:
    store = Store.open(tmp_path / "s.db")
    ids = []
    for i, address in enumerate(("kim@naver.test", "lee@daum.test")):
        mid = store.submit(NewMessage("no-reply@app.example", (address,), b"x"), NOW).message_id
        [claimed] = store.claim(1, now=NOW, lease=60, owner="w")
        result = AttemptResult(
            "delivered",
            250,
            "2.0.0",
            "accepted by Amazon SES",
            "delivered",
            False,
            transport="ses",
            remote_id=f"0100018c-ses-{i}",
        )
        store.record_attempts([AttemptRecord(claimed.recipient_id, result, NOW)])
        ids.append(mid)
    return store, ids


def test_bounce_and_complaint_events_reach_their_messages_and_suppress(sent: tuple[Store, list[str]]) -> None:
    store, ids = sent
    lines = [
        event("Bounce", "0100018c-ses-0", "kim@naver.test"),
        event("Complaint", "0100018c-ses-1", "lee@daum.test"),
        event("Bounce", "0100018c-unknown", "x@y.test"),
    ]
    data = "\n".join(json.dumps(x) for x in lines).encode() + b"\nnot json at all\n"
    result = import_ses(store, data, now=NOW)
    assert (result.applied, result.unmatched, result.errors) == (2, 1, 1)
    bounced, complained = (store.message(m) for m in ids)
    assert bounced is not None and complained is not None
    assert (bounced.fate, complained.fate) == ("bounced", "complained")
    assert store.suppression("kim@naver.test", "app.example") is not None
    assert store.suppression("lee@daum.test", "app.example").reason == "complaint"  # type: ignore[union-attr]
    store.close()


def test_a_json_array_of_events_is_read_too(sent: tuple[Store, list[str]]) -> None:
    store, _ = sent
    result = import_ses(
        store, json.dumps([event("Bounce", "0100018c-ses-0", "kim@naver.test")]).encode(), now=NOW
    )
    assert result.applied == 1
    store.close()
